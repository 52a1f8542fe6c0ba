#!/usr/bin/env bash
# Every rule of docs/VEPA-SEMANTICS.md over real traffic: the real daemon, a
# Linux bridge as the adjacent switch (hairpin on and off), container veths
# with their defaults, a VM's tap.  Each case: one lab, a fresh vepad with c1,
# c2 and tap1, the host with an address on its uplink.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    ip -n "$NS_HOST" addr replace 10.20.0.1/24 dev up0
    add_ports c1 c2 tap1
}

test_paths() {
    section "paths chosen by probing"
    check_eq "c1 (container veth, defaults) is delivered by bpf_redirect_peer" tc-peer "$(port_field c1 delivery)"
    check_eq "tap1 is delivered by XDP" xdp "$(port_field tap1 delivery)"
}

test_hairpin_on() {
    section "T1/R1 with hairpin on: VM to VM crosses the switch"
    lab_hairpin on
    read -r rx0 tx0 <<<"$(lab_switch_counters)"
    check "c1 reaches c2" reachable "$NS_C1" "$IP_C2"
    check "c2 reaches the VM behind tap1" reachable "$NS_C2" "$IP_VM3"
    check "the VM reaches c1" reachable "$NS_VM3" "$IP_C1"
    read -r rx1 tx1 <<<"$(lab_switch_counters)"
    check_ge "the switch received the VM-to-VM frames from the host" 12 $((rx1 - rx0))
    check_ge "the switch reflected them back" 12 $((tx1 - tx0))
    check "every port reaches the remote host" bash -c "$(declare -f lab_ping in_ns); \
        [ \$(lab_ping $NS_C1 $IP_REM 2) -ge 1 ] && [ \$(lab_ping $NS_C2 $IP_REM 2) -ge 1 ] && [ \$(lab_ping $NS_VM3 $IP_REM 2) -ge 1 ]"
}

test_hairpin_off() {
    section "no local switching: hairpin off"
    lab_hairpin off
    lab_flush_arp "$NS_C1" "$NS_C2" "$NS_VM3"
    check "c1 cannot reach c2" unreachable "$NS_C1" "$IP_C2"
    check "c2 cannot reach the VM" unreachable "$NS_C2" "$IP_VM3"
    check "c1 still reaches the remote host" reachable "$NS_C1" "$IP_REM"
}

test_host_and_unknown_unicast() {
    section "R2: unicast for the host's MAC reaches the host; unknown unicast reaches no port"
    check "c1 reaches the host's own address (out and back through the switch)" reachable "$NS_C1" 10.20.0.1
    local unknown ns n
    unknown=$(test_frame 02:00:00:99:99:99 "$MAC_REM")
    for ns in "$NS_C1" "$NS_C2" "$NS_VM3"; do
        n=$(count_inbound "$ns" eth0 "ether dst 02:00:00:99:99:99" -- in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$unknown" 20)
        check_eq "20 frames to an unknown MAC reach no guest (${ns#"$LAB"-})" 0 "$n"
    done
}

test_broadcast_from_outside() {
    section "R3: a broadcast from outside reaches every port once, and the host"
    local bcast ns n h0
    bcast=$(test_frame ff:ff:ff:ff:ff:ff "$MAC_REM")
    for ns in "$NS_C1" "$NS_C2" "$NS_VM3"; do
        h0=$(lab_stat uplink host_packets)
        n=$(count_inbound "$ns" eth0 "ether src $MAC_REM and ether proto 0x88b5" -- in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$bcast" 10)
        check_eq "${ns#"$LAB"-}'s guest received each of 10 broadcasts once" 10 "$n"
        check_ge "the host stack got them too" 10 $(( $(lab_stat uplink host_packets) - h0 ))
    done
}

test_reflected_broadcast() {
    section "R4: a reflected broadcast never returns to its sender"
    local n
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_C1" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C1")" 10)
    check_eq "c1 received none of its own 10 broadcasts back" 0 "$n"
    n=$(count_inbound "$NS_C2" eth0 "ether src $MAC_C1 and ether proto 0x88b5" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C1")" 10)
    check_eq "c2 received the 10 reflected broadcasts" 10 "$n"
    n=$(count_inbound "$NS_VM3" eth0 "ether src $MAC_VM3" -- in_ns "$NS_VM3" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_VM3")" 10)
    check_eq "the VM received none of its own 10 broadcasts back (tap, XDP egress)" 0 "$n"
}

test_private_mode() {
    section "private mode (R6, R7)"
    quiet vepactl set-port c1 --mode private
    lab_flush_arp "$NS_C1" "$NS_C2" "$NS_VM3"
    check "private c1 cannot reach c2, even through the switch (R7)" unreachable "$NS_C1" "$IP_C2"
    check "c2 cannot reach private c1 (R7)" unreachable "$NS_C2" "$IP_C1"
    check "private c1 reaches the remote host" reachable "$NS_C1" "$IP_REM"
    local n d0
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_C2 and ether proto 0x88b5" -- in_ns "$NS_C2" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C2")" 5)
    check_eq "c2's reflected broadcasts do not reach private c1 (R4)" 0 "$n"
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_C1" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C1")" 5)
    check_eq "private c1's reflected broadcasts do not come back to it (R6, unlike macvlan)" 0 "$n"
    n=$(count_inbound "$NS_C2" eth0 "ether src $MAC_C1 and ether proto 0x88b5" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C1")" 5)
    check_eq "nor reach c2 (R6)" 0 "$n"
    d0=$(lab_stat c2 drops.private)
    n=$(count_inbound "$NS_C2" eth0 "ether src $MAC_C1 and ether proto 0x88b5" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_C2" "$MAC_C1")" 10)
    check_eq "private c1's unicast to c2, reflected by the switch, does not reach c2 (R7, unlike macvlan)" 0 "$n"
    check_eq "and vepad counts the 10 as private drops on c2" 10 $(( $(lab_stat c2 drops.private) - d0 ))
}

test_bridge_mode() {
    section "bridge mode (T2, T3, T4, R5)"
    quiet vepactl set-port c1 --mode bridge
    quiet vepactl set-port c2 --mode bridge
    lab_hairpin off
    lab_flush_arp "$NS_C1" "$NS_C2" "$NS_VM3"
    local rx0 tx0 rx1 tx1 n
    read -r rx0 tx0 <<<"$(lab_switch_counters)"
    check "bridge c1 reaches bridge c2 with hairpin off (T2, T4: local)" reachable "$NS_C1" "$IP_C2"
    read -r rx1 tx1 <<<"$(lab_switch_counters)"
    check_eq "and no unicast between them crossed the switch back" 0 $((tx1 - tx0))
    check "bridge c1 cannot reach the vepa VM without hairpin (T3)" unreachable "$NS_C1" "$IP_VM3"
    lab_hairpin on
    lab_flush_arp "$NS_C1" "$NS_VM3"
    check "with hairpin on it can (T3 via the switch)" reachable "$NS_C1" "$IP_VM3"
    n=$(count_inbound "$NS_C2" eth0 "ether src $MAC_C1 and ether proto 0x88b5" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame ff:ff:ff:ff:ff:ff "$MAC_C1")" 5)
    check_eq "a bridge port's broadcast reaches the other bridge port once (local copy, not the reflection: R5)" 5 "$n"
}

test_anti_spoofing() {
    section "T5 anti-spoofing"
    local s0 n
    s0=$(lab_stat c1 drops.spoofed)
    n=$(count_inbound "$NS_REM" eth0 "ether proto 0x88b5" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 10)
    check_eq "frames from c1 with c2's MAC never leave the host" 0 "$n"
    check_eq "and are counted as spoofed" 10 $(( $(lab_stat c1 drops.spoofed) - s0 ))
    quiet vepactl set-port c1 --mac "$MAC_C1"
    ip -n "$NS_C1" link set eth0 address 02:00:0a:14:00:99
    lab_flush_arp "$NS_C1" "$NS_REM"
    check "with its MAC fixed by --mac, c1 cannot send once its guest changes MAC" unreachable "$NS_C1" "$IP_REM"
    ip -n "$NS_C1" link set eth0 address "$MAC_C1"
    quiet vepactl set-port c1 --mac guest
    check "back on its own MAC it can" reachable "$NS_C1" "$IP_REM"
}

test_guest_mac_change() {
    section "a guest's MAC change is followed (no --mac)"
    ip -n "$NS_C2" link set eth0 address 02:00:0a:14:00:77
    check "vepactl list shows c2's new MAC" wait_for 3 port_is c2 'macs[0]' 02:00:0a:14:00:77
    lab_flush_arp "$NS_C2" "$NS_REM"
    check "and c2 keeps reaching the remote host" reachable "$NS_C2" "$IP_REM"
}

test_vlans() {
    section "V1/V3 through the real daemon: access ports in one VLAN talk through the switch, tagged on the wire"
    lab_hairpin on
    quiet vepactl set-port c1 --vlan 10
    quiet vepactl set-port c2 --vlan 10
    lab_flush_arp "$NS_C1" "$NS_C2"
    check "c1 (VLAN 10) reaches c2 (VLAN 10)" reachable "$NS_C1" "$IP_C2"
    local n
    n=$(count_inbound "$NS_SW" swp-host "vlan 10 and icmp" -- lab_ping "$NS_C1" "$IP_C2" 3)
    check_ge "the switch receives their frames tagged 10 (a request and a reply per ping)" 6 "$n"
    lab_flush_arp "$NS_C1"
    check "c1 cannot reach the remote host (untagged, VLAN none)" unreachable "$NS_C1" "$IP_REM"
    check "nor can the VM reach c1 (its frames are untagged)" unreachable "$NS_VM3" "$IP_C1"

    section "V3/V4: another VLAN is another network, broadcast included"
    quiet vepactl set-port c2 --vlan 20
    lab_flush_arp "$NS_C1" "$NS_C2"
    check "c1 (VLAN 10) cannot reach c2 (VLAN 20): its ARP broadcast stays in VLAN 10" unreachable "$NS_C1" "$IP_C2"
    quiet vepactl set-port c2 --vlan none --trunk 10
    n=$(count_inbound "$NS_C2" eth0 "vlan 10 and arp" -- lab_ping "$NS_C1" "$IP_C2" 2)
    check_ge "a trunk port gets VLAN 10's broadcasts with their tag" 1 "$n"

    section "V2: a guest cannot hop VLANs"
    quiet vepactl set-port c1 --vlan none
    local d0
    d0=$(lab_stat c1 drops.vlan)
    n=$(count_inbound "$NS_REM" eth0 "ether proto 0x88b5 or vlan" -- \
        in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C1" 8100001488b5)" 10)
    check_eq "frames c1 tags 20 itself never leave the host" 0 "$n"
    check_eq "and are counted as vlan drops" 10 $(( $(lab_stat c1 drops.vlan) - d0 ))
    quiet vepactl set-port c1 --trunk all
    n=$(count_inbound "$NS_REM" eth0 "vlan 20" -- \
        in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C1" 8100001488b5)" 10)
    check_eq "with --trunk all they do (the opt-out)" 10 "$n"
}

test_pause() {
    section "T6: PAUSE frames are never forwarded"
    local p0 n
    p0=$(lab_stat c1 drops.pause)
    n=$(count_inbound "$NS_REM" eth0 "ether proto 0x8808" -- in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame 01:80:c2:00:00:01 "$MAC_C1" 8808)" 10)
    check_eq "no PAUSE frame reached the switch side" 0 "$n"
    check_eq "10 counted as pause drops" 10 $(( $(lab_stat c1 drops.pause) - p0 ))
}

run_tests
