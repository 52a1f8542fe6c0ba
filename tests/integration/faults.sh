#!/usr/bin/env bash
# Faults with traffic running: the uplink flapping and re-created, the state
# directory full or read-only (the previous configuration is never lost and
# vepad keeps running), and a burst of link events overrunning vepad's
# rtnetlink buffer (recovered by a full re-read).  Each case: a fresh vepad
# with a small rtnetlink buffer, its state directory on a 64 KiB tmpfs, c1 and tap1.
. "$(dirname "$0")/lib.sh"

case_setup() {
    # The state directory on its own small tmpfs, to fill it (unmounted by the runner).
    mkdir -p "$LAB_DIR/state"
    mount -t tmpfs -o size=64k tmpfs "$LAB_DIR/state" || fatal "cannot mount a tmpfs for the state directory"
    start_vepad --netlink-rcvbuf 16384
    add_ports c1 tap1
    reachable "$NS_C1" "$IP_REM"; reachable "$NS_VM3" "$IP_REM"
}

test_uplink_flap_under_load() {
    section "uplink down for a second, under load"
    streams_start 4
    sleep 1
    ip -n "$NS_HOST" link set up0 down
    sleep 1
    ip -n "$NS_HOST" link set up0 up
    local id
    for id in 1 2 3 4; do stream_wait $id; done
    check_ge "frames were lost while the uplink was down (sanity: the fault was real)" 1 "$(stream_field 1 lost)"
    streams_start 2
    streams_check "after the flap"
}

test_uplink_recreated_under_load() {
    section "uplink deleted and re-created, under load"
    streams_start 5
    sleep 1
    ip -n "$NS_HOST" link del up0
    sleep 0.5
    lab_uplink
    local id
    for id in 1 2 3 4; do stream_wait $id; done
    streams_start 2
    streams_check "on the new uplink"
}

test_state_dir_full() {
    section "state directory full: the change is refused, nothing is lost"
    # Restarted, vepad has folded its journal into the snapshot: the change below needs
    # new room (it would fit in the journal's last page otherwise).
    lab_stop_vepad
    start_vepad --netlink-rcvbuf 16384
    state_table >"$LAB_DIR/state.before"
    dd if=/dev/zero of="$LAB_DIR/state/filler" bs=1k count=64 2>/dev/null || true
    local err rc
    err=$(vepactl add-port c2 2>&1); rc=$?
    check_eq "add-port is refused" 1 "$rc"
    check "saying why (no space), as a state error" bash -c "grep -q 'No space left' <<<\"$err\" && grep -q '\\[state\\]' <<<\"$err\""
    state_table >"$LAB_DIR/state.after"
    check "the port table on disk is intact" cmp -s "$LAB_DIR/state.after" "$LAB_DIR/state.before"
    check "no temporary file left behind" bash -c "! ls $LAB_DIR/state | grep -q tmp"
    check_eq "vepad did not take the port" "c1,tap1" "$(ports_field name)"
    check "vepad keeps running and forwarding" reachable "$NS_C1" "$IP_REM"
    rm -f "$LAB_DIR/state/filler"
    check "with room again, add-port works" quiet vepactl add-port c2
}

test_state_dir_readonly() {
    add_ports c2   # as test_state_dir_full leaves it
    section "state directory read-only"
    mount -o remount,ro "$LAB_DIR/state"
    state_table >"$LAB_DIR/state.before"
    local err rc
    err=$(vepactl del-port c2 2>&1); rc=$?
    check_eq "del-port is refused" 1 "$rc"
    check "saying why (read-only)" bash -c "grep -qi 'read-only' <<<\"$err\""
    check_eq "the port is still configured" "c1,c2,tap1" "$(ports_field name)"
    state_table >"$LAB_DIR/state.after"
    check "the port table on disk is intact" cmp -s "$LAB_DIR/state.after" "$LAB_DIR/state.before"
    mount -o remount,rw "$LAB_DIR/state"
    check "writable again, del-port works" quiet vepactl del-port c2
}

test_netlink_overrun() {
    section "a burst of link events overruns vepad's rtnetlink buffer"
    quiet vepactl add-port c5
    check_eq "c5 is configured, absent" absent "$(port_field c5 state)"
    kill -STOP "$(lab_vepad_pid)"
    on_cleanup kill -CONT "$(lab_vepad_pid)"
    local i
    {
        for i in $(seq 1 400); do echo "link add burst$i type veth peer name burstp$i"; done
        for i in $(seq 1 400); do echo "link set burst$i up"; done
    } | ip -n "$NS_HOST" -batch -
    lab_container "$LAB-c5" c5 02:00:0a:14:00:05 10.20.0.15
    for i in $(seq 1 400); do echo "link del burst$i"; done | ip -n "$NS_HOST" -batch -
    kill -CONT "$(lab_vepad_pid)"
    check "vepad noticed the overrun" wait_for 10 grep -q "events lost" "$LAB_DIR/vepad.log"
    check "and, re-reading every link, found c5 up" wait_for 10 state_is c5 up
    check "c5 forwards" reachable "$LAB-c5" "$IP_REM"
    check_eq "the others are as they were" "up,up" "$(ports_field state 'select(.name != "c5")')"
    check "vepad answers promptly after the burst" quiet timeout 2 env VEPAD_SOCKET="$LAB_SOCKET" "$VEPACTL_BIN" status
}

run_tests
