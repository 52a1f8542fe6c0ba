#!/usr/bin/env bash
# Port churn under load: CHURN_CYCLES (default 100; the stress suite runs 1000)
# cycles of deleting and re-creating one port's interface and of del-port /
# add-port of another, while two untouched VMs stream 10 kpps each way with the
# remote host and the remote host sends to the churned ports' MACs.  No frame
# may reach a wrong port, none may be lost on the untouched ports, and the maps
# must end with exactly the expected entries.
. "$(dirname "$0")/lib.sh"
CYCLES=${CHURN_CYCLES:-100}
NS_C3=$LAB-c3 MAC_C3=02:00:0a:14:00:0e

case_setup() {
    start_vepad
    lab_container "$NS_C3" c3 "$MAC_C3" || fatal "cannot make the container c3"
    add_ports c1 c2 c3 tap1
    reachable "$NS_C1" "$IP_REM"; reachable "$NS_VM3" "$IP_REM"
}

churn() {
    local i
    for i in $(seq 1 "$CYCLES"); do
        ip -n "$NS_HOST" link del c2
        lab_container_veth "$NS_C2" c2 "$MAC_C2"
        quiet vepactl del-port c3 || echo "cycle $i: del-port failed"
        quiet vepactl add-port c3 || echo "cycle $i: add-port failed"
        [ $((i % 100)) -eq 0 ] && echo "churn: $i cycles" >&2
    done
    echo done >"$LAB_DIR/churn.done"
}

# Frames dropped past vepad, on the VM's side: its tap's queue full (the guest,
# vepa-tap-relay as QEMU, read too late, as a real guest on a busy host does), and
# the relay's writes into the guest's veth refused. Counted apart from vepad's.
tap_dropped() {
    echo $(( $(ip -n "$NS_HOST" -j -s link show tap1 | jq '.[0].stats64.tx.dropped') +
             $(ip -n "$NS_VM3" -j -s link show qemu0 | jq '.[0].stats64.tx.dropped') ))
}

# Where a lossy round lost its frames: the drop counters of every device on the
# untouched streams' paths (the switch's, the host's, the guests' and the remote
# host's), vepad's drop counters and the frames it handed to the host stack (where
# frames for an absent MAC go), as "where counter value" lines.
hop_drops() {
    local ns
    for ns in "$NS_REM" "$NS_SW" "$NS_HOST" "$NS_C1" "$NS_VM3"; do
        ip -n "$ns" -j -s link show | jq -r --arg ns "${ns#"$LAB"-}" \
            '.[] | "\($ns)/\(.ifname) rx_dropped \(.stats64.rx.dropped)", "\($ns)/\(.ifname) tx_dropped \(.stats64.tx.dropped)"'
    done
    vepactl stats --json | jq -r '(.ports[], .uplink) as $p | ($p.counters.drops | to_entries[] |
        "vepad/\($p.name) drops.\(.key) \(.value)"), "vepad/\($p.name) host_packets \($p.counters.host_packets)"'
}
# hop_drops_delta BEFORE AFTER: the counters that grew, with how much.
hop_drops_delta() {
    join -j1 <(sed 's/ /|/' "$1" | sort) <(sed 's/ /|/' "$2" | sort) |
        awk '$3 > $2 { sub(/\|/, " ", $1); printf "      %s +%d\n", $1, $3 - $2 }'
}

test_churn_under_load() {
    section "$CYCLES churn cycles with traffic on the untouched ports"
    local start=$SECONDS churn_pid rounds=0 lost=0 foreign=0 sent=0 tapq=0 tapq0 q id f sockq=0 s
    churn >"$LAB_DIR/churn.log" 2>&1 &
    churn_pid=$!
    while [ ! -e "$LAB_DIR/churn.done" ]; do
        tapq0=$(tap_dropped)
        hop_drops >"$LAB_DIR/drops.before"
        streams_start 3
        stream_start 5 "$NS_REM" "$NS_C2" "$MAC_REM" "$MAC_C2" 3 2000   # into the churn: may be lost, must not stray
        stream_start 6 "$NS_REM" "$NS_C3" "$MAC_REM" "$MAC_C3" 3 2000
        for id in 1 2 3 4 5 6; do stream_wait $id; done
        q=$(( $(tap_dropped) - tapq0 ))
        [ "$q" -eq 0 ] || echo "    round $rounds: $q frames dropped on the VM's side (tap queue full or guest veth refused: its reader was late)"
        tapq=$((tapq + q))
        if [ "$(jq -s 'map(.lost) | add' "$LAB_DIR"/stream.[1234])" -ne 0 ]; then
            hop_drops >"$LAB_DIR/drops.after"
            echo "    round $rounds lost frames; drop counters that grew in it (the churned ports' included):"
            hop_drops_delta "$LAB_DIR/drops.before" "$LAB_DIR/drops.after"
        fi
        for id in 1 2 3 4; do
            lost=$((lost + $(stream_field $id lost)))
            sent=$((sent + $(stream_field $id sent)))
            [ "$(stream_field $id lost)" -eq 0 ] || echo "    round $rounds: stream $id lost $(stream_field $id lost)"
            s=$(stream_field $id 'socket_drops // 0')
            [ "$s" -eq 0 ] || echo "    round $rounds: stream $id: $s of them dropped by the receiving socket (its reader was late)"
            sockq=$((sockq + s))
        done
        # Receivers at the untouched guests (streams 2 and 4) count frames of other streams.
        for id in 2 4; do
            f=$(stream_field $id foreign)
            [ "$f" -eq 0 ] || echo "    round $rounds: the receiver of stream $id got $f frames of streams $(jq -c .foreign_ids "$LAB_DIR/stream.$id")"
            foreign=$((foreign + f))
        done
        rounds=$((rounds + 1))
    done
    wait "$churn_pid"
    check_eq "churn cycles without a command failing" 0 "$(grep -c failed "$LAB_DIR/churn.log")"
    echo "    $CYCLES cycles in $((SECONDS - start)) s, $rounds traffic rounds, $sent frames on the untouched ports"
    echo "    lost on the untouched ports: $lost, of which $tapq on the VM's side and $sockq at receiving sockets, past vepad"
    check_eq "frames lost on the untouched ports by vepad (drops past vepad apart)" 0 "$((lost - tapq - sockq))"
    check_eq "frames for the churned ports that reached an untouched one" 0 "$foreign"

    section "after the churn"
    check "c2 and c3 come back up" wait_for 5 outputs up,up,up,up ports_field state
    check_eq "MAC table: one entry per port MAC" 4 "$(pin_entries macs_v$LAYOUT)"
    check_eq "port records: one per present port" 4 "$(pin_entries ports_v$LAYOUT)"
    check_eq "devmap: the tap and the uplink" 2 "$(pin_entries devs_v$LAYOUT)"
    check_eq "flood list: the four ports" 4 "$(status_field maps.flood)"
    check_eq "vepad's own count of MAC entries agrees" 4 "$(status_field maps.macs)"
    stream_start 7 "$NS_C2" "$NS_REM" "$MAC_C2" "$MAC_REM" 1 2000
    stream_start 8 "$NS_C3" "$NS_REM" "$MAC_C3" "$MAC_REM" 1 2000
    stream_start 9 "$NS_REM" "$NS_C2" "$MAC_REM" "$MAC_C2" 1 2000
    stream_start 10 "$NS_REM" "$NS_C3" "$MAC_REM" "$MAC_C3" 1 2000
    for id in 7 8 9 10; do stream_wait $id; done
    check_eq "the re-created c2 forwards both ways" "0 0" "$(stream_field 7 lost) $(stream_field 9 lost)"
    check_eq "the re-added c3 forwards both ways" "0 0" "$(stream_field 8 lost) $(stream_field 10 lost)"
    streams_start 2
    streams_check "a last round"
    if [ -z "${ASAN_OPTIONS:-}" ]; then   # AddressSanitizer's shadow memory says nothing of vepad's own
        check "vepad's memory stays small" bash -c "[ \$(awk '/VmRSS/ {print \$2}' /proc/$(lab_vepad_pid)/status) -lt 65536 ]"
    fi
    echo "    vepad RSS: $(awk '/VmRSS/ {print $2 " kB"}' /proc/"$(lab_vepad_pid)"/status)"
}

run_tests
