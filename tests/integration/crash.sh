#!/usr/bin/env bash
# vepad killed with SIGKILL while two VMs stream 10 kpps each way with the remote
# host: the dataplane keeps forwarding with no daemon (no frame lost), and a new vepad takes over
# the same ports with their counters.  Also: a clean stop (SIGTERM) leaves the
# dataplane forwarding; shutdown --detach removes it.  Each case: a fresh vepad
# with c1 and tap1.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    add_ports c1 tap1
}

test_kill9_under_load() {
    check "c1 reaches the remote host" reachable "$NS_C1" "$IP_REM"
    check "the VM reaches the remote host" reachable "$NS_VM3" "$IP_REM"

    section "kill -9 while two VMs exchange 10 kpps each way with the remote host"
    local before_rx before_tx
    before_rx=$(lab_stat c1 rx_packets)
    before_tx=$(lab_stat tap1 tx_packets)
    streams_start 6
    sleep 1.5
    kill -9 "$(lab_vepad_pid)"
    sleep 2            # no daemon for two seconds
    lab_start_vepad
    streams_check "kill -9 and restart"
    check_eq "the new vepad has the same ports" "c1,tap1" "$(ports_field name)"
    check_eq "both up" "up,up" "$(ports_field state)"
    check_ge "c1's counters were not reset (rx grew by the stream)" $((before_rx + 60000)) "$(lab_stat c1 rx_packets)"
    check_ge "nor tap1's (tx grew by the stream)" $((before_tx + 60000)) "$(lab_stat tap1 tx_packets)"
    check "and the new vepad manages them: del-port/add-port works" eval 'quiet vepactl del-port tap1 && lab_add_ports tap1'
    check "the VM reaches the remote host again" reachable "$NS_VM3" "$IP_REM"
    check_eq "the uplink runs the new vepad's program" "$(status_field programs.uplink_xdp)" "$(status_field uplink.xdp.prog_id)"
}

test_sigterm_keeps_dataplane() {
    section "SIGTERM: vepad stops, the dataplane stays"
    lab_stop_vepad
    check "no vepad running" not vepad_answers
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "c1 still reaches the remote host" reachable "$NS_C1" "$IP_REM"
    lab_start_vepad
    check_eq "a new vepad finds the ports" 2 "$(status_field ports.present)"
}

test_shutdown_detach() {
    section "shutdown --detach removes everything"
    quiet vepactl shutdown --detach
    wait_for 5 vepad_exited
    check "no XDP program left on the uplink" bash -c "! ip -n $NS_HOST link show up0 | grep -q xdp"
    check "no TC program left on c1 (tcx or clsact)" test -z "$(tc_tag c1)"
    check "no pinned maps left" test ! -e "$LAB_PIN_DIR/macs_v$LAYOUT"
    check "the state file is kept" test -s "$LAB_DIR/state/ports-up0.json"
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "c1's frames are no longer forwarded" unreachable "$NS_C1" "$IP_REM"
}

run_tests
