#!/usr/bin/env bash
# vepactl trace on the lab: what vepad says would happen to a frame, checked
# against what happens to the same frame really sent (captured in the guests'
# namespaces, the monitor's records, the counters).  Unicast between ports
# with the switch hairpinning and not, to the host's own MAC, group frames
# reflected (R4) and flooded, bridge mode (T2, T3, T4, R5), frames from the
# switch (R1, R2, R3, the reflection probe), private mode (R6, R7: dropped
# after the switch), access VLANs (tagged on the wire), drops (T5, T6, V2)
# with the rule and reason the monitor reports for the real frame, a switch
# whose reflection is unknown (conditional), refusals and usage errors with
# their exit status, the JSON's documented fields and the text's lines; and
# that 200 traces send, count and record nothing.  Each case: a fresh vepad
# (no periodic probes, no LLDP: nothing it sends by itself) with c1, c2 and
# tap1 in vepa mode; the switch hairpins.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad --probe-interval 0 --lldp-interval 0
    add_ports c1 c2 tap1
}

BCAST=ff:ff:ff:ff:ff:ff
UNKNOWN=02:00:00:99:99:99

# --- the trace ------------------------------------------------------------------
# trc FROM FRAME: vepactl trace --json; the exit status in TRC, the JSON in trace.json, stderr in trace.err.
trc() {
    vepactl trace --json --from "$1" "$2" >"$LAB_DIR/trace.json" 2>"$LAB_DIR/trace.err"
    TRC=$?
}
tj() { jq -rc "$1" "$LAB_DIR/trace.json"; }   # a field of the last trace (strings raw, the rest compact)
# The hops in one line: "c1:port_tc:redirect switch:reflect uplink:uplink_tc:ok".
hop_path() {
    tj '[.hops[] | if .at == "switch" then "switch:" + .action else .at + ":" + .program + ":" + .verdict end] | join(" ")'
}
# The decisions of the program hops: "T1:redirect>uplink R1:redirect-peer>c2", a fan-out "R3:fan-out>3".
decision_path() {
    tj '[.hops[] | select(.at != "switch") | .decisions[] | "\(.rule):\(.action)>\(.to // .copies)"] | join(" ")'
}
# Exit status of vepactl probe: 0 reflecting, 3 not.
probe_rc() { vepactl probe >/dev/null; echo $?; }
relay_verdict() { status_field reflective_relay.verdict; }

# The frame (hex) every real send uses: 60 bytes, ethertype 0x88b5 unless given.
frame() { test_frame "$@"; }
# send NS FRAME COUNT: the frame really sent from a guest's eth0.
send() { in_ns "$1" "$RAWSEND_BIN" eth0 "$2" "$3" >/dev/null; }

# --- monitors (as in monitor.sh) ----------------------------------------------------
monitor_clients() { status_field monitor.clients; }
monitor_start() {   # monitor_start NAME ARGS...: stdout in $LAB_DIR/NAME
    local name=$1; shift
    local before; before=$(monitor_clients)
    VEPAD_SOCKET=$LAB_SOCKET "$VEPACTL_BIN" monitor "$@" >"$LAB_DIR/$name" 2>"$LAB_DIR/$name.err" &
    echo $! >"$LAB_DIR/$name.pid"
    wait_for 5 outputs $((before + 1)) monitor_clients || fatal "vepactl monitor $* did not subscribe"
}
monitor_stop() { local pid; pid=$(cat "$LAB_DIR/$1.pid"); kill -INT "$pid"; wait "$pid" 2>/dev/null; }
event_count() { jq -c 'select(.type == "event")' "$LAB_DIR/$1" | grep -c .; }
events_are() { [ "$(event_count "$1")" -ge "$2" ]; }   # for wait_for

# --- captures in the namespaces -----------------------------------------------------
# capture_start NAME NS IFACE [FILTER]: every frame on IFACE (both directions; or those FILTER
# matches) into $LAB_DIR/cap.NAME; returns once listening.
capture_start() {
    local name=$1 ns=$2 ifc=$3 filter=${4:-}
    : >"$LAB_DIR/cap.$name.err"
    # nsenter execs tcpdump: $! is tcpdump itself, which the case's end stops (in_ns, a function, would be a subshell).
    nsenter --net="/run/netns/$ns" tcpdump -i "$ifc" -n -l -p $filter >"$LAB_DIR/cap.$name" 2>"$LAB_DIR/cap.$name.err" &
    wait_for 5 grep -q 'listening on' "$LAB_DIR/cap.$name.err" || fatal "tcpdump on $ns $ifc did not start"
}
captured() { grep -c '^[0-9]' "$LAB_DIR/cap.$1"; }   # frames captured so far (one line each starts with its time)

# inbound NS IFACE FILTER command...: frames matching the filter arriving at IFACE while
# the command runs (count_inbound, without its fixed wait for tcpdump to start).
inbound() {
    local ns=$1 ifc=$2 filter=$3 out="$LAB_DIR/in.$RANDOM" pid; shift 3
    : >"$out.err"
    nsenter --net="/run/netns/$ns" tcpdump -i "$ifc" -Q in -n -l -p "$filter" >"$out" 2>"$out.err" &
    pid=$!
    wait_for 5 grep -q 'listening on' "$out.err" || { kill "$pid"; echo "tcpdump did not start"; return; }
    "$@" >/dev/null 2>&1
    sleep 0.4
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    grep -c '^[0-9]' "$out"
    rm -f "$out" "$out.err"
}
# arrive NS FILTER command...: at a guest's eth0.
arrive() { inbound "$1" eth0 "$2" "${@:3}"; }

# ==================================================================================
test_unicast_reflecting() {
    section "unicast c1 -> c2, the switch hairpinning: trace and reality"
    lab_hairpin on
    check_eq "vepactl probe: reflecting (exit 0)" 0 "$(probe_rc)"
    local f; f=$(frame "$MAC_C2" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit status 0 (delivered)" 0 "$TRC"
    check_eq "outcome delivered, by nobody dropped" "delivered null" "$(tj '.result | "\(.outcome) \(.dropped_by)"')"
    check_eq "result.ports: c2 only" '["c2"]' "$(tj .result.ports)"
    check_eq "no local port, not the host, not the network, not the probe" '[] false false false' \
        "$(tj '.result | "\(.local_ports) \(.host) \(.network) \(.probe)"')"
    check_eq "hops: c1's TC program, the switch reflects, the uplink's XDP passes to its TC" \
        "c1:port_tc:redirect switch:reflect uplink:uplink_xdp:pass uplink:uplink_tc:redirect" "$(hop_path)"
    check_eq "decisions: T1 to the uplink, R1 to c2's peer" "T1:redirect>uplink R1:redirect-peer>c2" "$(decision_path)"
    check_eq "the switch hop by what the probe found" "reflecting probe" "$(tj '.hops[1] | "\(.reflection) \(.by)"')"
    check_eq "summary" "delivered to c2 (via the switch)" "$(tj .result.summary)"
    check_eq "the text's last line is the summary" "delivered to c2 (via the switch)" \
        "$(vepactl trace --from c1 "$f" | tail -1)"

    section "the same frame really sent: it arrives, by the rules the trace named"
    monitor_start fwd --sample 1 --json --mac "$MAC_C1"
    check_eq "c2 receives the 10 frames c1 sends" 10 "$(arrive "$NS_C2" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 10)"
    check "the monitor recorded the real frames' decisions" wait_for 3 events_are fwd 20
    monitor_stop fwd
    check_eq "the real decisions (program, rule, action, to) are the trace's" \
        "$(tj '[.hops[] | select(.at != "switch") | .decisions[] | "\(.program) \(.rule) \(.action) \(.to)"] | unique | join(",")')" \
        "$(jq -rs '[.[] | select(.type == "event" and .ethertype == 34997) | "\(.program) \(.rule) \(.action) \(.to)"] | unique | join(",")' "$LAB_DIR/fwd")"

    section "the VM's tap (XDP) both ways"
    trc tap1 "$(frame "$MAC_C1" "$MAC_VM3")"
    check_eq "tap1 -> c1: exit 0, ports [c1]" '0 ["c1"]' "$TRC $(tj .result.ports)"
    check_eq "through tap1's XDP program" "tap1:port_xdp:redirect switch:reflect uplink:uplink_xdp:pass uplink:uplink_tc:redirect" "$(hop_path)"
    check_eq "and it arrives" 5 "$(arrive "$NS_C1" "ether src $MAC_VM3 and ether proto 0x88b5" send "$NS_VM3" "$(frame "$MAC_C1" "$MAC_VM3")" 5)"
    trc c1 "$(frame "$MAC_VM3" "$MAC_C1")"
    check_eq "c1 -> tap1: exit 0, ports [tap1]" '0 ["tap1"]' "$TRC $(tj .result.ports)"
    check_eq "the uplink's XDP redirects to the tap" "c1:port_tc:redirect switch:reflect uplink:uplink_xdp:redirect" "$(hop_path)"
    check_eq "and it arrives" 5 "$(arrive "$NS_VM3" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$(frame "$MAC_VM3" "$MAC_C1")" 5)"

    section "c1 to the host's own MAC: out, reflected, to the host stack (R2)"
    local up0mac h0
    up0mac=$(ip -n "$NS_HOST" -j link show up0 | jq -r '.[0].address')
    trc c1 "$(frame "$up0mac" "$MAC_C1")"
    check_eq "exit 0; hops: reflected, R2" "0 c1:port_tc:redirect switch:reflect uplink:uplink_xdp:pass uplink:uplink_tc:ok T1:redirect>uplink R2:host>null" \
        "$TRC $(hop_path) $(decision_path)"
    check_eq "the host, no port" 'true [] []' "$(tj '.result | "\(.host) \(.ports) \(.local_ports)"')"
    h0=$(lab_stat uplink host_packets)
    send "$NS_C1" "$(frame "$up0mac" "$MAC_C1")" 10
    check "really: the host stack gets the 10 frames" wait_for 2 outputs $((h0 + 10)) lab_stat uplink host_packets

    section "hairpin off: the switch drops it, in the trace and really"
    lab_hairpin off
    check_eq "vepactl probe: not reflecting (exit 3)" 3 "$(probe_rc)"
    trc c1 "$f"
    check_eq "exit status 1 (dropped)" 1 "$TRC"
    check_eq "dropped by the switch" "dropped switch" "$(tj '.result | "\(.outcome) \(.dropped_by)"')"
    check_eq "drop: at the switch, not-reflecting" "switch not-reflecting" "$(tj '.result.drop | "\(.at) \(.reason)"')"
    check_eq "no port gets it" '[] []' "$(tj '.result | "\(.ports) \(.local_ports)"')"
    check_eq "hops: c1's program sends it to the uplink, the switch drops it" "c1:port_tc:redirect switch:drop" "$(hop_path)"
    check_eq "summary" "dropped by the switch: it does not reflect frames back to this host (hairpin off)" "$(tj .result.summary)"
    local rx0 rx1 n
    read -r rx0 _ <<<"$(lab_switch_counters)"
    n=$(arrive "$NS_C2" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 10)
    read -r rx1 _ <<<"$(lab_switch_counters)"
    check_eq "really: none of 10 frames reaches c2" 0 "$n"
    check_ge "though the switch received them from the host (as hop 1 says)" 10 $((rx1 - rx0))
}

test_nothing_happens() {
    section "200 traces: nothing sent, counted or recorded"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    local c
    capture_start c1 "$NS_C1" eth0
    capture_start c2 "$NS_C2" eth0
    capture_start vm3 "$NS_VM3" eth0
    capture_start rem "$NS_REM" eth0
    capture_start sw "$NS_SW" swp-host
    capture_start up0 "$NS_HOST" up0
    monitor_start drops --drops --json
    monitor_start fwd --sample 1 --json
    local sw0 sw1
    vepactl stats --json >"$LAB_DIR/stats.0"
    sw0=$(lab_switch_counters)
    # 8 frames, 25 times: from c1 unicast, broadcast (a fan-out back), spoofed, PAUSE; from tap1 (XDP)
    # unicast and spoofed; from the uplink a broadcast (fan-out to every port) and a unicast.
    local specs=(
        "c1 0 $(frame "$MAC_C2" "$MAC_C1")"
        "c1 0 $(frame "$BCAST" "$MAC_C1")"
        "c1 1 $(frame "$MAC_REM" "$MAC_C2")"
        "c1 1 $(frame 01:80:c2:00:00:01 "$MAC_C1" 8808)"
        "tap1 0 dst=$MAC_C2,src=$MAC_VM3"
        "tap1 1 dst=$MAC_REM,src=$MAC_C1"
        "uplink 0 dst=$BCAST,src=$MAC_REM"
        "uplink 0 dst=$MAC_C1,src=$MAC_REM,type=arp"
    )
    local i s ran=0 wrong=0
    for i in $(seq 25); do
        for s in "${specs[@]}"; do
            set -- $s
            vepactl trace --from "$1" "$3" >/dev/null 2>&1
            [ $? = "$2" ] || wrong=$((wrong + 1))
            ran=$((ran + 1))
        done
    done
    sleep 0.5
    check_eq "200 traces ran, each with its exit status (0 delivered, 1 dropped)" "200 0" "$ran $wrong"
    vepactl stats --json >"$LAB_DIR/stats.1"
    sw1=$(lab_switch_counters)
    check "vepactl stats --json: every counter of every port and the uplink as before" \
        cmp -s "$LAB_DIR/stats.0" "$LAB_DIR/stats.1"
    check_eq "the switch's port toward the host: no frame received or sent" "$sw0" "$sw1"
    for c in c1 c2 vm3 rem sw up0; do
        check_eq "no frame seen at $c" 0 "$(captured $c)"
    done
    check_eq "the drops monitor got no event" 0 "$(event_count drops)"
    check_eq "the forwarding monitor (--sample 1) got no event" 0 "$(event_count fwd)"

    section "the watchers are live: one real broadcast and one spoofed frame from c1"
    send "$NS_C1" "$(frame "$BCAST" "$MAC_C1")" 1
    send "$NS_C1" "$(frame "$MAC_REM" "$MAC_C2")" 1
    check "the drops monitor gets the spoofed frame" wait_for 3 events_are drops 1
    check "the forwarding monitor gets the broadcast" wait_for 3 events_are fwd 1
    sleep 0.3
    for c in c1 c2 vm3 rem sw up0; do
        check_ge "frames seen at $c" 1 "$(captured $c)"
    done
    check_ge "the switch counted them" 1 $(( $(lab_switch_counters | cut -d' ' -f1) - ${sw1%% *} ))
    vepactl stats --json >"$LAB_DIR/stats.2"
    check "and vepad counted them" not cmp -s "$LAB_DIR/stats.1" "$LAB_DIR/stats.2"
    monitor_stop drops
    monitor_stop fwd
}

# drop_case FROM NS FRAME PROGRAM RULE REASON: the trace's drop, then the same frame really sent under the monitor.
drop_case() {
    local from=$1 ns=$2 f=$3 program=$4 rule=$5 reason=$6 c0 c1 ev
    section "$rule $reason from $from"
    c0=$(lab_stat "$from" "drops.$reason")
    trc "$from" "$f"
    check_eq "exit status 1 (dropped)" 1 "$TRC"
    check_eq "dropped by vepad" "dropped vepad" "$(tj '.result | "\(.outcome) \(.dropped_by)"')"
    check_eq "drop: at $from, $program, $rule, $reason" "$from $program $rule $reason" \
        "$(tj '.result.drop | "\(.at) \(.program) \(.rule) \(.reason)"')"
    check_eq "one hop, nothing delivered" '1 [] [] false false' \
        "$(tj '"\(.hops | length) \(.result.ports) \(.result.local_ports) \(.result.host) \(.result.network)"')"
    check_eq "summary" "dropped by vepad at $from ($program): $rule $reason" "$(tj .result.summary)"
    check_eq "the trace counted no drop" "$c0" "$(lab_stat "$from" "drops.$reason")"
    monitor_start mon.$rule --drops --json
    send "$ns" "$f" 1
    wait_for 3 events_are "mon.$rule" 1
    monitor_stop "mon.$rule"
    ev=$(jq -c 'select(.type == "event")' "$LAB_DIR/mon.$rule" | head -1)
    check_eq "the real frame: the monitor's port, program, rule and reason are the trace's" \
        "$(tj '.result.drop | "\(.at) \(.program) \(.rule) \(.reason)"')" \
        "$(jq -r '"\(.port) \(.program) \(.rule) \(.reason)"' <<<"${ev:-null}")"
    check_eq "and it is counted" $((c0 + 1)) "$(lab_stat "$from" "drops.$reason")"
}

test_drops() {
    drop_case c1 "$NS_C1" "$(frame "$MAC_REM" "$MAC_C2")" port_tc T5 spoofed
    check_eq "the trace names c1's own MAC" "$MAC_C1" "$(tj '.hops[0].decisions[0].port_macs[0]')"
    drop_case c1 "$NS_C1" "$(frame 01:80:c2:00:00:01 "$MAC_C1" 8808)" port_tc T6 pause
    drop_case c1 "$NS_C1" "$(frame "$MAC_REM" "$MAC_C1" 8100001488b5)" port_tc V2 vlan
    check_eq "the frame's outer VLAN and inner ethertype" "20 34997 64" "$(tj '.frame | "\(.vlan) \(.ethertype) \(.len)"')"
    drop_case tap1 "$NS_VM3" "$(frame "$MAC_REM" "$MAC_C2")" port_xdp T5 spoofed
    drop_case tap1 "$NS_VM3" "$(frame 01:80:c2:00:00:01 "$MAC_VM3" 8808)" port_xdp T6 pause
}

test_from_uplink() {
    section "from the uplink: a broadcast from the remote host (R3)"
    local f h0 n
    f=$(frame "$BCAST" "$MAC_REM")
    trc uplink "$f"
    check_eq "exit status 0" 0 "$TRC"
    check_eq "hops: the uplink's XDP passes, its TC fans out" "uplink:uplink_xdp:pass uplink:uplink_tc:ok" "$(hop_path)"
    check_eq "R3, 3 copies" "R3:fan-out>3" "$(decision_path)"
    check_eq "the copies: every port" '["c1","c2","tap1"]' "$(tj '.hops[1].copies | sort')"
    check_eq "result.ports: every port" '["c1","c2","tap1"]' "$(tj '.result.ports | sort')"
    check_eq "none local (no bridge-mode port), the host too, not the network" '[] true false' \
        "$(tj '.result | "\(.local_ports) \(.host) \(.network)"')"
    check_eq "summary" "delivered to c1, c2 and tap1 (via the switch) and the host stack" "$(tj .result.summary)"
    capture_start c1 "$NS_C1" eth0 "ether proto 0x88b5"
    capture_start c2 "$NS_C2" eth0 "ether proto 0x88b5"
    capture_start vm3 "$NS_VM3" eth0 "ether proto 0x88b5"
    h0=$(lab_stat uplink host_packets)
    send "$NS_REM" "$f" 5
    sleep 0.5
    check_eq "really: 5 broadcasts reach each guest (c1 c2 vm3) and the host" "5 5 5 5" \
        "$(captured c1) $(captured c2) $(captured vm3) $(( $(lab_stat uplink host_packets) - h0 ))"

    section "from the uplink: unicast to an unknown MAC (R2: the host stack only)"
    f=$(frame "$UNKNOWN" "$MAC_REM")
    trc uplink "$f"
    check_eq "exit 0, R2 to the host stack" "0 R2:host>null" "$TRC $(decision_path)"
    check_eq "the host, no port" 'true [] []' "$(tj '.result | "\(.host) \(.ports) \(.local_ports)"')"
    check_eq "summary" "delivered to the host stack" "$(tj .result.summary)"
    h0=$(lab_stat uplink host_packets)
    n=$(arrive "$NS_C1" "ether dst $UNKNOWN" send "$NS_REM" "$f" 10)
    check_eq "really: no frame reaches c1" 0 "$n"
    check_eq "and the host stack got all 10" 10 $(( $(lab_stat uplink host_packets) - h0 ))

    section "from the uplink: vepad's own reflection probe, come back (consumed)"
    local psrc pdst p0
    psrc=$(vepactl probe --json | jq -r .probe.src) pdst=$(vepactl probe --json | jq -r .probe.dst)
    trc uplink "dst=$pdst,src=$psrc,type=0x88b5"
    check_eq "exit 0, probe true, no port, not the host" '0 true [] false' "$TRC $(tj '.result | "\(.probe) \(.ports) \(.host)"')"
    check_eq "summary" "consumed by vepad: its own reflection probe, come back" "$(tj .result.summary)"
    p0=$(lab_stat uplink probe_packets)
    check_eq "really: vepactl probe, reflecting" 0 "$(vepactl probe >/dev/null; echo $?)"
    check_ge "and the uplink consumed the probe that came back" 1 $(( $(lab_stat uplink probe_packets) - p0 ))

    section "from the uplink: unicast to c1 (R1) and to the VM (R1 by XDP)"
    f=$(frame "$MAC_C1" "$MAC_REM")
    trc uplink "$f"
    check_eq "exit 0, ports [c1], not the host" '0 ["c1"] [] false' "$TRC $(tj '.result | "\(.ports) \(.local_ports) \(.host)"')"
    check_eq "R1 to c1's peer" "R1:redirect-peer>c1" "$(decision_path)"
    check_eq "summary" "delivered to c1 (via the switch)" "$(tj .result.summary)"
    check_eq "really: c1 receives 10 of 10" 10 "$(arrive "$NS_C1" "ether src $MAC_REM and ether proto 0x88b5" send "$NS_REM" "$f" 10)"
    check_eq "and c2 none" 0 "$(arrive "$NS_C2" "ether src $MAC_REM and ether proto 0x88b5" send "$NS_REM" "$f" 10)"
    f=$(frame "$MAC_VM3" "$MAC_REM")
    trc uplink "$f"
    check_eq "to the VM: exit 0, ports [tap1], by the uplink's XDP" '0 ["tap1"] uplink:uplink_xdp:redirect' \
        "$TRC $(tj .result.ports) $(hop_path)"
    check_eq "really: the VM receives 10 of 10" 10 "$(arrive "$NS_VM3" "ether src $MAC_REM and ether proto 0x88b5" send "$NS_REM" "$f" 10)"
}

test_group_reflected() {
    section "a broadcast from c1, the switch hairpinning: flooded and reflected, never back to c1 (R4)"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    local f; f=$(frame "$BCAST" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit status 0" 0 "$TRC"
    check_eq "hops: to the uplink, the switch floods and reflects, the uplink fans out" \
        "c1:port_tc:redirect switch:flood-and-reflect uplink:uplink_xdp:pass uplink:uplink_tc:ok" "$(hop_path)"
    check_eq "R4: 2 copies" "T1:redirect>uplink R4:fan-out>2" "$(decision_path)"
    check_eq "the copies leave out the sender" '["c2","tap1"]' "$(tj '.hops[3].copies | sort')"
    check_eq "marked reflected (its source is a local port's)" true "$(tj '.hops[3].decisions[0].flags.reflected')"
    check_eq "result: c2 and tap1 via the switch, the host, the network" '["c2","tap1"] [] true true' \
        "$(tj '.result | "\(.ports | sort) \(.local_ports) \(.host) \(.network)"')"
    check_eq "summary" "delivered to c2 and tap1 (via the switch), the host stack and the network beyond the switch" \
        "$(tj .result.summary)"
    # The test frames' ethertype only: a stray frame of the lab (ARP, a probe) is not the one counted.
    capture_start c1 "$NS_C1" eth0 "ether proto 0x88b5"
    capture_start c2 "$NS_C2" eth0 "ether proto 0x88b5"
    capture_start vm3 "$NS_VM3" eth0 "ether proto 0x88b5"
    capture_start rem "$NS_REM" eth0 "ether proto 0x88b5"
    send "$NS_C1" "$f" 5
    sleep 0.5
    check_eq "really: c2, the VM and the remote host receive 5 each" "5 5 5" "$(captured c2) $(captured vm3) $(captured rem)"
    check_eq "and c1 sees only its own 5 going out (none back)" 5 "$(captured c1)"

    section "hairpin off: flooded to the network only"
    lab_hairpin off
    check_eq "vepactl probe: not reflecting" 3 "$(probe_rc)"
    trc c1 "$f"
    check_eq "exit status 0 (the network gets it)" 0 "$TRC"
    check_eq "hops: the switch floods" "c1:port_tc:redirect switch:flood" "$(hop_path)"
    check_eq "result: no port, the network" '[] [] false true' "$(tj '.result | "\(.ports) \(.local_ports) \(.host) \(.network)"')"
    check_eq "summary" "delivered to the network beyond the switch" "$(tj .result.summary)"
    check_eq "really: c2 receives none" 0 "$(arrive "$NS_C2" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 5)"
    check_eq "the remote host 5" 5 "$(arrive "$NS_REM" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 5)"

    section "an 802.1 link-local frame (LLDP's 01:80:c2:00:00:0e): the switch keeps it"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    local l; l=$(frame 01:80:c2:00:00:0e "$MAC_C1")
    trc c1 "$l"
    check_eq "exit 0, the switch consumes it: no port, no network, the switch" "0 consume [] false true" \
        "$TRC $(tj '.hops[1].action') $(tj '.result | "\(.ports) \(.network) \(.switch)"')"
    check_eq "really: the remote host and c2 receive none of 5" "0 0" \
        "$(arrive "$NS_REM" "ether dst 01:80:c2:00:00:0e and ether src $MAC_C1" send "$NS_C1" "$l" 5) $(arrive "$NS_C2" "ether dst 01:80:c2:00:00:0e and ether src $MAC_C1" send "$NS_C1" "$l" 5)"
}

test_bridge_mode() {
    section "bridge mode c1, c2, the switch not hairpinning: T2 locally"
    quiet vepactl set-port c1 --mode bridge
    quiet vepactl set-port c2 --mode bridge
    lab_hairpin off
    check_eq "vepactl probe: not reflecting" 3 "$(probe_rc)"
    local f rx0 rx1 n
    f=$(frame "$MAC_C2" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit status 0" 0 "$TRC"
    check_eq "one hop, no switch: T2 to c2's peer" "c1:port_tc:redirect T2:redirect-peer>c2" "$(hop_path) $(decision_path)"
    check_eq "result.local_ports [c2], ports [], not the network" '["c2"] [] false' \
        "$(tj '.result | "\(.local_ports) \(.ports) \(.network)"')"
    check_eq "summary" "delivered to c2 (locally, bridge mode)" "$(tj .result.summary)"
    read -r rx0 _ <<<"$(lab_switch_counters)"
    n=$(arrive "$NS_C2" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 10)
    read -r rx1 _ <<<"$(lab_switch_counters)"
    check_eq "really: c2 receives 10 of 10" 10 "$n"
    check_eq "and the switch none of them" 0 $((rx1 - rx0))

    section "bridge c1 to the vepa VM: T3 through a switch that does not reflect"
    f=$(frame "$MAC_VM3" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit 1, dropped by the switch" "1 switch" "$TRC $(tj .result.dropped_by)"
    check_eq "T3 to the uplink, the switch drops" "c1:port_tc:redirect switch:drop T3:redirect>uplink" "$(hop_path) $(decision_path)"
    check_eq "really: the VM receives none" 0 "$(arrive "$NS_VM3" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 5)"

    section "a broadcast from bridge c1, the switch hairpinning: c2 locally, tap1 via the switch (T4, R5)"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    f=$(frame "$BCAST" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit status 0" 0 "$TRC"
    check_eq "T4 a copy to c2 and to the uplink; R5 a copy to tap1 only" \
        "T4:fan-out>1 T4:redirect>uplink R5:fan-out>1" "$(decision_path)"
    check_eq "result: local_ports [c2], ports [tap1], the host, the network" '["c2"] ["tap1"] true true' \
        "$(tj '.result | "\(.local_ports) \(.ports) \(.host) \(.network)"')"
    check_eq "summary" "delivered to c2 (locally, bridge mode), tap1 (via the switch), the host stack and the network beyond the switch" \
        "$(tj .result.summary)"
    capture_start c2 "$NS_C2" eth0 "ether proto 0x88b5"
    capture_start vm3 "$NS_VM3" eth0 "ether proto 0x88b5"
    send "$NS_C1" "$f" 5
    sleep 0.5
    check_eq "really: c2 receives each of 5 once, the VM 5" "5 5" "$(captured c2) $(captured vm3)"
}

test_private_mode() {
    section "private c1 to c2: reflected by the switch, dropped by the uplink's program (R7)"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    quiet vepactl set-port c1 --mode private
    local f d0 ev
    f=$(frame "$MAC_C2" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit 1, dropped by vepad" "1 vepad" "$TRC $(tj .result.dropped_by)"
    check_eq "hops: out, reflected, dropped at the uplink's TC" \
        "c1:port_tc:redirect switch:reflect uplink:uplink_xdp:pass uplink:uplink_tc:shot" "$(hop_path)"
    check_eq "drop: at the uplink, uplink_tc, R7, private" "uplink uplink_tc R7 private" \
        "$(tj '.result.drop | "\(.at) \(.program) \(.rule) \(.reason)"')"
    check_eq "charged to c2" c2 "$(tj '.hops[3].decisions[0].to')"
    check_eq "summary" "dropped by vepad at uplink (uplink_tc): R7 private" "$(tj .result.summary)"
    d0=$(lab_stat c2 drops.private)
    monitor_start mon --drops --json
    check_eq "really: c2 receives none" 0 "$(arrive "$NS_C2" "ether src $MAC_C1" send "$NS_C1" "$f" 1)"
    wait_for 3 events_are mon 1
    monitor_stop mon
    ev=$(jq -c 'select(.type == "event")' "$LAB_DIR/mon" | head -1)
    check_eq "the monitor's program, rule, reason and charged port are the trace's" \
        "$(tj '.hops[3].decisions[0] | "\(.port) \(.program) \(.rule) \(.reason) \(.to)"')" \
        "$(jq -r '"\(.port) \(.program) \(.rule) \(.reason) \(.to)"' <<<"${ev:-null}")"
    check_eq "counted on c2" $((d0 + 1)) "$(lab_stat c2 drops.private)"

    section "broadcasts: private c1's reach no port (R6), c2's skip private c1"
    f=$(frame "$BCAST" "$MAC_C1")
    trc c1 "$f"
    check_eq "from c1: exit 0, R6 no copy, the host and the network" '0 R6:fan-out>0 [] true true' \
        "$TRC $(tj '[.hops[3].decisions[] | "\(.rule):\(.action)>\(.copies)"] | join(" ")') $(tj '.result | "\(.ports) \(.host) \(.network)"')"
    check_eq "really: c2 receives none" 0 "$(arrive "$NS_C2" "ether src $MAC_C1" send "$NS_C1" "$f" 5)"
    f=$(frame "$BCAST" "$MAC_C2")
    trc c2 "$f"
    check_eq "from c2: ports [tap1] only" '0 ["tap1"]' "$TRC $(tj .result.ports)"
    capture_start c1 "$NS_C1" eth0 "ether proto 0x88b5"
    capture_start vm3 "$NS_VM3" eth0 "ether proto 0x88b5"
    send "$NS_C2" "$f" 5
    sleep 0.4
    check_eq "really: c1 receives none, the VM 5" "0 5" "$(captured c1) $(captured vm3)"
}

test_vlans() {
    section "c1 and c2 in VLAN 10: tagged on the wire, untagged at c2"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    quiet vepactl set-port c1 --vlan 10
    quiet vepactl set-port c2 --vlan 10
    local f; f=$(frame "$MAC_C2" "$MAC_C1")
    trc c1 "$f"
    check_eq "exit 0, ports [c2]" '0 ["c2"]' "$TRC $(tj .result.ports)"
    check_eq "the frame as given: untagged; at the switch: tagged 10" "null 10" "$(tj '"\(.frame.vlan) \(.hops[1].frame.vlan)"')"
    check_eq "the decisions in VLAN 10" "T1:10 R1:10" "$(tj '[.hops[] | .decisions[]? | "\(.rule):\(.vlan)"] | join(" ")')"
    check_eq "really: the switch gets them tagged 10" 5 "$(inbound "$NS_SW" swp-host "vlan 10 and ether src $MAC_C1" send "$NS_C1" "$f" 5)"
    check_eq "and c2 untagged" 5 "$(arrive "$NS_C2" "ether src $MAC_C1 and ether proto 0x88b5" send "$NS_C1" "$f" 5)"

    section "the VM (untagged) to c2 (VLAN 10): reflected, then to the host stack only"
    f=$(frame "$MAC_C2" "$MAC_VM3")
    trc tap1 "$f"
    check_eq "exit 0, R2, no port" '0 R2:host>null []' "$TRC $(tj '[.hops[3].decisions[] | "\(.rule):\(.action)>\(.to)"] | join(" ")') $(tj .result.ports)"
    check_eq "really: c2 receives none" 0 "$(arrive "$NS_C2" "ether src $MAC_VM3" send "$NS_VM3" "$f" 5)"

    section "from the uplink to c2: tagged 10 reaches it, untagged does not"
    f=$(frame "$MAC_C2" "$MAC_REM" 8100000a88b5)
    trc uplink "$f"
    check_eq "tagged 10: exit 0, ports [c2]" '0 ["c2"]' "$TRC $(tj .result.ports)"
    check_eq "really: c2 receives 5 of 5, untagged" 5 "$(arrive "$NS_C2" "ether src $MAC_REM and ether proto 0x88b5" send "$NS_REM" "$f" 5)"
    f=$(frame "$MAC_C2" "$MAC_REM")
    trc uplink "$f"
    check_eq "untagged: exit 0, the host, no port" '0 true []' "$TRC $(tj '.result | "\(.host) \(.ports)"')"
    check_eq "really: c2 receives none" 0 "$(arrive "$NS_C2" "ether src $MAC_REM" send "$NS_REM" "$f" 5)"
}

test_reflection_unknown() {
    section "the uplink without carrier: reflection unknown, and nothing reaches the switch"
    # vepad always probes at start and when the uplink comes up (--probe-interval 0 only stops
    # the periodic probes), so its verdict is unknown only while the uplink is down; then a
    # frame out of the uplink is lost before any switch (the "if the switch reflects" caveat of
    # a carrier-up unknown switch is unit-tested: tests/unit/trace_test.cpp).
    on_cleanup "ip -n $NS_SW link set swp-host up"
    ip -n "$NS_SW" link set swp-host down
    check "status: reflection unknown" wait_for 3 outputs unknown relay_verdict
    trc c1 "$(frame "$MAC_C2" "$MAC_C1")"
    check_eq "c1 -> c2: exit 1, lost at the uplink, no port" '1 uplink [] false' \
        "$TRC $(tj '.result | "\(.dropped_by) \(.ports) \(.conditional)"')"
    check_eq "the trace's reflection: unknown, by nothing" "unknown null" "$(tj '.reflection | "\(.verdict) \(.by)"')"
    check_eq "the switch hop: unreachable, reflection unknown" "unreachable unknown null" "$(tj '.hops[1] | "\(.action) \(.reflection) \(.by)"')"
    check_eq "summary" "lost: the uplink up0 is down: the frame never reaches the switch" "$(tj .result.summary)"
    check "the text says it too" bash -c "VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN trace --from c1 dst=$MAC_C2,src=$MAC_C1 | tail -1 | grep -q 'never reaches the switch'"
    trc tap1 "$(frame "$BCAST" "$MAC_VM3")"
    check_eq "a broadcast from tap1: unreachable, no copies" 'switch:unreachable [] 1' \
        "$(tj '.hops[1] | "switch:\(.action)"') $(tj '.result.ports') $TRC"
    trc c1 "$(frame "$MAC_REM" "$MAC_C2")"
    check_eq "spoofed: dropped by vepad before the uplink" "1 vepad" "$TRC $(tj '.result.dropped_by')"

    section "the uplink back: probed at once, reflecting, no condition"
    ip -n "$NS_SW" link set swp-host up
    check "status: reflecting" wait_for 5 outputs reflecting relay_verdict
    trc c1 "$(frame "$MAC_C2" "$MAC_C1")"
    check_eq "c1 -> c2: not conditional" "0 false delivered to c2 (via the switch)" "$TRC $(tj '"\(.result.conditional) \(.result.summary)"')"
}

# err NAME EXPECTED_RC PATTERN ARGS...: vepactl trace ARGS exits EXPECTED_RC and says PATTERN on stderr, nothing on stdout.
err() {
    local what=$1 want=$2 pattern=$3 rc; shift 3
    vepactl trace "$@" >"$LAB_DIR/err.out" 2>"$LAB_DIR/err.err"
    rc=$?
    check_eq "$what: exit $want" "$want" "$rc"
    check "$what: stderr says '$pattern'" grep -q -- "$pattern" "$LAB_DIR/err.err"
    check_eq "$what: nothing on stdout" 0 "$(wc -c <"$LAB_DIR/err.out")"
}

test_errors() {
    local good="dst=$MAC_C2,src=$MAC_C1"
    section "refused by vepad: exit 5"
    err "a port vepad does not have" 5 "no present port nosuch" --from nosuch "$good"
    quiet vepactl add-port ghost
    err "a configured port that is absent" 5 "no present port ghost" --from ghost "$good"
    err "an IPv4 frame too short for the kernel's test run (30 bytes)" 5 \
        "an IPv4 frame of 30 bytes: the kernel's test run needs its 20-byte IP header" --from c1 "$good,len=30"
    err "the same as hex (20 bytes)" 5 "the kernel's test run needs" --from c1 "${MAC_C2//:/}${MAC_C1//:/}0800450000000000"
    err "an IPv6 frame of 50 bytes" 5 "the kernel's test run needs its 40-byte IP header" --from c1 "$good,type=ipv6,len=50"

    vepactl trace --from c1 "$good,len=1514" >/dev/null 2>&1
    check_eq "a full-size frame (1514 bytes) is traced: exit 0" 0 "$?"

    section "usage errors: exit 2, nothing asked of vepad"
    err "odd hex" 2 "FRAME: hex: an odd number of digits" --from c1 "$(frame "$MAC_C2" "$MAC_C1")0"
    err "not hex" 2 "FRAME: hex: 'x' at position" --from c1 "ffffffffffffx"
    err "a bad MAC" 2 "FRAME: dst=zz: not a MAC address" --from c1 "dst=zz,src=$MAC_C1"
    err "an unknown field" 2 "FRAME: unknown field 'colour'" --from c1 "$good,colour=red"
    err "a bad VLAN" 2 "FRAME: vlan=4096: not a number from 0 to 4095" --from c1 "$good,vlan=4096"
    err "src missing" 2 "FRAME: a frame needs dst=MAC and src=MAC" --from c1 "dst=$MAC_C2"
    err "a header only (len=14)" 2 "FRAME: len=14" --from c1 "$good,len=14"
    err "14 bytes of hex" 2 "FRAME: a frame of 14 bytes" --from c1 "${MAC_C2//:/}${MAC_C1//:/}88b5"
    err "no --from" 2 "from is required" "$good"
    err "no FRAME" 2 "FRAME is required" --from c1

    section "vepad stopped: exit 5"
    lab_stop_vepad
    check "vepad is gone" not vepad_answers
    err "vepad unreachable" 5 "cannot connect" --from c1 "$good"
}

# The documented fields (include/vepa/control.hpp, "Trace object"), key by key.
fields_ok() {
    jq -e '
        def is(k): (keys == (k | sort));
        def frame_ok: is(["len","dst","src","ethertype","vlan"]);
        is(["from","frame","reflection","hops","result"])
        and (.frame | frame_ok)
        and (.reflection | is(["verdict","by"]))
        and (.result | is(["outcome","ports","local_ports","host","network","probe","switch","dropped_by","drop","conditional","summary"]))
        and ([.hops[] | .hop] == [range(1; (.hops | length) + 1)])
        and all(.hops[]; if .at == "switch"
            then is(["hop","at","reflection","by","frame","action","why"]) and (.frame | frame_ok)
                 and (.action | IN("forward","reflect","drop","flood","flood-and-reflect","consume","unreachable"))
            else is(["hop","at","program","verdict","decisions","unrecorded","copies"])
                 and (.program | IN("port_xdp","port_tc","uplink_xdp","uplink_tc"))
                 and (.verdict | IN("pass","drop","redirect","tx","aborted","ok","shot"))
                 and all(.decisions[]; (has("type") or has("time") or has("time_ns") or has("cpu") | not)
                     and has("program") and has("rule") and has("action") and has("reason") and has("to")
                     and has("src") and has("dst") and has("ethertype") and has("len") and has("flags"))
            end)
        and (.result.outcome | IN("delivered","dropped"))
        and (if .result.dropped_by == "vepad" then .result.drop | is(["at","program","rule","reason"])
             elif .result.dropped_by == "switch" then .result.drop | is(["at","reason","why"])
             else .result.drop == null end)' "$1" >/dev/null
}

# text_matches FROM FRAME: the text output against the JSON, line by line.
text_matches() {
    local from=$1 f=$2 n want got
    vepactl trace --from "$from" "$f" >"$LAB_DIR/t.txt"
    vepactl trace --json --from "$from" "$f" >"$LAB_DIR/t.json"
    n=$(jq '.hops | length' "$LAB_DIR/t.json")
    check_eq "$from: a header line, one per hop ($n), the summary" $((n + 2)) "$(grep -c . "$LAB_DIR/t.txt")"
    want=$(jq -r '"trace from \(.from): \(.frame.src) > \(.frame.dst) "' "$LAB_DIR/t.json")
    check "$from: the header names the sender, the MACs" grep -q "^$want" <(head -1 "$LAB_DIR/t.txt")
    want=$(jq -r '.hops[] | if .at == "switch" then "\(.hop) switch \(.action)" else "\(.hop) \(.at) \(.program) \(.verdict)" end' "$LAB_DIR/t.json")
    got=$(sed -n "2,$((n + 1))p" "$LAB_DIR/t.txt" | awk '$2 == "switch" {print $1, $2, $3; next} {print $1, $2, $3, $4}')
    check_eq "$from: each hop line: number, device, program and verdict (switch: its action)" "$(echo $want)" "$(echo $got)"
    check_eq "$from: the last line is the summary" "$(jq -r .result.summary "$LAB_DIR/t.json")" "$(tail -1 "$LAB_DIR/t.txt")"
}

test_json_and_text() {
    section "--json: the documented trace object"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    local spec
    local specs=(
        "c1 $(frame "$MAC_C2" "$MAC_C1")"             # through the switch and back
        "c1 $(frame "$BCAST" "$MAC_C1")"              # a fan-out
        "c1 $(frame "$MAC_REM" "$MAC_C2")"            # dropped by vepad
        "c1 $(frame "$MAC_REM" "$MAC_C1" 8100001488b5)"   # tagged
        "tap1 dst=$MAC_C1,src=$MAC_VM3,type=arp"      # XDP
        "uplink dst=$BCAST,src=$MAC_REM"              # from the switch
    )
    for spec in "${specs[@]}"; do
        set -- $spec
        vepactl trace --json --from "$1" "$2" >"$LAB_DIR/f.json"
        check "from $1: jq parses it, every documented field, no other" fields_ok "$LAB_DIR/f.json"
    done
    trc c1 "dst=$MAC_C2,src=$MAC_C1,type=arp,len=100"
    check_eq "frame: len, dst, src, ethertype as given" "100 $MAC_C2 $MAC_C1 2054 null" \
        "$(tj '.frame | "\(.len) \(.dst) \(.src) \(.ethertype) \(.vlan)"')"
    check_eq "from, reflection" "c1 reflecting probe" "$(tj '"\(.from) \(.reflection.verdict) \(.reflection.by)"')"
    check_eq "the switch hop's frame: as on the wire" "$MAC_C2 100" "$(tj '.hops[1].frame | "\(.dst) \(.len)"')"
    trc c1 "dst=$MAC_REM,src=$MAC_C1,vlan=20,prio=5"
    check_eq "a tagged frame: its VLAN, the inner ethertype" "20 2048 60" "$(tj '.frame | "\(.vlan) \(.ethertype) \(.len)"')"

    lab_hairpin off
    check_eq "vepactl probe: not reflecting" 3 "$(probe_rc)"
    vepactl trace --json --from c1 "$(frame "$MAC_C2" "$MAC_C1")" >"$LAB_DIR/f.json"
    check "dropped by the switch: every documented field" fields_ok "$LAB_DIR/f.json"

    section "text: a header, one line per hop, the summary"
    lab_hairpin on
    check_eq "vepactl probe: reflecting" 0 "$(probe_rc)"
    text_matches c1 "$(frame "$MAC_C2" "$MAC_C1")"
    text_matches uplink "dst=$BCAST,src=$MAC_REM"
    text_matches tap1 "$(frame "$MAC_REM" "$MAC_C2")"
    check "the spoofed drop's hop line: the rule, reason and the sender's MAC" \
        grep -qE "^  1  tap1 +port_xdp +drop +T5 DROP spoofed \(tap1 has $MAC_VM3\)$" "$LAB_DIR/t.txt"
    check "the header of a tagged frame shows its VLAN and inner ethertype" bash -c \
        "VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN trace --from c1 $(frame "$MAC_REM" "$MAC_C1" 8100001488b5) | head -1 | grep -qx 'trace from c1: $MAC_C1 > $MAC_REM 0x88b5 vlan 20 64B'"
}

run_tests
