#!/usr/bin/env bash
# vepactl monitor on the lab: the dataplane's decision records streamed by the
# real daemon.  A spoofed frame's drop event (rule, reason, ports named, MACs),
# the text line, forwarded frames with --sample 1, a client that never reads
# dropped while forwarding and status stay fine, records over the rate cap
# counted lost, monitoring off in the map once the last client leaves and
# after a vepad killed while a client watched; --payload: the frame's bytes to
# the client that asked, none to one that did not; unicast the switch sent back
# marked reflected.
. "$(dirname "$0")/lib.sh"

case_setup() {
    start_vepad
    add_ports c1 c2
}

MON_PIDS=()
# monitor_start NAME ARGS...: vepactl monitor in the background, stdout in $LAB_DIR/NAME, stderr in NAME.err.
monitor_start() {
    local name=$1; shift
    local before
    before=$(monitor_clients)
    # The binary itself in the background (not the vepactl function's subshell): Ctrl-C must reach it.
    VEPAD_SOCKET=$LAB_SOCKET "$VEPACTL_BIN" monitor "$@" >"$LAB_DIR/$name" 2>"$LAB_DIR/$name.err" &
    echo $! >"$LAB_DIR/$name.pid"
    wait_for 5 outputs $((before + 1)) monitor_clients || fatal "vepactl monitor $* did not subscribe"
}
monitor_clients() { status_field monitor.clients; }
# monitor_stop NAME: Ctrl-C; its exit status in $LAB_DIR/NAME.rc.
monitor_stop() {
    local pid
    pid=$(cat "$LAB_DIR/$1.pid")
    kill -INT "$pid"
    wait "$pid"
    echo $? >"$LAB_DIR/$1.rc"
}
lines() { grep -c . "$LAB_DIR/$1" 2>/dev/null || echo 0; }
events() { jq -c "select(.type == \"event\")${2:+ | select($2)}" "$LAB_DIR/$1"; }
monitor_flags() { bpftool map dump pinned "$LAB_PIN_DIR/monitor_v$LAYOUT" -j | jq '.[0].formatted.value.flags'; }

test_spoofed_drop() {
    section "a spoofed frame's drop, as JSON"
    monitor_start spoof --drops --json
    check_eq "monitoring on in the dataplane: drops only" 1 "$(monitor_flags)"
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 3
    check "3 events arrive" wait_for 5 outputs 3 bash -c "jq -c 'select(.type == \"event\")' $LAB_DIR/spoof | grep -c ."
    local ev
    ev=$(events spoof | head -1)
    check_eq "program port_tc (c1 is a veth)" port_tc "$(jq -r .program <<<"$ev")"
    check_eq "sender named: c1" c1 "$(jq -r .port <<<"$ev")"
    check_eq "rule T5" T5 "$(jq -r .rule <<<"$ev")"
    check_eq "action drop" drop "$(jq -r .action <<<"$ev")"
    check_eq "reason spoofed" spoofed "$(jq -r .reason <<<"$ev")"
    check_eq "charged to c1" c1 "$(jq -r .to <<<"$ev")"
    check_eq "source: c2's MAC" "$MAC_C2" "$(jq -r .src <<<"$ev")"
    check_eq "destination: the remote host's" "$MAC_REM" "$(jq -r .dst <<<"$ev")"
    check_eq "c1's own MAC shown" "$MAC_C1" "$(jq -r '.port_macs[0]' <<<"$ev")"
    check_eq "ethertype 0x88b5" 34997 "$(jq -r .ethertype <<<"$ev")"
    check_eq "length 60" 60 "$(jq -r .len <<<"$ev")"
    monitor_stop spoof
    check_eq "Ctrl-C ends it with status 0" 0 "$(cat "$LAB_DIR/spoof.rc")"
    check "and a summary on stderr" grep -q '^3 events, 0 lost; by rule: T5 3$' "$LAB_DIR/spoof.err"
    check "monitoring off once the last client left" wait_for 3 outputs 0 monitor_flags

    section "the same as text"
    monitor_start text --drops
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 1
    check "one aligned line naming c1, the rule, the reason and c1's MAC" wait_for 5 grep -qE \
        "^[0-9:.]{12} port_tc +c1 +-> DROP +T5 spoofed  src $MAC_C2 \(c1 has $MAC_C1\) 0x88b5 60B$" "$LAB_DIR/text"
    monitor_stop text
}

test_payload() {
    section "--payload: the frame's first 64 bytes, only to the client that asked"
    monitor_start pay --drops --payload --json
    monitor_start nopay --drops --json
    monitor_start paytext --drops --payload
    check_eq "monitoring on in the dataplane: drops and payload" 5 "$(monitor_flags)"
    local short long
    short=$(test_frame "$MAC_REM" "$MAC_C2")                        # 60 bytes: whole
    long=$short$(printf '%02x' $(seq 100 139) | tr -d ' ')           # 100 bytes: the first 64
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$short" 1
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$long" 1
    check "both drops reach the three clients" wait_for 5 bash -c \
        "for c in pay nopay paytext; do [ \$(grep -c T5 $LAB_DIR/\$c) -ge 2 ] || exit 1; done"
    check_eq "the short frame whole" "$short" "$(events pay '.len == 60' | jq -r .payload)"
    check_eq "the long one's first 64 bytes" "${long:0:128}" "$(events pay '.len == 100' | jq -r .payload)"
    check_eq "none to the client that did not ask" 0 "$(events nopay 'has("payload")' | grep -c .)"
    check_eq "which still gets both events" 2 "$(events nopay | grep -c .)"
    # A tagged frame from an untagged port (V2): the receive path moved its tag into skb
    # metadata before TC saw it; the payload puts it back where it was on the wire.
    local tagged=${MAC_REM//:/}${MAC_C1//:/}8100000a88b5$(printf '%02x' $(seq 0 45) | tr -d ' ')
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$tagged" 1
    check "the tagged frame's drop arrives" wait_for 5 bash -c \
        "jq -s -e 'any(.[]; .type == \"event\" and .rule == \"V2\")' $LAB_DIR/pay >/dev/null"
    check_eq "dropped by port_tc, VLAN 10" "port_tc 10" "$(events pay '.rule == "V2"' | jq -r '"\(.program) \(.vlan)"')"
    check_eq "its payload: the frame as sent, the tag after the MAC addresses" "$tagged" \
        "$(events pay '.rule == "V2"' | jq -r .payload)"
    # The text dump: under the event line, 16 bytes a line with offsets, the last line short.
    local dump
    dump=$(grep -A4 ' 60B$' "$LAB_DIR/paytext" | tail -4)
    spaced() { sed 's/../& /g; s/ $//' <<<"$1"; }
    check_eq "the text dump's first line: bytes 0-15" "      0000  $(spaced "${short:0:16}")  $(spaced "${short:16:16}")" \
        "$(sed -n 1p <<<"$dump" | cut -c1-60)"
    check_eq "its last: the 12 bytes from 0x30" "      0030  22 23 24 25 26 27 28 29  2a 2b 2c 2d" \
        "$(sed -n 4p <<<"$dump" | cut -c1-48)"
    monitor_stop pay
    monitor_stop paytext
    check "payload off in the dataplane once no client asks for it" wait_for 3 outputs 1 monitor_flags
    monitor_stop nopay
}

test_forwarded_sample() {
    section "forwarded frames with --sample 1, filtered to c1"
    monitor_start fwd --sample 1 --port c1 --json
    check_eq "monitoring on: drops and forwarding" 3 "$(monitor_flags)"
    check "c1 reaches the remote host" reachable "$NS_C1" "$IP_REM"
    check "c1's frames to the uplink (T1, port_tc, redirect)" wait_for 3 bash -c \
        "jq -s -e 'any(.[]; .type == \"event\" and .rule == \"T1\" and .port == \"c1\" and .to == \"uplink\" and .action == \"redirect\")' $LAB_DIR/fwd >/dev/null"
    check "the replies to c1 (R1, uplink_tc, redirect-peer)" wait_for 3 bash -c \
        "jq -s -e 'any(.[]; .type == \"event\" and .rule == \"R1\" and .port == \"uplink\" and .to == \"c1\" and .action == \"redirect-peer\")' $LAB_DIR/fwd >/dev/null"
    check_eq "nothing of c2's" 0 "$(events fwd '.port == "c2" or .to == "c2"' | grep -c .)"
    monitor_stop fwd
}

test_reflected_unicast() {
    section "unicast the switch sent back (a local port's source) is marked reflected; the remote host's is not"
    monitor_start refl --sample 1 --port c2 --json
    check "c1 reaches c2 (through the switch)" reachable "$NS_C1" "$IP_C2"
    check "c2 reaches the remote host" reachable "$NS_C2" "$IP_REM"
    check "c1's frames to c2 came back from the switch: R1, reflected" wait_for 3 bash -c \
        "jq -s -e 'any(.[]; .type == \"event\" and .rule == \"R1\" and .to == \"c2\" and .src == \"$MAC_C1\" and .flags.reflected)' $LAB_DIR/refl >/dev/null"
    check "the remote host's replies to c2: R1, not reflected" wait_for 3 bash -c \
        "jq -s -e 'any(.[]; .type == \"event\" and .rule == \"R1\" and .to == \"c2\" and .src == \"$MAC_REM\" and (.flags.reflected | not))' $LAB_DIR/refl >/dev/null"
    check_eq "no event from a source outside the lab marked reflected" 0 \
        "$(events refl ".flags.reflected and .src != \"$MAC_C1\" and .src != \"$MAC_C2\"" | grep -c .)"
    monitor_stop refl
}

test_slow_client() {
    section "a client that never reads is dropped; forwarding and status are fine"
    python3 - "$LAB_SOCKET" >"$LAB_DIR/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b'{"id":1,"cmd":"monitor","args":{"sample":1}}\n')
time.sleep(60)   # never reads
PY
    local slow=$!
    on_cleanup "kill $slow 2>/dev/null"
    wait_for 5 outputs 1 monitor_clients || fatal "the slow client did not subscribe"
    # Drops are recorded at any rate up to the cap: 20 000 spoofed frames make ~9 MiB of events.
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 20000
    check "the slow client is dropped" wait_for 10 outputs 0 monitor_clients
    check_eq "and counted" 1 "$(status_field monitor.dropped_clients)"
    check "vepactl status answers" vepad_answers
    check "c2 reaches the remote host" reachable "$NS_C2" "$IP_REM"
    check "monitoring off again" wait_for 3 outputs 0 monitor_flags
}

test_rate_cap() {
    section "records over the rate cap are counted lost"
    monitor_start capped --drops --rate 1 --json
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 50
    check "a lost report of at least 45 within 3 s" wait_for 3 bash -c \
        "jq -s -e 'any(.[]; .type == \"lost\" and .lost >= 45)' $LAB_DIR/capped >/dev/null"
    check_ge "at most 5 events got through (1/s)" "$(events capped | grep -c .)" 5
    monitor_stop capped
    check "the summary reports them lost" grep -qE '^[0-9]+ events?, (4[5-9]|50) lost' "$LAB_DIR/capped.err"
    check_ge "and vepactl metrics: vepad_monitor_lost_total" 45 \
        "$(vepactl metrics | awk '$1 == "vepad_monitor_lost_total{uplink=\"up0\"}" { print $2 }')"
    check_ge "vepad_monitor_events_total: the ones that got through" 1 \
        "$(vepactl metrics | awk '$1 == "vepad_monitor_events_total{uplink=\"up0\"}" { print $2 }')"
}

test_crash_while_monitoring() {
    section "a vepad killed while a client monitors: the next one switches monitoring off"
    monitor_start crash --sample 1 --json
    check_eq "monitoring on" 3 "$(monitor_flags)"
    local pid; pid=$(lab_vepad_pid)
    kill -9 "$pid"
    wait "$(cat "$LAB_DIR/crash.pid")"
    check_eq "the client ends with status 1 (vepad closed the stream)" 1 "$?"
    # The stream's socket may close before the pin directory's lock: reap vepad (started
    # by this case's shell) so every descriptor of it is closed before the next one starts.
    wait "$pid" 2>/dev/null
    wait_for 5 flock -n "$LAB_PIN_DIR" true || fatal "the killed vepad's lock on $LAB_PIN_DIR stayed"
    check_eq "the pinned map still says on" 3 "$(monitor_flags)"
    start_vepad
    check_eq "the new vepad turned it off" 0 "$(monitor_flags)"
    check "c1 reaches the remote host" reachable "$NS_C1" "$IP_REM"
    monitor_start again --drops --json
    in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$MAC_C2")" 1
    check "and monitors again: the drop arrives" wait_for 5 bash -c "jq -s -e 'any(.[]; .reason == \"spoofed\")' $LAB_DIR/again >/dev/null"
    monitor_stop again
}

run_tests
