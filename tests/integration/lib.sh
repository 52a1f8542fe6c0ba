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
