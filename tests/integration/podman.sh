#!/usr/bin/env bash
# The CNI plugin `vepa` under a real runtime: rootful podman (4.3, CNI backend)
# starting containers on the lab's host (podman runs in the host namespace, so
# the plugin makes the host ends there and reaches the lab's vepad).  Podman's
# state is the lab's own (tools/lablib.sh, lab_podman_up): a temp --root and
# --runroot, CONTAINERS_CONF and CONTAINERS_STORAGE_CONF naming files written
# there, its own CNI config directory with a `vepa` conflist (host-local IPAM,
# leases in the lab's directory), file locks and a tmp dir of its own, a cgroup
# parent named after the lab; the containers run busybox-static from a root
# filesystem made there (--rootfs).  Everything goes with the lab (lab_down), also
# after a failure; between cases no container is left.
#
# Cases: two containers pinging each other through the switch (hairpin on, not
# off) and the remote host; --mac-address and --ip; podman stop/start/rm and a
# container exiting on its own (the port, the host end and the lease go);
# anti-spoofing of a container's MAC change and of forged source MACs; podman
# inspect showing what the plugin returned; one container on two networks (one
# of them 0.4.0), network disconnect/connect; vepad stopped (podman run fails
# saying why, podman start attaches once it is back, podman rm -f still succeeds).
. "$(dirname "$0")/lib.sh"

CNI_PLUGINS=/usr/lib/cni
NET=$LAB_NET

# What the test needs beyond the lab; when something is missing it cannot run here.
podman_missing() {
    local p
    for p in podman runc busybox; do
        command -v "$p" >/dev/null || { echo "no $p (apt: podman runc busybox-static; tools/install-deps.sh)"; return; }
    done
    [ -x "$CNI_PLUGINS/host-local" ] || echo "no $CNI_PLUGINS/host-local (apt: containernetworking-plugins)"
}

# podman's world (tools/lablib.sh) is made with the lab and goes with it (lab_down);
# between cases no container is left (each DEL while the case's vepad still runs).
podman_reset() {
    pod rm -a -f -t 0 >/dev/null || { echo "podman rm -a failed"; return 1; }
    [ -z "$(pod ps -aq)" ] || { echo "containers left: $(pod ps -a)"; return 1; }
}
suite_up() { lab_up && lab_podman_up; }
suite_reset() { podman_reset && lab_reset; }

pod() { lab_podman "$@"; }
# ctr_run NAME [podman run options...]: a container on the vepa network, sleeping, detached.
ctr_run() {
    lab_podman_run "$@" >"$LAB_DIR/run.$1" 2>&1 || { cat "$LAB_DIR/run.$1"; return 1; }
}

# A container's values as podman has them (its netns, as the lab names namespaces: netns-UUID).
inspect() { pod inspect --format "$2" "$1"; }
sandbox() { lab_podman_netns "$1"; }
podman_ip() { inspect "$1" "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}"; }
podman_mac() { inspect "$1" "{{(index .NetworkSettings.Networks \"$NET\").MacAddress}}"; }
# What the container's eth0 really has.
eth0_mac() { ip -n "$(sandbox "$1")" -j link show eth0 | jq -r '.[0].address'; }
eth0_ip() { ip -n "$(sandbox "$1")" -j addr show eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"'; }
# The host end of its veth: the peer's ifindex (of eth0 or the interface given) in the host namespace.
host_end() {
    local peer; peer=$(ip -n "$(sandbox "$1")" -j link show "${2:-eth0}" | jq -r '.[0].link_index')
    ip -n "$NS_HOST" -j link show | jq -r --argjson i "$peer" '.[] | select(.ifindex == $i) | .ifname'
}
host_end_exists() { ip -n "$NS_HOST" link show "$1" >/dev/null 2>&1; }
leased() { [ -e "$LAB_DIR/ipam/$NET/$1" ]; }   # leased IP: host-local holds it
vp_links() { ip -n "$NS_HOST" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -c '^vp' || true; }
container_state() { inspect "$1" '{{.State.Status}}'; }

case_setup() {
    [ -x "$CNI_BIN_DIR/vepa" ] || fatal "$CNI_BIN_DIR/vepa is not built"
    start_vepad
    lab_hairpin on
}

test_two_containers() {
    section "two containers started by podman run on the vepa network"
    check "podman run a" ctr_run a
    check "podman run b" ctr_run b
    local ha hb ipa ipb ma mb
    ha=$(host_end a) hb=$(host_end b) ipa=$(podman_ip a) ipb=$(podman_ip b) ma=$(eth0_mac a) mb=$(eth0_mac b)
    check "a's host end is named vp + 11 hex digits" grep -Eqx 'vp[0-9a-f]{11}' <<<"$ha"
    check_eq "vepad's port for a is up" up "$(port_field "$ha" state)"
    check_eq "with a's MAC (learned from the guest)" "[\"$ma\"]" "$(port_field "$ha" macs)"
    check_eq "vepad's port for b is up" up "$(port_field "$hb" state)"
    check_eq "with b's MAC" "[\"$mb\"]" "$(port_field "$hb" macs)"
    check_eq "the port's owner: cni, the network, podman's container id, eth0" \
        "cni $NET $(pod inspect --format '{{.Id}}' a) eth0" "$(port_field "$ha" owner | jq -r '"\(.tool) \(.name) \(.id) \(.ifname)"')"
    check "a and b have addresses from host-local's range" \
        grep -Eq '^10\.20\.0\.1[5-9][0-9] 10\.20\.0\.1[5-9][0-9]$' <<<"$ipa $ipb"

    section "hairpin ON at the switch: a and b reach each other through it"
    local sa sb n
    sa=$(sandbox a) sb=$(sandbox b)
    check "a pings b" reachable "$sa" "$ipb"
    n=$(count_inbound "$NS_SW" swp-host "icmp and host $ipa and host $ipb" -- lab_ping "$sa" "$ipb" 3)
    check_ge "the switch received their echo requests and replies from the host (3 pings)" 6 "$n"
    local rx0 tx0 rx1 tx1
    read -r rx0 tx0 <<<"$(lab_switch_counters)"
    check "b pings a" reachable "$sb" "$ipa"
    read -r rx1 tx1 <<<"$(lab_switch_counters)"
    check_ge "the switch port's counters: frames from the host" 4 $((rx1 - rx0))
    check_ge "and reflected back to it" 4 $((tx1 - tx0))
    check "busybox ping inside container a (podman exec --privileged) reaches b" \
        quiet pod exec --privileged a ping -c 2 -W 1 "$ipb"

    section "hairpin OFF: no local switching"
    lab_hairpin off
    lab_flush_arp "$sa" "$sb"
    check "a cannot reach b" unreachable "$sa" "$ipb"
    check "b cannot reach a" unreachable "$sb" "$ipa"
    check "a still reaches the remote host" reachable "$sa" "$IP_REM"
    lab_hairpin on
    lab_flush_arp "$sa" "$sb"
    check "hairpin on again: a reaches b" reachable "$sa" "$ipb"
    check "b reaches the remote host" reachable "$sb" "$IP_REM"
    check "the remote host reaches a" reachable "$NS_REM" "$ipa"
}

test_mac_and_ip() {
    section "podman run --mac-address --ip (CNI_ARGS MAC= and IP=)"
    local mac=02:00:0a:14:00:a0 ip=10.20.0.160
    check "podman run m --mac-address $mac --ip $ip" ctr_run m --mac-address "$mac" --ip "$ip"
    local h; h=$(host_end m)
    check_eq "the container's eth0 has the MAC" "$mac" "$(eth0_mac m)"
    check_eq "and the address" "$ip/24" "$(eth0_ip m)"
    check "host-local leased it" leased "$ip"
    check_eq "vepad's port has the MAC" "[\"$mac\"]" "$(port_field "$h" macs)"
    check_eq "configured, not learned" config "$(port_field "$h" mac_source)"
    check_eq "podman inspect shows the MAC" "$mac" "$(podman_mac m)"
    check_eq "and the address" "$ip" "$(podman_ip m)"
    check "the container reaches the remote host" reachable "$(sandbox m)" "$IP_REM"
    check "the remote host reaches it" reachable "$NS_REM" "$ip"
    check "a second container asking for the same address is refused" not ctr_run m2 --ip "$ip"
    check_eq "and leaves no port or veth behind" "1 1" "$(vepactl list --json | jq '.ports | length') $(vp_links)"
    check "m keeps its lease" leased "$ip"
    check_eq "and its port" up "$(port_field "$h" state)"
}

test_inspect() {
    section "podman parses the plugin's result"
    check "podman run i" ctr_run i
    local ip; ip=$(eth0_ip i)
    check "the container has an address" grep -Eq '^10\.20\.0\.1[5-9][0-9]/24$' <<<"$ip"
    check_eq "podman inspect: IPAddress" "${ip%/*}" "$(podman_ip i)"
    check_eq "IPPrefixLen" "${ip#*/}" "$(inspect i "{{(index .NetworkSettings.Networks \"$NET\").IPPrefixLen}}")"
    check_eq "Gateway (host-local's default, the subnet's first address)" 10.20.0.1 \
        "$(inspect i "{{(index .NetworkSettings.Networks \"$NET\").Gateway}}")"
    # The plugin made this MAC up: podman can only know it from the result.
    check_eq "MacAddress (the random MAC the plugin chose)" "$(eth0_mac i)" "$(podman_mac i)"
    check_eq "SandboxKey: the netns of the container's process" "$(sandbox i)" "$(ip netns identify "$(inspect i '{{.State.Pid}}')")"
    local net; net=$(pod network inspect "$NET")
    check_eq "podman network inspect: the network's driver is the plugin" vepa "$(jq -r '.[0].driver' <<<"$net")"
    check_eq "podman network ls lists it with the plugin as its driver" "$NET vepa" "$(pod network ls --format '{{.Name}} {{.Driver}}' | grep "^$NET ")"
}

test_stop_start_rm() {
    section "podman stop: the port, the host end and the lease go"
    check "podman run s" ctr_run s
    local h ip ns
    h=$(host_end s) ip=$(podman_ip s) ns=$(sandbox s)
    check "host-local leased $ip" leased "$ip"
    check "podman stop" quiet pod stop -t 0 s
    check_eq "the container is exited" exited "$(container_state s)"
    check "vepad's port is gone" not port_listed "$h"
    check "the host end is gone" not host_end_exists "$h"
    check "the lease is released" not leased "$ip"
    check "the container's netns is gone" not test -e "/run/netns/$ns"

    section "podman start: attached again"
    check "podman start" quiet pod start s
    h=$(host_end s) ip=$(podman_ip s)
    check_eq "vepad's port is up" up "$(port_field "$h" state)"
    check "host-local leased $ip" leased "$ip"
    check "the container reaches the remote host" reachable "$(sandbox s)" "$IP_REM"

    section "podman rm -f"
    ns=$(sandbox s)
    check "podman rm -f" quiet pod rm -f -t 0 s
    check "vepad's port is gone" not port_listed "$h"
    check "the host end is gone" not host_end_exists "$h"
    check "the lease is released" not leased "$ip"
    check "the container's netns is gone" not test -e "/run/netns/$ns"
    check_eq "no port, no vp veth left" "0 0" "$(vepactl list --json | jq '.ports | length') $(vp_links)"

    section "a container that exits on its own: podman's cleanup (conmon's exit command) detaches it"
    check "podman run e (sleep 3)" ctr_run e -- /bin/sleep 3
    local ns_e; h=$(host_end e) ip=$(podman_ip e) ns_e=$(sandbox e)
    check_eq "its port is up" up "$(port_field "$h" state)"
    check "vepad's port goes (no podman command run meanwhile)" wait_for 10 not port_listed "$h"
    # The plugin's DEL goes on after the del-port: the host end, then IPAM.
    check "the host end is gone" wait_for 3 not host_end_exists "$h"
    check "the lease is released" wait_for 3 not leased "$ip"
    check "its netns is gone" wait_for 3 not test -e "/run/netns/$ns_e"
}

test_anti_spoofing() {
    section "anti-spoofing: a container whose MAC is configured (--mac-address) changes it"
    local mac=02:00:0a:14:00:b0 spoof=02:00:0a:14:00:bf
    check "podman run x --mac-address $mac" ctr_run x --mac-address "$mac"
    check "podman run y" ctr_run y
    local hx hy sx sy ipy my d0
    hx=$(host_end x) hy=$(host_end y) sx=$(sandbox x) sy=$(sandbox y) ipy=$(podman_ip y) my=$(eth0_mac y)
    check "x reaches y" reachable "$sx" "$ipy"
    check "x reaches the remote host" reachable "$sx" "$IP_REM"
    d0=$(lab_stat "$hx" drops.spoofed)
    ip -n "$sx" link set eth0 address "$spoof"
    lab_flush_arp "$sx" "$sy" "$NS_REM"
    check "x (now $spoof) cannot reach y" unreachable "$sx" "$ipy"
    check "nor the remote host" unreachable "$sx" "$IP_REM"
    # Not only the replies (to a MAC no port owns) are lost: x's own frames never leave.
    check_eq "none of x's frames (from $spoof) reaches y" 0 \
        "$(count_inbound "$sy" eth0 "ether src $spoof" -- lab_ping "$sx" "$ipy" 2)"
    check_eq "nor the switch" 0 "$(count_inbound "$NS_SW" swp-host "ether src $spoof" -- lab_ping "$sx" "$IP_REM" 2)"
    check_ge "vepactl stats counts its frames as spoofed" 2 $(( $(lab_stat "$hx" drops.spoofed) - d0 ))
    check_eq "vepad's port keeps the configured MAC" "[\"$mac\"]" "$(port_field "$hx" macs)"
    ip -n "$sx" link set eth0 address "$mac"
    lab_flush_arp "$sx" "$sy" "$NS_REM"
    check "back on its MAC, x reaches y again" reachable "$sx" "$ipy"

    section "a container with a learned MAC sending another's MAC as source"
    local n
    d0=$(lab_stat "$hy" drops.spoofed)
    n=$(count_inbound "$NS_REM" eth0 "ether proto 0x88b5" -- in_ns "$sy" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$mac")" 10)
    check_eq "frames from y with x's MAC never reach the remote host" 0 "$n"
    check_eq "and are counted as spoofed" 10 $(( $(lab_stat "$hy" drops.spoofed) - d0 ))
    n=$(count_inbound "$NS_REM" eth0 "ether proto 0x88b5" -- in_ns "$sy" "$RAWSEND_BIN" eth0 "$(test_frame "$MAC_REM" "$my")" 10)
    check_eq "with its own MAC they do" 10 "$n"

    section "without --mac-address the MAC is learned: vepad follows a change (use --mac-address to pin it)"
    ip -n "$sy" link set eth0 address "$spoof"
    check "vepactl list shows y's new MAC" wait_for 3 port_is "$hy" 'macs[0]' "$spoof"
    lab_flush_arp "$sy" "$NS_REM"
    check "and y keeps reaching the remote host" reachable "$sy" "$IP_REM"
}

test_two_networks() {
    section "one container on two vepa networks (eth0, eth1); the second's conflist at cniVersion 0.4.0"
    jq '.name = "vepanet2" | .cniVersion = "0.4.0" | .plugins[0].ipam.ranges[0][0].rangeStart = "10.20.0.200" |
        .plugins[0].ipam.ranges[0][0].rangeEnd = "10.20.0.220"' "$LAB_PODMAN_DIR/net/$NET.conflist" \
        >"$LAB_PODMAN_DIR/net/vepanet2.conflist"
    check "podman run n --network $NET --network vepanet2" ctr_run n --network vepanet2
    # Podman names the interfaces eth0 and eth1 in no fixed order: vepanet2's is the one with its MAC.
    local ns if1 if0 h0 h1 mac1
    ns=$(sandbox n)
    mac1=$(inspect n '{{(index .NetworkSettings.Networks "vepanet2").MacAddress}}')
    if1=$(ip -n "$ns" -j link show | jq -r --arg m "$mac1" '.[] | select(.address == $m) | .ifname')
    check "vepanet2's interface is eth0 or eth1 ($if1)" grep -qx 'eth[01]' <<<"$if1"
    if0=eth$((1 - ${if1#eth}))
    h0=$(host_end n "$if0") h1=$(host_end n "$if1")
    check "two host ends, named apart" test -n "$h0" -a -n "$h1" -a "$h0" != "$h1"
    check_eq "both ports up" "up up" "$(port_field "$h0" state) $(port_field "$h1" state)"
    check_eq "vepanet2's port has its interface's MAC" "[\"$mac1\"]" "$(port_field "$h1" macs)"
    check_eq "podman inspect: its address, from vepanet2's range (a 0.4.0 result)" \
        "$(ip -n "$ns" -j addr show "$if1" | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')" \
        "$(inspect n '{{(index .NetworkSettings.Networks "vepanet2").IPAddress}}')"
    check "and it is in vepanet2's range" grep -Eq '^10\.20\.0\.2[0-2][0-9]$' <<<"$(inspect n '{{(index .NetworkSettings.Networks "vepanet2").IPAddress}}')"
    check "the container reaches the remote host through it" quiet in_ns "$ns" ping -I "$if1" -c 2 -i 0.2 -W 1 "$IP_REM"
    section "podman network disconnect / connect: only that network's port goes and comes back"
    check "podman network disconnect vepanet2 n" quiet pod network disconnect vepanet2 n
    check "vepanet2's port is gone" not port_listed "$h1"
    check_eq "the other stays up" up "$(port_field "$h0" state)"
    check "podman network connect vepanet2 n" quiet pod network connect vepanet2 n
    check_eq "vepanet2's port is back, up" up "$(port_field "$h1" state)"
    check "podman rm -f" quiet pod rm -f -t 0 n
    check_eq "no port, no vp veth left" "0 0" "$(vepactl list --json | jq '.ports | length') $(vp_links)"
}

test_vepad_stopped() {
    section "vepad stopped: podman run fails with the plugin's reason, leaving nothing"
    lab_stop_vepad
    check "podman run v fails" not ctr_run v
    check "podman says why (the plugin's error)" grep -q "vepad is unreachable at $LAB_SOCKET" "$LAB_DIR/run.v"
    check_eq "no vp veth, no lease left" "0 0" "$(vp_links) $(find "$LAB_DIR/ipam/$NET" -name '10.*' 2>/dev/null | wc -l)"
    section "vepad back: podman start attaches the container"
    start_vepad
    check "podman start v" quiet pod start v
    local h; h=$(host_end v)
    check_eq "vepad's port is up" up "$(port_field "$h" state)"
    check "the container reaches the remote host" reachable "$(sandbox v)" "$IP_REM"
    section "vepad stopped again: podman rm -f still succeeds (DEL is idempotent)"
    local ip; ip=$(podman_ip v)
    lab_stop_vepad
    check "podman rm -f" quiet pod rm -f -t 0 v
    check "the host end is gone" not host_end_exists "$h"
    check "the lease is released" not leased "$ip"
    start_vepad
    check_eq "vepad keeps the port, absent (its DEL found vepad stopped)" absent "$(port_field "$h" state)"
}

if [ "${TEST:-}" != list ] && [ "$(id -u)" -eq 0 ]; then
    missing=$(podman_missing)
    if [ -n "$missing" ]; then echo "SKIP: $missing"; exit 77; fi
fi
run_tests
