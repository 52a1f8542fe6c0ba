# shellcheck shell=bash
# The vepad lab: network namespaces standing in for a host, its VMs and
# containers, the adjacent switch and a remote host.  Sourced by tools/lab.sh
# and the integration tests.
#
#   switch  (LAB-sw)   Linux bridge br0; port swp-host toward the host's uplink
#                      (reflective relay = hairpin, on or off), swp-rem toward the remote host
#   host    (LAB-host) uplink up0, vepad, ports c1 c2 (veth, containers) and tap1 (a VM's tap)
#   c1, c2  (LAB-c1/2) containers: eth0, the other end of the host's c1/c2 veth, defaults kept
#   vm3     (LAB-vm3)  a VM: eth0 is its NIC; vepa-tap-relay moves frames between it and
#                      the host's tap1, as QEMU does
#   remote  (LAB-rem)  eth0, a host beyond the switch
#
# Addresses 10.20.0.0/24: c1 .11, c2 .12, vm3 .13, remote .100; podman containers
# (lab_podman_run) .150-.199 from host-local.
# Every name carries $LAB (unique per run); lab_down removes everything.

LAB=${LAB:-vl$$}
LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$LAB_ROOT/build}
LAB_DIR=${LAB_DIR:-/tmp/$LAB}
VEPAD_BIN=$BUILD/daemon/vepad
VEPACTL_BIN=$BUILD/cli/vepactl
RELAY_BIN=$BUILD/tools/vepa-tap-relay
RAWSEND_BIN=$BUILD/tools/vepa-rawsend
LAB_PIN_DIR=/sys/fs/bpf/$LAB
# The map layout version in pinned map names (macs_v$LAYOUT, ...).
LAYOUT=$(sed -n 's/^#define VEPA_LAYOUT_VERSION //p' "$LAB_ROOT/include/vepa/abi.h")
LAB_SOCKET=$LAB_DIR/vepad.sock

NS_SW=$LAB-sw NS_HOST=$LAB-host NS_C1=$LAB-c1 NS_C2=$LAB-c2 NS_VM3=$LAB-vm3 NS_REM=$LAB-rem
MAC_C1=02:00:0a:14:00:0b MAC_C2=02:00:0a:14:00:0c MAC_VM3=52:54:00:14:00:0d MAC_REM=02:00:0a:14:00:64
IP_C1=10.20.0.11 IP_C2=10.20.0.12 IP_VM3=10.20.0.13 IP_REM=10.20.0.100

lab_log() { printf '%s\n' "$*" >&2; }

# Run a command in a lab namespace, keeping our mount namespace (/sys/fs/bpf visible).
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

vepactl() { VEPAD_SOCKET=$LAB_SOCKET "$VEPACTL_BIN" "$@"; }

lab_require_root() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (network namespaces, BPF)"
        exit 77
    fi
    mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
    for b in "$VEPAD_BIN" "$VEPACTL_BIN" "$RELAY_BIN" "$RAWSEND_BIN"; do
        [ -x "$b" ] || { echo "lab: $b is not built (meson setup build && ninja -C build)" >&2; exit 1; }
    done
}

_quiet_ns() {
    in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    in_ns "$1" ip link set lo up
}

# A container: namespace $1 whose eth0 (MAC $3, address $4/24 if given) is the other
# end of the host's veth $2.  lab_container_veth makes the veth again in a container's
# namespace that exists (a container whose interface was deleted).
lab_container() {
    ip netns add "$1" && _quiet_ns "$1" && lab_container_veth "$@"
}
lab_container_veth() {
    local ns=$1 port=$2 mac=$3 ip=${4:-}
    ip -n "$NS_HOST" link add "$port" type veth peer name eth0 netns "$ns" &&
        ip -n "$ns" link set eth0 address "$mac" &&
        { [ -z "$ip" ] || ip -n "$ns" addr add "$ip/24" dev eth0; } &&
        ip -n "$ns" link set eth0 up &&
        ip -n "$NS_HOST" link set "$port" up
}

# The VM behind tap1: its NIC eth0 is wired (veth) to qemu0, which vepa-tap-relay
# bridges to the host's tap1.  Started again by lab_vm3_start after a "VM restart".
lab_vm3_start() {
    # nsenter execs the program: $! is the relay itself (a shell function would be a subshell).
    nsenter --net="/run/netns/$NS_HOST" "$RELAY_BIN" --tap tap1 --guest-netns "/run/netns/$NS_VM3" \
        --guest-if qemu0 >/dev/null 2>>"$LAB_DIR/relay.log" &
    echo $! >"$LAB_DIR/relay.pid"
    local i
    for i in $(seq 50); do ip -n "$NS_HOST" link show tap1 >/dev/null 2>&1 && break; sleep 0.05; done
    # A deeper queue than QEMU's default 1000: the relay, a process on a busy 2-core
    # VM, is sometimes descheduled for 100 ms and more, and the loss tests measure vepad.
    ip -n "$NS_HOST" link set tap1 txqueuelen 10000 up
}

lab_vm3_stop() {
    [ -f "$LAB_DIR/relay.pid" ] && kill "$(cat "$LAB_DIR/relay.pid")" 2>/dev/null
    local i
    for i in $(seq 50); do ip -n "$NS_HOST" link show tap1 >/dev/null 2>&1 || break; sleep 0.05; done
    rm -f "$LAB_DIR/relay.pid"
}

lab_up() {
    mkdir -p "$LAB_DIR"
    ip netns add "$NS_SW"; _quiet_ns "$NS_SW"
    ip netns add "$NS_HOST"; _quiet_ns "$NS_HOST"
    # The switch: a Linux bridge with no netfilter hooks, as a hardware switch has none.
    in_ns "$NS_SW" sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
        net.bridge.bridge-nf-call-arptables=0 2>/dev/null || true
    ip -n "$NS_SW" link add br0 type bridge
    ip -n "$NS_SW" link set br0 up
    lab_uplink
    # The remote host.
    ip netns add "$NS_REM"; _quiet_ns "$NS_REM"
    ip -n "$NS_REM" link add eth0 type veth peer name swp-rem netns "$NS_SW"
    ip -n "$NS_SW" link set swp-rem master br0
    ip -n "$NS_SW" link set swp-rem up
    ip -n "$NS_REM" link set eth0 address "$MAC_REM"
    ip -n "$NS_REM" addr add "$IP_REM/24" dev eth0
    ip -n "$NS_REM" link set eth0 up
    # Containers and the VM.
    lab_container "$NS_C1" c1 "$MAC_C1" "$IP_C1"
    lab_container "$NS_C2" c2 "$MAC_C2" "$IP_C2"
    ip netns add "$NS_VM3"; _quiet_ns "$NS_VM3"
    ip -n "$NS_VM3" link add eth0 type veth peer name qemu0
    ip -n "$NS_VM3" link set eth0 address "$MAC_VM3"
    ip -n "$NS_VM3" addr add "$IP_VM3/24" dev eth0
    ip -n "$NS_VM3" link set eth0 up
    ip -n "$NS_VM3" link set qemu0 up
    lab_vm3_start
}

# The host's uplink up0, wired to the switch's port swp-host (hairpin on); tests that
# delete the uplink make it again with this.  GRO on the switch's end gives the
# uplink veth NAPI, so it takes XDP frames as a physical NIC does: a VM's tap then
# sends by XDP straight to the uplink.
lab_uplink() {
    ip -n "$NS_HOST" link add up0 type veth peer name swp-host netns "$NS_SW" &&
        ip -n "$NS_SW" link set swp-host master br0 &&
        in_ns "$NS_SW" ethtool -K swp-host gro on >/dev/null &&
        ip -n "$NS_SW" link set swp-host up &&
        lab_hairpin on &&
        ip -n "$NS_HOST" link set up0 up
}

# Reflective relay on the switch port toward the host.
lab_hairpin() { ip -n "$NS_SW" link set swp-host type bridge_slave hairpin "$1"; }

# Frames the switch port toward the host received / sent (from the switch's view).
lab_switch_counters() {
    ip -n "$NS_SW" -j -s link show swp-host | jq -r '.[0].stats64.rx.packets, .[0].stats64.tx.packets' | paste -sd' '
}

# vepad in the host namespace with the lab's command line (a config naming up0, the
# state directory, socket and pin directory of the lab) and the options given;
# VEPAD_BIN may name another build.  lab_start_vepad runs it in the background,
# logging to vepad.log, and returns once it answers; lab_run_vepad runs it in the
# foreground (for a start that must be refused).
_lab_vepad_cmd() {
    mkdir -p "$LAB_DIR/state"
    printf 'uplink = up0\n' >"$LAB_DIR/vepad.conf"
    VEPAD_CMD=(nsenter --net="/run/netns/$NS_HOST" "$VEPAD_BIN" --config "$LAB_DIR/vepad.conf"
               --state-dir "$LAB_DIR/state" --socket "$LAB_SOCKET" --pin-dir "$LAB_PIN_DIR")
}
lab_run_vepad() { _lab_vepad_cmd; "${VEPAD_CMD[@]}" "$@"; }
lab_start_vepad() {
    _lab_vepad_cmd
    # nsenter execs vepad: $! is vepad itself.
    "${VEPAD_CMD[@]}" "$@" >>"$LAB_DIR/vepad.log" 2>&1 &
    echo $! >"$LAB_DIR/vepad.pid"
    local i
    for i in $(seq 100); do
        vepactl status >/dev/null 2>&1 && return 0
        kill -0 "$(cat "$LAB_DIR/vepad.pid")" 2>/dev/null || break
        sleep 0.05
    done
    lab_log "vepad did not start; its log:"; cat "$LAB_DIR/vepad.log" >&2
    return 1
}

# Attach the lab's ports: tap1 with its VM's MAC (vepad cannot see a tap's guest), others as they are.
lab_add_ports() {
    local p
    for p; do
        if [ "$p" = tap1 ]; then vepactl add-port tap1 --mac "$MAC_VM3"; else vepactl add-port "$p"; fi >/dev/null || return 1
    done
}

# One field of a port in vepactl list --json, as jq prints it (strings raw, the rest
# compact): port_field c1 state, port_field tap1 ifindex, port_field nf0 xsk.sockets.
port_field() { vepactl list --json | jq -rc --arg n "$1" ".ports[] | select(.name == \$n) | .$2"; }

lab_vepad_pid() { cat "$LAB_DIR/vepad.pid" 2>/dev/null; }

lab_stop_vepad() {
    local pid; pid=$(lab_vepad_pid)
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    local i
    for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$LAB_DIR/vepad.pid"
}

lab_down() {
    set +e
    lab_podman_down
    if [ -S "$LAB_SOCKET" ]; then vepactl shutdown --detach >/dev/null 2>&1; fi
    local pid; pid=$(lab_vepad_pid)
    if [ -n "$pid" ]; then
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -9 "$pid" 2>/dev/null
    fi
    lab_vm3_stop 2>/dev/null
    lab_umount
    # Every namespace of this lab, the ones tests added included.
    for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-"); do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$LAB_PIN_DIR" 2>/dev/null
    [ -n "${LAB_KEEP_DIR:-}" ] || rm -rf "$LAB_DIR"
}

# Unmount what a test mounted in the lab's directory (a small state directory to fill).
lab_umount() {
    local m
    for m in $(awk -v d="$LAB_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do umount "$m"; done
}

# ping from a namespace; prints the number of replies received.
lab_ping() {
    local ns=$1 ip=$2 count=${3:-3} wait=${4:-1}
    in_ns "$ns" ping -c "$count" -i 0.2 -W "$wait" -q "$ip" 2>/dev/null |
        awk '/packets transmitted/ {print $4; found=1} END {if (!found) print 0}'
}

# Forget ARP entries so the next ping starts with a broadcast.
lab_flush_arp() { for ns in "$@"; do ip -n "$ns" neigh flush all 2>/dev/null; done; }

# A counter of a port from vepactl stats --json (e.g. lab_stat c1 tx_packets, lab_stat c1 drops.spoofed).
lab_stat() {
    local port=$1 field=$2
    if [ "$port" = uplink ]; then
        vepactl stats --json | jq -r ".uplink.counters.$field"
    else
        vepactl stats "$port" --json | jq -r ".ports[0].counters.$field"
    fi
}

# --- podman on the lab's host (CNI backend, the vepa plugin) -----------------------
# Rootful podman with state of its own in LAB_PODMAN_DIR: --root/--runroot there,
# CONTAINERS_CONF and CONTAINERS_STORAGE_CONF naming files written there (the host's
# /etc/containers is not read), the network config directory with a conflist for
# network $LAB_NET (the vepa plugin on the lab's vepad, host-local IPAM in
# 10.20.0.150-.199, its leases in $LAB_DIR/ipam), file locks and a tmp dir there,
# the containers' cgroups under /$LAB-podman.  The containers run busybox-static
# from a root filesystem made there (--rootfs).  lab_down removes it all.
LAB_PODMAN_DIR=${LAB_PODMAN_DIR:-/tmp/$LAB-podman}
LAB_NET=vepanet
CNI_BIN_DIR=$BUILD/cni

lab_podman_up() {
    local d=$LAB_PODMAN_DIR a
    mkdir -p "$d"/{net,tmp} "$d"/rootfs/{bin,etc,proc,sys,dev,tmp,run} || return 1
    cp "$(command -v busybox)" "$d/rootfs/bin/busybox" || return 1
    for a in sh sleep ip ping cat; do ln -sf busybox "$d/rootfs/bin/$a"; done
    jq -n --arg net "$LAB_NET" --arg sock "$LAB_SOCKET" --arg ipam "$LAB_DIR/ipam" '{
        cniVersion: "1.0.0", name: $net,
        plugins: [{type: "vepa", socket: $sock, mode: "vepa",
                   ipam: {type: "host-local", dataDir: $ipam,
                          ranges: [[{subnet: "10.20.0.0/24", rangeStart: "10.20.0.150", rangeEnd: "10.20.0.199"}]]}}]
    }' >"$d/net/$LAB_NET.conflist" || return 1
    # cgroupfs: no systemd here (podman would fall back to it); runc: crun refuses a
    # hybrid cgroup layout; nofile at our hard limit, as a process without
    # CAP_SYS_RESOURCE cannot raise it to podman's default 1048576 (runc: "error
    # setting rlimit type 7"), nproc low for the same reason (root in the initial user
    # namespace is exempt from it anyway); file locks in tmp_dir, not the host-wide
    # /dev/shm/libpod_lock.
    cat >"$d/containers.conf" <<EOC || return 1
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=1024:1024"]

[network]
network_backend = "cni"
cni_plugin_dirs = ["$CNI_BIN_DIR", "/usr/lib/cni"]
network_config_dir = "$d/net"
default_network = "$LAB_NET"

[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
lock_type = "file"
EOC
    printf '[storage]\ndriver = "vfs"\nrunroot = "%s"\ngraphroot = "%s"\n' "$d/runroot" "$d/root" >"$d/storage.conf"
}

# podman in the lab's host namespace (nsenter, not ip netns exec: that remounts /sys and
# hides the cgroup mounts), so the plugin makes the host ends there.
lab_podman() {
    CONTAINERS_CONF=$LAB_PODMAN_DIR/containers.conf CONTAINERS_STORAGE_CONF=$LAB_PODMAN_DIR/storage.conf \
        nsenter --net="/run/netns/$NS_HOST" podman --root "$LAB_PODMAN_DIR/root" --runroot "$LAB_PODMAN_DIR/runroot" "$@"
}

# lab_podman_run NAME [podman run options...] [-- command...]: a detached container on
# $LAB_NET (default command: a long sleep); prints its id.
lab_podman_run() {
    local name=$1 opts=(); shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ "${1:-}" != -- ] || shift
    [ $# -gt 0 ] || set -- /bin/sleep 86400
    lab_podman run -d --name "$name" --network "$LAB_NET" --cgroup-parent "/$LAB-podman" "${opts[@]}" \
        --rootfs "$LAB_PODMAN_DIR/rootfs" "$@"
}

# A container's network namespace, as the lab names namespaces (netns-UUID; for in_ns, lab_ping).
lab_podman_netns() {
    local key; key=$(lab_podman inspect --format '{{.NetworkSettings.SandboxKey}}' "$1") || return 1
    [ -n "$key" ] && echo "${key#/run/netns/}"
}

# Every container removed (each DEL reaching vepad if it runs), then what podman could
# leave: their namespaces, mounts under its directory, the cgroups; then the directory.
lab_podman_down() {
    [ -d "$LAB_PODMAN_DIR" ] || return 0
    local id ns m netns=()
    if command -v podman >/dev/null && [ -e "/run/netns/$NS_HOST" ]; then
        for id in $(lab_podman ps -aq 2>/dev/null); do
            ns=$(lab_podman_netns "$id" 2>/dev/null) && netns+=("$ns")
        done
        lab_podman rm -a -f -t 0 >/dev/null 2>&1
    fi
    for ns in "${netns[@]}"; do [ ! -e "/run/netns/$ns" ] || ip netns del "$ns"; done
    for m in $(awk -v d="$LAB_PODMAN_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
    rm -rf "$LAB_PODMAN_DIR"
    for m in /sys/fs/cgroup/"$LAB-podman" /sys/fs/cgroup/*/"$LAB-podman"; do   # conmon's cgroups in it, then itself
        [ ! -d "$m" ] || find "$m" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
    return 0
}
