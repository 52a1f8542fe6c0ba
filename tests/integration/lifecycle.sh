#!/usr/bin/env bash
# Port lifecycle followed over rtnetlink with no command: ports configured
# before their interface exists, interfaces deleted and re-created (a VM
# restarted), links down and up, the uplink flapping and re-created.
. "$(dirname "$0")/lib.sh"
t_start
lab_start_vepad
vepactl add-port c1 >/dev/null
vepactl add-port tap1 --mac "$MAC_VM3" >/dev/null
mac_entries() { bpftool map dump pinned "$LAB_PIN_DIR/macs_v2" -j | jq length; }
tc_hooked() { tc -n "$NS_HOST" filter show dev "$1" ingress 2>/dev/null | grep -q vepa_port_tc; }

section "a port configured before its interface exists"
vepactl add-port c9 >/dev/null
check_eq "c9 is listed as absent" absent "$(port_state c9)"
ip netns add "$LAB-c9"
in_ns "$LAB-c9" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$NS_HOST" link add c9 type veth peer name eth0 netns "$LAB-c9"
ip -n "$LAB-c9" link set eth0 address 02:00:0a:14:00:09
ip -n "$LAB-c9" addr add 10.20.0.19/24 dev eth0
ip -n "$LAB-c9" link set eth0 up
ip -n "$NS_HOST" link set c9 up
check "c9 comes up with no command" wait_for 3 state_is c9 up
check "and forwards: c9 reaches the remote host" reachable "$LAB-c9" "$IP_REM"
check "its guest's MAC was learned" test "$(port_macs c9)" = 02:00:0a:14:00:09

section "a port's veth deleted and re-created (container restart)"
entries=$(mac_entries)
ip -n "$NS_HOST" link del c9
check "c9 goes absent" wait_for 3 state_is c9 absent
check_eq "its MAC entry is gone from the table" $((entries - 1)) "$(mac_entries)"
check "still configured" test "$(vepactl list --json | jq '[.ports[].name] | index("c9") != null')" = true
ip -n "$NS_HOST" link add c9 type veth peer name eth0 netns "$LAB-c9"
ip -n "$LAB-c9" link set eth0 address 02:00:0a:14:00:09
ip -n "$LAB-c9" addr add 10.20.0.19/24 dev eth0
ip -n "$LAB-c9" link set eth0 up
ip -n "$NS_HOST" link set c9 up
check "c9 comes back up with no command" wait_for 3 state_is c9 up
check "and forwards again" reachable "$LAB-c9" "$IP_REM"
check_eq "its MAC entry is back" "$entries" "$(mac_entries)"

section "a VM restarted: QEMU's tap goes away and comes back with a new ifindex"
old=$(vepactl list --json | jq '.ports[] | select(.name=="tap1") | .ifindex')
lab_vm3_stop
check "tap1 goes absent" wait_for 3 state_is tap1 absent
lab_vm3_start
check "tap1 comes back up" wait_for 3 state_is tap1 up
new=$(vepactl list --json | jq '.ports[] | select(.name=="tap1") | .ifindex')
check "with a new ifindex ($old -> $new)" test "$old" != "$new"
check "and the VM reaches the remote host" reachable "$NS_VM3" "$IP_REM"

section "link down and up"
ip -n "$NS_HOST" link set c1 down
check "c1 shows down" wait_for 3 state_is c1 down
d0=$(lab_stat c1 drops.port_down)
in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_C1" "$MAC_REM")" 5
sleep 0.2
check_eq "unicast for it is dropped and counted as port_down" 5 $(( $(lab_stat c1 drops.port_down) - d0 ))
ip -n "$NS_HOST" link set c1 up
check "c1 shows up again" wait_for 3 state_is c1 up
check "and forwards" reachable "$NS_C1" "$IP_REM"

section "the uplink flaps"
ip -n "$NS_HOST" link set up0 down
check "status shows the uplink down" wait_for 3 bash -c "[ \"\$(VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN status --json | jq -r .uplink.state)\" = down ]"
ip -n "$NS_HOST" link set up0 up
check "forwarding resumes after the uplink comes back" wait_for 5 reachable "$NS_C1" "$IP_REM"

section "the uplink deleted and re-created"
ip -n "$NS_HOST" link del up0
check "status shows the uplink absent" wait_for 3 bash -c "[ \"\$(VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN status --json | jq -r .uplink.state)\" = absent ]"
lab_flush_arp "$NS_C1" "$NS_REM"
check "nothing is forwarded meanwhile" unreachable "$NS_C1" "$IP_REM"
nd=$(lab_stat c1 drops.no_uplink)
check_ge "and the port's frames count as no_uplink" 1 "$nd"
ip -n "$NS_HOST" link add up0 type veth peer name swp-host netns "$NS_SW"
ip -n "$NS_SW" link set swp-host master br0
ip -n "$NS_SW" link set swp-host up
lab_hairpin on
ip -n "$NS_HOST" link set up0 up
check "forwarding resumes on the new uplink with no command" wait_for 5 reachable "$NS_C1" "$IP_REM"
check "the new uplink has vepad's programs" bash -c "ip -n $NS_HOST link show up0 | grep -q xdp"

section "del-port detaches and removes the port's entries"
entries=$(mac_entries)
check "c9 has vepad's TC filter before" tc_hooked c9
vepactl del-port c9 >/dev/null
check_eq "c9's MAC entry removed" $((entries - 1)) "$(mac_entries)"
check "its TC filter removed" bash -c "! tc -n $NS_HOST filter show dev c9 ingress | grep -q vepa_port_tc"
check "no longer listed" test "$(vepactl list --json | jq '[.ports[].name] | index("c9")')" = null
ip netns del "$LAB-c9"
