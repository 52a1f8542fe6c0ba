#!/usr/bin/env bash
# Does the switch reflect?  vepad's reflection probe against the lab's Linux
# bridge, with hairpin switched off and on while vepad runs (the status must
# follow within one probe interval), and across an uplink flap; then LLDP with
# the 802.1Qbg EVB TLV against peers nobody here wrote: lldpad as an EVB bridge
# (reflective relay capability on, then off) and lldpd as a plain neighbour.
# Each case: a fresh vepad probing every 2 s and sending LLDP every second, with c1 and c2.
. "$(dirname "$0")/lib.sh"
INTERVAL=2

case_setup() {
    start_vepad --probe-interval "$INTERVAL" --lldp-interval 1
    add_ports c1 c2
}

relay() { status_field "reflective_relay$1"; }
relay_is() { [ "$(relay "$1")" = "$2" ]; }        # for wait_for: re-read each time
relay_ge() { [ "$(relay "$1")" -ge "$2" ] 2>/dev/null; }
probe_is() { [ "$(relay .probe.state)" = "$1" ]; }
# Seconds (one decimal) until the probe state is $1, or "never" after $2 s.
time_until() {
    local t0 t1; t0=$(date +%s.%N)
    if wait_for "$2" probe_is "$1"; then t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}'; else echo never; fi
}
probe_rc() { vepactl probe >/dev/null; echo $?; }
within() { [ "$1" != never ] && awk -v t="$1" -v max="$2" 'BEGIN {exit !(t <= max)}'; }

test_probe_reflecting() {
    section "reflection probe: the lab switch hairpins"
    check_eq "vepactl probe: reflecting (exit 0)" 0 "$(probe_rc)"
    check_eq "status verdict" "reflecting probe" "$(relay .verdict) $(relay .by)"
    check_ge "the uplink program counted the returning probes" 1 "$(lab_stat uplink probe_packets)"
    # The returning probes are consumed: none reaches a guest.
    in_ns "$NS_C1" timeout 3 tcpdump -nni eth0 -c 1 'ether proto 0x88b5' >"$LAB_DIR/c1.cap" 2>/dev/null &
    local cap=$!
    sleep 0.5
    vepactl probe >/dev/null
    wait "$cap"
    check_eq "no probe frame reached a guest (captured at c1 during a probe)" 0 "$(grep -c . "$LAB_DIR/c1.cap")"
    check_eq "vepactl probe --json carries the probe's MACs" "0a:76:65" "$(vepactl probe --json | jq -r '.probe.src[0:8]')"
}

test_hairpin_off_detected() {
    wait_for 5 probe_is reflecting || fatal "the probe never said reflecting"
    section "hairpin switched off while vepad runs"
    lab_hairpin off
    local took; took=$(time_until not-reflecting $((INTERVAL + 3)))
    check "status says not-reflecting within one interval (+ the probe's 0.6 s): ${took} s" within "$took" "$((INTERVAL + 1))"
    check "vepad warned that its VMs cannot reach each other" wait_for 2 grep -q "does not reflect" "$LAB_DIR/vepad.log"
    check_eq "vepactl probe: not reflecting (exit 3)" 3 "$(probe_rc)"
    check_eq "and indeed c1 cannot reach c2" 0 "$(lab_ping "$NS_C1" "$IP_C2" 3)"
}

test_hairpin_on_again() {
    lab_hairpin off
    wait_for $((INTERVAL + 3)) probe_is not-reflecting || fatal "the probe never said not-reflecting with hairpin off"
    section "hairpin switched on again"
    lab_hairpin on
    local took; took=$(time_until reflecting $((INTERVAL + 3)))
    check "status says reflecting within one interval: ${took} s" within "$took" "$((INTERVAL + 1))"
    check "c1 reaches c2" reachable "$NS_C1" "$IP_C2"
}

test_uplink_flap() {
    wait_for 5 probe_is reflecting || fatal "the probe never said reflecting"
    section "uplink flap"
    ip -n "$NS_HOST" link set up0 down
    check "uplink down: unknown" wait_for 3 probe_is unknown
    check_eq "with the reason" "uplink down" "$(relay .probe.reason)"
    check_eq "vepactl probe: unknown (exit 4)" 4 "$(probe_rc)"
    ip -n "$NS_HOST" link set up0 up
    check "uplink up: probed at once, reflecting" wait_for 2 probe_is reflecting
}

test_probe_on_request_only() {
    section "periodic probing off (--probe-interval 0): probes only on request"
    lab_stop_vepad
    start_vepad --probe-interval 0 --lldp-interval 0
    check "probed once at start" wait_for 3 probe_is reflecting
    local seq; seq=$(relay .probe.seq)
    sleep 3
    check_eq "and not again by itself" "$seq" "$(relay .probe.seq)"
    check_eq "vepactl probe still works" 0 "$(probe_rc)"
    check_eq "LLDP off" "false 0" "$(relay .lldp.enabled) $(relay .lldp.sent)"
}

test_lldp_sends() {
    section "LLDP: what vepad sends"
    check "LLDPDUs sent, to the nearest bridge and nearest customer bridge groups" wait_for 4 relay_ge .lldp.sent 4
    check_ge "its own LLDPDUs flooded back by the hairpinning bridge are recognised" 1 "$(relay .lldp.own_reflected)"
    check_eq "and not taken for a neighbour" 0 "$(relay '.lldp.neighbours | length')"
}

# The LLDP peers need lldpad and lldpd; missing, the case fails (tools/install-deps.sh installs them).
need_lldp_tools() {
    local tool
    for tool in lldpad lldptool lldpd lldpcli; do
        command -v "$tool" >/dev/null || fatal "$tool is not installed (tools/install-deps.sh installs it)"
    done
}
# A Linux bridge with STP off forwards the nearest-customer-bridge group
# (01:80:c2:00:00:00) instead of taking it in, so an LLDP agent on its port never
# sees a station's EVB TLV (a hardware switch always takes that group in). Run
# STP on the lab switch, as a real one does.
stp_on() { ip -n "$NS_SW" link set br0 type bridge forward_delay 200 stp_state 1; }
port_forwarding() { [ "$(in_ns "$NS_SW" bridge -j link show dev swp-host | jq -r '.[0].state')" = forwarding ]; }
lldptool_sw() { ip netns exec "$NS_SW" lldptool "$@" >>"$LAB_DIR/lldptool.log" 2>&1; }
# lldpad as an EVB bridge on swp-host, granting reflective relay.  One lldpad per
# namespace: a private /dev/shm (its "already running" check) and the netns's /sys.
lldpad_start() {
    ip netns exec "$NS_SW" sh -c "mount -t tmpfs -o size=1m shm /dev/shm && exec lldpad -t -p -f '$LAB_DIR/lldpad.conf'" \
        >"$LAB_DIR/lldpad.log" 2>&1 &
    LLDPAD_PID=$!
}
lldpad_evb_bridge() {
    lldptool_sw -L -i swp-host -g ncb adminStatus=rxtx
    lldptool_sw -T -i swp-host -g ncb -V evb -c evbmode=bridge
    lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=yes
    lldptool_sw -T -i swp-host -g ncb -V evb -c enabletx=yes
}
evb() { relay ".lldp.bridge_evb$1"; }

test_lldpad_evb_bridge() {
    need_lldp_tools
    stp_on
    check "with STP on, the switch port forwards again after listening and learning" wait_for 10 port_forwarding

    section "LLDP: lldpad as an 802.1Qbg EVB bridge on the switch port"
    lldpad_start
    check "lldpad answers lldptool" wait_for 5 lldptool_sw -p
    lldpad_evb_bridge
    check "vepad sees the bridge's EVB TLV" wait_for 10 relay_is .lldp.bridge_evb.form 802.1Qbg-2012
    check "lldpad grants reflective relay (RRCTR)" wait_for 5 relay_is .lldp.bridge_evb.rr_enabled true
    check_eq "and says it is capable (RRCAP), as a bridge" "true bridge" "$(evb .rr_capable) $(evb .role)"
    check "vepad reports reflective relay enabled back (RRSTAT)" wait_for 5 relay_is .lldp.advertising.rrstat enabled
    check_eq "lldpad echoes our request in its TLV (RRREQ)" true "$(evb .station_status.rrreq)"
    check "the lldpad neighbour is listed" test "$(relay '.lldp.neighbours | map(select(.evb != null)) | length')" -ge 1
    check_eq "none invalid" 0 "$(relay .lldp.invalid)"
    check "lldpad sees vepad as an EVB station requesting RR" \
        sh -c "ip netns exec '$NS_SW' lldptool -t -n -i swp-host -g ncb -V evb 2>&1 | tee -a '$LAB_DIR/lldptool.log' | grep -q rrreq"
    check "vepactl status prints it" eval 'vepactl status | grep -q "reflective relay capable, enabled for us"'
}

test_lldpad_rrcap_off() {
    need_lldp_tools
    # As test_lldpad_evb_bridge leaves it: STP on, lldpad granting reflective relay.
    stp_on
    wait_for 10 port_forwarding || fatal "the switch port did not forward with STP on"
    lldpad_start
    wait_for 5 lldptool_sw -p || fatal "lldpad does not answer lldptool"
    lldpad_evb_bridge
    wait_for 15 relay_is .lldp.bridge_evb.rr_enabled true || fatal "lldpad did not grant reflective relay"
    wait_for 5 relay_is .lldp.advertising.rrstat enabled || fatal "vepad did not report reflective relay enabled"

    section "LLDP: lldpad's evbrrcap switched off"
    lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=no
    check "vepad sees reflective relay not capable" wait_for 35 relay_is .lldp.bridge_evb.rr_capable false
    check_eq "and not granted" false "$(evb .rr_enabled)"
    check "vepad reports reflective relay not enabled (RRSTAT)" wait_for 5 relay_is .lldp.advertising.rrstat not-enabled
    lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=yes
    check "on again: granted again" wait_for 35 relay_is .lldp.bridge_evb.rr_enabled true
    kill "$LLDPAD_PID" 2>/dev/null; wait "$LLDPAD_PID" 2>/dev/null
}

test_lldpd_neighbour() {
    need_lldp_tools
    stp_on   # as the lldpad cases leave it
    wait_for 10 port_forwarding || fatal "the switch port did not forward with STP on"
    section "LLDP: lldpd as a plain LLDP neighbour (no EVB)"
    ip netns exec "$NS_SW" lldpd -d -u "$LAB_DIR/lldpd.sock" -I swp-host -S "lab switch" >"$LAB_DIR/lldpd.log" 2>&1 &
    local lldpd_pid=$! rc
    lldpcli_sw() { ip netns exec "$NS_SW" lldpcli -u "$LAB_DIR/lldpd.sock" "$@" >>"$LAB_DIR/lldpd.log" 2>&1; }
    wait_for 5 lldpcli_sw show configuration
    lldpcli_sw configure system hostname lab-sw-lldpd
    lldpcli_sw configure lldp tx-interval 1
    named() { [ "$(relay '.lldp.neighbours | map(select(.system_name == "lab-sw-lldpd")) | length')" -ge 1 ]; }
    check "vepad lists lldpd's LLDPDU" wait_for 10 named
    check_eq "from the nearest-bridge group, without an EVB TLV" "nearest-bridge null" \
        "$(relay '.lldp.neighbours | map(select(.system_name == "lab-sw-lldpd"))[0] | "\(.group) \(.evb)"')"
    lldpd_sees_vepad() { ip netns exec "$NS_SW" lldpcli -u "$LAB_DIR/lldpd.sock" show neighbors >"$LAB_DIR/lldpd.neighbors" 2>&1; grep -q up0 "$LAB_DIR/lldpd.neighbors"; }
    wait_for 5 lldpd_sees_vepad; rc=$?
    check "lldpd sees vepad as a neighbour" test "$rc" -eq 0
    [ "$rc" -eq 0 ] || { cat "$LAB_DIR/lldpd.neighbors"; tail -20 "$LAB_DIR/lldpd.log"; }
    kill "$lldpd_pid" 2>/dev/null; wait "$lldpd_pid" 2>/dev/null
}

run_tests
