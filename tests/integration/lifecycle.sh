#!/usr/bin/env bash
# Port lifecycle followed over rtnetlink with no command: ports configured
# before their interface exists, interfaces deleted and re-created (a VM
# restarted), links down and up, the uplink flapping and re-created.  Each
# case: a fresh vepad with c1 and tap1.
. "$(dirname "$0")/lib.sh"

NS_C9=$LAB-c9 MAC_C9=02:00:0a:14:00:09 IP_C9=10.20.0.19
tc_hooked() { [ -n "$(tc_tag "$1")" ]; }
# The container c9, configured in vepad and up.
c9_up() {
    quiet vepactl add-port c9 && lab_container "$NS_C9" c9 "$MAC_C9" "$IP_C9" && wait_for 3 state_is c9 up ||
        fatal "c9 did not come up"
}

case_setup() {
    start_vepad
    add_ports c1 tap1
}

test_port_before_interface() {
    section "a port configured before its interface exists"
    quiet vepactl add-port c9
    check_eq "c9 is listed as absent" absent "$(port_field c9 state)"
    lab_container "$NS_C9" c9 "$MAC_C9" "$IP_C9"
    check "c9 comes up with no command" wait_for 3 state_is c9 up
    check "and forwards: c9 reaches the remote host" reachable "$NS_C9" "$IP_REM"
    check "its guest's MAC was learned" test "$(port_field c9 'macs | join(",")')" = "$MAC_C9"
}

test_veth_recreated() {
    section "a port's veth deleted and re-created (container restart)"
    c9_up
    local entries; entries=$(pin_entries macs_v$LAYOUT)
    ip -n "$NS_HOST" link del c9
    check "c9 goes absent" wait_for 3 state_is c9 absent
    check_eq "its MAC entry is gone from the table" $((entries - 1)) "$(pin_entries macs_v$LAYOUT)"
    check "still configured" port_listed c9
    lab_container_veth "$NS_C9" c9 "$MAC_C9" "$IP_C9"
    check "c9 comes back up with no command" wait_for 3 state_is c9 up
    check "and forwards again" reachable "$NS_C9" "$IP_REM"
    check_eq "its MAC entry is back" "$entries" "$(pin_entries macs_v$LAYOUT)"
}

test_vm_restart() {
    section "a VM restarted: QEMU's tap goes away and comes back with a new ifindex"
    local old new
    old=$(port_field tap1 ifindex)
    lab_vm3_stop
    check "tap1 goes absent" wait_for 3 state_is tap1 absent
    lab_vm3_start
    check "tap1 comes back up" wait_for 3 state_is tap1 up
    new=$(port_field tap1 ifindex)
    check "with a new ifindex ($old -> $new)" test "$old" != "$new"
    check "and the VM reaches the remote host" reachable "$NS_VM3" "$IP_REM"
}

test_link_down_up() {
    section "link down and up"
    ip -n "$NS_HOST" link set c1 down
    check "c1 shows down" wait_for 3 state_is c1 down
    local d0; d0=$(lab_stat c1 drops.port_down)
    in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_C1" "$MAC_REM")" 5
    sleep 0.2
    check_eq "unicast for it is dropped and counted as port_down" 5 $(( $(lab_stat c1 drops.port_down) - d0 ))
    ip -n "$NS_HOST" link set c1 up
    check "c1 shows up again" wait_for 3 state_is c1 up
    check "and forwards" reachable "$NS_C1" "$IP_REM"
}

uplink_is() { [ "$(status_field uplink.state)" = "$1" ]; }

test_uplink_flap() {
    section "the uplink flaps"
    ip -n "$NS_HOST" link set up0 down
    check "status shows the uplink down" wait_for 3 uplink_is down
    ip -n "$NS_HOST" link set up0 up
    check "forwarding resumes after the uplink comes back" wait_for 5 reachable "$NS_C1" "$IP_REM"
}

test_uplink_recreated() {
    section "the uplink deleted and re-created"
    ip -n "$NS_HOST" link del up0
    check "status shows the uplink absent" wait_for 3 uplink_is absent
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "nothing is forwarded meanwhile" unreachable "$NS_C1" "$IP_REM"
    check_ge "and the port's frames count as no_uplink" 1 "$(lab_stat c1 drops.no_uplink)"
    lab_uplink
    check "forwarding resumes on the new uplink with no command" wait_for 5 reachable "$NS_C1" "$IP_REM"
    check "the new uplink has vepad's programs" bash -c "ip -n $NS_HOST link show up0 | grep -q xdp"
}

test_del_port() {
    section "del-port detaches and removes the port's entries"
    c9_up
    local entries; entries=$(pin_entries macs_v$LAYOUT)
    check "c9 has vepad's TC program before" tc_hooked c9
    quiet vepactl del-port c9
    check_eq "c9's MAC entry removed" $((entries - 1)) "$(pin_entries macs_v$LAYOUT)"
    check "its TC program removed" test -z "$(tc_tag c9)"
    check "no longer listed" not port_listed c9
}

run_tests
