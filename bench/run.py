#!/usr/bin/python3
"""vepad's benchmark: vepad against the kernel's macvlan VEPA (macvtap for tap
ports) and a Linux bridge, on the same topology, in the same run.

Every case builds one topology per variant side by side (network namespaces
named after this run), then measures the variants interleaved, A B C A B C ...,
for several rounds after a warm-up, and reports the median and min-max of
delivered packets/s, the CPU time per delivered packet, and paired ratios
(vepad/macvlan, vepad/bridge, vepad/LIMIT: medians of the per-round ratios).

Receivers behave like guests: a TC ingress program that counts and drops on a
container's veth end (left as a container has it: no XDP program, GRO off), a
process reading each tap's fd as QEMU does.  LIMIT is the generator, one hop
and the same kind of receiver, without forwarding.  A case's floor (tc-floor,
xdp-floor) is the cheapest eBPF forwarder of its kind: no rules, no counters.

  bench/run.py [--rounds N] [--seconds S] [--smoke] [--out DIR] [--cases a,b]
               [--no-control-plane | --control-plane-only] [--before OTHER_BUILD]

Writes DIR/results.json, DIR/results.md, DIR/summary.md, DIR/control-plane.json
and .md, DIR/mpps.png (gnuplot), and with --before DIR/before-after.md (this
build's vepad against OTHER_BUILD's, run as the variant vepad-before), and
prints the table.  Cleans up after itself, also when interrupted.
"""
import argparse
import datetime
import json
import mmap
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
BENCH = os.path.join(BUILD, "bench", "vepa-bench")
VEPAD = os.path.join(BUILD, "daemon", "vepad")
VEPACTL = os.path.join(BUILD, "cli", "vepactl")
XSK = os.path.join(BUILD, "tools", "vepa-xsk")
# --before BUILD: vepad and vepactl of another build (another commit), run as the variant vepad-before.
BEFORE = None
RUN = "vb%d" % os.getpid()
PIN_ROOT = "/sys/fs/bpf/" + RUN
TMP = None   # this run's scratch directory, made by main() (importing the module makes none)

EXT_MAC = "02:99:00:00:00:01"      # a host beyond the switch
children = []                      # processes to stop at cleanup


def sh(cmd, check=True, capture=False):
    r = subprocess.run(cmd, shell=True, check=False, text=True,
                       stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr))
    return r.stdout if capture else r.returncode


def ns_path(ns):
    return "/run/netns/" + ns


def in_ns(ns, cmd):
    return "nsenter --net=%s %s" % (ns_path(ns), cmd)


NCPU = os.cpu_count() or 1
GEN_CPU = 0                          # generator / sender, and the softirq work it triggers
READER_CPU = 1 if NCPU > 1 else 0    # tap readers, as a VM's vCPU


def bench(args, capture=True, cpu=None):
    pin = "taskset -c %d " % cpu if cpu is not None else ""
    out = sh(pin + BENCH + " " + args, capture=capture)
    return json.loads(out) if capture else None


def cpu_busy():
    """Busy CPU seconds so far: (all CPUs, the generator's CPU)."""
    out = []
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu ") or line.startswith("cpu%d " % GEN_CPU):
                v = [int(x) for x in line.split()[1:]]
                user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
                out.append((user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"))
    return out[0], out[1]


def mac(i, kind):
    return "02:%02x:00:00:%02x:%02x" % ({"veth": 0x10, "tap": 0x20, "xsk": 0x30}[kind], i // 256, i % 256)


# -- lab pieces: one helper each -----------------------------------------------
# Namespaces, veth pairs, taps and vepad are made here only, the way
# tools/lablib.sh makes the tests' lab.
def ip(ns, args, check=True):
    return sh("ip -n %s %s" % (ns, args), check=check)


def ip_batch(ns, lines):
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", text=True, check=True)


def netns_add(*names):
    """New network namespaces, quiet as lablib.sh's: no IPv6 (no router solicitations or DAD), loopback up."""
    for ns in names:
        sh("ip netns add " + ns)
        sh(in_ns(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1"))
        ip(ns, "link set lo up")


def netns_del(*names):
    for ns in names:
        sh("ip netns del " + ns, check=False)


def add_veths(ns, pairs, peer_ns=None, peer_macs=None):
    """veth pairs [(name, peer)] made in ns, each peer in peer_ns (default ns) with peer_macs[i] if given;
    every end up."""
    peer_ns = peer_ns or ns
    where = (" netns " + peer_ns) if peer_ns != ns else ""
    ip_batch(ns, ["link add %s type veth peer name %s%s\nlink set %s up" % (a, b, where, a) for a, b in pairs])
    ip_batch(peer_ns, [("link set %s address %s\n" % (b, peer_macs[i]) if peer_macs else "") + "link set %s up" % b
                       for i, (_, b) in enumerate(pairs)])


def add_taps(ns, names):
    """Persistent taps (a sender attaches to them as QEMU does); tapsink makes its own."""
    for t in names:
        ip(ns, "tuntap add %s mode tap" % t)


def stop_process(p):
    """SIGTERM, 5 s to exit, then SIGKILL; no longer a child to clean up."""
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    if p in children:
        children.remove(p)


def build_binaries(build):
    """vepad and vepactl of a build directory."""
    return os.path.join(build, "daemon", "vepad"), os.path.join(build, "cli", "vepactl")


class Vepad:
    """vepad on uplink in netns, started as tools/lablib.sh's lab_start_vepad starts it: a config file naming
    the uplink, then --config, --state-dir, --socket and --pin-dir, extra flags after those; up once vepactl
    status answers.  The benchmark's extra flags turn off the reflection probe and LLDP (no frames of
    vepad's own in the measurement)."""

    EXTRA = ["--probe-interval", "0", "--lldp-interval", "0"]

    def __init__(self, name, netns, uplink, pin_dir, conf=(), build=None):
        d = os.path.join(TMP, name + "-vepad")
        self.vepad_bin, self.vepactl_bin = (VEPAD, VEPACTL) if build is None else build_binaries(build)
        # A fresh port table: topologies of the same name (another frame size) come and go.
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(os.path.join(d, "state"))
        with open(os.path.join(d, "vepad.conf"), "w") as f:
            f.write("".join(line + "\n" for line in ["uplink = %s" % uplink] + list(conf)))
        self.sock = os.path.join(d, "vepad.sock")
        self.log = os.path.join(TMP, name + "-vepad.log")
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(["nsenter", "--net=" + ns_path(netns), self.vepad_bin, "--config",
                                          os.path.join(d, "vepad.conf"), "--state-dir", os.path.join(d, "state"),
                                          "--socket", self.sock, "--pin-dir", pin_dir] + self.EXTRA,
                                         stdout=log, stderr=log)
        children.append(self.proc)
        for _ in range(100):
            if self.ctl("status", check=False) == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        with open(self.log) as log:
            raise RuntimeError("vepad did not start for %s; its log:\n%s" % (name, log.read()))

    def ctl(self, args, check=True, capture=False):
        return sh("VEPAD_SOCKET=%s %s %s" % (self.sock, self.vepactl_bin, args), check=check, capture=capture)

    def stop(self):
        stop_process(self.proc)


def cleanup():
    for p in list(children):
        try:
            stop_process(p)
        except Exception:
            pass
    children.clear()
    out = sh("ip netns list", capture=True, check=False) or ""
    netns_del(*[line.split()[0] for line in out.splitlines() if line.split()[0].startswith(RUN + "-")])
    sh("rm -rf %s %s" % (PIN_ROOT, TMP or ""), check=False)


class Topology:
    """One variant of one case: generator namespace (g0), host namespace (uplink
    u0 and the ports), VM namespace (the guests' ends), and the receivers."""

    def __init__(self, name, variant, kind, n, outbound=False, flood=False):
        self.name, self.variant, self.kind, self.n = name, variant, kind, n
        self.outbound = outbound      # the ports send; the generator's side receives
        self.flood = flood            # group frames from the uplink, to every port and the host
        self.gen, self.host, self.vm = RUN + "-" + name + "-g", RUN + "-" + name + "-h", RUN + "-" + name + "-v"
        self.pin = "%s/%s" % (PIN_ROOT, name)
        self.sink_pin = self.pin + "/sink"
        self.shm = os.path.join(TMP, name + ".shm")
        self.macs = [mac(i, kind) for i in range(n)]
        self.tapsink = None
        self.vepad = None
        self.gen_if = "g0"
        self.gen_ns = self.gen

    # -- building --------------------------------------------------------
    def build(self):
        os.makedirs(self.pin, exist_ok=True)
        netns_add(self.gen, self.host, self.vm)
        add_veths(self.gen, [("g0", "u0")], peer_ns=self.host)
        ip(self.host, "addr add 10.99.0.1/24 dev u0")
        # u0 takes the generator's XDP frames only with NAPI: GRO, in every variant alike.
        sh(in_ns(self.host, "ethtool -K u0 gro on"))
        # the generator's end takes frames sent out of the host the same way (outbound cases)
        sh(in_ns(self.gen, "ethtool -K g0 gro on"))
        getattr(self, "build_" + self.variant.replace("-", "_"))()
        if self.outbound:
            bench("sink --netns %s --ifaces g0 --pin %s" % (ns_path(self.gen), self.sink_pin))

    def port_names(self):
        return ["p%d" % i for i in range(self.n)] if self.kind == "veth" else ["t%d" % i for i in range(self.n)]

    def veth_ports(self, guest_gro=False):
        add_veths(self.host, [("p%d" % i, "e%d" % i) for i in range(self.n)], peer_ns=self.vm, peer_macs=self.macs)
        if guest_gro:
            for i in range(self.n):
                sh(in_ns(self.vm, "ethtool -K e%d gro on" % i))

    def veth_sinks(self, xdp=False):
        if self.outbound:
            return
        ifs = ",".join("e%d" % i for i in range(self.n))
        bench("sink --netns %s --ifaces %s --pin %s%s" % (ns_path(self.vm), ifs, self.sink_pin,
                                                          " --xdp" if xdp else ""))

    def start_tapsink(self, args):
        p = subprocess.Popen(["taskset", "-c", str(READER_CPU), BENCH, "tapsink", "--netns", ns_path(self.host)] +
                             args + ["--shm", self.shm], stdout=subprocess.PIPE, text=True)
        children.append(p)
        p.stdout.readline()          # {"taps": N}: the taps are open
        self.tapsink = p

    def start_xsk_reader(self, ifname, netns, args):
        """An AF_XDP consumer (vepa-xsk count) on its own core, as a VM's vCPU or a network
        function's thread; it counts into self.shm like the tap readers."""
        p = subprocess.Popen(["taskset", "-c", str(READER_CPU), XSK, ifname, "--netns", ns_path(netns),
                              "--shm", self.shm] + args + ["count"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(TMP, self.name + "-xsk.log"), "w"))
        children.append(p)
        self.tapsink = p
        for _ in range(100):
            if os.path.exists(self.shm):
                return
            time.sleep(0.05)
        raise RuntimeError("vepa-xsk did not start for " + self.name)

    def taps(self, names=None):
        """Taps (t0 ..), up: persistent ones when the ports send, else opened by a reader as QEMU does."""
        names = names or self.port_names()
        if self.outbound:
            add_taps(self.host, names)
        else:
            self.start_tapsink(["--taps", ",".join(names)])
        for t in names:
            ip(self.host, "link set %s up" % t)

    def start_vepad(self, conf=(), build=None):
        self.vepad = Vepad(self.name, self.host, "u0", self.pin + "/vepad", conf, build)

    # variants
    def build_vepad(self, guest_gro=False, xdp_sink=False, conf=(), build=None):
        if self.kind == "xsk":
            # An xsk port: vepad's veth pair, its socket handed over with SCM_RIGHTS.
            self.start_vepad(conf, build)
            self.vepad.ctl("add-port x0 --type xsk --mac %s" % self.macs[0])
            self.start_xsk_reader("x0", self.host, ["--attach", "--socket", self.vepad.sock])
            for _ in range(100):
                if '"up"' in self.vepad.ctl("list --json", capture=True):
                    return
                time.sleep(0.05)
            raise RuntimeError("xsk port x0 did not come up for " + self.name)
        if self.kind == "veth":
            self.veth_ports(guest_gro=guest_gro)
            self.veth_sinks(xdp=xdp_sink)
        else:
            self.taps()
        self.start_vepad(conf, build)
        for i, port in enumerate(self.port_names()):
            self.vepad.ctl("add-port " + port + ("" if self.kind == "veth" else " --mac " + self.macs[i]))

    def build_vepad_before(self):
        # A/B across commits in one run (--before BUILD): the same topology and ports, that
        # build's vepad and vepactl.  Ratios against it are free of the host's run-to-run spread.
        self.build_vepad(build=BEFORE)

    def build_vepad_guest_gro(self):
        # The guests' veth ends with GRO on (a container tool can set it when it creates
        # them): the end then has NAPI, vepad's probe picks XDP delivery, and the skb is
        # built once, at the guest, not at the uplink.  Receivers are still TC counters.
        self.build_vepad(guest_gro=True)

    def build_vepad_clsact(self):
        # A/B: vepad's TC programs on the clsact qdisc (cls_bpf), as on kernels without tcx.
        self.build_vepad(conf=["tc_hook = clsact"])

    def build_tc_floor(self):
        # The floor of any TC forwarder for containers (what vepad's container path is
        # made of), at tcx: inbound one MAC lookup and bpf_redirect_peer on u0; outbound
        # bpf_redirect of everything from p0 to u0.  No rules, no counters.
        self.veth_ports()
        if self.flood:
            self.build_tc_flood_floor()
            return
        if self.outbound:
            bench("tcredirect --netns %s --ifname p0 --to u0" % ns_path(self.host))
            return
        self.veth_sinks()
        bench("peerfwd --netns %s --ifname u0 --dst %s --ifaces %s" % (ns_path(self.host), ",".join(self.macs),
                                                                     ",".join(self.port_names())))

    def build_tc_flood_floor(self):
        # The floor of any TC flooder (what vepad's group path from the uplink is made of),
        # at tcx on u0: a bpf_clone_redirect out of every port, then the frame to the host.
        # No rules, no VLANs, no counters.
        self.veth_sinks()
        bench("cloneflood --netns %s --ifname u0 --ifaces %s" % (ns_path(self.host), ",".join(self.port_names())))

    def build_xdp_floor(self):
        # The floor of any XDP forwarder for VMs (what vepad's tap path is made of), on
        # u0: one MAC lookup and bpf_redirect_map into a devmap of the taps.  No rules, no
        # counters.  The same readers on the taps.
        self.taps()
        bench("xdpfwd --netns %s --ifname u0 --dst %s --ifaces %s" % (ns_path(self.host), ",".join(self.macs),
                                                                    ",".join(self.port_names())))

    def build_vepad_xdp_sink(self):
        # Extra, labelled: the VM ends run an XDP sink, which gives them NAPI (vepad then
        # delivers by XDP) and builds no skb: not what a container is.
        self.build_vepad(xdp_sink=True)

    def build_kernel_veth(self):
        # The kernel-port path beside the xsk one: the same guest MAC on a container veth
        # port (TC counter at the guest's end, defaults kept).
        self.veth_ports()
        self.veth_sinks()
        self.start_vepad()
        self.vepad.ctl("add-port p0")

    def build_macvlan(self):
        if self.kind == "tap":
            self.build_macvtap()
            return
        # A macvlan (mode vepa) on the uplink per guest, moved into the VM namespace as its e<i>.
        for i in range(self.n):
            ip(self.host, "link add link u0 name m%d type macvlan mode vepa" % i)
            ip(self.host, "link set m%d netns %s" % (i, self.vm))
            ip(self.vm, "link set m%d name e%d address %s" % (i, i, self.macs[i]))
            ip(self.vm, "link set e%d up" % i)
        if self.kind == "xsk":
            # What one does without vepad: the function's AF_XDP socket on its macvlan, fed by
            # generic XDP (macvlan has no native XDP).
            bench("xskredirect --netns %s --ifname e0 --pin %s/xsks --generic" % (ns_path(self.vm), self.pin))
            self.start_xsk_reader("e0", self.vm, ["--map", self.pin + "/xsks", "--index", "0"])
        else:
            self.veth_sinks()

    def build_macvtap(self):
        devs = []
        for i in range(self.n):
            ip(self.host, "link add link u0 name t%d type macvtap mode vepa" % i)
            ip(self.host, "link set t%d address %s up" % (i, self.macs[i]))
            ifindex = sh("ip netns exec %s cat /sys/class/net/t%d/ifindex" % (self.host, i), capture=True).strip()
            major, minor = sh("ip netns exec %s cat /sys/class/net/t%d/tap%s/dev" % (self.host, i, ifindex),
                              capture=True).strip().split(":")
            dev = os.path.join(TMP, "%s-tap%d" % (self.name, i))
            sh("mknod %s c %s %s" % (dev, major, minor))
            devs.append(dev)
        self.devs = devs
        if not self.outbound:
            self.start_tapsink(["--devs", ",".join(devs)])

    def build_bridge(self):
        sh(in_ns(self.host, "sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 "
                            "net.bridge.bridge-nf-call-arptables=0"), check=False)
        ip(self.host, "link add br0 type bridge")
        ip(self.host, "addr del 10.99.0.1/24 dev u0")
        ip(self.host, "addr add 10.99.0.1/24 dev br0")
        ip(self.host, "link set u0 master br0")
        if self.kind == "veth":
            self.veth_ports()
            self.veth_sinks()
        else:
            self.taps()
        for i, p in enumerate(self.port_names()):
            ip(self.host, "link set %s master br0" % p)
            # a bridge that learned its guests: no flooding of known unicast
            sh("bridge -n %s fdb add %s dev %s master static" % (self.host, self.macs[i], p))
        ip(self.host, "link set br0 up")

    def build_limit(self):
        # The generator, one hop, the same kind of receiver; nothing forwards.
        if self.kind == "xsk":
            bench("xskredirect --netns %s --ifname u0 --pin %s/xsks" % (ns_path(self.host), self.pin))
            self.start_xsk_reader("u0", self.host, ["--map", self.pin + "/xsks", "--index", "0"])
            return
        if self.outbound:
            if self.kind == "tap":       # a tap's frames straight to the uplink
                self.taps(["t0"])
                bench("redirect --netns %s --ifname t0 --to u0" % ns_path(self.host))
            return                       # veth: the sender sits on u0 itself
        if self.kind == "veth":
            bench("sink --netns %s --ifaces u0 --pin %s" % (ns_path(self.host), self.sink_pin))
        else:
            self.taps(["t0"])
            bench("redirect --netns %s --ifname u0 --to t0" % ns_path(self.host))

    # -- measuring ---------------------------------------------------------
    def delivered(self):
        """Frames delivered so far to the receivers (and the host stack for group cases)."""
        n = 0
        if os.path.exists(self.sink_pin):
            n += bench("count --pin " + self.sink_pin)["total"]
        if self.tapsink:
            with open(self.shm, "rb") as f:
                n += struct.unpack("<Q", f.read(8))[0]
        return n

    def host_received(self):
        out = sh(in_ns(self.host, "cat /proc/net/snmp"), capture=True)
        lines = [l.split() for l in out.splitlines() if l.startswith("Ip:")]
        return int(lines[1][lines[0].index("InReceives")])

    def tapsink_cpu(self):
        if not self.tapsink:
            return 0.0
        with open("/proc/%d/stat" % self.tapsink.pid) as f:
            v = f.read().rsplit(")", 1)[1].split()
        return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")


# -- cases --------------------------------------------------------------------
# Each case: kind of port, variants, what the generator sends, what counts.
def gen_inbound(t, seconds, size, dst=None, src=None, bcast=False):
    dsts = dst or ",".join(t.macs)
    extra = (" --src " + src) if src else ""
    if bcast:
        extra += " --bcast-ip"
    return bench("gen --netns %s --ifname g0 --dst %s --size %d --seconds %s%s"
                 % (ns_path(t.gen), dsts, size, seconds, extra), cpu=GEN_CPU)


def measure(t, case, seconds, size):
    """One measurement of topology t: returns a result dict."""
    count_host = case["count_host"]
    d0, h0 = t.delivered(), (t.host_received() if count_host else 0)
    (c0, g0), s0 = cpu_busy(), t.tapsink_cpu()
    g = case["send"](t, seconds, size)
    time.sleep(0.05)  # let the last frames land
    d1, h1 = t.delivered(), (t.host_received() if count_host else 0)
    (c1, g1), s1 = cpu_busy(), t.tapsink_cpu()
    delivered = (d1 - d0) + (h1 - h0)
    secs = g["seconds"]
    return {
        "offered_pps": g["offered_pps"],
        "delivered": delivered,
        "delivered_pps": delivered / secs,
        "host_pps": (h1 - h0) / secs,
        "busy_cpu_s": c1 - c0,
        # the whole machine's busy time per delivered packet
        "cpu_ns_per_pkt": (c1 - c0) / delivered * 1e9 if delivered else None,
        # the sender's core (sender + the forwarding it triggers) per frame it sent
        "sender_core_ns_per_frame": (g1 - g0) / g["frames"] * 1e9 if g["frames"] else None,
        "sender_cpu_s": g.get("gen_cpu_seconds"),
        "reader_cpu_s": s1 - s0,
        "seconds": secs,
    }


def send_unicast(t, seconds, size):
    if t.variant == "limit":
        return gen_inbound(t, seconds, size, dst=t.macs[0])
    return gen_inbound(t, seconds, size)


def send_bcast_external(t, seconds, size):
    return gen_inbound(t, seconds, size, dst="ff:ff:ff:ff:ff:ff", src=EXT_MAC, bcast=True)


def send_bcast_reflected(t, seconds, size):
    return gen_inbound(t, seconds, size, dst="ff:ff:ff:ff:ff:ff", src=t.macs[0], bcast=True)


def send_outbound_af_packet(t, seconds, size):
    if t.variant == "limit":
        ns, ifname = t.host, "u0"
    else:
        ns, ifname = t.vm, "e0"
    return bench("afsend --netns %s --ifname %s --dst %s --src %s --size %d --seconds %s"
                 % (ns_path(ns), ifname, EXT_MAC, t.macs[0], size, seconds), cpu=GEN_CPU)


def send_outbound_live(t, seconds, size):
    ns, ifname = (t.host, "u0") if t.variant == "limit" else (t.vm, "e0")
    return bench("gen --netns %s --ifname %s --dst %s --src %s --size %d --seconds %s"
                 % (ns_path(ns), ifname, EXT_MAC, t.macs[0], size, seconds), cpu=GEN_CPU)


def send_outbound_tap(t, seconds, size):
    # The VM's frames, written into its tap as QEMU writes them.
    where = ("--dev " + t.devs[0]) if t.variant == "macvlan" else "--tap t0"
    return bench("tapsend --netns %s %s --dst %s --src %s --size %d --seconds %s"
                 % (ns_path(t.host), where, EXT_MAC, t.macs[0], size, seconds), cpu=GEN_CPU)


# The floors: the cheapest forwarder of a case's kind, no rules and no counters (one per case).
FLOORS = ("tc-floor", "xdp-floor")

CASES = {
    # name: kind, variants, sender, host copies counted, port counts, sizes;
    # flood: the frames are group frames from the uplink to every port (the TC floor floods)
    "veth-unicast": dict(kind="veth", variants=["vepad", "macvlan", "bridge", "limit"],
                         extras=["tc-floor", "vepad-clsact", "vepad-guest-gro", "vepad-xdp-sink"], send=send_unicast, count_host=False,
                         ns=[1, 4, 16, 64], sizes={64: [1, 4, 16, 64], 1514: [4]},
                         what="inbound unicast into container veths"),
    "tap-unicast": dict(kind="tap", variants=["vepad", "macvlan", "bridge", "limit"], extras=["xdp-floor"],
                        send=send_unicast, count_host=False, ns=[1, 4, 16, 64],
                        sizes={64: [1, 4, 16, 64], 1514: [4]}, what="inbound unicast into VM taps"),
    "bcast-external": dict(kind="veth", variants=["vepad", "macvlan", "bridge"], extras=["tc-floor"],
                           send=send_bcast_external, count_host=True, flood=True, ns=[4, 16], sizes={64: [4, 16]},
                           what="broadcast from outside: every port + the host stack"),
    "bcast-reflected": dict(kind="veth", variants=["vepad", "macvlan", "bridge"], extras=[],
                            send=send_bcast_reflected, count_host=True, ns=[4], sizes={64: [4]},
                            what="broadcast reflected from a local port (source excluded)"),
    "out-skb": dict(kind="veth", variants=["vepad", "macvlan", "bridge", "limit"], extras=["tc-floor"],
                    send=send_outbound_af_packet, count_host=False, ns=[1], sizes={64: [1], 1514: [1]},
                    what="outbound unicast, AF_PACKET sender in a container"),
    "out-tap": dict(kind="tap", variants=["vepad", "macvlan", "bridge", "limit"], extras=[],
                    send=send_outbound_tap, count_host=False, ns=[1], sizes={64: [1], 1514: [1]},
                    what="outbound unicast, a VM writing into its tap"),
    "xsk-unicast": dict(kind="xsk", variants=["vepad", "kernel-veth", "macvlan", "limit"], extras=[],
                        send=send_unicast, count_host=False, ns=[1], sizes={64: [1], 1514: [1]},
                        what="inbound unicast into an AF_XDP socket (xsk port), beside a kernel veth port"),
    "out-live": dict(kind="veth", variants=["vepad", "bridge", "limit"], extras=[],
                     send=send_outbound_live, count_host=False, ns=[1], sizes={64: [1]},
                     what="outbound unicast, live-frames sender (macvlan: no XDP, n/a)"),
}


def build_for_case(case_name, case, variant, n, size):
    # Unique per case, port count, frame size and variant: names of namespaces, sockets, device nodes.
    t = Topology("%s%d%s%d" % (case_name.replace("-", "")[:6], n, variant.replace("-", "")[:6], size), variant,
                 case["kind"], n, outbound=case_name.startswith("out-"), flood=case.get("flood", False))
    t.build()
    if case_name == "out-live" and variant != "limit":
        # a live-frames sender XDP_TXes out of e0: its peer p0 needs NAPI to take the frames
        sh(in_ns(t.host, "ethtool -K p0 gro on"))
    return t


def run_case(case_name, case, rounds, seconds, warmup, results, smoke):
    for size, ns in case["sizes"].items():
        for n in ns:
            variants = case["variants"] + case["extras"]   # smoke too: every variant must deliver
            topos = {}
            try:
                for v in variants:
                    topos[v] = build_for_case(case_name, case, v, n, size)
                for t in topos.values():          # warm-up (ARP-free: nothing to learn; caches, NAPI)
                    measure(t, case, warmup, size)
                for r in range(rounds):
                    for v in variants:
                        m = measure(topos[v], case, seconds, size)
                        m.update(case=case_name, variant=v, n=n, size=size, round=r)
                        results.append(m)
                        print("  %-15s n=%-2d %4dB %-14s round %d: %7.3f Mpps delivered (offered %.3f), "
                              "%s ns/pkt" % (case_name, n, size, v, r, m["delivered_pps"] / 1e6,
                                             m["offered_pps"] / 1e6,
                                             "%.0f" % m["cpu_ns_per_pkt"] if m["cpu_ns_per_pkt"] else "-"),
                              flush=True)
            finally:
                for t in topos.values():
                    if t.tapsink:
                        stop_process(t.tapsink)
                    if t.vepad:
                        t.vepad.stop()
                    netns_del(t.gen, t.host, t.vm)
                    sh("rm -rf " + t.pin, check=False)


# -- reporting ----------------------------------------------------------------
def copies_share(runs, n):
    """Group floods: the median per round of the copies delivered over those offered (a copy per port
    and the host's per frame sent); 1.0 is nothing dropped."""
    return statistics.median(x["delivered_pps"] / (x["offered_pps"] * (n + 1)) for x in runs if x["offered_pps"])


def summarize(results):
    groups = {}
    for r in results:
        groups.setdefault((r["case"], r["n"], r["size"]), {}).setdefault(r["variant"], []).append(r)
    rows = []
    for (case, n, size), vs in sorted(groups.items()):
        base = {}
        for v, runs in vs.items():
            pps = [x["delivered_pps"] for x in runs]
            cpu = [x["cpu_ns_per_pkt"] for x in runs if x["cpu_ns_per_pkt"]]
            core = [x["sender_core_ns_per_frame"] for x in runs if x.get("sender_core_ns_per_frame")]
            base[v] = {"median_mpps": statistics.median(pps) / 1e6, "min_mpps": min(pps) / 1e6,
                       "max_mpps": max(pps) / 1e6, "cpu_ns": statistics.median(cpu) if cpu else None,
                       "sender_core_ns": statistics.median(core) if core else None,
                       "offered_mpps": statistics.median(x["offered_pps"] for x in runs) / 1e6,
                       "by_round": {x["round"]: x for x in runs}}
        for v in vs:
            row = {"case": case, "n": n, "size": size, "variant": v, **{k: base[v][k] for k in
                                                                         ("median_mpps", "min_mpps", "max_mpps",
                                                                          "cpu_ns", "sender_core_ns",
                                                                          "offered_mpps")}}
            if CASES[case].get("flood"):
                row["copies_share"] = copies_share(vs[v], n)
            if v.startswith("vepad") or v in FLOORS:
                for other in ("macvlan", "bridge", "limit", "kernel-veth", "vepad-before") + FLOORS:
                    if other in base and other != v:
                        ratios, cpu_ratios, core_ratios = [], [], []
                        for rnd, x in base[v]["by_round"].items():
                            y = base[other]["by_round"].get(rnd)
                            if y and y["delivered_pps"]:
                                ratios.append(x["delivered_pps"] / y["delivered_pps"])
                            if y and x["cpu_ns_per_pkt"] and y["cpu_ns_per_pkt"]:
                                cpu_ratios.append(x["cpu_ns_per_pkt"] / y["cpu_ns_per_pkt"])
                            if y and x.get("sender_core_ns_per_frame") and y.get("sender_core_ns_per_frame"):
                                core_ratios.append(x["sender_core_ns_per_frame"] / y["sender_core_ns_per_frame"])
                        name = "floor" if other in FLOORS else other   # a case has one floor
                        if ratios:
                            row["vs_" + name] = statistics.median(ratios)
                        if cpu_ratios:
                            row["cpu_vs_" + name] = statistics.median(cpu_ratios)
                        if core_ratios:
                            row["core_vs_" + name] = statistics.median(core_ratios)
            rows.append(row)
    return rows


def variant_label(r):
    """A row's variant as the tables name it."""
    v, case = r["variant"], CASES[r["case"]]
    if v == "tc-floor":
        if case.get("flood"):
            return "TC floor (clone_redirect to every port + host)"
        return "TC floor (redirect to the uplink)" if r["case"].startswith("out-") else \
            "TC floor (lookup + redirect_peer)"
    if v == "xdp-floor":
        return "XDP floor (lookup + devmap redirect)"
    if v == "macvlan" and case["kind"] == "tap":
        return "macvtap vepa"
    if v == "macvlan" and case["kind"] == "xsk":
        return "macvlan vepa + AF_XDP (generic XDP)"
    if v == "limit" and case["kind"] == "xsk":
        return "LIMIT (AF_XDP on the uplink)"
    return {"macvlan": "macvlan vepa", "limit": "LIMIT", "kernel-veth": "vepad, kernel veth port"}.get(v, v)


def per_core(r, other):
    """Copies per busy core of r against other's: the inverse of the CPU-per-copy ratio."""
    k = "cpu_vs_" + other
    return ("%.2fx" % (1 / r[k])) if r.get(k) else "-"


def copies_offered(rows, r):
    """Every variant of r's case, port count and size: Mpps of copies delivered, and their share of
    those offered (median per round)."""
    return ", ".join("%s %.3f (%.1f%%)" % (o["variant"], o["median_mpps"], 100 * o["copies_share"])
                     for o in rows if (o["case"], o["n"], o["size"]) == (r["case"], r["n"], r["size"])
                     and "copies_share" in o)


def flood_floor_lines(rows):
    """Group floods (cases with flood): vepad against the TC floor, and what every variant delivered."""
    out = []
    for r in rows:
        if CASES[r["case"]].get("flood") and r["variant"] == "vepad":
            out.append("- %s, %d ports + host, %d B: vepad's copies per busy core %s the TC floor's (CPU per copy "
                       "%s), %s macvlan's; copies delivered %s the floor's. Mpps of copies delivered (share of "
                       "those offered): %s" % (r["case"], r["n"], r["size"], per_core(r, "floor"),
                                        ("%.2fx" % r["cpu_vs_floor"]) if "cpu_vs_floor" in r else "-",
                                        per_core(r, "macvlan"),
                                        ("%.2fx" % r["vs_floor"]) if "vs_floor" in r else "-",
                                        copies_offered(rows, r)))
    if out:
        out = ["", "Group floods against the TC floor (a bpf_clone_redirect out of every port, then the frame to "
               "the host, at tcx: what any TC flooder pays):", ""] + out
    return out


def markdown(rows, meta):
    lines = ["| case | ports | frame | variant | delivered Mpps median (min-max) | offered Mpps | CPU ns/pkt | "
             "sender core ns/frame | vepad/macvlan | vepad/bridge | vepad/LIMIT | CPU vepad/macvlan | "
             "sender core vepad/macvlan | vepad/floor | CPU vepad/floor | sender core vepad/floor |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f = lambda k: ("%.2fx" % r[k]) if k in r else ""
        lines.append("| %s | %d | %d B | %s | %.3f (%.3f-%.3f) | %.3f | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                     "| %s |" % (
                         r["case"], r["n"], r["size"], variant_label(r), r["median_mpps"], r["min_mpps"],
                         r["max_mpps"], r["offered_mpps"], "%.0f" % r["cpu_ns"] if r["cpu_ns"] else "-",
                         "%.0f" % r["sender_core_ns"] if r["sender_core_ns"] else "-", f("vs_macvlan"),
                         f("vs_bridge"), f("vs_limit"), f("cpu_vs_macvlan"), f("core_vs_macvlan"), f("vs_floor"),
                         f("cpu_vs_floor"), f("core_vs_floor")))
    lines += flood_floor_lines(rows)
    head = ["# vepad benchmark", "", "%s; %s; %d rounds of %.1f s per variant, interleaved, after a %.1f s warm-up." % (
        meta["date"], meta["machine"], meta["rounds"], meta["seconds"], meta["warmup"]), "",
        "Delivered packets/s are counted at guest-like receivers (TC counter on a container's veth end, "
        "a reader on each tap, on its own core); group cases count every copy, the host stack's included. "
        "CPU ns/pkt is the whole machine's busy time (generator included, the same for every variant) over "
        "delivered packets. Sender core ns/frame is the busy time of the sender's core (the generator or sender, "
        "pinned, and the kernel forwarding it triggers there) per frame sent: the cost of forwarding when the "
        "receiver, not the forwarder, limits delivery. Ratios are medians of per-round ratios. The TC floor "
        "(veth-unicast) is the cheapest TC forwarder into containers: one MAC lookup and bpf_redirect_peer at tcx, "
        "no rules and no counters; out-skb's, one bpf_redirect to the uplink; bcast-external's, the cheapest TC "
        "flooder: a bpf_clone_redirect out of every port, then the frame to the host. The XDP floor (tap-unicast) "
        "is the cheapest XDP forwarder into VMs: one MAC lookup and bpf_redirect_map into a devmap of the taps.", ""]
    xsk = [r for r in rows if CASES[r["case"]]["kind"] == "xsk" and r["variant"] == "vepad"]
    if xsk:
        lines += ["", "AF_XDP ports (xsk-unicast): the xsk port against the kernel-port path in the same run:", ""]
        for r in xsk:
            lines.append("- %d B: xsk port %.3f Mpps = %s the kernel veth port's, %s macvlan + AF_XDP's, %s LIMIT; "
                         "CPU per frame %s the kernel veth port's" % (
                             r["size"], r["median_mpps"], ("%.2fx" % r["vs_kernel-veth"]) if "vs_kernel-veth" in r
                             else "-", ("%.2fx" % r["vs_macvlan"]) if "vs_macvlan" in r else "-",
                             ("%.2fx" % r["vs_limit"]) if "vs_limit" in r else "-",
                             ("%.2fx" % r["cpu_vs_kernel-veth"]) if "cpu_vs_kernel-veth" in r else "-"))
    return "\n".join(head + lines) + "\n"


def summary(rows):
    """vepad's rows only, with its ratios: the table README shows."""
    lines = ["| case | ports | frame | vepad Mpps | vs macvlan | vs bridge | vs LIMIT | CPU/pkt vs macvlan | "
             "sender core vs macvlan | vs floor | CPU/pkt vs floor | sender core vs floor |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    f = lambda r, k: ("%.2fx" % r[k]) if k in r else "-"
    for r in rows:
        if not r["variant"].startswith("vepad") and r["variant"] not in FLOORS:
            continue
        label = r["case"] + ("" if r["variant"] == "vepad" else " (%s)" % r["variant"].replace("vepad-", ""))
        lines.append("| %s | %d | %d B | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, r["n"], r["size"], r["median_mpps"], f(r, "vs_macvlan"), f(r, "vs_bridge"), f(r, "vs_limit"),
            f(r, "cpu_vs_macvlan"), f(r, "core_vs_macvlan"), f(r, "vs_floor"), f(r, "cpu_vs_floor"),
            f(r, "core_vs_floor")))
    return "\n".join(lines) + "\n"


def build_label(build):
    """A build directory as a commit: "commit abc1234 (build in PATH)", or the path when it says none."""
    try:
        with open(os.path.join(build, "meson-info", "meson-info.json")) as f:
            src = json.load(f)["directories"]["source"]
        commit = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        return "commit %s (build in %s)" % (commit, build)
    except (OSError, KeyError, ValueError, subprocess.CalledProcessError):
        return "the build in " + build


def before_after(rows, meta, before):
    """vepad against vepad-before (--before), every case of one run: the ratios of the two on the
    same topology, interleaved, so the host's spread between runs is not in them."""
    lines = ["# vepad against another build, in one run", "",
             "%s; %s. vepad-before: %s. Each ratio is the median of per-round ratios of this "
             "build's vepad to vepad-before on the same topology; delivered above 1.0x and CPU below 1.0x "
             "are better." % (meta["date"], meta["machine"], build_label(before)), "",
             "| case | ports | frame | delivered vs before | CPU/pkt vs before | sender core vs before |",
             "|---|---|---|---|---|---|"]
    f = lambda r, k: ("%.2fx" % r[k]) if k in r else "-"
    for r in rows:
        if r["variant"] == "vepad":
            lines.append("| %s | %d | %d B | %s | %s | %s |" % (r["case"], r["n"], r["size"], f(r, "vs_vepad-before"),
                                                             f(r, "cpu_vs_vepad-before"), f(r, "core_vs_vepad-before")))
    return "\n".join(lines) + "\n"


def plot(rows, out_png):
    # Next to the PNG: the run's temporary directory is gone by the time the plot is drawn.
    data = os.path.splitext(out_png)[0] + ".dat"
    blocks = []
    for case in CASES:
        for variant in ("vepad", "macvlan", "bridge", "limit"):
            pts = sorted((r["n"], r["median_mpps"]) for r in rows
                         if r["case"] == case and r["variant"] == variant and r["size"] == 64)
            if pts:
                blocks.append((case, variant, pts))
    with open(data, "w") as f:
        for case, variant, pts in blocks:
            f.write("# %s %s\n" % (case, variant))
            for n, y in pts:
                f.write("%d %f\n" % (n, y))
            f.write("\n\n")
    cases = [c for c in CASES if any(b[0] == c for b in blocks)]
    script = ["set terminal pngcairo size 1400,%d font ',10'" % (320 * ((len(cases) + 1) // 2)),
              "set output '%s'" % out_png, "set multiplot layout %d,2" % ((len(cases) + 1) // 2),
              "set logscale x 2", "set xlabel 'ports'", "set ylabel 'Mpps delivered'", "set key top right",
              "set grid"]
    for case in cases:
        script.append("set title '%s (64 B)'" % case)
        parts = []
        for i, (c, v, pts) in enumerate(blocks):
            if c == case:
                parts.append("'%s' index %d using 1:2 with linespoints title '%s'" % (data, i, v))
        script.append("plot [0.8:80] " + ", ".join(parts))
    script.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True)
    if r.returncode != 0:
        print("bench: gnuplot failed, no plot: %s" % r.stderr.strip(), file=sys.stderr)


# -- control plane ------------------------------------------------------------
def control_plane(out):
    """add-port to first frame (lab), 1000 ports and 65536 MACs (time, RSS), stats latency."""
    res = {}
    lab = subprocess.run(["bash", "-c", r'''
        set -e
        LAB=%s-cp; LAB_DIR=%s/cp       # before lablib.sh: it names namespaces after $LAB
        . "%s/tools/lablib.sh"
        trap lab_down EXIT
        lab_up >/dev/null
        lab_start_vepad >/dev/null
        vepactl add-port c1 >/dev/null
        "$BUILD/tools/vepa-addport-latency" --guest-netns /run/netns/$NS_C2 --guest-if eth0 \
            --remote-netns /run/netns/$NS_REM --remote-if eth0 --dst $MAC_REM --src $MAC_C2 --port c2 --runs 21 \
            -- env VEPAD_SOCKET=$LAB_SOCKET $VEPACTL_BIN
    ''' % (RUN, TMP, ROOT)], capture_output=True, text=True, env=dict(os.environ, BUILD=BUILD))
    m = re.search(r"median ([0-9.]+) ms, min ([0-9.]+) ms, max ([0-9.]+) ms", lab.stdout)
    if m:
        res["add_port_to_first_frame_ms"] = {"median": float(m.group(1)), "min": float(m.group(2)),
                                             "max": float(m.group(3)), "runs": 21}
    else:
        res["add_port_to_first_frame_ms"] = {"error": lab.stdout[-500:] + lab.stderr[-500:]}

    # 1000 ports with 66 MACs each (66 000 >= 65 536), over the control socket.
    host, vm = RUN + "-cph", RUN + "-cpv"
    netns_add(host, vm)
    add_veths(host, [("u0", "u1")])
    # The guest ends up too, so every port is up and in the flood list, as in production.
    add_veths(host, [("q%d" % i, "r%d" % i) for i in range(1000)], peer_ns=vm)
    os.makedirs(PIN_ROOT + "/cp", exist_ok=True)
    vepad = Vepad("cp", host, "u0", PIN_ROOT + "/cp/vepad")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(vepad.sock)
    f = s.makefile("rwb")
    t0 = time.monotonic()
    for i in range(1000):
        macs = ["02:%02x:%02x:%02x:00:%02x" % (0x30 + (i >> 8), i & 0xff, 0, k) for k in range(66)]
        f.write((json.dumps({"id": i, "cmd": "add-port", "args": {"name": "q%d" % i, "macs": macs}}) + "\n").encode())
        f.flush()
        r = json.loads(f.readline())
        if not r.get("ok"):
            raise RuntimeError("add-port q%d: %s" % (i, r))
    took = time.monotonic() - t0
    time.sleep(2)  # idle (see below)
    with open("/proc/%d/status" % vepad.proc.pid) as st:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", st.read()).group(1))
    status = json.loads(vepad.ctl("status --json", capture=True))
    lat = []
    for _ in range(21):
        t1 = time.monotonic()
        vepad.ctl("stats --json", capture=True)
        lat.append((time.monotonic() - t1) * 1000)
    raw = []
    for _ in range(21):
        t1 = time.monotonic()
        f.write(b'{"cmd": "stats"}\n')
        f.flush()
        f.readline()
        raw.append((time.monotonic() - t1) * 1000)
    res["ports_1000_macs_66000"] = {"seconds": took, "per_port_ms": took, "daemon_rss_mib": rss_kb / 1024,
                                    "map_entries": status["maps"]}
    res["ports_1000_macs_66000"]["per_port_ms"] = took / 1000 * 1000
    res["stats_1000_ports_ms"] = {"vepactl_median": statistics.median(lat), "socket_median": statistics.median(raw)}
    s.close()
    vepad.stop()

    # The same 1000 ports in batch requests (as many add-ports as a 64 KiB line holds),
    # then one more add-port (and its del-port) at 1000 ports, 21 times.
    shutil.rmtree(PIN_ROOT + "/cp", ignore_errors=True)
    os.makedirs(PIN_ROOT + "/cpb", exist_ok=True)
    add_veths(host, [("q%d" % i, "r%d" % i) for i in range(1000, 1001)], peer_ns=vm)
    vepad = Vepad("cpb", host, "u0", PIN_ROOT + "/cpb/vepad")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(vepad.sock)
    f = s.makefile("rwb")

    def request(cmd, args):
        f.write((json.dumps({"cmd": cmd, "args": args}) + "\n").encode())
        f.flush()
        r = json.loads(f.readline())
        if not r.get("ok"):
            raise RuntimeError("%s: %s" % (cmd, r))
        return r.get("result")

    def daemon_ms(family, labels):
        """A gauge of vepad's own metrics (seconds), in ms: what the daemon took, not the client."""
        m = re.search(r"^%s\{%s\} (\S+)$" % (family, re.escape(labels)), request("metrics", {})["text"], re.M)
        return float(m.group(1)) * 1000

    def one_more(name, macs, runs=21):
        """add-port then del-port of one port, `runs` times: client and daemon medians (ms)."""
        one, daemon, rec = [], [], []
        for j in range(runs):
            t1 = time.monotonic()
            request("add-port", {"name": name, "macs": macs})
            one.append((time.monotonic() - t1) * 1000)
            daemon.append(daemon_ms("vepad_control_request_last_duration_seconds", 'uplink="u0",command="add-port"'))
            rec.append(daemon_ms("vepad_reconcile_last_duration_seconds", 'uplink="u0"'))
            request("del-port", {"name": name})
        return statistics.median(one), statistics.median(daemon), statistics.median(rec)

    q1000_macs = ["02:ff:00:00:00:%02x" % k for k in range(66)]
    # The same command with no other port: what the kernel's part (attaching the port's
    # program, publishing the flood list) costs by itself.
    alone = one_more("q1000", q1000_macs)
    t0 = time.monotonic()
    batch, size, requests = [], 0, 0
    for i in range(1000):
        macs = ["02:%02x:%02x:%02x:00:%02x" % (0x30 + (i >> 8), i & 0xff, 0, k) for k in range(66)]
        c = {"cmd": "add-port", "args": {"name": "q%d" % i, "macs": macs}}
        n = len(json.dumps(c)) + 2
        if size + n > 60000:
            request("batch", {"commands": batch})
            batch, size, requests = [], 0, requests + 1
        batch.append(c)
        size += n
    request("batch", {"commands": batch})
    took = time.monotonic() - t0
    time.sleep(2)  # idle: vepad gives freed heap back a second after a run (malloc_trim)
    with open("/proc/%d/status" % vepad.proc.pid) as st:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", st.read()).group(1))
    one, daemon, rec = one_more("q1000", q1000_macs)
    res["ports_1000_macs_66000_batched"] = {"seconds": took, "requests": requests + 1, "daemon_rss_mib": rss_kb / 1024,
                                            "one_more_add_port_ms": one,
                                            "one_more_add_port_daemon_ms": daemon,
                                            "one_more_add_port_reconcile_ms": rec,
                                            "add_port_alone_ms": alone[0],
                                            "add_port_alone_daemon_ms": alone[1],
                                            "add_port_alone_reconcile_ms": alone[2]}
    s.close()
    vepad.stop()
    netns_del(host, vm)
    return res


def run_meta(t_start):
    return {"date": datetime.datetime.now().isoformat(timespec="seconds"),
            "machine": "%s, %d CPUs, kernel %s" % (os.uname().nodename, os.cpu_count(), os.uname().release),
            "duration_s": round(time.monotonic() - t_start, 1)}


def write_control_plane(out, cp, meta):
    """OUT/control-plane.json and .md: the control plane's measurements, from either kind of run."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "control-plane.json"), "w") as f:
        json.dump({"meta": meta, "control_plane": cp}, f, indent=1)
    md = "Control plane (%s, %s):\n\n```\n%s\n```\n" % (meta["date"], meta["machine"], json.dumps(cp, indent=1))
    with open(os.path.join(out, "control-plane.md"), "w") as f:
        f.write(md)
    return md


def control_plane_only(out, t_start):
    try:
        cp = control_plane(out)
    finally:
        cleanup()
    print(write_control_plane(out, cp, run_meta(t_start)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5)
    ap.add_argument("--warmup", type=float, default=0.5)
    ap.add_argument("--smoke", action="store_true", help="every case once, briefly; fail if any delivered nothing")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--no-control-plane", action="store_true")
    ap.add_argument("--control-plane-only", action="store_true",
                    help="only the control plane's measurements, into OUT/control-plane.json and .md "
                         "(the dataplane's files in OUT are left as they are)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "latest"))
    ap.add_argument("--before", metavar="BUILD",
                    help="another build directory (another commit's): its vepad runs in every case as the variant "
                         "vepad-before, and before-after.md gets vepad's ratios against it from this one run")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("SKIP: the benchmark needs root (network namespaces, BPF)")
        return 77
    for b in (BENCH, VEPAD, VEPACTL, XSK):
        if not os.access(b, os.X_OK):
            print("bench: %s is not built (meson setup build && ninja -C build)" % b, file=sys.stderr)
            return 1
    if a.smoke:
        a.rounds, a.seconds, a.warmup = 1, 0.3, 0.1
        for c in CASES.values():
            c["sizes"] = {64: c["sizes"][64][:1]}
    global TMP, BEFORE
    if a.before:
        BEFORE = os.path.abspath(a.before)
        for b in build_binaries(BEFORE):
            if not os.access(b, os.X_OK):
                print("bench: --before: %s is not built" % b, file=sys.stderr)
                return 1
        for c in CASES.values():
            c["extras"] = c["extras"] + ["vepad-before"]
    TMP = tempfile.mkdtemp(prefix=RUN + "-")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.makedirs(PIN_ROOT, exist_ok=True)
    if sh("mountpoint -q /sys/fs/bpf", check=False) != 0:
        sh("mount -t bpf bpf /sys/fs/bpf")
    t_start = time.monotonic()
    if a.control_plane_only:
        return control_plane_only(a.out, t_start)
    results = []
    try:
        for name in a.cases.split(","):
            case = CASES[name]
            print("%s: %s" % (name, case["what"]), flush=True)
            run_case(name, case, a.rounds, a.seconds, a.warmup, results, a.smoke)
        cp = {} if (a.smoke or a.no_control_plane) else control_plane(a.out)
    finally:
        cleanup()
    rows = summarize(results)
    meta = dict(run_meta(t_start), rounds=a.rounds, seconds=a.seconds, warmup=a.warmup)
    if a.smoke:
        empty = [r for r in results if r["delivered"] == 0]
        for r in empty:
            print("SMOKE FAIL: %s n=%d %s delivered nothing" % (r["case"], r["n"], r["variant"]))
        print("bench smoke: %d measurements, %d delivered nothing" % (len(results), len(empty)))
        return 1 if empty else 0
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows, "runs": results, "control_plane": cp}, f, indent=1)
    md = markdown(rows, meta)
    if cp:
        md += "\n" + write_control_plane(a.out, cp, meta)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(summary(rows))
    plot(rows, os.path.join(a.out, "mpps.png"))
    if a.before:
        with open(os.path.join(a.out, "before-after.md"), "w") as f:
            f.write(before_after(rows, meta, BEFORE))
    print(md)
    print("results in %s (%.0f s)" % (a.out, meta["duration_s"]))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        cleanup()
        sys.exit(130)
