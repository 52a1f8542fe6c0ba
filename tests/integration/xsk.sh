#!/usr/bin/env bash
# The AF_XDP socket library (include/vepa/xsk.hpp) through its tool, vepa-xsk,
# on a veth pair in two private namespaces: an XDP program on b0 redirects
# every frame to the socket of its queue through a pinned XSKMAP, into which
# vepa-xsk inserts itself the way QEMU's -netdev af-xdp does (map-path).
# Counted receive, transmit, echo, and the socket leaving the map when closed.
# Not the lab: one pair for every case, its counters read as differences.
. "$(dirname "$0")/lib.sh"
T=vx$$ PIN=/sys/fs/bpf/vx$$ OUT=/tmp/vx$$
A=$T-a B=$T-b
XSK=$BUILD/tools/vepa-xsk BENCH=$BUILD/bench/vepa-bench
MAC_A=02:00:00:00:0a:01 MAC_B=02:00:00:00:0b:01

suite_up() {
    mkdir -p "$PIN" "$OUT"
    ip netns add "$A" && ip netns add "$B" || return 1
    for ns in "$A" "$B"; do   # no IPv6 chatter (router solicitations) among the counted frames
        nsenter --net=/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    done
    ip -n "$A" link add a0 type veth peer name b0 netns "$B"
    ip -n "$A" link set a0 address $MAC_A up
    ip -n "$B" link set b0 address $MAC_B up
    ip -n "$A" link set lo up; ip -n "$B" link set lo up
    "$BENCH" sink --netns /run/netns/"$A" --ifaces a0 --pin "$PIN/sink" >/dev/null &&
        "$BENCH" xskredirect --netns /run/netns/"$B" --ifname b0 --pin "$PIN/xsks" >/dev/null
}
suite_reset() { rm -f "$OUT"/*; }
suite_down() {
    ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
    rm -rf "$PIN" "$OUT"
}

at_a0() { "$BENCH" count --pin "$PIN/sink" | jq .total; }
frame() { printf '%s%s88b5%s' "${1//:/}" "${2//:/}" "$(printf '%02x' $(seq 0 45) | tr -d ' ')"; }
send_from_a() { nsenter --net=/run/netns/"$A" "$RAWSEND_BIN" a0 "$(frame "$MAC_B" "$MAC_A")" "$1" >/dev/null; }
field() { jq -r ".$1" "$2"; }
b0_rx() { ip -n "$B" -j -s link show b0 | jq '.[0].stats64.rx.packets'; }

test_count() {
    section "count: frames redirected to the socket by XDP"
    "$XSK" b0 count --netns /run/netns/"$B" --map "$PIN/xsks" --index 0 --seconds 2 --json >"$OUT/count.json" 2>/dev/null &
    sleep 0.5
    send_from_a 1000
    wait $!
    check_eq "vepa-xsk received every frame" 1000 "$(field rx_packets "$OUT/count.json")"
    check_eq "of their length (60 bytes each)" 60000 "$(field rx_bytes "$OUT/count.json")"
    check_eq "the kernel dropped none" 0 "$(field rx_dropped "$OUT/count.json")"
}

test_socket_closed_leaves_map() {
    # As test_count leaves it: a socket was in the XSKMAP, got frames, and closed.
    "$XSK" b0 count --netns /run/netns/"$B" --map "$PIN/xsks" --index 0 --seconds 1 --json >"$OUT/count.json" 2>/dev/null &
    sleep 0.5
    send_from_a 10
    wait $!
    [ "$(field rx_packets "$OUT/count.json")" = 10 ] || fatal "the socket in the XSKMAP did not get its 10 frames"

    section "the socket closed leaves the XSKMAP: frames go to the stack again"
    local before after
    before=$(b0_rx)
    send_from_a 100
    after=$(b0_rx)
    check_eq "b0's stack got the 100 frames" 100 "$((after - before))"
}

test_send() {
    section "send: frames the socket transmits leave b0"
    local base; base=$(at_a0)
    "$XSK" b0 send --netns /run/netns/"$B" --dst $MAC_A --src $MAC_B --count 5000 --size 128 --json >"$OUT/send.json"
    check_eq "vepa-xsk sent 5000" 5000 "$(field tx_packets "$OUT/send.json")"
    sleep 0.2
    check_eq "and a0 received 5000" 5000 "$(( $(at_a0) - base ))"
}

test_echo() {
    section "echo: every frame received goes back"
    local base; base=$(at_a0)
    "$XSK" b0 echo --netns /run/netns/"$B" --map "$PIN/xsks" --seconds 2 --json >"$OUT/echo.json" 2>/dev/null &
    sleep 0.5
    send_from_a 2000
    wait $!
    check_eq "vepa-xsk echoed 2000" 2000 "$(field echoed "$OUT/echo.json")"
    check_eq "and a0 received them" 2000 "$(( $(at_a0) - base ))"
}

test_bad_input() {
    section "bad input"
    local out rc
    out=$("$XSK" nosuchif count --seconds 1 2>&1); rc=$?
    check_eq "an unknown interface: exit 1" 1 "$rc"
    check_eq "with the reason" 1 "$(grep -c 'bind an AF_XDP socket to nosuchif' <<<"$out")"
    "$XSK" b0 send --netns /run/netns/"$B" --dst nonsense --src $MAC_B >/dev/null 2>&1; rc=$?
    check_eq "a bad MAC: exit 1" 1 "$rc"
}

run_tests
