# shellcheck shell=bash
# Integration-test helpers over the lab (tools/lablib.sh): checks that count,
# a summary at the end, and the lab torn down on any exit.
set -uo pipefail
# shellcheck source=tools/lablib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lablib.sh"

T_PASS=0 T_FAIL=0
T_NAME=$(basename "$0" .sh)

check() {   # check "description" command...
    local what=$1; shift
    if "$@"; then
        T_PASS=$((T_PASS + 1)); printf 'ok   %s\n' "$what"
    else
        T_FAIL=$((T_FAIL + 1)); printf 'FAIL %s\n' "$what"
    fi
}
check_eq() {   # check_eq "description" expected actual
    if [ "$2" = "$3" ]; then
        T_PASS=$((T_PASS + 1)); printf 'ok   %s (%s)\n' "$1" "$3"
    else
        T_FAIL=$((T_FAIL + 1)); printf 'FAIL %s: expected %s, got %s\n' "$1" "$2" "$3"
    fi
}
check_ge() {   # check_ge "description" minimum actual
    if [ "$3" -ge "$2" ] 2>/dev/null; then
        T_PASS=$((T_PASS + 1)); printf 'ok   %s (%s >= %s)\n' "$1" "$3" "$2"
    else
        T_FAIL=$((T_FAIL + 1)); printf 'FAIL %s: %s is not >= %s\n' "$1" "$3" "$2"
    fi
}
section() { printf '\n-- %s\n' "$*"; }

t_finish() {
    local rc=$?
    if [ "$T_FAIL" -gt 0 ] && [ -f "$LAB_DIR/vepad.log" ]; then
        echo; echo "vepad's log:"; tail -50 "$LAB_DIR/vepad.log"
    fi
    lab_down >/dev/null 2>&1
    printf '\n%s: %d passed, %d failed\n' "$T_NAME" "$T_PASS" "$T_FAIL"
    if [ "$T_FAIL" -gt 0 ]; then exit 1; fi
    exit "$rc"
}

t_start() {
    lab_require_root
    trap t_finish EXIT
    trap 'exit 130' INT TERM
    lab_up
}

# Wait until a command succeeds (up to $1 seconds).
wait_for() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@"; do
        [ $SECONDS -ge "$end" ] && return 1
        sleep 0.1
    done
}

port_state() { vepactl list --json | jq -r --arg n "$1" '.ports[] | select(.name == $n) | .state'; }
port_macs() { vepactl list --json | jq -r --arg n "$1" '.ports[] | select(.name == $n) | .macs | join(",")'; }
state_is() { [ "$(port_state "$1")" = "$2" ]; }

# Replies to N pings (quick: 0.2 s apart, 1 s timeout each).
pings() { lab_ping "$@"; }
reachable() { [ "$(lab_ping "$1" "$2" 2 1)" -ge 1 ]; }
unreachable() { [ "$(lab_ping "$1" "$2" 2 1)" -eq 0 ]; }

# Frames with ethertype 0x88b5 and a given source MAC: hex for vepa-rawsend.
test_frame() {   # test_frame DST_MAC SRC_MAC [ETHERTYPE_HEX]
    local et=${3:-88b5}
    printf '%s%s%s%s' "${1//:/}" "${2//:/}" "$et" "$(printf '%02x' $(seq 0 45) | tr -d ' ')"
}

# Count frames arriving (inbound) at IFACE in NS that match a tcpdump filter,
# while running a command.
count_inbound() {   # count_inbound NS IFACE FILTER -- command...
    local ns=$1 ifc=$2 filter=$3; shift 4
    local out="$LAB_DIR/cap.$$.$RANDOM"
    in_ns "$ns" timeout 5 tcpdump -i "$ifc" -Q in -n -l -p "$filter" >"$out" 2>/dev/null &
    local tpid=$!
    sleep 0.6
    "$@" >/dev/null 2>&1
    sleep 0.5
    kill "$tpid" 2>/dev/null; wait "$tpid" 2>/dev/null
    # One line per frame starts with its timestamp; hex dumps of unknown ethertypes follow indented.
    grep -c '^[0-9]' "$out"
    rm -f "$out"
}

# --- steady traffic -----------------------------------------------------------
STREAM_BIN=$BUILD/tools/vepa-stream
# stream_start ID FROM_NS TO_NS SRC_MAC DST_MAC SECONDS [RATE]: a numbered stream in the background.
stream_start() {
    local id=$1 from=$2 to=$3 src=$4 dst=$5 secs=$6 rate=${7:-10000}
    "$STREAM_BIN" --from-netns "/run/netns/$from" --from-if eth0 --to-netns "/run/netns/$to" --to-if eth0 \
        --src "$src" --dst "$dst" --rate "$rate" --seconds "$secs" --id "$id" --json >"$LAB_DIR/stream.$id" 2>&1 &
    echo $! >"$LAB_DIR/stream.$id.pid"
}
stream_wait() { wait "$(cat "$LAB_DIR/stream.$1.pid")" 2>/dev/null; }
stream_field() { jq -r ".$2" "$LAB_DIR/stream.$1"; }
# Two VMs (c1 and the tap VM) exchanging 10 kpps each way with the remote host.
streams_start() {
    local secs=$1
    stream_start 1 "$NS_C1" "$NS_REM" "$MAC_C1" "$MAC_REM" "$secs"
    stream_start 2 "$NS_REM" "$NS_C1" "$MAC_REM" "$MAC_C1" "$secs"
    stream_start 3 "$NS_VM3" "$NS_REM" "$MAC_VM3" "$MAC_REM" "$secs"
    stream_start 4 "$NS_REM" "$NS_VM3" "$MAC_REM" "$MAC_VM3" "$secs"
}
streams_check() {   # streams_check "what": waits for streams 1-4, checks each lost nothing
    local what=$1 id
    for id in 1 2 3 4; do stream_wait $id; done
    local names=("" "c1 -> remote" "remote -> c1" "VM -> remote" "remote -> VM")
    for id in 1 2 3 4; do
        check_eq "$what: ${names[$id]}: $(stream_field $id sent) frames sent, none lost" 0 "$(stream_field $id lost)"
    done
}

# Tag of the BPF program attached: xdp_tag IFACE, tc_tag IFACE (in the host namespace).
xdp_tag() {
    local id; id=$(ip -n "$NS_HOST" -d -j link show "$1" | jq -r '.[0].xdp.prog.id // empty')
    [ -n "$id" ] && bpftool prog show id "$id" -j | jq -r .tag
}
tc_tag() { tc -n "$NS_HOST" -j filter show dev "$1" ingress 2>/dev/null | jq -r '[.[] | .options.prog.tag // empty][0] // empty'; }
