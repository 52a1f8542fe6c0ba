#!/usr/bin/env bash
# Faults with traffic running: the uplink flapping and re-created, the state
# directory full or read-only (the previous configuration is never lost and
# vepad keeps running), and a burst of link events overrunning vepad's
# rtnetlink buffer (recovered by a full re-read).
. "$(dirname "$0")/lib.sh"
t_start
# The state directory on its own small tmpfs, to fill it.
mkdir -p "$LAB_DIR/state"
mount -t tmpfs -o size=64k tmpfs "$LAB_DIR/state"
cleanup_mount() { umount "$LAB_DIR/state" 2>/dev/null; }
trap 'cleanup_mount; t_finish' EXIT
lab_start_vepad --netlink-rcvbuf 16384
vepactl add-port c1 >/dev/null
vepactl add-port tap1 --mac "$MAC_VM3" >/dev/null
reachable "$NS_C1" "$IP_REM"; reachable "$NS_VM3" "$IP_REM"

section "uplink down for a second, under load"
streams_start 4
sleep 1
ip -n "$NS_HOST" link set up0 down
sleep 1
ip -n "$NS_HOST" link set up0 up
for id in 1 2 3 4; do stream_wait $id; done
check_ge "frames were lost while the uplink was down (sanity: the fault was real)" 1 "$(stream_field 1 lost)"
streams_start 2
streams_check "after the flap"

section "uplink deleted and re-created, under load"
streams_start 5
sleep 1
ip -n "$NS_HOST" link del up0
sleep 0.5
ip -n "$NS_HOST" link add up0 type veth peer name swp-host netns "$NS_SW"
ip -n "$NS_SW" link set swp-host master br0
in_ns "$NS_SW" ethtool -K swp-host gro on >/dev/null
ip -n "$NS_SW" link set swp-host up
lab_hairpin on
ip -n "$NS_HOST" link set up0 up
for id in 1 2 3 4; do stream_wait $id; done
streams_start 2
streams_check "on the new uplink"

section "state directory full: the change is refused, nothing is lost"
cp "$LAB_DIR/state/ports-up0.json" "$LAB_DIR/state.before"
dd if=/dev/zero of="$LAB_DIR/state/filler" bs=1k count=64 2>/dev/null || true
err=$(vepactl add-port c2 2>&1); rc=$?
check_eq "add-port is refused" 1 "$rc"
check "saying why (no space), as a state error" bash -c "grep -q 'No space left' <<<\"$err\" && grep -q '\\[state\\]' <<<\"$err\""
check "the state file is intact" cmp -s "$LAB_DIR/state/ports-up0.json" "$LAB_DIR/state.before"
check "no temporary file left behind" bash -c "! ls $LAB_DIR/state | grep -q tmp"
check_eq "vepad did not take the port" "c1,tap1" "$(vepactl list --json | jq -r '[.ports[].name] | join(",")')"
check "vepad keeps running and forwarding" reachable "$NS_C1" "$IP_REM"
rm -f "$LAB_DIR/state/filler"
check "with room again, add-port works" bash -c "VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN add-port c2 >/dev/null"

section "state directory read-only"
mount -o remount,ro "$LAB_DIR/state"
cp "$LAB_DIR/state/ports-up0.json" "$LAB_DIR/state.before"
err=$(vepactl del-port c2 2>&1); rc=$?
check_eq "del-port is refused" 1 "$rc"
check "saying why (read-only)" bash -c "grep -qi 'read-only' <<<\"$err\""
check_eq "the port is still configured" "c1,c2,tap1" "$(vepactl list --json | jq -r '[.ports[].name] | join(",")')"
check "the state file is intact" cmp -s "$LAB_DIR/state/ports-up0.json" "$LAB_DIR/state.before"
mount -o remount,rw "$LAB_DIR/state"
check "writable again, del-port works" bash -c "VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN del-port c2 >/dev/null"

section "a burst of link events overruns vepad's rtnetlink buffer"
vepactl add-port c5 >/dev/null
check_eq "c5 is configured, absent" absent "$(port_state c5)"
kill -STOP "$(lab_vepad_pid)"
{
    for i in $(seq 1 400); do echo "link add burst$i type veth peer name burstp$i"; done
    for i in $(seq 1 400); do echo "link set burst$i up"; done
} | ip -n "$NS_HOST" -batch -
ip netns add "$LAB-c5"
ip -n "$NS_HOST" link add c5 type veth peer name eth0 netns "$LAB-c5"
ip -n "$LAB-c5" link set eth0 address 02:00:0a:14:00:05
ip -n "$LAB-c5" addr add 10.20.0.15/24 dev eth0
ip -n "$LAB-c5" link set eth0 up
ip -n "$NS_HOST" link set c5 up
for i in $(seq 1 400); do echo "link del burst$i"; done | ip -n "$NS_HOST" -batch -
kill -CONT "$(lab_vepad_pid)"
check "vepad noticed the overrun" wait_for 10 grep -q "events lost" "$LAB_DIR/vepad.log"
check "and, re-reading every link, found c5 up" wait_for 10 state_is c5 up
check "c5 forwards" reachable "$LAB-c5" "$IP_REM"
check_eq "the others are as they were" "up,up" "$(vepactl list --json | jq -r '[.ports[] | select(.name != "c5") | .state] | join(",")')"
check "vepad answers promptly after the burst" bash -c "timeout 2 env VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN status >/dev/null"
