#!/usr/bin/env bash
# The vepad lab, end to end: builds vepad, wires a host with two containers and
# a VM to a Linux bridge acting as the adjacent switch, starts vepad, attaches
# the ports with vepactl, starts a third container with podman (the CNI plugin
# `vepa` attaches it), and shows VEPA at work: VM-to-VM traffic crossing the
# switch with reflective relay (hairpin) on, failing with it off, anti-spoofing,
# an AF_XDP port echoing frames, counters, the MAC table, podman rm detaching its
# container, and everything torn down at the end (also on Ctrl-C or failure).
#
#   sudo tools/lab.sh [demo]      the demo (default)
#   sudo tools/lab.sh shell       the same lab, left up for you to explore (exit the shell to tear down)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
case $mode in demo|shell) ;; -h|--help) sed -n '2,11p' "$0"; exit 0 ;; *) echo "usage: $0 [demo|shell]" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "lab.sh: run as root (sudo tools/lab.sh)" >&2; exit 1; }

tools/install-deps.sh
if [ ! -d build ]; then meson setup build >/dev/null; fi
ninja -C build >/dev/null
# shellcheck source=tools/lablib.sh
. tools/lablib.sh
lab_require_root
trap lab_down EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Building the lab ($LAB): switch br0, host with uplink up0, containers c1 c2, VM vm3 on tap1, remote host"
lab_up
lab_start_vepad
run vepactl status

say "Attaching the ports"
run vepactl add-port c1
run vepactl add-port c2
run vepactl add-port tap1 --mac "$MAC_VM3"
run vepactl list

say "A container started by podman (CNI backend): the CNI plugin vepa attaches it, no vepactl"
# podman's state, configs and network directory are the lab's own (tools/lablib.sh):
# the host's /etc/containers is not read, and nothing is left after the demo.
MAC_C4=02:00:0a:14:00:96 IP_C4=10.20.0.150
lab_podman_up
echo "the network (conflist in $LAB_PODMAN_DIR/net):"
jq . "$LAB_PODMAN_DIR/net/$LAB_NET.conflist"
run lab_podman_run c4 --mac-address "$MAC_C4" --ip "$IP_C4"
NS_C4=$(lab_podman_netns c4)
echo "c4's network namespace (podman made it): $NS_C4"
run lab_podman ps
run lab_podman inspect --format "{{(index .NetworkSettings.Networks \"$LAB_NET\").IPAddress}} {{(index .NetworkSettings.Networks \"$LAB_NET\").MacAddress}}" c4
run vepactl list

say "Hairpin ON at the switch: container c1 pings container c2, the VM and podman's c4; every frame crosses the switch"
lab_hairpin on
before=$(lab_switch_counters)
run in_ns "$NS_C1" ping -c 3 -i 0.2 -W 1 "$IP_C2"
run in_ns "$NS_C1" ping -c 3 -i 0.2 -W 1 "$IP_VM3"
run in_ns "$NS_C1" ping -c 3 -i 0.2 -W 1 "$IP_C4"
after=$(lab_switch_counters)
read -r rx0 tx0 <<<"$before"; read -r rx1 tx1 <<<"$after"
echo "switch port swp-host: received $((rx1 - rx0)) frames from the host, sent $((tx1 - tx0)) back (reflected)"

say "Every VM reaches the remote host"
run in_ns "$NS_C2" ping -c 2 -i 0.2 -W 1 "$IP_REM"
run in_ns "$NS_VM3" ping -c 2 -i 0.2 -W 1 "$IP_REM"
run in_ns "$NS_C4" ping -c 2 -i 0.2 -W 1 "$IP_REM"

say "Hairpin OFF: the same ping fails, because vepad never switches locally"
lab_hairpin off
lab_flush_arp "$NS_C1" "$NS_C2" "$NS_C4"
if in_ns "$NS_C1" ping -c 3 -i 0.2 -W 1 "$IP_C2"; then
    echo "UNEXPECTED: c1 reached c2 without the switch reflecting" >&2
    exit 1
fi
if in_ns "$NS_C4" ping -c 3 -i 0.2 -W 1 "$IP_C1"; then
    echo "UNEXPECTED: podman's c4 reached c1 without the switch reflecting" >&2
    exit 1
fi
echo "(no reply: as it must be without reflective relay)"
run in_ns "$NS_C1" ping -c 2 -i 0.2 -W 1 "$IP_REM"
say "vepad knows: its reflection probe does not come back (exit status 3)"
run vepactl probe || true
say "vepactl trace: where a frame from c1 to c2 ends now (nothing is sent; exit status 1: dropped)"
run vepactl trace --from c1 "dst=$MAC_C2,src=$MAC_C1" || true
lab_hairpin on
say "Hairpin ON again: the probe comes back"
run vepactl probe
say "vepactl trace: the same frame hop by hop, through the switch and back to c2"
run vepactl trace --from c1 "dst=$MAC_C2,src=$MAC_C1"

say "Anti-spoofing: c1 sends with c2's MAC as source; vepad drops it and says why (vepactl monitor --drops)"
spoof="ffffffffffff${MAC_C2//:/}88b5$(printf '%02x' $(seq 0 45) | tr -d ' ')"
echo '$ vepactl monitor --drops &'
VEPAD_SOCKET=$LAB_SOCKET "$VEPACTL_BIN" monitor --drops &
mon=$!
sleep 0.5
run in_ns "$NS_C1" "$RAWSEND_BIN" eth0 "$spoof" 5
sleep 0.5
echo '$ kill -INT %1   # Ctrl-C: the summary'
kill -INT $mon; wait $mon || true
run vepactl stats c1
run vepactl trace --from c1 "$spoof" || true

say "An AF_XDP port: a user-space function (vepa-xsk echo) gets its frames from vepad by socket"
MAC_NF=02:00:0a:14:00:21
run vepactl add-port nf0 --type xsk --mac "$MAC_NF"
nsenter --net="/run/netns/$NS_HOST" "$BUILD/tools/vepa-xsk" nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" \
    echo >"$LAB_DIR/xsk.out" 2>&1 &
xsk_pid=$!
for _ in $(seq 50); do [ "$(port_field nf0 state)" = up ] && break; sleep 0.1; done
run vepactl list
echo "the remote host sends 5 frames to nf0's MAC; the function echoes them back through the uplink:"
in_ns "$NS_REM" timeout 3 tcpdump -i eth0 -Q in -n -l -c 5 -e "ether src $MAC_NF" 2>/dev/null | grep '^[0-9]' &
dump=$!
sleep 0.5
in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "${MAC_NF//:/}${MAC_REM//:/}88b5$(printf '%02x' $(seq 0 45) | tr -d ' ')" 5
wait $dump || true
kill -INT $xsk_pid; wait $xsk_pid || true
cat "$LAB_DIR/xsk.out"

say "Counters and the MAC table"
run vepactl stats
run bpftool map dump pinned "$LAB_PIN_DIR/macs_v$LAYOUT"

if [ "$mode" = shell ]; then
    say "The lab is up. Try: vepactl list; in_ns $NS_C1 ping $IP_C2; lab_hairpin off; lab_podman ps; in_ns $NS_C4 ping $IP_C1. Exit the shell to tear it down."
    export -f vepactl in_ns lab_hairpin lab_switch_counters lab_podman lab_podman_run lab_podman_netns
    export LAB LAB_SOCKET VEPACTL_BIN NS_SW NS_HOST NS_C1 NS_C2 NS_VM3 NS_REM NS_C4 LAB_PODMAN_DIR LAB_NET
    bash -i || true
fi

say "podman rm: the plugin's DEL detaches c4 (its port goes from vepad)"
run lab_podman rm -f -t 0 c4
run vepactl list
say "Tearing down"
