#!/usr/bin/env bash
# Does the switch reflect?  vepad's reflection probe against the lab's Linux
# bridge, with hairpin switched off and on while vepad runs (the status must
# follow within one probe interval), and across an uplink flap; then LLDP with
# the 802.1Qbg EVB TLV against peers nobody here wrote: lldpad as an EVB bridge
# (reflective relay capability on, then off) and lldpd as a plain neighbour.
. "$(dirname "$0")/lib.sh"

for tool in lldpad lldptool lldpd lldpcli; do
    command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (tools/install-deps.sh installs it)"; exit 1; }
done

t_start
INTERVAL=2
lab_start_vepad --probe-interval "$INTERVAL" --lldp-interval 1
vepactl add-port c1 >/dev/null
vepactl add-port c2 >/dev/null
relay() { vepactl status --json | jq -r ".reflective_relay$1"; }
relay_is() { [ "$(relay "$1")" = "$2" ]; }        # for wait_for: re-read each time
relay_ge() { [ "$(relay "$1")" -ge "$2" ] 2>/dev/null; }
state_is() { [ "$(relay .probe.state)" = "$1" ]; }
# Seconds (one decimal) until the probe state is $1, or "never" after $2 s.
time_until() {
    local t0 t1; t0=$(date +%s.%N)
    if wait_for "$2" state_is "$1"; then t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}'; else echo never; fi
}
probe_rc() { vepactl probe >/dev/null; echo $?; }
within() { [ "$1" != never ] && awk -v t="$1" -v max="$2" 'BEGIN {exit !(t <= max)}'; }

section "reflection probe: the lab switch hairpins"
check_eq "vepactl probe: reflecting (exit 0)" 0 "$(probe_rc)"
check_eq "status verdict" "reflecting probe" "$(relay .verdict) $(relay .by)"
check_ge "the uplink program counted the returning probes" 1 \
    "$(vepactl stats --json | jq '.uplink.counters.probe_packets')"
# The returning probes are consumed: none reaches a guest.
in_ns "$NS_C1" timeout 3 tcpdump -nni eth0 -c 1 'ether proto 0x88b5' >"$LAB_DIR/c1.cap" 2>/dev/null &
cap=$!
sleep 0.5
vepactl probe >/dev/null
wait "$cap"
check_eq "no probe frame reached a guest (captured at c1 during a probe)" 0 "$(grep -c . "$LAB_DIR/c1.cap")"
check_eq "vepactl probe --json carries the probe's MACs" "0a:76:65" "$(vepactl probe --json | jq -r '.probe.src[0:8]')"

section "hairpin switched off while vepad runs"
lab_hairpin off
took=$(time_until not-reflecting $((INTERVAL + 3)))
check "status says not-reflecting within one interval (+ the probe's 0.6 s): ${took} s" within "$took" "$((INTERVAL + 1))"
check "vepad warned that its VMs cannot reach each other" wait_for 2 grep -q "does not reflect" "$LAB_DIR/vepad.log"
check_eq "vepactl probe: not reflecting (exit 3)" 3 "$(probe_rc)"
check_eq "and indeed c1 cannot reach c2" 0 "$(lab_ping "$NS_C1" "$IP_C2" 3)"

section "hairpin switched on again"
lab_hairpin on
took=$(time_until reflecting $((INTERVAL + 3)))
check "status says reflecting within one interval: ${took} s" within "$took" "$((INTERVAL + 1))"
check "c1 reaches c2" reachable "$NS_C1" "$IP_C2"

section "uplink flap"
ip -n "$NS_HOST" link set up0 down
check "uplink down: unknown" wait_for 3 state_is unknown
check_eq "with the reason" "uplink down" "$(relay .probe.reason)"
check_eq "vepactl probe: unknown (exit 4)" 4 "$(probe_rc)"
ip -n "$NS_HOST" link set up0 up
check "uplink up: probed at once, reflecting" wait_for 2 state_is reflecting

section "periodic probing off (--probe-interval 0): probes only on request"
lab_stop_vepad
lab_start_vepad --probe-interval 0 --lldp-interval 0
check "probed once at start" wait_for 3 state_is reflecting
seq=$(relay .probe.seq)
sleep 3
check_eq "and not again by itself" "$seq" "$(relay .probe.seq)"
check_eq "vepactl probe still works" 0 "$(probe_rc)"
check_eq "LLDP off" "false 0" "$(relay .lldp.enabled) $(relay .lldp.sent)"
lab_stop_vepad
lab_start_vepad --probe-interval "$INTERVAL" --lldp-interval 1

section "LLDP: what vepad sends"
check "LLDPDUs sent, to the nearest bridge and nearest customer bridge groups" wait_for 4 relay_ge .lldp.sent 4
check_ge "its own LLDPDUs flooded back by the hairpinning bridge are recognised" 1 "$(relay .lldp.own_reflected)"
check_eq "and not taken for a neighbour" 0 "$(relay '.lldp.neighbours | length')"

# A Linux bridge with STP off forwards the nearest-customer-bridge group
# (01:80:c2:00:00:00) instead of taking it in, so an LLDP agent on its port never
# sees a station's EVB TLV (a hardware switch always takes that group in). Run
# STP on the lab switch, as a real one does.
ip -n "$NS_SW" link set br0 type bridge forward_delay 200 stp_state 1
port_forwarding() { [ "$(in_ns "$NS_SW" bridge -j link show dev swp-host | jq -r '.[0].state')" = forwarding ]; }
check "with STP on, the switch port forwards again after listening and learning" wait_for 10 port_forwarding

section "LLDP: lldpad as an 802.1Qbg EVB bridge on the switch port"
lldpad_ns() { ip netns exec "$NS_SW" "$@"; }
lldptool_sw() { lldpad_ns lldptool "$@" >>"$LAB_DIR/lldptool.log" 2>&1; }
# One lldpad per namespace: a private /dev/shm (its "already running" check) and the netns's /sys.
ip netns exec "$NS_SW" sh -c "mount -t tmpfs -o size=1m shm /dev/shm && exec lldpad -t -p -f '$LAB_DIR/lldpad.conf'" \
    >"$LAB_DIR/lldpad.log" 2>&1 &
LLDPAD_PID=$!
check "lldpad answers lldptool" wait_for 5 lldptool_sw -p
lldptool_sw -L -i swp-host -g ncb adminStatus=rxtx
lldptool_sw -T -i swp-host -g ncb -V evb -c evbmode=bridge
lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=yes
lldptool_sw -T -i swp-host -g ncb -V evb -c enabletx=yes
evb() { relay ".lldp.bridge_evb$1"; }
check "vepad sees the bridge's EVB TLV" wait_for 10 relay_is .lldp.bridge_evb.form 802.1Qbg-2012
check "lldpad grants reflective relay (RRCTR)" wait_for 5 relay_is .lldp.bridge_evb.rr_enabled true
check_eq "and says it is capable (RRCAP), as a bridge" "true bridge" "$(evb .rr_capable) $(evb .role)"
check "vepad reports reflective relay enabled back (RRSTAT)" wait_for 5 relay_is .lldp.advertising.rrstat enabled
check_eq "lldpad echoes our request in its TLV (RRREQ)" true "$(evb .station_status.rrreq)"
check "the lldpad neighbour is listed" test "$(relay '.lldp.neighbours | map(select(.evb != null)) | length')" -ge 1
check_eq "none invalid" 0 "$(relay .lldp.invalid)"
check "lldpad sees vepad as an EVB station requesting RR" \
    sh -c "ip netns exec '$NS_SW' lldptool -t -n -i swp-host -g ncb -V evb 2>&1 | tee -a '$LAB_DIR/lldptool.log' | grep -q rrreq"
check "vepactl status prints it" sh -c "VEPAD_SOCKET='$LAB_SOCKET' '$VEPACTL_BIN' status | grep -q 'reflective relay capable, enabled for us'"

section "LLDP: lldpad's evbrrcap switched off"
lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=no
check "vepad sees reflective relay not capable" wait_for 35 relay_is .lldp.bridge_evb.rr_capable false
check_eq "and not granted" false "$(evb .rr_enabled)"
check "vepad reports reflective relay not enabled (RRSTAT)" wait_for 5 relay_is .lldp.advertising.rrstat not-enabled
lldptool_sw -T -i swp-host -g ncb -V evb -c evbrrcap=yes
check "on again: granted again" wait_for 35 relay_is .lldp.bridge_evb.rr_enabled true
kill "$LLDPAD_PID" 2>/dev/null; wait "$LLDPAD_PID" 2>/dev/null

section "LLDP: lldpd as a plain LLDP neighbour (no EVB)"
ip netns exec "$NS_SW" lldpd -d -u "$LAB_DIR/lldpd.sock" -I swp-host -S "lab switch" >"$LAB_DIR/lldpd.log" 2>&1 &
LLDPD_PID=$!
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
kill "$LLDPD_PID" 2>/dev/null; wait "$LLDPD_PID" 2>/dev/null

