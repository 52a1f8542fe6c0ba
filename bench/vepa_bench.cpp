// vepa-bench - the benchmark's tools: a live-frames traffic generator, guest-like
// sinks (TC ingress counters on veth ends, fd readers on taps and macvtaps) and
// skb-path senders (AF_PACKET, tap writer).  bench/run.py drives them.
//
//   vepa-bench gen     --netns P --ifname IF --dst MAC[,MAC..] [--src MAC] [--size N]
//                      [--seconds S] [--bcast-ip]
//   vepa-bench sink    --netns P --ifaces IF[,IF..] --pin PATH [--xdp]
//   vepa-bench count   --pin PATH
//   vepa-bench redirect --netns P --ifname IF --to IF   (XDP on IF sending everything to TO: LIMIT for taps)
//   vepa-bench peerfwd|xdpfwd --netns P --ifname IF --dst MAC[,MAC..] --ifaces IF[,IF..]  (forwarding floors: one
//                                                            MAC lookup, then TC bpf_redirect_peer or XDP devmap)
//   vepa-bench cloneflood --netns P --ifname IF --ifaces IF[,IF..]  (TC on IF: group frames cloned out of every
//                                                            IF of --ifaces, then to the host: the flooding floor)
//   vepa-bench xskredirect --netns P --ifname IF --pin PATH [--generic]  (XDP on IF to the AF_XDP socket of each queue;
//                                                            XSKMAP at PATH; --generic: SKB-mode XDP, e.g. macvlan)
//   vepa-bench tapsink --netns P (--taps NAME[,NAME..] | --devs PATH[,PATH..]) --shm FILE
//   vepa-bench afsend  --netns P --ifname IF --dst MAC --src MAC [--size N] [--seconds S]
//   vepa-bench tapsend --netns P (--tap NAME | --dev PATH) --dst MAC --src MAC [--size N] [--seconds S]
//                      [--wait-up S]
//
// Every command prints one JSON object on stdout.  `vepa-bench COMMAND --help`
// explains each option.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench.skel.h"
#include "lib/attach.hpp"
#include "lib/netns.hpp"
#include "tools/cli.hpp"

namespace {

const char* kDescription = R"(vepa-bench - the benchmark's traffic generators, senders and guest-like sinks

The tools bench/run.py drives to measure vepad against macvlan and a bridge.
Each command works inside the network namespace --netns (a path such as
/run/netns/NAME, or a name under /run/netns) and prints one JSON object on
stdout. `vepa-bench COMMAND --help` explains a command's options.

Exit status: 0 when the command did its work, 1 when it could not (a missing
interface, a BPF program the kernel refuses), 2 on a bad command line.)";

// Every command's options, as CLI11 fills them in; each command uses its own few.
struct Options {
    std::string netns, ifname, to, pin, shm, src, dst, tap, dev;
    std::vector<std::string> dsts, ifaces, taps, devs;
    size_t size = 64;
    double seconds = 1.5, wait_up = 0;
    bool bcast_ip = false, xdp = false, generic = false;
};

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

double now()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double cpu_seconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

unsigned ifindex_or_die(const std::string& ifname)
{
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex)
        die("no interface " + ifname);
    return ifindex;
}

bench_bpf* load_bench_object()
{
    bench_bpf* skel = bench_bpf__open_and_load();
    if (!skel)
        die("load bench BPF object");
    return skel;
}

// An IPv4/UDP frame of size bytes (header checksums right; the payload is zeros).
std::vector<uint8_t> udp_frame(const vepa::Mac& dst, const vepa::Mac& src, size_t size, bool bcast_ip)
{
    size = std::max<size_t>(size, 60);
    std::vector<uint8_t> f(size, 0);
    std::memcpy(f.data(), dst.bytes().data(), 6);
    std::memcpy(f.data() + 6, src.bytes().data(), 6);
    f[12] = 0x08;
    f[13] = 0x00;
    auto* ip = reinterpret_cast<iphdr*>(f.data() + 14);
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(static_cast<uint16_t>(size - 14));
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->saddr = htonl(0x0a630002); // 10.99.0.2
    ip->daddr = bcast_ip ? htonl(0xffffffff) : htonl(0x0a630063);
    uint32_t sum = 0;
    auto* w = reinterpret_cast<uint16_t*>(ip);
    for (int i = 0; i < 10; i++)
        sum += w[i];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip->check = static_cast<uint16_t>(~sum);
    auto* udp = reinterpret_cast<udphdr*>(f.data() + 34);
    udp->source = htons(9);
    udp->dest = htons(9); // discard
    udp->len = htons(static_cast<uint16_t>(size - 34));
    return f;
}

// The generator's rewrite: destinations round robin from dsts, the source from src (when given).
// Returns the source the frames carry.
vepa::Mac configure_gen(bench_bpf* skel, const std::vector<std::string>& dsts, const std::string& src)
{
    for (uint32_t i = 0; i < dsts.size(); i++) {
        uint8_t m[8] = {};
        std::memcpy(m, vepa::tools::mac_of(dsts[i]).bytes().data(), 6);
        bpf_map_update_elem(bpf_map__fd(skel->maps.targets), &i, m, BPF_ANY);
    }
    struct {
        uint32_t n, set_src;
        uint8_t src[8];
    } cfg{static_cast<uint32_t>(dsts.size()), 0, {}};
    vepa::Mac source(std::array<uint8_t, 6>{0x02, 0x00, 0x0a, 0x63, 0x00, 0x02});
    if (!src.empty()) {
        source = vepa::tools::mac_of(src);
        std::memcpy(cfg.src, source.bytes().data(), 6);
        cfg.set_src = 1;
    }
    const uint32_t zero = 0;
    bpf_map_update_elem(bpf_map__fd(skel->maps.gen_cfg), &zero, &cfg, BPF_ANY);
    return source;
}

// Runs bench_gen with live frames (XDP_TX out of ifindex) for seconds; the frames sent.
uint64_t run_live_frames(bench_bpf* skel, unsigned ifindex, const std::vector<uint8_t>& frame, double seconds)
{
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame.size());
    ctx.ingress_ifindex = ifindex;
    uint64_t frames = 0;
    uint32_t repeat = 20000;
    const double t0 = now();
    while (now() - t0 < seconds) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(),
                    .data_size_in = static_cast<uint32_t>(frame.size()), .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
                    .repeat = static_cast<int>(repeat), .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
        const double s = now();
        if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &opts) != 0)
            die("live-frames test run");
        const double took = now() - s;
        frames += repeat;
        // Aim for ~100 ms a call: the fixed cost of a call amortised, the end time kept.
        if (took > 0)
            repeat = static_cast<uint32_t>(std::clamp(repeat * 0.1 / took, 1000.0, 5e6));
    }
    return frames;
}

int cmd_gen(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    const unsigned ifindex = ifindex_or_die(o.ifname);
    bench_bpf* skel = load_bench_object();
    const vepa::Mac src = configure_gen(skel, o.dsts, o.src);
    const auto frame = udp_frame(vepa::tools::mac_of(o.dsts[0]), src, o.size, o.bcast_ip);
    const double c0 = cpu_seconds(), t0 = now();
    const uint64_t frames = run_live_frames(skel, ifindex, frame, o.seconds);
    const double t = now() - t0, c = cpu_seconds() - c0;
    bench_bpf__destroy(skel);
    std::printf("{\"frames\": %lu, \"seconds\": %.4f, \"offered_pps\": %.0f, \"gen_cpu_seconds\": %.4f}\n", frames, t,
                frames / t, c);
    return 0;
}

int cmd_sink(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    for (const auto& ifc : o.ifaces) {
        const int idx = static_cast<int>(ifindex_or_die(ifc));
        if (o.xdp) {
            if (bpf_xdp_attach(idx, bpf_program__fd(skel->progs.bench_xdp_sink), XDP_FLAGS_DRV_MODE, nullptr) != 0)
                die("XDP sink on " + ifc);
        } else {
            LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = idx, .attach_point = BPF_TC_INGRESS);
            bpf_tc_hook_create(&hook);
            LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.bench_sink),
                        .flags = BPF_TC_F_REPLACE, .handle = 1, .priority = 1);
            if (bpf_tc_attach(&hook, &opts) != 0)
                die("TC sink on " + ifc);
        }
    }
    if (bpf_map__pin(skel->maps.sink_count, o.pin.c_str()) != 0)
        die("pin " + o.pin);
    bench_bpf__destroy(skel);
    std::printf("{\"attached\": %zu}\n", o.ifaces.size());
    return 0;
}

// Attach prog to ifindex (native XDP unless flags say otherwise); it stays when the object is closed.
void attach_and_close(bench_bpf* skel, bpf_program* prog, unsigned ifindex, const std::string& ifname,
                      uint32_t flags = XDP_FLAGS_DRV_MODE)
{
    if (bpf_xdp_attach(static_cast<int>(ifindex), bpf_program__fd(prog), flags, nullptr) != 0)
        die("XDP on " + ifname);
    bench_bpf__destroy(skel);
}

int cmd_redirect(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    const unsigned from = ifindex_or_die(o.ifname);
    const unsigned to = ifindex_or_die(o.to);
    const uint32_t zero = 0;
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.redirect_to), &zero, &to, BPF_ANY) != 0)
        die("devmap");
    attach_and_close(skel, skel->progs.bench_redirect, from, o.ifname);
    std::printf("{\"redirect\": \"%s -> %s\"}\n", o.ifname.c_str(), o.to.c_str());
    return 0;
}

// peer_of of the forwarding floors: dsts[i] to ifaces[i]'s ifindex.
void fill_peer_of(bench_bpf* skel, const Options& o)
{
    if (o.dsts.size() != o.ifaces.size())
        throw std::runtime_error("--dst and --ifaces must name as many MACs as interfaces");
    for (size_t i = 0; i < o.dsts.size(); i++) {
        struct {
            uint8_t addr[6];
            uint16_t vid;
        } key{};
        const vepa::Mac m = vepa::tools::mac_of(o.dsts[i]);
        std::memcpy(key.addr, m.bytes().data(), 6);
        const uint32_t to = ifindex_or_die(o.ifaces[i]);
        if (bpf_map_update_elem(bpf_map__fd(skel->maps.peer_of), &key, &to, BPF_ANY) != 0)
            die("peer_of map");
    }
}

// The TC forwarding floor: bench_peer_fwd at tcx ingress of ifname, dsts[i] to ifaces[i]'s peer.
int cmd_peerfwd(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    fill_peer_of(skel, o);
    vepa::tc_attach(static_cast<int>(ifindex_or_die(o.ifname)), bpf_program__fd(skel->progs.bench_peer_fwd),
                    vepa::tc_hook_available());
    bench_bpf__destroy(skel);
    std::printf("{\"peer_forwarding\": %zu}\n", o.dsts.size());
    return 0;
}

// The XDP forwarding floor: bench_xdp_fwd on ifname (native), dsts[i] redirected out of ifaces[i].
int cmd_xdpfwd(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    fill_peer_of(skel, o);
    for (const std::string& ifname : o.ifaces) {
        const uint32_t to = ifindex_or_die(ifname);
        if (bpf_map_update_elem(bpf_map__fd(skel->maps.xdp_to), &to, &to, BPF_ANY) != 0)
            die("xdp_to devmap: " + ifname);
    }
    attach_and_close(skel, skel->progs.bench_xdp_fwd, ifindex_or_die(o.ifname), o.ifname);
    std::printf("{\"xdp_forwarding\": %zu}\n", o.dsts.size());
    return 0;
}

// The outbound TC floor: bench_tc_redirect at tcx ingress of ifname, every frame out of o.to.
int cmd_tcredirect(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    const uint32_t zero = 0, to = ifindex_or_die(o.to);
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.tc_to), &zero, &to, BPF_ANY) != 0)
        die("tc_to map");
    vepa::tc_attach(static_cast<int>(ifindex_or_die(o.ifname)), bpf_program__fd(skel->progs.bench_tc_redirect),
                    vepa::tc_hook_available());
    bench_bpf__destroy(skel);
    std::printf("{\"tc_redirect\": \"%s -> %s\"}\n", o.ifname.c_str(), o.to.c_str());
    return 0;
}

// The TC flooding floor: bench_clone_flood at tcx ingress of ifname, a group
// frame cloned out of every interface of ifaces (in order), then to the host.
constexpr size_t kMaxFlood = 64; // BENCH_MAX_FLOOD in bench.bpf.c

void fill_flood_to(bench_bpf* skel, const std::vector<std::string>& ifaces)
{
    const int fd = bpf_map__fd(skel->maps.flood_to);
    for (uint32_t i = 0; i < ifaces.size(); i++) {
        const uint32_t slot = i + 1, to = ifindex_or_die(ifaces[i]);
        if (bpf_map_update_elem(fd, &slot, &to, BPF_ANY) != 0)
            die("flood_to map");
    }
    const uint32_t zero = 0, count = static_cast<uint32_t>(ifaces.size());
    if (bpf_map_update_elem(fd, &zero, &count, BPF_ANY) != 0)
        die("flood_to map");
}

int cmd_cloneflood(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    const unsigned ifindex = ifindex_or_die(o.ifname);
    bench_bpf* skel = load_bench_object();
    fill_flood_to(skel, o.ifaces);
    vepa::tc_attach(static_cast<int>(ifindex), bpf_program__fd(skel->progs.bench_clone_flood),
                    vepa::tc_hook_available());
    bench_bpf__destroy(skel);
    std::printf("{\"clone_flood\": \"%s\", \"ports\": %zu}\n", o.ifname.c_str(), o.ifaces.size());
    return 0;
}

// XDP on ifname sending every frame to the AF_XDP socket of its queue, the XSKMAP pinned at pin.
int cmd_xskredirect(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    bench_bpf* skel = load_bench_object();
    const unsigned ifindex = ifindex_or_die(o.ifname);
    if (bpf_map__pin(skel->maps.xsks, o.pin.c_str()) != 0)
        die("pin the XSKMAP at " + o.pin);
    // --generic: XDP in SKB mode, for devices without native XDP (macvlan).
    attach_and_close(skel, skel->progs.bench_xsk, ifindex, o.ifname,
                     o.generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
    std::printf("{\"xsk_redirect\": \"%s\", \"map\": \"%s\"}\n", o.ifname.c_str(), o.pin.c_str());
    return 0;
}

int cmd_count(const Options& o)
{
    const int fd = bpf_obj_get(o.pin.c_str());
    if (fd < 0)
        die("open " + o.pin);
    const int ncpu = libbpf_num_possible_cpus();
    std::vector<uint64_t> v(static_cast<size_t>(ncpu));
    uint64_t total = 0;
    std::string per;
    for (uint32_t k = 0; k < 4096; k++) {
        if (bpf_map_lookup_elem(fd, &k, v.data()) != 0)
            continue;
        uint64_t s = 0;
        for (auto x : v)
            s += x;
        if (s) {
            total += s;
            per += (per.empty() ? "" : ", ") + std::string("\"") + std::to_string(k) + "\": " + std::to_string(s);
        }
    }
    std::printf("{\"total\": %lu, \"by_ifindex\": {%s}}\n", total, per.c_str());
    return 0;
}

// A tap as QEMU opens it: by name (a new tap, or a persistent one), plain frames.
int open_tap(const std::string& name)
{
    const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (fd < 0 || ::ioctl(fd, TUNSETIFF, &ifr) != 0)
        die("tap " + name);
    return fd;
}

// A macvtap's character device.
int open_tap_device(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("open " + path);
    // A macvtap starts with IFF_VNET_HDR (every frame prefixed by a virtio-net
    // header): plain frames, as the taps carry them.
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (::ioctl(fd, TUNSETIFF, &ifr) != 0)
        die("TUNSETIFF on " + path);
    return fd;
}

std::vector<int> open_taps(const std::vector<std::string>& taps, const std::vector<std::string>& devs)
{
    std::vector<int> fds;
    for (const auto& t : taps)
        fds.push_back(open_tap(t));
    for (const auto& d : devs)
        fds.push_back(open_tap_device(d));
    return fds;
}

volatile sig_atomic_t g_stop = 0;

// The shared counters the runner maps: [0] total frames, [1] total bytes.
volatile uint64_t* map_counters(const std::string& path)
{
    const int shm = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (shm < 0 || ::ftruncate(shm, 4096) != 0)
        die("shm " + path);
    auto* counters = static_cast<volatile uint64_t*>(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0));
    if (counters == MAP_FAILED)
        die("mmap");
    return counters;
}

// Read every tap as QEMU does (one frame per read), counting into a shared
// file the runner maps: [0] total frames, [1] total bytes.
int cmd_tapsink(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    const auto fds = open_taps(o.taps, o.devs);
    volatile uint64_t* counters = map_counters(o.shm);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (const int fd : fds) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    struct sigaction sig {};
    sig.sa_handler = [](int) { g_stop = 1; };
    ::sigaction(SIGTERM, &sig, nullptr);
    ::sigaction(SIGINT, &sig, nullptr);
    std::printf("{\"taps\": %zu}\n", fds.size());
    std::fflush(stdout);
    std::vector<uint8_t> buf(65536);
    epoll_event evs[64];
    while (!g_stop) {
        const int n = ::epoll_wait(ep, evs, 64, 200);
        for (int i = 0; i < n; i++) {
            for (ssize_t r; (r = ::read(evs[i].data.fd, buf.data(), buf.size())) > 0;) {
                counters[0] = counters[0] + 1;
                counters[1] = counters[1] + static_cast<uint64_t>(r);
            }
        }
    }
    return 0;
}

void print_send_result(uint64_t sent, double seconds, double cpu, uint64_t errors)
{
    std::printf("{\"frames\": %lu, \"seconds\": %.4f, \"offered_pps\": %.0f, \"gen_cpu_seconds\": %.4f, "
                "\"errors\": %lu}\n",
                sent, seconds, sent / seconds, cpu, errors);
}

int cmd_afsend(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    const vepa::Mac dst = vepa::tools::mac_of(o.dst);
    const auto frame = udp_frame(dst, vepa::tools::mac_of(o.src), o.size, false);
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    const unsigned idx = if_nametoindex(o.ifname.c_str());
    if (fd < 0 || !idx)
        die("socket on " + o.ifname);
    const int one = 1;
    ::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_ifindex = static_cast<int>(idx);
    sa.sll_halen = 6;
    std::memcpy(sa.sll_addr, dst.bytes().data(), 6);
    constexpr int kBatch = 64;
    std::vector<mmsghdr> msgs(kBatch);
    std::vector<iovec> iov(kBatch);
    for (int i = 0; i < kBatch; i++) {
        iov[i] = {const_cast<uint8_t*>(frame.data()), frame.size()};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &sa;
        msgs[i].msg_hdr.msg_namelen = sizeof(sa);
    }
    uint64_t sent = 0, errors = 0;
    const double c0 = cpu_seconds(), t0 = now();
    while (now() - t0 < o.seconds) {
        const int n = ::sendmmsg(fd, msgs.data(), kBatch, 0);
        if (n > 0)
            sent += static_cast<uint64_t>(n);
        else
            errors++;
    }
    print_send_result(sent, now() - t0, cpu_seconds() - c0, errors);
    return 0;
}

int cmd_tapsend(const Options& o)
{
    vepa::ScopedNetns in(o.netns);
    const int fd = o.tap.empty() ? open_tap_device(o.dev) : open_tap(o.tap);
    // Blocking writes, as QEMU's: a full queue pushes back instead of dropping.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    const auto frame = udp_frame(vepa::tools::mac_of(o.dst), vepa::tools::mac_of(o.src), o.size, false);
    if (o.wait_up > 0)
        ::usleep(static_cast<useconds_t>(o.wait_up * 1e6));
    uint64_t sent = 0, errors = 0;
    const double c0 = cpu_seconds(), t0 = now();
    while (now() - t0 < o.seconds) {
        for (int i = 0; i < 64; i++) {
            if (::write(fd, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()))
                sent++;
            else
                errors++;
        }
    }
    print_send_result(sent, now() - t0, cpu_seconds() - c0, errors);
    return 0;
}

// ---- command lines ----------------------------------------------------------

CLI::Option* add_netns(CLI::App& cmd, Options& o)
{
    return cmd.add_option("--netns", o.netns, "network namespace to work in: a path (/run/netns/NAME) or a name")
        ->required()
        ->type_name("P");
}

void add_frame_options(CLI::App& cmd, Options& o, const char* seconds_help)
{
    cmd.add_option("--size", o.size,
                   "frame length in bytes without the FCS; shorter than 60 is sent as 60 "
                   "(default 64)")
        ->type_name("N");
    cmd.add_option("--seconds", o.seconds, seconds_help)->type_name("S")->check(vepa::tools::kNonNegative);
}

void gen_options(CLI::App& cmd, Options& o)
{
    using vepa::tools::kIfname, vepa::tools::kMac;
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface the frames leave by (XDP_TX out of it: its peer receives them)")
        ->required()
        ->type_name("IF")
        ->check(kIfname);
    cmd.add_option("--dst", o.dsts,
                   "destination MACs, comma-separated, 1 to 256: frames take them in turn "
                   "(round robin per CPU)")
        ->required()
        ->type_name("MAC[,MAC..]")
        ->delimiter(',')
        ->check(kMac);
    cmd.add_option("--src", o.src, "source MAC (default 02:00:0a:63:00:02)")->type_name("MAC")->check(kMac);
    add_frame_options(cmd, o, "how long to generate, in seconds (default 1.5)");
    cmd.add_flag("--bcast-ip", o.bcast_ip, "IPv4 destination 255.255.255.255 instead of 10.99.0.99");
}

void sink_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifaces", o.ifaces, "interfaces to count on, comma-separated (the guests' ends)")
        ->required()
        ->type_name("IF[,IF..]")
        ->delimiter(',')
        ->check(vepa::tools::kIfname);
    cmd.add_option("--pin", o.pin, "where to pin the per-ifindex counter map on bpffs (read it with count)")
        ->required()
        ->type_name("PATH");
    cmd.add_flag("--xdp", o.xdp,
                 "count and drop in XDP (native) instead of TC ingress: builds no skb, and "
                 "gives a veth NAPI, which a container's end lacks");
}

void count_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("--pin", o.pin, "the counter map a sink pinned")->required()->type_name("PATH");
}

void redirect_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface to attach the program to (redirect: XDP, native; tcredirect: TC)")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
    cmd.add_option("--to", o.to, "interface every frame is redirected to")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
}

void fwd_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface to attach the program to (the uplink)")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
    cmd.add_option("--dst", o.dsts, "destination MACs, comma-separated")
        ->required()
        ->type_name("MAC[,MAC..]")
        ->delimiter(',')
        ->check(vepa::tools::kMac);
    cmd.add_option("--ifaces", o.ifaces,
                   "where each MAC's frames go, comma-separated, in order (peerfwd: to the peer of this veth; "
                   "xdpfwd: out of this interface)")
        ->required()
        ->type_name("IF[,IF..]")
        ->delimiter(',')
        ->check(vepa::tools::kIfname);
}

void cloneflood_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface to attach the TC program to (the uplink)")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
    cmd.add_option("--ifaces", o.ifaces,
                   "interfaces a group frame is cloned out of (bpf_clone_redirect, egress), comma-separated, "
                   "1 to 64")
        ->required()
        ->type_name("IF[,IF..]")
        ->delimiter(',')
        ->check(vepa::tools::kIfname);
}

void xskredirect_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface to attach the XDP program to")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
    cmd.add_option("--pin", o.pin, "where to pin the XSKMAP on bpffs (vepa-xsk --map inserts its socket there)")
        ->required()
        ->type_name("PATH");
    cmd.add_flag("--generic", o.generic,
                 "attach in SKB (generic) mode, for devices without native XDP "
                 "(macvlan); default native");
}

void tapsink_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    auto* which = cmd.add_option_group("taps", "what to read: exactly one of");
    which->add_option("--taps", o.taps, "taps to open by name, comma-separated (persistent or new)")
        ->type_name("NAME[,NAME..]")
        ->delimiter(',')
        ->check(vepa::tools::kIfname);
    which->add_option("--devs", o.devs, "macvtap character devices to open, comma-separated")
        ->type_name("PATH[,PATH..]")
        ->delimiter(',');
    which->require_option(1);
    cmd.add_option("--shm", o.shm,
                   "file to count into, created if absent: little-endian u64 frames at offset 0, "
                   "bytes at offset 8")
        ->required()
        ->type_name("FILE");
}

void send_options(CLI::App& cmd, Options& o)
{
    using vepa::tools::kMac;
    cmd.add_option("--dst", o.dst, "destination MAC")->required()->type_name("MAC")->check(kMac);
    cmd.add_option("--src", o.src, "source MAC")->required()->type_name("MAC")->check(kMac);
    add_frame_options(cmd, o, "how long to send, in seconds (default 1.5)");
}

void afsend_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    cmd.add_option("--ifname", o.ifname, "interface to send on (AF_PACKET, qdisc bypassed, 64 frames a sendmmsg)")
        ->required()
        ->type_name("IF")
        ->check(vepa::tools::kIfname);
    send_options(cmd, o);
}

void tapsend_options(CLI::App& cmd, Options& o)
{
    add_netns(cmd, o);
    auto* which = cmd.add_option_group("tap", "where to write: exactly one of");
    which->add_option("--tap", o.tap, "a tap to open by name")->type_name("NAME")->check(vepa::tools::kIfname);
    which->add_option("--dev", o.dev, "a macvtap character device")->type_name("PATH");
    which->require_option(1);
    send_options(cmd, o);
    cmd.add_option("--wait-up", o.wait_up, "seconds to wait after opening, before sending (default 0)")
        ->type_name("S")
        ->check(vepa::tools::kNonNegative);
}

struct Command {
    const char* name;
    const char* summary; // a line in `vepa-bench --help`
    const char* prints;  // the JSON object it prints, in `vepa-bench NAME --help`
    void (*add_options)(CLI::App& cmd, Options& o);
    int (*run)(const Options& o);
};

const Command kCommands[] = {
    {"gen", "live-frames generator: a UDP frame sent by BPF_PROG_TEST_RUN, XDP_TX out of --ifname",
     "frames, seconds, offered_pps (frames/s), gen_cpu_seconds (its own CPU time)", gen_options, cmd_gen},
    {"sink", "counters that drop every frame (TC ingress, or XDP) on guests' ends; their map pinned",
     "attached (interfaces)", sink_options, cmd_sink},
    {"count", "the frames a sink has counted so far", "total, by_ifindex (ifindex: frames)", count_options, cmd_count},
    {"redirect", "XDP sending every frame of --ifname to --to (LIMIT for taps)", "redirect (\"IF -> TO\")",
     redirect_options, cmd_redirect},
    {"peerfwd", "TC (tcx where the kernel has it) sending each --dst MAC to the peer of its veth: bpf_redirect_peer",
     "peer_forwarding (MACs)", fwd_options, cmd_peerfwd},
    {"xdpfwd", "XDP (native) sending each --dst MAC out of its interface: bpf_redirect_map into a devmap",
     "xdp_forwarding (MACs)", fwd_options, cmd_xdpfwd},
    {"tcredirect", "TC (tcx where the kernel has it) sending every frame of --ifname out of --to: bpf_redirect",
     "tc_redirect (\"IF -> TO\")", redirect_options, cmd_tcredirect},
    {"cloneflood",
     "TC (tcx where the kernel has it) cloning each group frame of --ifname out of every --ifaces "
     "interface (bpf_clone_redirect), then passing it to the host",
     "clone_flood (interface), ports (copies per frame)", cloneflood_options, cmd_cloneflood},
    {"xskredirect", "XDP sending every frame to the AF_XDP socket of its queue (pinned XSKMAP), else to the stack",
     "xsk_redirect (interface), map (pin)", xskredirect_options, cmd_xskredirect},
    {"tapsink", "read taps as QEMU does (one frame per read) until SIGTERM, counting into a shared file",
     "taps (opened), once they are open", tapsink_options, cmd_tapsink},
    {"afsend", "send a UDP frame as fast as AF_PACKET takes it",
     "frames, seconds, offered_pps (frames/s), gen_cpu_seconds, errors (refused sends)", afsend_options, cmd_afsend},
    {"tapsend", "write a UDP frame into a tap as fast as it takes it (blocking writes, as QEMU's)",
     "frames, seconds, offered_pps (frames/s), gen_cpu_seconds, errors (short writes)", tapsend_options, cmd_tapsend},
};

// --dst of gen: at most 256 MACs (the generator's target map).
void check_gen_targets(const Options& o)
{
    if (o.dsts.size() > 256) {
        std::fprintf(stderr, "vepa-bench gen: --dst takes 1 to 256 MACs, not %zu\n", o.dsts.size());
        std::exit(vepa::tools::kExitUsage);
    }
}

// --ifaces of cloneflood: at most 64 interfaces (the flood_to map).
void check_flood_ports(const CLI::App& app, const Options& o)
{
    if (app.got_subcommand("cloneflood") && o.ifaces.size() > kMaxFlood) {
        std::fprintf(stderr, "vepa-bench cloneflood: --ifaces takes 1 to %zu interfaces, not %zu\n", kMaxFlood,
                     o.ifaces.size());
        std::exit(vepa::tools::kExitUsage);
    }
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-bench"};
    vepa::tools::use_wide_help(app);
    app.require_subcommand(1, 1);
    Options o;
    for (const Command& c : kCommands) {
        CLI::App* cmd = app.add_subcommand(c.name, c.summary);
        cmd->footer(std::string("Prints one JSON object: ") + c.prints + ".");
        c.add_options(*cmd, o);
    }
    vepa::tools::parse_or_exit(app, argc, argv);
    check_gen_targets(o);
    check_flood_ports(app, o);
    libbpf_set_print([](enum libbpf_print_level l, const char* f, va_list ap) {
        return l == LIBBPF_WARN ? std::vfprintf(stderr, f, ap) : 0;
    });
    try {
        for (const Command& c : kCommands)
            if (app.got_subcommand(c.name))
                return c.run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vepa-bench: %s\n", e.what());
        return 1;
    }
    return vepa::tools::kExitUsage;
}
