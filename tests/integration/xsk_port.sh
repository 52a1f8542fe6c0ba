#!/usr/bin/env bash
# xsk ports: AF_XDP sockets as vepad ports, in the lab (a Linux bridge with
# hairpin as the switch, a remote host, a container port c1).  vepa-xsk plays
# the network function: its socket reaches vepad by SCM_RIGHTS (--attach) or,
# as QEMU's -netdev af-xdp does, through the pinned XSKMAP (--map/--index).
# Each case: a fresh vepad with c1; most add the xsk port nf0 first.
. "$(dirname "$0")/lib.sh"
XSK=$BUILD/tools/vepa-xsk
MAC_NF=02:00:0a:14:00:21 MAC_OTHER=02:00:0a:14:00:99

case_setup() {
    start_vepad
    add_ports c1
}

xsk() { nsenter --net="/run/netns/$NS_HOST" "$XSK" "$@"; }
xsk_bg() {   # xsk_bg OUTFILE args...: a vepa-xsk in the background; its pid in $LAB_DIR/xsk.pid
    local out=$1; shift
    nsenter --net="/run/netns/$NS_HOST" "$XSK" "$@" >"$out" 2>>"$LAB_DIR/xsk.log" &
    echo $! >"$LAB_DIR/xsk.pid"
}
xsk_stop() { kill -INT "$(cat "$LAB_DIR/xsk.pid")" 2>/dev/null; wait "$(cat "$LAB_DIR/xsk.pid")" 2>/dev/null; }
from_remote() {   # from_remote DST_MAC COUNT
    in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$(test_frame "$1" "$MAC_REM")" "$2" >/dev/null
}
# Preconditions: the xsk port nf0 (down, no socket); with a socket attached by SCM_RIGHTS,
# counting into rx.json; the two-queue port nf3; the one-queue port nf4.
nf0_added() { quiet vepactl add-port nf0 --type xsk --mac "$MAC_NF" || fatal "add-port nf0 --type xsk refused"; }
nf0_attached() {
    nf0_added
    xsk_bg "$LAB_DIR/rx.json" nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" --json count
    wait_for 3 state_is nf0 up || fatal "nf0 did not come up with a socket attached"
}
nf3_added() { quiet vepactl add-port nf3 --type xsk --queues 2 --mac 02:00:0a:14:00:23 || fatal "add-port nf3 refused"; }
nf4_added() { quiet vepactl add-port nf4 --type xsk --mac 02:00:0a:14:00:24 || fatal "add-port nf4 refused"; }

test_add_xsk_port() {
    section "add-port --type xsk: vepad makes the veth pair, the port waits for its socket"
    check "add-port nf0 --type xsk" vepactl add-port nf0 --type xsk --mac "$MAC_NF"
    check "the socket device nf0 exists" ip -n "$NS_HOST" link show nf0
    check "its vepa-side end vx-nf0 exists" ip -n "$NS_HOST" link show vx-nf0
    check_eq "nf0 carries vepad's MAC for the port" "$MAC_NF" "$(ip -n "$NS_HOST" -j link show nf0 | jq -r '.[0].address')"
    local d out rc map
    for d in nf0 vx-nf0; do
        check_eq "no IPv6 address on $d (nothing of the host's own is sent into the port)" 0 \
            "$(ip -n "$NS_HOST" -j addr show dev $d | jq '[.[0].addr_info[]] | length')"
        check "$d is NOARP" bash -c "ip -n $NS_HOST -j link show $d | jq -e '.[0].flags | index(\"NOARP\")' >/dev/null"
    done
    out=$(xsk nf0 --zero-copy count --seconds 0.1 2>&1); rc=$?
    check_eq "zero-copy on the veth is refused (veth has none)" 1 "$rc"
    check "with a message that says so" grep -q "zero-copy mode" <<<"$out"
    check_eq "vepa_xsk_xdp is attached to nf0" vepa_xsk_xdp \
        "$(bpftool prog show id "$(ip -n "$NS_HOST" -d -j link show nf0 | jq -r '.[0].xdp.prog.id')" -j | jq -r .name)"
    check_eq "with no socket the port is down" down "$(port_field nf0 state)"
    check_eq "and says why" "no AF_XDP socket attached" "$(port_field nf0 reason)"
    map=$(port_field nf0 xsk.map)
    check_eq "list shows the pinned XSKMAP" "$LAB_PIN_DIR/xsks_v3" "$map"
    check "bpftool sees an xskmap there" bash -c "bpftool map show pinned $map | grep -q xskmap"
}

test_attach_scm_rights() {
    nf0_added
    section "attach by SCM_RIGHTS: the port comes up"
    xsk_bg "$LAB_DIR/rx.json" nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" --json count
    check "nf0 is up within 3 s of the attach" wait_for 3 state_is nf0 up
    check_eq "its socket is listed on queue 0" "[0]" "$(port_field nf0 xsk.sockets)"
    check_eq "delivered by XDP (uplink XDP -> devmap -> veth NAPI -> socket)" xdp "$(port_field nf0 delivery)"
}

test_receive() {
    nf0_attached
    section "R1/R3: the socket receives its unicast and broadcasts, never another port's unicast"
    from_remote "$MAC_NF" 200
    from_remote ff:ff:ff:ff:ff:ff 10
    from_remote "$MAC_C1" 20
    from_remote "$MAC_OTHER" 20
    sleep 0.5
    xsk_stop
    check_eq "200 unicast + 10 broadcast frames from the remote host received" 210 \
        "$(jq '.rx_packets' "$LAB_DIR/rx.json")"
    check_eq "the 10 broadcasts among them" 10 "$(jq .broadcast "$LAB_DIR/rx.json")"
    check_eq "no unicast for another MAC (c1's, an unknown one)" 0 "$(jq .foreign_unicast "$LAB_DIR/rx.json")"
    check_eq "the kernel dropped none at the socket" 0 "$(jq .rx_dropped "$LAB_DIR/rx.json")"
    check_ge "vepactl stats counts them delivered into the port" 210 "$(lab_stat nf0 tx_packets)"
}

test_socket_close_marks_down() {
    nf0_attached
    xsk_stop
    section "the socket closing marks the port down; the kernel empties its slot"
    check "nf0 is down within 3 s of the socket's close" wait_for 3 state_is nf0 down
    check_eq "no socket listed" "[]" "$(port_field nf0 xsk.sockets)"
    local d0; d0=$(lab_stat nf0 drops.port_down)
    from_remote "$MAC_NF" 10
    check_eq "unicast for the down port is dropped and counted" 10 $(( $(lab_stat nf0 drops.port_down) - d0 ))
}

test_socket_device_deleted() {
    nf0_added
    section "the socket device deleted under a live socket: vepad makes the pair again, the dead socket does not count"
    xsk_bg "$LAB_DIR/dead.json" nf0 --attach --socket "$LAB_SOCKET" count
    check "nf0 up with the socket" wait_for 3 state_is nf0 up
    local old_if; old_if=$(port_field nf0 xsk.ifindex)
    ip -n "$NS_HOST" link del nf0
    check "the pair is made again (a new nf0)" wait_for 3 not port_is nf0 xsk.ifindex "$old_if"
    check_eq "and the port is down: the old socket, bound to the deleted device, was taken out" down "$(port_field nf0 state)"
    xsk_stop
}

test_transmit() {
    nf0_added
    section "T1/T3: what the socket sends leaves through the uplink"
    local n
    n=$(count_inbound "$NS_REM" eth0 "ether src $MAC_NF and ether proto 0x88b5" -- \
        xsk nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" send --dst "$MAC_REM" --count 100)
    check_eq "the remote host received the 100 frames" 100 "$n"
    lab_hairpin on
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_NF and ether proto 0x88b5" -- \
        xsk nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" send --dst "$MAC_C1" --count 100)
    check_eq "with hairpin on, container c1 received the 100 frames (via the switch)" 100 "$n"
    lab_hairpin off
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_NF and ether proto 0x88b5" -- \
        xsk nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_NF" send --dst "$MAC_C1" --count 100)
    check_eq "with hairpin off, none (no local switching for AF_XDP either)" 0 "$n"
}

test_reflected_broadcasts() {
    nf0_added
    section "R4: its reflected broadcasts never come back to it"
    local n
    n=$(count_inbound "$NS_C1" eth0 "ether src $MAC_NF and ether proto 0x88b5" -- \
        bash -c "nsenter --net=/run/netns/$NS_HOST $XSK nf0 --attach --socket $LAB_SOCKET --mac $MAC_NF --seconds 1 \
                 --json send --dst ff:ff:ff:ff:ff:ff --count 20 >$LAB_DIR/bc.json")
    check_eq "c1 received each of the 20 broadcasts the socket sent (reflected by the switch)" 20 "$n"
    check_eq "the socket received none of them back" 0 "$(jq .own_source "$LAB_DIR/bc.json")"
}

test_anti_spoofing() {
    nf0_added
    section "T5: anti-spoofing holds for what a socket sends"
    local s0 n
    s0=$(lab_stat nf0 drops.spoofed)
    n=$(count_inbound "$NS_REM" eth0 "ether src $MAC_OTHER" -- \
        xsk nf0 --attach --socket "$LAB_SOCKET" --mac "$MAC_OTHER" send --dst "$MAC_REM" --count 50)
    check_eq "frames with a source MAC not the port's never reach the switch" 0 "$n"
    check_eq "all 50 counted as spoofed on nf0" 50 $(( $(lab_stat nf0 drops.spoofed) - s0 ))
}

test_qemu_map_path_across_restart() {
    nf0_added
    section "the QEMU way: the socket inserts itself into the pinned XSKMAP (map-path, map-start-index)"
    xsk_bg "$LAB_DIR/qemu.json" nf0 --map "$(port_field nf0 xsk.map)" --index "$(port_field nf0 xsk.first_slot)" \
        --mac "$MAC_NF" --json count
    check "nf0 comes up within 3 s with no request to vepad" wait_for 3 state_is nf0 up
    from_remote "$MAC_NF" 100
    sleep 0.3

    section "vepad restarted (kill -9) while the socket is open: the port stays up, frames keep coming"
    kill -9 "$(lab_vepad_pid)"; sleep 0.2
    lab_start_vepad
    check_eq "nf0 is up after the restart (socket found in the pinned map)" up "$(port_field nf0 state)"
    from_remote "$MAC_NF" 100
    sleep 0.3
    xsk_stop
    check_eq "the socket received all 200 frames, across the restart" 200 "$(jq .rx_packets "$LAB_DIR/qemu.json")"
    check_eq "still no foreign unicast" 0 "$(jq .foreign_unicast "$LAB_DIR/qemu.json")"
}

test_refusals() {
    nf0_added
    section "refusals"
    local out rc
    out=$(vepactl add-port nf1 --type xsk 2>&1); rc=$?
    check_eq "xsk without --mac is refused (exit 1)" 1 "$rc"
    check "with the reason" grep -q "needs its MAC" <<<"$out"
    out=$(vepactl add-port averylongname1 --type xsk --mac 02:00:00:00:00:31 2>&1); rc=$?
    check_eq "a name over 12 characters is refused" 1 "$rc"
    out=$(vepactl add-port nf1 --type xsk --queues 65 --mac 02:00:00:00:00:31 2>&1); rc=$?
    check_eq "65 queues is a usage error (exit 2)" 2 "$rc"
    out=$(vepactl add-port c2 --queues 2 2>&1); rc=$?
    check_eq "--queues without --type xsk is a usage error" 2 "$rc"
    ip -n "$NS_HOST" link add nf2 type veth peer name nf2p
    out=$(vepactl add-port nf2 --type xsk --mac 02:00:00:00:00:32 2>&1); rc=$?
    check_eq "an xsk port whose name is taken by a device is refused" 1 "$rc"
    check "naming the device" grep -q "a device named nf2 exists" <<<"$out"
    out=$(xsk c1 --attach --socket "$LAB_SOCKET" count --seconds 0.1 2>&1); rc=$?
    check_eq "attaching a socket to a kernel port is refused" 1 "$rc"
    check "as not an xsk port" grep -q "not an xsk port" <<<"$out"
    out=$(python3 - "$LAB_SOCKET" "$LAB_DIR/not-a-socket" <<'EOF'
import json, socket, sys, array
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
r = open(sys.argv[2], 'w')
line = json.dumps({"id": 1, "cmd": "attach-xsk", "args": {"name": "nf0", "queue": 0}}) + "\n"
s.sendmsg([line.encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r.fileno()]))])
print(s.makefile().readline().strip())
s.sendall((json.dumps({"id": 2, "cmd": "attach-xsk", "args": {"name": "nf0", "queue": 0}}) + "\n").encode())
print(s.makefile().readline().strip())
s.sendmsg([(json.dumps({"id": 3, "cmd": "list"}) + "\n").encode()], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r.fileno()]))])
print(s.makefile().readline().strip())
EOF
)
    check_eq "a descriptor that is not AF_XDP: bad-socket" bad-socket "$(sed -n 1p <<<"$out" | jq -r .error.code)"
    check_eq "attach-xsk without a descriptor: bad-socket" bad-socket "$(sed -n 2p <<<"$out" | jq -r .error.code)"
    check_eq "a descriptor with another command: bad-request" bad-request "$(sed -n 3p <<<"$out" | jq -r .error.code)"
    check "vepad keeps none of the descriptors it refused" bash -c \
        "! ls -l /proc/$(lab_vepad_pid)/fd | grep -q not-a-socket"
}

test_two_queues() {
    nf0_added
    section "two queues: one socket each, the port is up only with both"
    check "add-port nf3 --type xsk --queues 2" vepactl add-port nf3 --type xsk --queues 2 --mac 02:00:0a:14:00:23
    check_eq "nf3 has 2 RX queues" 2 "$(ip -n "$NS_HOST" -d -j link show nf3 | jq '.[0].num_rx_queues')"
    check_eq "its slots follow nf0's" "$(( $(port_field nf0 xsk.first_slot) + 1 ))" "$(port_field nf3 xsk.first_slot)"
    xsk_bg "$LAB_DIR/q0.json" nf3 --attach --socket "$LAB_SOCKET" --queue 0 --json count
    local q0; q0=$(cat "$LAB_DIR/xsk.pid")
    check "queue 0's socket attached" wait_for 3 port_is nf3 xsk.sockets '[0]'
    check_eq "with one of two sockets nf3 is down" down "$(port_field nf3 state)"
    xsk_bg "$LAB_DIR/q1.json" nf3 --attach --socket "$LAB_SOCKET" --queue 1 --json count
    check "with both it is up" wait_for 3 state_is nf3 up
    in_ns "$NS_REM" "$RAWSEND_BIN" eth0 "$(test_frame 02:00:0a:14:00:23 "$MAC_REM")" 300 >/dev/null
    sleep 0.5
    xsk_stop; kill -INT "$q0"; wait "$q0" 2>/dev/null
    check_eq "the two sockets together received all 300 frames (each on the queue it arrived on)" 300 \
        $(( $(jq .rx_packets "$LAB_DIR/q0.json") + $(jq .rx_packets "$LAB_DIR/q1.json") ))
}

test_del_port_empties_slots() {
    nf0_added; nf3_added
    section "del-port removes the pair and empties the slots"
    check "del-port nf0" vepactl del-port nf0
    check "nf0 is gone" bash -c "! ip -n $NS_HOST link show nf0 2>/dev/null"
    check "vx-nf0 is gone" bash -c "! ip -n $NS_HOST link show vx-nf0 2>/dev/null"
    check_eq "nf3's device is in xskports (bpftool, BTF-typed), nf0's is gone" \
        "$(ip -n "$NS_HOST" -j link show nf3 | jq -c '[.[0].ifindex]')" \
        "$(bpftool map dump pinned "$LAB_PIN_DIR/xskports_v3" -j | jq -c '[.[].formatted.key]')"
}

test_add_port_empties_new_slots() {
    nf0_added; nf3_added   # then nf0 deleted: its slot 0 is free, nf3 keeps slots 1 and 2
    quiet vepactl del-port nf0 || fatal "del-port nf0 refused"
    section "add-port empties a new port's slots: a socket left there never gets its frames"
    xsk_bg "$LAB_DIR/stale.json" nf3 --queue 0 --map "$(port_field nf3 xsk.map)" --index 0 --json count
    sleep 0.3
    check "add-port nf4 --type xsk (takes nf0's old slot 0)" vepactl add-port nf4 --type xsk --mac 02:00:0a:14:00:24
    check_eq "nf4's first slot is 0" 0 "$(port_field nf4 xsk.first_slot)"
    check_eq "the stale socket is out of it: nf4 lists none" "[]" "$(port_field nf4 xsk.sockets)"
    check_eq "and is down" down "$(port_field nf4 state)"
    xsk_stop
}

test_older_layout_adopted() {
    nf3_added; nf4_added
    section "an older dataplane without the xsk maps is adopted (upgrade from before xsk ports)"
    lab_stop_vepad
    rm -f "$LAB_PIN_DIR/xsks_v3" "$LAB_PIN_DIR/xskports_v3"
    check "vepad starts on the older pins" lab_start_vepad
    check "and pins the new maps beside them" test -e "$LAB_PIN_DIR/xsks_v3" -a -e "$LAB_PIN_DIR/xskports_v3"
    check_eq "c1 is still up" up "$(port_field c1 state)"
    check "nf3 is served again (its device back in xskports)" bash -c \
        "bpftool map dump pinned $LAB_PIN_DIR/xskports_v3 -j | jq -e 'length == 2' >/dev/null"
}

test_shutdown_detach_removes_pairs() {
    nf3_added; nf4_added
    section "shutdown --detach removes the pairs vepad made"
    quiet vepactl shutdown --detach
    wait_for 5 vepad_exited
    check "nf3 and vx-nf3 are gone" bash -c "! ip -n $NS_HOST link show nf3 2>/dev/null && ! ip -n $NS_HOST link show vx-nf3 2>/dev/null"
    check "nf4 is gone" bash -c "! ip -n $NS_HOST link show nf4 2>/dev/null"
    check "the kernel ports' devices stay (c1)" ip -n "$NS_HOST" link show c1
}

run_tests
