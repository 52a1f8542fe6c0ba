#!/usr/bin/env bash
# The uplink's receive filter (README, "Uplink receive filter"): vepad makes the
# uplink accept frames for every port MAC and for the reflection probe's
# destination (permanent FDB self entries: a NIC's unicast address list) and
# sets all-multicast; it removes only what it made (recorded in the pinned
# rxmacs map), keeps it across a stop, a kill -9 and a restart, puts it back
# on a re-created uplink, and removes it with shutdown --detach.  The lab's
# uplink is a veth, which keeps the list but filters nothing: these tests check
# the kernel state a filtering NIC's driver is programmed from.
. "$(dirname "$0")/lib.sh"

OTHER=02:aa:00:00:00:01   # an entry someone else made

# The uplink's unicast self entries, sorted, comma-separated.
uplink_entries() {
    local mac
    bridge -n "$NS_HOST" -j fdb show dev up0 self | jq -r '.[] | select(.state == "permanent") | .mac' |
        while read -r mac; do (( 0x${mac:0:2} & 1 )) || echo "$mac"; done | sort -u | paste -sd, -
}
unicast_sorted() { printf '%s\n' "$@" | sort -u | paste -sd, -; }
probe_dst() { vepactl probe --json | jq -r .probe.dst; }
uplink_flag() { ip -n "$NS_HOST" -j link show up0 | jq -r --arg f "$1" '.[0].flags | index($f) != null'; }
promiscuity() { ip -n "$NS_HOST" -d -j link show up0 | jq -r '.[0].promiscuity'; }
record_entries() { pin_entries rxrecord_v$LAYOUT; }
rx_field() { status_field "uplink.rx_filter.$1"; }

case_cleanup_uplink() {
    bridge -n "$NS_HOST" fdb del "$OTHER" dev up0 self 2>/dev/null
    bridge -n "$NS_HOST" fdb del "$MAC_C1" dev up0 self 2>/dev/null
    ip -n "$NS_HOST" link set up0 allmulticast off promisc off 2>/dev/null
    true
}

case_setup() { on_cleanup case_cleanup_uplink; }

test_entries_follow_ports() {
    start_vepad
    add_ports c1 tap1
    local probe
    probe=$(probe_dst)
    section "add-port: the port MACs and the probe's destination, all-multicast"
    check_eq "self permanent entries on up0" "$(unicast_sorted "$MAC_C1" "$MAC_VM3" "$probe")" "$(uplink_entries)"
    check_eq "up0 is all-multicast" true "$(uplink_flag ALLMULTI)"
    # A veth has no unicast filter (no IFF_UNICAST_FLT): for a non-empty unicast list the
    # kernel makes such a device promiscuous, as for any NIC without a filter or with a full one.
    check_eq "the kernel programmed the device: promiscuity 1 for a device without a unicast filter" 1 \
        "$(promiscuity)"
    check_eq "status: mode, entries, allmulti" "auto 3 true null" \
        "$(vepactl status --json | jq -r '.uplink.rx_filter | "\(.mode) \(.entries) \(.allmulti) \(.error)"')"
    check "status text: one line" eval 'vepactl status | grep -qx "rx filter:   auto, 3 MACs, allmulti"'
    check_eq "recorded: 3 entries and the flag" 4 "$(record_entries)"

    section "set-port and del-port"
    quiet vepactl set-port tap1 --mac 52:54:00:14:00:99
    check_eq "tap1's new MAC replaces the old" "$(unicast_sorted "$MAC_C1" 52:54:00:14:00:99 "$probe")" "$(uplink_entries)"
    quiet vepactl del-port tap1
    check_eq "del-port: its entry goes" "$(unicast_sorted "$MAC_C1" "$probe")" "$(uplink_entries)"
    ip -n "$NS_HOST" link set c1 down
    wait_for 3 state_is c1 down
    check_eq "a down port keeps its entry (it is in the MAC table)" "$(unicast_sorted "$MAC_C1" "$probe")" \
        "$(uplink_entries)"
    ip -n "$NS_HOST" link set c1 up
    ip -n "$NS_C1" link set eth0 address 02:00:0a:14:00:77
    wait_for 3 eval '[ "$(uplink_entries)" = "$(unicast_sorted 02:00:0a:14:00:77 "$probe")" ]'
    check_eq "a guest that changes its MAC: the learned MAC's entry follows" \
        "$(unicast_sorted 02:00:0a:14:00:77 "$probe")" "$(uplink_entries)"
    check "and traffic flows" reachable "$NS_C1" "$IP_REM"
}

test_kill9_and_restart() {
    start_vepad
    add_ports c1 tap1
    local want
    want=$(unicast_sorted "$MAC_C1" "$MAC_VM3" "$(probe_dst)")
    kill -9 "$(lab_vepad_pid)"
    sleep 0.3
    check_eq "kill -9: the entries stay (the dataplane forwards without vepad)" "$want" "$(uplink_entries)"
    check_eq "and all-multicast" true "$(uplink_flag ALLMULTI)"
    start_vepad
    check_eq "restart: the same entries, none added or lost" "$want" "$(uplink_entries)"
    check_eq "the record: the same 3 and the flag" 4 "$(record_entries)"
    check_eq "status counts them as vepad's" 3 "$(rx_field entries)"
    lab_stop_vepad
    check_eq "SIGTERM: a plain stop leaves them" "$want" "$(uplink_entries)"
    start_vepad
    quiet vepactl shutdown --detach
    wait_for 5 vepad_exited
    check_eq "shutdown --detach removes them" "" "$(uplink_entries)"
    check_eq "and all-multicast" false "$(uplink_flag ALLMULTI)"
    check_eq "the device is no longer promiscuous for them" 0 "$(promiscuity)"
}

test_old_record_taken_over() {
    section "the record of an older vepad (rxmacs, 8192 records) is taken over, then unpinned"
    start_vepad
    add_ports c1
    local want ifindex hex
    want=$(unicast_sorted "$MAC_C1" "$(probe_dst)")
    lab_stop_vepad
    # As the older vepad left it: its record under the old name, naming an entry it made that nothing wants now.
    mv "$LAB_PIN_DIR/rxrecord_v$LAYOUT" "$LAB_PIN_DIR/rxmacs_v$LAYOUT"
    bridge -n "$NS_HOST" fdb add "$OTHER" dev up0 self permanent
    ifindex=$(ip -n "$NS_HOST" -j link show up0 | jq '.[0].ifindex')
    hex=$(printf '%s 00 00' "${OTHER//:/ }")
    bpftool map update pinned "$LAB_PIN_DIR/rxmacs_v$LAYOUT" key hex $hex \
        value $(printf '%02x %02x %02x %02x' $((ifindex & 255)) $((ifindex >> 8 & 255)) 0 0)
    start_vepad
    check "the old record's pin is gone" test ! -e "$LAB_PIN_DIR/rxmacs_v$LAYOUT"
    check_eq "the entry only it named was vepad's, and is removed; the wanted stay" "$want" "$(uplink_entries)"
    check_eq "the new record: the 2 entries and the flag" 3 "$(record_entries)"
}

test_foreign_entries_survive() {
    section "entries and flags someone else made before vepad"
    bridge -n "$NS_HOST" fdb add "$OTHER" dev up0 self permanent
    bridge -n "$NS_HOST" fdb add "$MAC_C1" dev up0 self permanent   # the same MAC as a port
    ip -n "$NS_HOST" link set up0 allmulticast on
    start_vepad
    add_ports c1 tap1
    local probe
    probe=$(probe_dst)
    check_eq "vepad adds what is missing" "$(unicast_sorted "$OTHER" "$MAC_C1" "$MAC_VM3" "$probe")" "$(uplink_entries)"
    check_eq "status: 2 of vepad's, 1 by someone else's entry" "2 1" "$(rx_field entries) $(rx_field foreign)"
    check_eq "recorded: only its own (no flag: all-multicast was on)" 2 "$(record_entries)"
    quiet vepactl del-port c1
    check_eq "del-port c1 leaves the entry vepad did not make" "$(unicast_sorted "$OTHER" "$MAC_C1" "$MAC_VM3" "$probe")" \
        "$(uplink_entries)"
    start_vepad_again() { lab_stop_vepad && start_vepad; }
    start_vepad_again
    quiet vepactl shutdown --detach
    wait_for 5 vepad_exited
    check_eq "shutdown --detach removes vepad's only" "$(unicast_sorted "$OTHER" "$MAC_C1")" "$(uplink_entries)"
    check_eq "and leaves all-multicast as it found it" true "$(uplink_flag ALLMULTI)"
}

test_uplink_recreated() {
    start_vepad
    add_ports c1 tap1
    local want old
    want=$(unicast_sorted "$MAC_C1" "$MAC_VM3" "$(probe_dst)")
    old=$(status_field uplink.ifindex)
    ip -n "$NS_HOST" link del up0
    wait_for 3 eval '[ "$(status_field uplink.state)" = absent ]'
    lab_uplink
    wait_for 5 eval '[ "$(uplink_entries)" = "$want" ]'
    check "the uplink is a new device" test "$(status_field uplink.ifindex)" != "$old"
    check_eq "its entries came back" "$want" "$(uplink_entries)"
    check_eq "and all-multicast" true "$(uplink_flag ALLMULTI)"
    check_eq "the record names the new device only" "$(status_field uplink.ifindex)" \
        "$(bpftool map dump pinned "$LAB_PIN_DIR/rxrecord_v$LAYOUT" -j | jq -r '[.[].formatted.value] | unique | join(",")')"
    check "traffic flows" reachable "$NS_C1" "$IP_REM"
}

test_modes() {
    section "rx_filter = fdb: entries, no all-multicast"
    start_vepad --rx-filter fdb
    add_ports c1
    check_eq "entries" "$(unicast_sorted "$MAC_C1" "$(probe_dst)")" "$(uplink_entries)"
    check_eq "no all-multicast" false "$(uplink_flag ALLMULTI)"
    lab_stop_vepad

    section "rx_filter = promisc: promiscuous mode; vepad's entries go"
    start_vepad --rx-filter promisc
    check_eq "no entries" "" "$(uplink_entries)"
    check_eq "promiscuous" 1 "$(promiscuity)"
    check "status text" eval 'vepactl status | grep -qx "rx filter:   promisc, 0 MACs, promisc"'
    lab_stop_vepad

    section "rx_filter = none: vepad leaves the filter alone (and takes back what it made)"
    start_vepad --rx-filter none
    check_eq "no entries" "" "$(uplink_entries)"
    check_eq "not promiscuous" 0 "$(promiscuity)"
    check "traffic flows on the veth uplink, which filters nothing" reachable "$NS_C1" "$IP_REM"
    lab_stop_vepad

    section "a bad mode is refused"
    local out rc
    out=$(lab_run_vepad --rx-filter maybe 2>&1); rc=$?
    check "vepad --rx-filter maybe exits non-zero" test "$rc" -ne 0
    check "naming the values" grep -q "must be auto, fdb, promisc or none" <<<"$out"
}

run_tests
