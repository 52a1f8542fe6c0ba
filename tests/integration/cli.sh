#!/usr/bin/env bash
# Bad input to vepactl (exit 2 for usage, 1 with a one-line reason when vepad
# refuses) and to the raw control socket (an error reply each, never a crash);
# access control; a corrupt state file refused by name and left untouched.
# Each case: a fresh vepad with c1 and tap1.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    add_ports c1 tap1
}

# refused EXPECTED_RC PATTERN vepactl-args...: exit status and a one-line stderr matching PATTERN.
refused() {
    local want=$1 pat=$2; shift 2
    local err rc
    err=$(vepactl "$@" 2>&1 >/dev/null); rc=$?
    # A refusal is one line; a usage error may add CLI11's "Run with --help" hint.
    [ "$rc" -eq "$want" ] && { [ "$want" -ne 1 ] || [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]; } &&
        printf '%s' "$err" | grep -q -- "$pat" || { echo "    got rc $rc: $err"; return 1; }
}

test_usage_errors() {
    section "usage errors exit 2"
    check "no command" refused 2 ""
    check "unknown command" refused 2 "" frobnicate
    check "add-port without a name" refused 2 "" add-port
    check "unknown option" refused 2 "" list --bogus
    check "set-port with nothing to change" refused 2 "nothing to change" set-port c1
    check "bad --src-check value" refused 2 "" set-port c1 --src-check maybe
}

test_refusals() {
    ip -n "$NS_HOST" link add br-x type bridge
    ip -n "$NS_HOST" tuntap add dev tapx mode tap
    section "refusals exit 1 with the reason"
    check "an interface that is neither veth nor tap" refused 1 "ports are veth or tap" add-port br-x
    check "the uplink itself" refused 1 "uplink" add-port up0
    check "a MAC owned by another port" refused 1 "belongs to port tap1" add-port c2 --mac "$MAC_VM3"
    check "a MAC learned from another port's guest" refused 1 "belongs to port c1" add-port c2 --mac "$MAC_C1"
    check "an invalid MAC" refused 1 "invalid MAC" add-port c2 --mac 02:00:00:00:00
    check "a group MAC" refused 1 "group or zero" add-port c2 --mac 01:00:5e:00:00:01
    check "a tap without --mac" refused 1 "give its guest's MAC" add-port tapx
    check "an invalid mode" refused 1 "mode must be" add-port c2 --mode hub
    check "an invalid interface name" refused 1 "not a valid interface name" add-port "a-very-long-interface-name"
    check "a port configured twice" refused 1 "already configured" add-port c1
    check "deleting an unknown port" refused 1 "no port" del-port nope
    check "stats of an unknown port" refused 1 "no port" stats nope
    local too_many=() i
    for i in $(seq 0 256); do too_many+=(--mac "$(printf '02:00:00:01:%02x:%02x' $((i / 256)) $((i % 256)))"); done
    check "more than 256 MACs" refused 1 "at most 256" add-port c2 "${too_many[@]}"
    check "no daemon at the socket" bash -c "! VEPAD_SOCKET=/nonexistent.sock $VEPACTL_BIN status 2>&1 | grep -q 'is vepad running'; [ \${PIPESTATUS[0]} -eq 1 ] || VEPAD_SOCKET=/nonexistent.sock $VEPACTL_BIN status 2>&1 | grep -q 'is vepad running'"
    check_eq "nothing changed" "c1,tap1" "$(ports_field name)"
}

test_raw_socket() {
    section "the raw socket"
    local c
    for c in malformed unknown badargs deep huge halfclose ids; do
        check "raw: $c" /usr/bin/python3 "$(dirname "$0")/rawsock.py" "$LAB_SOCKET" "$c"
    done
    check "vepad still answers" vepad_answers
    check "and still forwards" reachable "$NS_C1" "$IP_REM"
}

test_access() {
    section "access: only root and the vepad group"
    check_eq "socket mode" 660 "$(stat -c %a "$LAB_SOCKET")"
    chmod 0755 "$LAB_DIR"
    check "an unprivileged user is refused" bash -c "! setpriv --reuid=65534 --regid=65534 --clear-groups \
        env VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN status 2>/dev/null"
    # With the socket opened to everyone, the SO_PEERCRED check still refuses.
    chmod 0666 "$LAB_SOCKET"
    local out
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups env VEPAD_SOCKET="$LAB_SOCKET" "$VEPACTL_BIN" status 2>&1)
    has_forbidden() { case $out in *"[forbidden]"*) return 0 ;; *) echo "    got: $out"; return 1 ;; esac; }
    check "SO_PEERCRED refuses a non-root peer even through an open socket file" has_forbidden
}

test_corrupt_state_file() {
    section "a corrupt state file is refused by name and never replaced"
    lab_stop_vepad
    local state="$LAB_DIR/state/ports-up0.json"
    cp "$state" "$LAB_DIR/state.good"
    printf '{"format": 1, "ports": [ {"name": "c1", "slot": 1' >"$state"
    cp "$state" "$LAB_DIR/state.corrupt"
    lab_run_vepad >"$LAB_DIR/corrupt.log" 2>&1
    check_eq "vepad refuses to start" 1 "$?"
    check "naming the file" grep -q "state file $state is corrupt" "$LAB_DIR/corrupt.log"
    check "the file is untouched" cmp -s "$state" "$LAB_DIR/state.corrupt"
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "the dataplane kept forwarding all along" reachable "$NS_C1" "$IP_REM"
    cp "$LAB_DIR/state.good" "$state"
    lab_start_vepad
    check_eq "restored, vepad starts with its ports" "c1,tap1" "$(ports_field name)"
}

run_tests
