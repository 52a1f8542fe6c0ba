// vepa-bench - the benchmark's tools: a live-frames traffic generator, guest-like
// sinks (TC ingress counters on veth ends, fd readers on taps and macvtaps) and
// skb-path senders (AF_PACKET, tap writer).  bench/run.py drives them.
//
//   vepa-bench gen     --netns P --ifname IF --dst MAC[,MAC..] [--src MAC] [--size N]
//                      [--seconds S] [--bcast-ip]
//   vepa-bench sink    --netns P --ifaces IF[,IF..] --pin PATH [--xdp]
//   vepa-bench count   --pin PATH
//   vepa-bench redirect --netns P --ifname IF --to IF   (XDP on IF sending everything to TO: LIMIT for taps)
//   vepa-bench xskredirect --netns P --ifname IF --pin PATH [--generic]  (XDP on IF to the AF_XDP socket of each queue;
//                                                            XSKMAP at PATH; --generic: SKB-mode XDP, e.g. macvlan)
//   vepa-bench tapsink --netns P (--taps NAME[,NAME..] | --devs PATH[,PATH..]) --shm FILE
//   vepa-bench afsend  --netns P --ifname IF --dst MAC --src MAC [--size N] [--seconds S]
//   vepa-bench tapsend --netns P (--tap NAME | --dev PATH) --dst MAC --src MAC [--size N] [--seconds S]
//
// Every command prints one JSON object on stdout.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "bench.skel.h"

namespace {

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

std::map<std::string, std::string> parse_args(int argc, char** argv, int first)
{
    std::map<std::string, std::string> a;
    for (int i = first; i < argc; i++) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0)
            die("unexpected argument " + k);
        if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
            a[k.substr(2)] = argv[++i];
        else
            a[k.substr(2)] = "1";
    }
    return a;
}

std::vector<std::string> split(const std::string& s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ','))
        if (!x.empty())
            out.push_back(x);
    return out;
}

bool parse_mac(const std::string& s, uint8_t* out)
{
    return std::sscanf(s.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4],
                       &out[5]) == 6;
}

void enter_netns(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0)
        die("enter " + path);
    ::close(fd);
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

// An IPv4/UDP frame of size bytes (header checksums right; the payload is zeros).
std::vector<uint8_t> udp_frame(const uint8_t* dst, const uint8_t* src, size_t size, bool bcast_ip)
{
    size = std::max<size_t>(size, 60);
    std::vector<uint8_t> f(size, 0);
    std::memcpy(f.data(), dst, 6);
    std::memcpy(f.data() + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    auto* ip = reinterpret_cast<iphdr*>(f.data() + 14);
    ip->version = 4;
    ip->ihl = 5;
    ip->tot_len = htons(static_cast<uint16_t>(size - 14));
    ip->ttl = 64;
    ip->protocol = IPPROTO_UDP;
    ip->saddr = htonl(0x0a630002);                          // 10.99.0.2
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
    udp->dest = htons(9);   // discard
    udp->len = htons(static_cast<uint16_t>(size - 34));
    return f;
}

int cmd_gen(std::map<std::string, std::string> a)
{
    enter_netns(a["netns"]);
    const unsigned ifindex = if_nametoindex(a["ifname"].c_str());
    if (!ifindex)
        die("no interface " + a["ifname"]);
    auto dsts = split(a["dst"]);
    if (dsts.empty() || dsts.size() > 256)
        die("--dst needs 1 to 256 MACs");
    bench_bpf* skel = bench_bpf__open_and_load();
    if (!skel)
        die("load bench BPF object");
    for (uint32_t i = 0; i < dsts.size(); i++) {
        uint8_t m[8] = {};
        if (!parse_mac(dsts[i], m))
            die("bad MAC " + dsts[i]);
        bpf_map_update_elem(bpf_map__fd(skel->maps.targets), &i, m, BPF_ANY);
    }
    struct {
        uint32_t n, set_src;
        uint8_t src[8];
    } cfg{static_cast<uint32_t>(dsts.size()), 0, {}};
    uint8_t src[6] = {0x02, 0x00, 0x0a, 0x63, 0x00, 0x02};
    if (a.count("src")) {
        if (!parse_mac(a["src"], cfg.src))
            die("bad --src");
        cfg.set_src = 1;
        std::memcpy(src, cfg.src, 6);
    }
    const uint32_t zero = 0;
    bpf_map_update_elem(bpf_map__fd(skel->maps.gen_cfg), &zero, &cfg, BPF_ANY);
    uint8_t d0[6];
    parse_mac(dsts[0], d0);
    const auto frame = udp_frame(d0, src, a.count("size") ? std::stoul(a["size"]) : 64, a.count("bcast-ip"));
    const double seconds = a.count("seconds") ? std::stod(a["seconds"]) : 1.5;

    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(frame.size());
    ctx.ingress_ifindex = ifindex;
    uint64_t frames = 0;
    uint32_t repeat = 20000;
    const double c0 = cpu_seconds(), t0 = now();
    while (now() - t0 < seconds) {
        LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_size_in = static_cast<uint32_t>(frame.size()),
                    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(repeat),
                    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
        const double s = now();
        if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.bench_gen), &opts) != 0)
            die("live-frames test run");
        const double took = now() - s;
        frames += repeat;
        // Aim for ~100 ms a call: the fixed cost of a call amortised, the end time kept.
        if (took > 0)
            repeat = static_cast<uint32_t>(std::clamp(repeat * 0.1 / took, 1000.0, 5e6));
    }
    const double t = now() - t0, c = cpu_seconds() - c0;
    bench_bpf__destroy(skel);
    std::printf("{\"frames\": %lu, \"seconds\": %.4f, \"offered_pps\": %.0f, \"gen_cpu_seconds\": %.4f}\n", frames, t,
                frames / t, c);
    return 0;
}

int cmd_sink(std::map<std::string, std::string> a)
{
    enter_netns(a["netns"]);
    bench_bpf* skel = bench_bpf__open_and_load();
    if (!skel)
        die("load bench BPF object");
    const bool xdp = a.count("xdp");
    for (const auto& ifc : split(a["ifaces"])) {
        const int idx = static_cast<int>(if_nametoindex(ifc.c_str()));
        if (!idx)
            die("no interface " + ifc);
        if (xdp) {
            if (bpf_xdp_attach(idx, bpf_program__fd(skel->progs.bench_xdp_sink), XDP_FLAGS_DRV_MODE, nullptr) != 0)
                die("XDP sink on " + ifc);
        } else {
            LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = idx, .attach_point = BPF_TC_INGRESS);
            bpf_tc_hook_create(&hook);
            LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(skel->progs.bench_sink), .flags = BPF_TC_F_REPLACE,
                        .handle = 1, .priority = 1);
            if (bpf_tc_attach(&hook, &opts) != 0)
                die("TC sink on " + ifc);
        }
    }
    if (bpf_map__pin(skel->maps.sink_count, a["pin"].c_str()) != 0)
        die("pin " + a["pin"]);
    bench_bpf__destroy(skel);
    std::printf("{\"attached\": %zu}\n", split(a["ifaces"]).size());
    return 0;
}

// The bench object loaded in netns, with ifname's index there.
std::pair<bench_bpf*, unsigned> load_in(const std::string& netns, const std::string& ifname)
{
    enter_netns(netns);
    bench_bpf* skel = bench_bpf__open_and_load();
    if (!skel)
        die("load bench BPF object");
    const unsigned ifindex = if_nametoindex(ifname.c_str());
    if (!ifindex)
        die("interface " + ifname);
    return {skel, ifindex};
}

// Attach prog to ifindex (native XDP); it stays when the object is closed.
void attach_and_close(bench_bpf* skel, bpf_program* prog, unsigned ifindex, const std::string& ifname,
                      uint32_t flags = XDP_FLAGS_DRV_MODE)
{
    if (bpf_xdp_attach(static_cast<int>(ifindex), bpf_program__fd(prog), flags, nullptr) != 0)
        die("XDP on " + ifname);
    bench_bpf__destroy(skel);
}

int cmd_redirect(std::map<std::string, std::string> a)
{
    auto [skel, from] = load_in(a["netns"], a["ifname"]);
    const unsigned to = if_nametoindex(a["to"].c_str());
    if (!to)
        die("interface " + a["to"]);
    const uint32_t zero = 0;
    if (bpf_map_update_elem(bpf_map__fd(skel->maps.redirect_to), &zero, &to, BPF_ANY) != 0)
        die("devmap");
    attach_and_close(skel, skel->progs.bench_redirect, from, a["ifname"]);
    std::printf("{\"redirect\": \"%s -> %s\"}\n", a["ifname"].c_str(), a["to"].c_str());
    return 0;
}

// XDP on ifname sending every frame to the AF_XDP socket of its queue, the XSKMAP pinned at pin.
int cmd_xskredirect(std::map<std::string, std::string> a)
{
    auto [skel, ifindex] = load_in(a["netns"], a["ifname"]);
    if (bpf_map__pin(skel->maps.xsks, a["pin"].c_str()) != 0)
        die("pin the XSKMAP at " + a["pin"]);
    // --generic: XDP in SKB mode, for devices without native XDP (macvlan).
    attach_and_close(skel, skel->progs.bench_xsk, ifindex, a["ifname"],
                     a.count("generic") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE);
    std::printf("{\"xsk_redirect\": \"%s\", \"map\": \"%s\"}\n", a["ifname"].c_str(), a["pin"].c_str());
    return 0;
}

int cmd_count(std::map<std::string, std::string> a)
{
    const int fd = bpf_obj_get(a["pin"].c_str());
    if (fd < 0)
        die("open " + a["pin"]);
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

std::vector<int> open_taps(const std::map<std::string, std::string>& a)
{
    std::vector<int> fds;
    if (a.count("taps")) {
        for (const auto& t : split(a.at("taps"))) {
            const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
            ifreq ifr{};
            ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
            std::strncpy(ifr.ifr_name, t.c_str(), IFNAMSIZ - 1);
            if (fd < 0 || ::ioctl(fd, TUNSETIFF, &ifr) != 0)
                die("tap " + t);
            fds.push_back(fd);
        }
    } else {
        for (const auto& d : split(a.at("devs"))) {
            const int fd = ::open(d.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0)
                die("open " + d);
            // A macvtap starts with IFF_VNET_HDR (every frame prefixed by a virtio-net
            // header): plain frames, as the taps carry them.
            ifreq ifr{};
            ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
            if (::ioctl(fd, TUNSETIFF, &ifr) != 0)
                die("TUNSETIFF on " + d);
            fds.push_back(fd);
        }
    }
    return fds;
}

volatile sig_atomic_t g_stop = 0;

// Read every tap as QEMU does (one frame per read), counting into a shared
// file the runner maps: [0] total frames, [1] total bytes.
int cmd_tapsink(std::map<std::string, std::string> a)
{
    enter_netns(a["netns"]);
    const auto fds = open_taps(a);
    const int shm = ::open(a["shm"].c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (shm < 0 || ::ftruncate(shm, 4096) != 0)
        die("shm " + a["shm"]);
    auto* counters = static_cast<volatile uint64_t*>(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0));
    if (counters == MAP_FAILED)
        die("mmap");
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < fds.size(); i++) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fds[i];
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    struct sigaction sig{};
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
            for (;;) {
                const ssize_t r = ::read(evs[i].data.fd, buf.data(), buf.size());
                if (r <= 0)
                    break;
                counters[0] = counters[0] + 1;
                counters[1] = counters[1] + static_cast<uint64_t>(r);
            }
        }
    }
    return 0;
}

int cmd_afsend(std::map<std::string, std::string> a)
{
    enter_netns(a["netns"]);
    uint8_t dst[6], src[6];
    if (!parse_mac(a["dst"], dst) || !parse_mac(a["src"], src))
        die("bad --dst/--src");
    const auto frame = udp_frame(dst, src, a.count("size") ? std::stoul(a["size"]) : 64, false);
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    const unsigned idx = if_nametoindex(a["ifname"].c_str());
    if (fd < 0 || !idx)
        die("socket on " + a["ifname"]);
    const int one = 1;
    ::setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_ifindex = static_cast<int>(idx);
    sa.sll_halen = 6;
    std::memcpy(sa.sll_addr, dst, 6);
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
    const double seconds = a.count("seconds") ? std::stod(a["seconds"]) : 1.5;
    uint64_t sent = 0, errors = 0;
    const double c0 = cpu_seconds(), t0 = now();
    while (now() - t0 < seconds) {
        const int n = ::sendmmsg(fd, msgs.data(), kBatch, 0);
        if (n > 0)
            sent += static_cast<uint64_t>(n);
        else
            errors++;
    }
    const double t = now() - t0;
    std::printf("{\"frames\": %lu, \"seconds\": %.4f, \"offered_pps\": %.0f, \"gen_cpu_seconds\": %.4f, "
                "\"errors\": %lu}\n", sent, t, sent / t, cpu_seconds() - c0, errors);
    return 0;
}

int cmd_tapsend(std::map<std::string, std::string> a)
{
    enter_netns(a["netns"]);
    std::map<std::string, std::string> which;
    if (a.count("tap"))
        which["taps"] = a["tap"];
    else
        which["devs"] = a["dev"];
    const int fd = open_taps(which).at(0);
    // Blocking writes, as QEMU's: a full queue pushes back instead of dropping.
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    uint8_t dst[6], src[6];
    if (!parse_mac(a["dst"], dst) || !parse_mac(a["src"], src))
        die("bad --dst/--src");
    const auto frame = udp_frame(dst, src, a.count("size") ? std::stoul(a["size"]) : 64, false);
    if (a.count("wait-up"))
        ::usleep(static_cast<useconds_t>(std::stod(a["wait-up"]) * 1e6));
    const double seconds = a.count("seconds") ? std::stod(a["seconds"]) : 1.5;
    uint64_t sent = 0, errors = 0;
    const double c0 = cpu_seconds(), t0 = now();
    while (now() - t0 < seconds) {
        for (int i = 0; i < 64; i++) {
            if (::write(fd, frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()))
                sent++;
            else
                errors++;
        }
    }
    const double t = now() - t0;
    std::printf("{\"frames\": %lu, \"seconds\": %.4f, \"offered_pps\": %.0f, \"gen_cpu_seconds\": %.4f, "
                "\"errors\": %lu}\n", sent, t, sent / t, cpu_seconds() - c0, errors);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: vepa-bench gen|sink|count|redirect|xskredirect|tapsink|afsend|tapsend (see the source header)\n");
        return 2;
    }
    libbpf_set_print([](enum libbpf_print_level l, const char* f, va_list ap) {
        return l == LIBBPF_WARN ? std::vfprintf(stderr, f, ap) : 0;
    });
    const std::string cmd = argv[1];
    auto a = parse_args(argc, argv, 2);
    if (cmd == "gen")
        return cmd_gen(a);
    if (cmd == "sink")
        return cmd_sink(a);
    if (cmd == "count")
        return cmd_count(a);
    if (cmd == "xskredirect")
        return cmd_xskredirect(a);
    if (cmd == "redirect")
        return cmd_redirect(a);
    if (cmd == "tapsink")
        return cmd_tapsink(a);
    if (cmd == "afsend")
        return cmd_afsend(a);
    if (cmd == "tapsend")
        return cmd_tapsend(a);
    std::fprintf(stderr, "vepa-bench: unknown command %s\n", cmd.c_str());
    return 2;
}
