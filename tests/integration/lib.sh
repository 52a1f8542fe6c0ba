# shellcheck shell=bash
# Integration tests as named cases over the lab (tools/lablib.sh).
#
# A script defines its cases as functions named test_NAME, run in the order they
# appear, and ends with run_tests:
#
#   . "$(dirname "$0")/lib.sh"
#   case_setup() { start_vepad; add_ports c1 tap1; }   # optional, at the start of every case
#   test_something() { section "..."; check "..." command...; check_eq ...; }
#   run_tests
#
# The runner builds the lab once and runs each case in a subshell of its own (its
# variables, background processes and an early exit stay there), counting its
# checks. Between cases it puts the lab back as lab_up made it (lab_reset: vepad
# detached and stopped, its state, pins and files gone, the namespaces and host
# devices a case added removed, the switch and the guests as they were) and builds
# it anew when that fails (a lab device gone, the VM's relay dead) and after a
# failed case.
# A failing case fails the script, never the cases after it. The summary lists
# every case as PASS, FAIL or SKIP with its checks; exit status 1 if one failed,
# 77 (skip) when not root. A script with its own setup instead of the lab
# redefines suite_up, suite_reset and suite_down.
#
#   TEST=name[,name...] script.sh    only those cases (the test_ prefix may be left out)
#   TEST=list script.sh              the script's cases
set -uo pipefail
# shellcheck source=tools/lablib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/lablib.sh"

T_NAME=$(basename "$0" .sh)
T_CHECKS=/dev/null   # the running case's check log: one line per check, ok or FAIL

check() {   # check "description" command...
    local what=$1; shift
    if "$@"; then
        echo ok >>"$T_CHECKS"; printf 'ok   %s\n' "$what"
    else
        echo FAIL >>"$T_CHECKS"; printf 'FAIL %s\n' "$what"
    fi
}
check_eq() {   # check_eq "description" expected actual
    if [ "$2" = "$3" ]; then
        echo ok >>"$T_CHECKS"; printf 'ok   %s (%s)\n' "$1" "$3"
    else
        echo FAIL >>"$T_CHECKS"; printf 'FAIL %s: expected %s, got %s\n' "$1" "$2" "$3"
    fi
}
check_ge() {   # check_ge "description" minimum actual
    if [ "$3" -ge "$2" ] 2>/dev/null; then
        echo ok >>"$T_CHECKS"; printf 'ok   %s (%s >= %s)\n' "$1" "$3" "$2"
    else
        echo FAIL >>"$T_CHECKS"; printf 'FAIL %s: %s is not >= %s\n' "$1" "$3" "$2"
    fi
}
section() { printf '\n-- %s\n' "$*"; }

# End the running case: fatal when what it needs cannot be had (the case fails,
# with the reason), skip when it cannot run here (with the reason).
fatal() { printf 'FAIL %s\n' "$*"; printf '%s\n' "$*" >"$T_CHECKS.reason"; exit 1; }
skip() { printf 'SKIP %s\n' "$*"; printf '%s\n' "$*" >"$T_CHECKS.reason"; exit 77; }
# A command to run when the running case ends, however it ends.
on_cleanup() { T_CLEANUP+=("$*"); }

# --- fixtures -------------------------------------------------------------------
# vepad with the lab's command line and these options; the case ends if it does not start.
start_vepad() { lab_start_vepad "$@" || fatal "vepad did not start (options: ${*:-none})"; }
# The lab's ports (c1 c2 tap1) or ports made by the case, attached; the case ends if one is refused.
add_ports() { lab_add_ports "$@" || fatal "vepactl add-port refused one of: $*"; }

# The port table on disk as vepad reads it: the snapshot with the journal's changes applied.
state_table() {
    local s="$LAB_DIR/state/ports-up0.json"
    { cat "$s" 2>/dev/null || echo '{"ports": []}'; cat "$s.journal" 2>/dev/null; } |
        jq -s 'reduce .[1:][] as $c (.[0];
                   .ports |= map(select(.name as $n | $c.deleted + [$c.ports[].name] | index($n) | not)) + $c.ports)'
}

# --- reading vepad's view (port_field is in lablib.sh) -----------------------------
port_is() { [ "$(port_field "$1" "$2")" = "$3" ]; }   # port_is NAME FIELD VALUE (for wait_for)
state_is() { port_is "$1" state "$2"; }
# One field of every port (or of those a jq filter selects), comma-separated: ports_field name -> c1,tap1
ports_field() { vepactl list --json | jq -r "[.ports[] | ${2:-.} | .$1] | join(\",\")"; }
status_field() { vepactl status --json | jq -rc ".$1"; }                       # status_field uplink.state
pin_entries() { bpftool map dump pinned "$LAB_PIN_DIR/$1" -j | jq length; }     # pin_entries macs_v$LAYOUT
vepad_answers() { vepactl status >/dev/null 2>&1; }
vepad_exited() { ! kill -0 "$(lab_vepad_pid)" 2>/dev/null; }   # the vepad lab_start_vepad started
port_listed() { vepactl list --json | jq -e --arg n "$1" 'any(.ports[]; .name == $n)' >/dev/null; }
quiet() { "$@" >/dev/null; }
outputs() { [ "$("${@:2}")" = "$1" ]; }   # outputs EXPECTED command...: for wait_for
not() { ! "$@"; }

# Wait until a command succeeds (up to $1 seconds).
wait_for() {
    local secs=$1; shift
    local end=$((SECONDS + secs))
    until "$@"; do
        [ $SECONDS -ge "$end" ] && return 1
        sleep 0.1
    done
}

# Whether a ping gets a reply (2 pings 0.2 s apart, 1 s timeout each).
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
# TC: at tcx or on clsact (tc_hook IFACE says which); read with vepa-hooks, as bpftool 7.1 knows no tcx.
hooks() { "$BUILD/tools/vepa-hooks" "$1" --netns "$NS_HOST"; }
tc_tag() { hooks "$1" | jq -r '.tc.tag // empty'; }
tc_hook() { hooks "$1" | jq -r '.tc.hook // empty'; }

# --- the lab between cases ------------------------------------------------------
# Put the lab back as lab_up made it; when it cannot, say why and fail (the runner
# then builds it anew).  Few processes: on a busy machine each costs a good part of a second.
lab_reset() {
    _no() { echo "$*"; return 1; }
    local f ns dev line devs=" " pins=("$LAB_PIN_DIR"/*) files=() guest running=0
    # vepad detached and stopped; a dataplane left with no vepad is taken over to be detached.
    if vepad_answers; then
        running=1
    elif [ -e "${pins[0]}" ]; then
        lab_start_vepad >/dev/null 2>&1 || _no "no vepad would take over the dataplane left" || return
        running=1
    fi
    if [ $running = 1 ]; then
        vepactl shutdown --detach >/dev/null 2>&1 || _no "vepactl shutdown --detach failed" || return
        { [ -z "$(lab_vepad_pid)" ] || wait_for 5 vepad_exited; } && ! vepad_answers ||
            _no "vepad did not exit after shutdown --detach" || return
    fi
    # Files, mounts and pins of the case (the relay's own stay: it runs on).
    lab_umount || _no "cannot unmount what the case mounted" || return
    for f in "$LAB_DIR"/* "$LAB_DIR"/.[!.]*; do
        case ${f##*/} in relay.pid|relay.log|'*'|'.[!.]*') ;; *) files+=("$f") ;; esac
    done
    rm -rf "$LAB_PIN_DIR" "${files[@]}"
    # Namespaces and host devices a case added; the lab's own must all be there.
    for ns in /run/netns/"$LAB"-*; do
        ns=${ns##*/}
        case ${ns#"$LAB"-} in sw|host|c1|c2|vm3|rem) ;; *) ip netns del "$ns" ;; esac
    done
    kill -0 "$(cat "$LAB_DIR/relay.pid" 2>/dev/null)" 2>/dev/null || _no "the VM's relay is gone" || return
    while read -r line; do line=${line#*: }; devs+="${line%%[:@]*} "; done < <(ip -n "$NS_HOST" -o link show)
    for dev in up0 c1 c2 tap1; do [[ $devs == *" $dev "* ]] || _no "the host's $dev is gone" || return; done
    for dev in $devs; do
        case $dev in lo|up0|c1|c2|tap1) ;; *) echo "link del $dev" ;; esac
    done | ip -n "$NS_HOST" -force -batch - 2>/dev/null
    # No clsact qdisc (vepad's detach leaves it), links up, guests' MACs as made, neighbours
    # forgotten, the switch without STP and hairpinning.
    printf 'qdisc del dev %s clsact\n' up0 c1 c2 tap1 | tc -n "$NS_HOST" -force -batch - 2>/dev/null
    { printf 'link set %s up\n' up0 c1 c2 tap1; echo 'neigh flush all'; } | ip -n "$NS_HOST" -batch - ||
        _no "cannot set the host's links up" || return
    printf 'link set br0 type bridge stp_state 0 forward_delay 1500\nlink set swp-host type bridge_slave hairpin on\n' |
        ip -n "$NS_SW" -batch - || _no "cannot reset the switch" || return
    for guest in "$NS_C1 $MAC_C1" "$NS_C2 $MAC_C2" "$NS_VM3 $MAC_VM3" "$NS_REM $MAC_REM"; do
        set -- $guest
        printf 'link set eth0 address %s up\nneigh flush all\n' "$2" | ip -n "$1" -batch - ||
            _no "cannot reset $1's eth0" || return
    done
}

suite_up() { lab_up; }
suite_reset() { lab_reset; }
suite_down() { lab_down; }

# --- the runner -----------------------------------------------------------------
T_CASES=() T_RESULT=() T_NOTE=()

_t_case_end() {   # in the case's subshell, as it exits: its cleanups, then its background processes
    local c pid keep
    for c in "${T_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1; done
    keep=" $(lab_vepad_pid) $(cat "$LAB_DIR/relay.pid" 2>/dev/null) "
    for pid in $(jobs -p); do
        [[ $keep == *" $pid "* ]] || kill "$pid" 2>/dev/null
    done
    for pid in $(jobs -p); do
        [[ $keep == *" $pid "* ]] && continue
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
}

_t_run_case() {   # _t_run_case INDEX NAME: runs test_NAME, sets T_RESULT/T_NOTE[INDEX]
    local i=$1 name=$2 rc ok fail start=$SECONDS
    T_CHECKS=$T_DIR/$name.checks
    : >"$T_CHECKS"
    printf '\n=== %s: %s (%d of %d)\n' "$T_NAME" "$name" "$((i + 1))" "${#T_CASES[@]}"
    T_NOTE[i]="interrupted"
    (
        T_CLEANUP=()
        trap _t_case_end EXIT
        trap 'exit 130' INT TERM
        if declare -F case_setup >/dev/null; then case_setup; fi
        "test_$name"
        exit 0
    )
    rc=$?
    ok=$(grep -c '^ok' "$T_CHECKS") fail=$(grep -c '^FAIL' "$T_CHECKS")
    T_NOTE[i]="$ok checks passed, $fail failed, $((SECONDS - start)) s"
    if [ $rc -eq 77 ]; then
        T_RESULT[i]=SKIP T_NOTE[i]="skipped: $(cat "$T_CHECKS.reason")"
    elif [ $rc -ne 0 ]; then
        T_RESULT[i]=FAIL T_NOTE[i]+="; ended early: $(cat "$T_CHECKS.reason" 2>/dev/null || echo "exit status $rc")"
    elif [ "$fail" -gt 0 ]; then
        T_RESULT[i]=FAIL
    elif [ "$ok" -eq 0 ]; then
        T_RESULT[i]=FAIL T_NOTE[i]="no check ran"
    else
        T_RESULT[i]=PASS
    fi
    printf '=== %s: %s %s (%s)\n' "$T_NAME" "${T_RESULT[i]}" "$name" "${T_NOTE[i]}"
    if [ "${T_RESULT[i]}" = FAIL ] && [ -s "$LAB_DIR/vepad.log" ]; then
        echo "vepad's log:"; tail -50 "$LAB_DIR/vepad.log"
    fi
    [ $rc -ne 130 ] || exit 130
}

_t_finish() {
    local rc=$? i failed=0 skipped=0 ok=0 fail=0 n
    trap - EXIT
    suite_down >/dev/null 2>&1
    printf '\n%s: summary\n' "$T_NAME"
    for i in "${!T_CASES[@]}"; do
        printf '  %-4s %-34s %s\n' "${T_RESULT[i]:-----}" "${T_CASES[i]}" "${T_NOTE[i]:-not run}"
        case ${T_RESULT[i]:-} in FAIL) failed=$((failed + 1)) ;; SKIP) skipped=$((skipped + 1)) ;; esac
        n=$(grep -c '^ok' "$T_DIR/${T_CASES[i]}.checks" 2>/dev/null); ok=$((ok + ${n:-0}))
        n=$(grep -c '^FAIL' "$T_DIR/${T_CASES[i]}.checks" 2>/dev/null); fail=$((fail + ${n:-0}))
    done
    printf '%s: %d cases, %d failed, %d skipped; %d checks passed, %d failed\n' \
        "$T_NAME" "${#T_CASES[@]}" "$failed" "$skipped" "$ok" "$fail"
    rm -rf "$T_DIR"
    if [ $failed -gt 0 ]; then exit 1; fi
    if [ $rc -ne 0 ]; then exit $rc; fi
    if [ $skipped -eq ${#T_CASES[@]} ]; then exit 77; fi
    exit 0
}

run_tests() {
    local all name want i state=down
    all=$(sed -n 's/^test_\([A-Za-z0-9_]*\) *() *{.*/\1/p' "$0")
    if [ "${TEST:-}" = list ]; then echo "$all"; exit 0; fi
    if [ -n "${TEST:-}" ]; then
        for want in ${TEST//,/ }; do
            want=${want#test_}
            grep -qx "$want" <<<"$all" || {
                echo "$T_NAME: no case named '$want'; its cases: $(echo $all)" >&2; exit 2; }
            T_CASES+=("$want")
        done
    else
        mapfile -t T_CASES <<<"$all"
    fi
    lab_require_root
    T_DIR=$(mktemp -d "/tmp/$T_NAME-cases.XXXXXX")
    trap _t_finish EXIT
    trap 'exit 130' INT TERM
    for i in "${!T_CASES[@]}"; do
        name=${T_CASES[i]}
        if [ $state = up ] && ! suite_reset >"$T_DIR/reset.log" 2>&1; then
            echo "(the lab could not be put back after the last case: $(tail -1 "$T_DIR/reset.log"))"
            state=dirty
        fi
        if [ $state != up ]; then
            [ $state = down ] || { echo "(building the lab anew)"; suite_down >/dev/null 2>&1; }
            if ! suite_up; then
                T_RESULT[i]=FAIL T_NOTE[i]="the lab did not come up"
                state=dirty; continue
            fi
            state=up
        fi
        _t_run_case "$i" "$name"
        if [ "${T_RESULT[i]}" = FAIL ]; then state=dirty; fi
    done
}
