#!/usr/bin/env bash
# Hostile clients on the control socket (socket_fuzz.py) while the dataplane
# carries traffic: vepad must answer every line, stay responsive, keep its
# configuration and forwarding, and leak no file descriptor. FUZZ_SEED=N replays
# a run (the seed is printed first).
. "$(dirname "$0")/lib.sh"
t_start
lab_start_vepad
vepactl add-port c1 >/dev/null
vepactl add-port tap1 --mac "$MAC_VM3" >/dev/null
reachable "$NS_C1" "$IP_REM"
section "fuzzing the control socket (${FUZZ_LINES:-20000} lines)"
check "no violation" /usr/bin/python3 "$(dirname "$0")/socket_fuzz.py" "$LAB_SOCKET" "$VEPACTL_BIN" \
    "$(lab_vepad_pid)" --lines "${FUZZ_LINES:-20000}" ${FUZZ_SEED:+--seed "$FUZZ_SEED"}
check "vepad is alive" kill -0 "$(lab_vepad_pid)"
check_eq "its ports are unchanged" "c1,tap1" "$(vepactl list --json | jq -r '[.ports[].name] | join(",")')"
check "and still forwarding" reachable "$NS_C1" "$IP_REM"
