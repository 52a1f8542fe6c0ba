// vepa-xsk - an AF_XDP socket on one interface queue (include/vepa/xsk.hpp):
// count what arrives, echo it back, or send.  The example of the library, and
// the tool the AF_XDP tests drive.  It loads no XDP program: frames reach it
// through an XSKMAP that another program redirects to (vepad's, or a test's);
// --attach hands the socket to vepad (attach-xsk, SCM_RIGHTS); --map inserts it
// into a pinned XSKMAP, as QEMU's -netdev af-xdp does with its map-path option.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "lib/netns.hpp"
#include "tools/cli.hpp"
#include "vepa/xsk.hpp"

namespace {

std::atomic<bool> g_stop{false};

const char* kDescription = R"(vepa-xsk - count, echo or send frames on an AF_XDP socket

  vepa-xsk IFNAME [--queue Q] [--netns PATH] [--attach [--socket PATH] | --map PIN --index N]
           [--mac MAC] [--seconds S] [--json] MODE
  MODE:
    count                     count frames received (a line per second on stderr)
    echo                      send every frame received back, source and destination swapped
    send --dst MAC [--count N] [--size BYTES] [--rate PPS]
                              send N frames from --mac (ethertype 0x88b5, a sequence number
                              in the payload), then go on receiving for --seconds

The socket binds to IFNAME's queue Q in copy mode (--zero-copy: XDP_ZEROCOPY, which
veth and tap refuse)
and loads no XDP program: it receives what the interface's XDP program redirects
to it through an XSKMAP.
  --attach   hand the socket to vepad for xsk port IFNAME (vepactl add-port IFNAME
             --type xsk): the attach-xsk request with the descriptor (SCM_RIGHTS) over
             --socket (default $VEPAD_SOCKET or /run/vepad/vepad.sock)
  --map      insert it into a pinned XSKMAP at --index, as QEMU's -netdev af-xdp does
             with map-path and map-start-index
  --mac      the port's own MAC: the source of frames sent, and the summary counts
             frames received from it (own_source: reflected back to their sender)
             and unicast frames for another MAC (foreign_unicast)

Stops after --seconds (count, echo; send: after sending), or on SIGINT/SIGTERM;
prints a summary (--json: one JSON object). Exit status 0, 1 on failure (a
socket, map or vepad that refuses, a bad MAC), 2 on a bad command line.)";

struct Options {
    std::string ifname, netns, pin, mode, dst, mac, control, shm_path;
    bool attach = false, zero_copy = false, json = false;
    double rate = 0, seconds = 0;
    uint32_t queue = 0, index = 0;
    uint64_t count = 1000;
    size_t size = 64;
};

void add_socket_options(CLI::App& app, Options& o)
{
    app.add_option("IFNAME", o.ifname, "interface to bind to")->required();
    app.add_option("MODE", o.mode, "count, echo or send")->required()->check(CLI::IsMember({"count", "echo", "send"}));
    app.add_option("--queue", o.queue, "queue of IFNAME (default 0)")->type_name("Q");
    app.add_option("--netns", o.netns, "network namespace to open the socket in: a path (/run/netns/NAME) or a name")
        ->type_name("PATH");
    auto* map_opt = app.add_option("--map", o.pin, "pinned XSKMAP to insert the socket into")->type_name("PIN");
    app.add_option("--index", o.index, "index in --map (default 0)")->type_name("N")->needs(map_opt);
    auto* attach_opt = app.add_flag("--attach", o.attach, "hand the socket to vepad for xsk port IFNAME");
    attach_opt->excludes(map_opt);
    app.add_option("--socket", o.control, "vepad's control socket (with --attach)")
        ->type_name("PATH")
        ->needs(attach_opt);
    app.add_flag("--zero-copy", o.zero_copy, "bind in zero-copy mode (XDP_ZEROCOPY; veth and tap have none)");
    app.add_option("--shm", o.shm_path,
                   "keep the count of frames received in this file (a little-endian u64 "
                   "at offset 0, updated after every batch), for a benchmark to read")
        ->type_name("FILE");
}

Options parse_options(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-xsk"};
    vepa::tools::use_wide_help(app);
    Options o;
    add_socket_options(app, o);
    app.add_option("--rate", o.rate, "send: frames per second (default: as fast as it can)")->type_name("PPS");
    app.add_option("--seconds", o.seconds,
                   "count, echo: stop after this many seconds (default: at a signal); "
                   "send: go on receiving this long after sending (default 0)")
        ->type_name("S");
    app.add_option("--dst", o.dst, "send: destination MAC")->type_name("MAC");
    app.add_option("--mac,--src", o.mac, "the port's own MAC (send: the source)")->type_name("MAC");
    app.add_option("--count", o.count, "send: frames to send (default 1000)")->type_name("N");
    app.add_option("--size", o.size, "send: frame length in bytes, 60-2048 (default 64)")
        ->type_name("BYTES")
        ->check(CLI::Range(60, 2048));
    app.add_flag("--json", o.json, "summary as JSON");
    vepa::tools::parse_or_exit(app, argc, argv);
    return o;
}

std::optional<std::array<uint8_t, 6>> parse_mac(const std::string& s)
{
    const auto m = vepa::Mac::parse(s);
    return m ? std::optional(m->bytes()) : std::nullopt;
}

// What QEMU does with -netdev af-xdp,...,map-path=PIN,map-start-index=N.
void insert_into_map(const std::string& pin, uint32_t index, int xsk_fd)
{
    const int map = bpf_obj_get(pin.c_str());
    if (map < 0)
        throw std::runtime_error("open pinned XSKMAP " + pin + ": " + std::strerror(errno));
    if (bpf_map_update_elem(map, &index, &xsk_fd, BPF_ANY) != 0) {
        const int err = errno;
        ::close(map);
        throw std::runtime_error("insert the socket at index " + std::to_string(index) + " of " + pin + ": " +
                                 std::strerror(err));
    }
    ::close(map);
}

// The --shm counter: a page of the file at path, mapped shared.
volatile uint64_t* map_shm_counter(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || ::ftruncate(fd, 4096) != 0)
        throw std::runtime_error("--shm " + path + ": " + std::strerror(errno));
    void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (m == MAP_FAILED)
        throw std::runtime_error("--shm " + path + ": " + std::strerror(errno));
    return static_cast<volatile uint64_t*>(m);
}

// The frames received, by kind, as the summary reports them.
struct Counts {
    std::optional<std::array<uint8_t, 6>> own; // --mac
    uint64_t received = 0, own_source = 0, foreign_unicast = 0, broadcast = 0, echoed = 0;

    void classify(std::span<const uint8_t> frame)
    {
        received++;
        if (frame.size() < 12)
            return;
        if (frame[0] & 1)
            broadcast += std::all_of(frame.begin(), frame.begin() + 6, [](uint8_t b) { return b == 0xff; });
        if (own && std::equal(own->begin(), own->end(), frame.begin() + 6))
            own_source++;
        if (own && !(frame[0] & 1) && !std::equal(own->begin(), own->end(), frame.begin()))
            foreign_unicast++;
    }
};

class Stopwatch {
public:
    double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }

private:
    std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// send: --count frames of --size bytes at --rate, then receive for --seconds.
void send_frames(vepa::xsk::Socket& s, const Options& o, Counts& c, const Stopwatch& clock)
{
    const auto dst = parse_mac(o.dst);
    if (!dst || !c.own)
        throw std::runtime_error("send needs --dst and --mac (the source) MAC addresses");
    auto drain = [&] { s.receive([&](std::span<const uint8_t> f) { c.classify(f); }); };
    std::vector<uint8_t> f(o.size, 0);
    std::memcpy(f.data(), dst->data(), 6);
    std::memcpy(f.data() + 6, c.own->data(), 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    uint64_t sent = 0;
    while (sent < o.count && !g_stop) {
        if (o.rate > 0) {
            const double due = sent / o.rate;
            while (clock.seconds() < due && !g_stop)
                drain();
        }
        for (int i = 0; i < 8; i++)
            f[14 + i] = static_cast<uint8_t>(sent >> (56 - 8 * i));
        if (s.send(std::span<const uint8_t>(f)) == 1)
            sent++;
        else
            s.complete();
        if ((sent & 63) == 0)
            drain();
    }
    // Let the last frames leave before the socket closes.
    if (!s.flush(2000))
        std::fprintf(stderr, "vepa-xsk: %u frames not transmitted after 2 s\n", s.pending());
    const double end = clock.seconds() + o.seconds;
    while (!g_stop && clock.seconds() < end)
        if (s.wait(50))
            drain();
}

// count, echo: receive (echo: and send back) until --seconds or a signal; a line a second on stderr,
// the count of frames received kept in shm (when not null).
void receive_frames(vepa::xsk::Socket& s, const Options& o, Counts& c, const Stopwatch& clock, volatile uint64_t* shm)
{
    double next_report = 1;
    uint64_t last = 0;
    while (!g_stop && (o.seconds <= 0 || clock.seconds() < o.seconds)) {
        if (!s.wait(100))
            continue;
        s.receive([&](std::span<const uint8_t> frame) {
            c.classify(frame);
            if (o.mode != "echo" || frame.size() < 12)
                return;
            std::vector<uint8_t> back(frame.begin(), frame.end());
            std::swap_ranges(back.begin(), back.begin() + 6, back.begin() + 6);
            c.echoed += s.send(std::span<const uint8_t>(back));
        });
        if (shm)
            *shm = c.received;
        if (clock.seconds() >= next_report) {
            const auto st = s.stats();
            std::fprintf(stderr, "vepa-xsk: %.0f s: %llu frames received (%llu/s)\n", clock.seconds(),
                         static_cast<unsigned long long>(st.rx_packets),
                         static_cast<unsigned long long>(st.rx_packets - last));
            last = st.rx_packets;
            next_report += 1;
        }
    }
}

void print_summary(const vepa::xsk::Socket& s, const Options& o, const Counts& c, double t)
{
    using ull = unsigned long long;
    const auto st = s.stats();
    if (o.json)
        std::printf("{\"ifname\": \"%s\", \"queue\": %u, \"mode\": \"%s\", \"seconds\": %.3f, \"rx_packets\": %llu, "
                    "\"rx_bytes\": %llu, \"tx_packets\": %llu, \"tx_bytes\": %llu, \"echoed\": %llu, "
                    "\"rx_dropped\": %llu, \"rx_ring_full\": %llu, \"rx_fill_ring_empty\": %llu, "
                    "\"rx_invalid\": %llu, \"tx_invalid\": %llu, \"broadcast\": %llu, \"own_source\": %llu, "
                    "\"foreign_unicast\": %llu}\n",
                    o.ifname.c_str(), o.queue, o.mode.c_str(), t, (ull)st.rx_packets, (ull)st.rx_bytes,
                    (ull)st.tx_packets, (ull)st.tx_bytes, (ull)c.echoed, (ull)st.rx_dropped, (ull)st.rx_ring_full,
                    (ull)st.rx_fill_ring_empty, (ull)st.rx_invalid_descs, (ull)st.tx_invalid_descs, (ull)c.broadcast,
                    (ull)c.own_source, (ull)c.foreign_unicast);
    else
        std::printf("%s queue %u, %s, %.1f s: received %llu frames (%.0f/s), sent %llu, kernel drops %llu\n",
                    o.ifname.c_str(), o.queue, o.mode.c_str(), t, (ull)st.rx_packets, t > 0 ? st.rx_packets / t : 0.0,
                    (ull)st.tx_packets, (ull)st.rx_dropped);
}

// The socket, placed where --map or --attach says, in --netns.
int run(const Options& o)
{
    std::optional<vepa::ScopedNetns> in;
    if (!o.netns.empty())
        in.emplace(o.netns);
    vepa::xsk::Options xo;
    xo.zero_copy = o.zero_copy;
    vepa::xsk::Socket s(o.ifname, o.queue, xo);
    if (!o.pin.empty())
        insert_into_map(o.pin, o.index, s.fd());
    if (o.attach) {
        const uint32_t slot = vepa::xsk::attach_to_vepad(s, o.control);
        std::fprintf(stderr, "vepa-xsk: attached to vepad: %s queue %u, XSKMAP slot %u\n", o.ifname.c_str(), o.queue,
                     slot);
    }
    volatile uint64_t* shm = o.shm_path.empty() ? nullptr : map_shm_counter(o.shm_path);
    Counts c;
    if (!o.mac.empty() && !(c.own = parse_mac(o.mac)))
        throw std::runtime_error("--mac: not a MAC address: " + o.mac);
    const Stopwatch clock;
    if (o.mode == "send")
        send_frames(s, o, c, clock);
    else
        receive_frames(s, o, c, clock, shm);
    print_summary(s, o, c, clock.seconds());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const Options o = parse_options(argc, argv);
    std::signal(SIGINT, [](int) { g_stop = true; });
    std::signal(SIGTERM, [](int) { g_stop = true; });
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::cerr << "vepa-xsk: " << e.what() << "\n";
        return 1;
    }
}
