#!/usr/bin/env bash
# The AF_XDP socket library (include/vepa/xsk.hpp) through its tool, vepa-xsk,
# on a veth pair in two private namespaces: an XDP program on b0 redirects
# every frame to the socket of its queue through a pinned XSKMAP, into which
# vepa-xsk inserts itself the way QEMU's -netdev af-xdp does (map-path).
# Counted receive, transmit, echo, and the socket leaving the map when closed.
set -uo pipefail
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (network namespaces, BPF)"; exit 77; }
T=vx$$ PIN=/sys/fs/bpf/vx$$ OUT=$(mktemp -d /tmp/vx$$.XXXX) PASS=0 FAIL=0
A=$T-a B=$T-b
XSK=$BUILD/tools/vepa-xsk BENCH=$BUILD/bench/vepa-bench RAWSEND=$BUILD/tools/vepa-rawsend
MAC_A=02:00:00:00:0a:01 MAC_B=02:00:00:00:0b:01
cleanup() {
    jobs -p | xargs -r kill 2>/dev/null
    ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
    rm -rf "$PIN" "$OUT"
    printf '\nxsk: %d passed, %d failed\n' "$PASS" "$FAIL"
    [ "$FAIL" -eq 0 ]
}
trap cleanup EXIT
trap 'exit 130' INT TERM
check_eq() {
    if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); printf 'ok   %s (%s)\n' "$1" "$3"
    else FAIL=$((FAIL + 1)); printf 'FAIL %s: expected %s, got %s\n' "$1" "$2" "$3"; fi
}
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p "$PIN"
ip netns add "$A"; ip netns add "$B"
for ns in "$A" "$B"; do   # no IPv6 chatter (router solicitations) among the counted frames
    nsenter --net=/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n "$A" link add a0 type veth peer name b0 netns "$B"
ip -n "$A" link set a0 address $MAC_A up
ip -n "$B" link set b0 address $MAC_B up
ip -n "$A" link set lo up; ip -n "$B" link set lo up
"$BENCH" sink --netns /run/netns/"$A" --ifaces a0 --pin "$PIN/sink" >/dev/null
"$BENCH" xskredirect --netns /run/netns/"$B" --ifname b0 --pin "$PIN/xsks" >/dev/null
at_a0() { "$BENCH" count --pin "$PIN/sink" | jq .total; }
frame() { printf '%s%s88b5%s' "${1//:/}" "${2//:/}" "$(printf '%02x' $(seq 0 45) | tr -d ' ')"; }
send_from_a() { nsenter --net=/run/netns/"$A" "$RAWSEND" a0 "$(frame "$MAC_B" "$MAC_A")" "$1" >/dev/null; }
field() { jq -r ".$1" "$2"; }

echo "-- count: frames redirected to the socket by XDP"
"$XSK" b0 count --netns /run/netns/"$B" --map "$PIN/xsks" --index 0 --seconds 2 --json >"$OUT/count.json" 2>/dev/null &
sleep 0.5
send_from_a 1000
wait $!
check_eq "vepa-xsk received every frame" 1000 "$(field rx_packets "$OUT/count.json")"
check_eq "of their length (60 bytes each)" 60000 "$(field rx_bytes "$OUT/count.json")"
check_eq "the kernel dropped none" 0 "$(field rx_dropped "$OUT/count.json")"

echo "-- the socket closed leaves the XSKMAP: frames go to the stack again"
before=$(ip -n "$B" -j -s link show b0 | jq '.[0].stats64.rx.packets')
send_from_a 100
after=$(ip -n "$B" -j -s link show b0 | jq '.[0].stats64.rx.packets')
check_eq "b0's stack got the 100 frames" 100 "$((after - before))"

echo "-- send: frames the socket transmits leave b0"
base=$(at_a0)
"$XSK" b0 send --netns /run/netns/"$B" --dst $MAC_A --src $MAC_B --count 5000 --size 128 --json >"$OUT/send.json"
check_eq "vepa-xsk sent 5000" 5000 "$(field tx_packets "$OUT/send.json")"
sleep 0.2
check_eq "and a0 received 5000" 5000 "$(( $(at_a0) - base ))"

echo "-- echo: every frame received goes back"
base=$(at_a0)
"$XSK" b0 echo --netns /run/netns/"$B" --map "$PIN/xsks" --seconds 2 --json >"$OUT/echo.json" 2>/dev/null &
sleep 0.5
send_from_a 2000
wait $!
check_eq "vepa-xsk echoed 2000" 2000 "$(field echoed "$OUT/echo.json")"
check_eq "and a0 received them" 2000 "$(( $(at_a0) - base ))"

echo "-- bad input"
out=$("$XSK" nosuchif count --seconds 1 2>&1); rc=$?
check_eq "an unknown interface: exit 1" 1 "$rc"
check_eq "with the reason" 1 "$(grep -c 'bind an AF_XDP socket to nosuchif' <<<"$out")"
"$XSK" b0 send --netns /run/netns/"$B" --dst nonsense --src $MAC_B >/dev/null 2>&1; rc=$?
check_eq "a bad MAC: exit 1" 1 "$rc"
