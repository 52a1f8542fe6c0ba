#!/usr/bin/env bash
# Hostile clients on the control socket (socket_fuzz.py) while the dataplane
# carries traffic: vepad must answer every line, stay responsive, keep its
# configuration and forwarding, and leak no file descriptor. FUZZ_SEED=N replays
# a run (the seed is printed first).
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    add_ports c1 tap1
    reachable "$NS_C1" "$IP_REM"
}

test_fuzz() {
    section "fuzzing the control socket (${FUZZ_LINES:-20000} lines)"
    check "no violation" /usr/bin/python3 "$(dirname "$0")/socket_fuzz.py" "$LAB_SOCKET" "$VEPACTL_BIN" \
        "$(lab_vepad_pid)" --lines "${FUZZ_LINES:-20000}" ${FUZZ_SEED:+--seed "$FUZZ_SEED"}
    check "vepad is alive" kill -0 "$(lab_vepad_pid)"
    check_eq "its ports are unchanged" "c1,tap1" "$(ports_field name)"
    check "and still forwarding" reachable "$NS_C1" "$IP_REM"
}

run_tests
