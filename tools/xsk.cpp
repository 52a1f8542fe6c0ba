// vepa-xsk - an AF_XDP socket on one interface queue (include/vepa/xsk.hpp):
// count what arrives, echo it back, or send.  The example of the library, and
// the tool the AF_XDP tests drive.  It loads no XDP program: frames reach it
// through an XSKMAP that another program redirects to (vepad's, or a test's);
// --attach hands the socket to vepad (attach-xsk, SCM_RIGHTS); --map inserts it
// into a pinned XSKMAP, as QEMU's -netdev af-xdp does with its map-path option.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
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

#include "vepa/xsk.hpp"

namespace {

std::atomic<bool> g_stop{false};

std::optional<std::array<uint8_t, 6>> parse_mac(const std::string& s)
{
    std::array<uint8_t, 6> m{};
    unsigned b[6];
    char tail;
    if (std::sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
        return std::nullopt;
    for (int i = 0; i < 6; i++)
        m[i] = static_cast<uint8_t>(b[i]);
    return m;
}

void enter_netns(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0)
        throw std::runtime_error("enter network namespace " + path + ": " + std::strerror(errno));
    ::close(fd);
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
prints a summary (--json: one JSON object). Exit status 0, 1 on failure.)";

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-xsk"};
    std::string ifname, netns, pin, mode, dst_s, src_s, control, shm_path;
    bool attach = false, zero_copy = false;
    double rate = 0;
    uint32_t queue = 0, index = 0;
    double seconds = 0;
    uint64_t count = 1000;
    size_t size = 64;
    bool as_json = false;
    app.add_option("IFNAME", ifname, "interface to bind to")->required();
    app.add_option("MODE", mode, "count, echo or send")->required()->check(CLI::IsMember({"count", "echo", "send"}));
    app.add_option("--queue", queue, "queue of IFNAME (default 0)");
    app.add_option("--netns", netns, "network namespace to open the socket in (e.g. /run/netns/NAME)");
    auto* map_opt = app.add_option("--map", pin, "pinned XSKMAP to insert the socket into");
    app.add_option("--index", index, "index in --map (default 0)")->needs(map_opt);
    auto* attach_opt = app.add_flag("--attach", attach, "hand the socket to vepad for xsk port IFNAME");
    attach_opt->excludes(map_opt);
    app.add_option("--socket", control, "vepad's control socket (with --attach)")->needs(attach_opt);
    app.add_flag("--zero-copy", zero_copy, "bind in zero-copy mode (XDP_ZEROCOPY; veth and tap have none)");
    app.add_option("--rate", rate, "send: frames per second (default: as fast as it can)");
    app.add_option("--seconds", seconds, "stop after this long (count, echo; default: until a signal)");
    app.add_option("--dst", dst_s, "send: destination MAC");
    app.add_option("--mac,--src", src_s, "the port's own MAC (send: the source)");
    app.add_option("--count", count, "send: frames to send (default 1000)");
    app.add_option("--size", size, "send: frame length in bytes, 60-2048 (default 64)")->check(CLI::Range(60, 2048));
    app.add_flag("--json", as_json, "summary as JSON");
    app.add_option("--shm", shm_path, "keep the count of frames received in this file (a little-endian u64 "
                                      "at offset 0, updated after every batch), for a benchmark to read");
    CLI11_PARSE(app, argc, argv);

    std::signal(SIGINT, [](int) { g_stop = true; });
    std::signal(SIGTERM, [](int) { g_stop = true; });
    try {
        if (!netns.empty())
            enter_netns(netns);
        vepa::xsk::Options xo;
        xo.zero_copy = zero_copy;
        vepa::xsk::Socket s(ifname, queue, xo);
        if (!pin.empty())
            insert_into_map(pin, index, s.fd());
        if (attach) {
            const uint32_t slot = vepa::xsk::attach_to_vepad(s, control);
            std::fprintf(stderr, "vepa-xsk: attached to vepad: %s queue %u, XSKMAP slot %u\n", ifname.c_str(), queue,
                         slot);
        }
        volatile uint64_t* shm = nullptr;
        if (!shm_path.empty()) {
            const int fd = ::open(shm_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (fd < 0 || ::ftruncate(fd, 4096) != 0)
                throw std::runtime_error("--shm " + shm_path + ": " + std::strerror(errno));
            void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            ::close(fd);
            if (m == MAP_FAILED)
                throw std::runtime_error("--shm " + shm_path + ": " + std::strerror(errno));
            shm = static_cast<volatile uint64_t*>(m);
        }
        uint64_t received = 0;
        std::optional<std::array<uint8_t, 6>> own;
        if (!src_s.empty() && !(own = parse_mac(src_s)))
            throw std::runtime_error("--mac: not a MAC address: " + src_s);
        uint64_t own_source = 0, foreign_unicast = 0, broadcast = 0;
        auto classify = [&](std::span<const uint8_t> frame) {
            received++;
            if (frame.size() < 12)
                return;
            if (frame[0] & 1)
                broadcast += std::all_of(frame.begin(), frame.begin() + 6, [](uint8_t b) { return b == 0xff; });
            if (own && std::equal(own->begin(), own->end(), frame.begin() + 6))
                own_source++;
            if (own && !(frame[0] & 1) && !std::equal(own->begin(), own->end(), frame.begin()))
                foreign_unicast++;
        };
        const auto t0 = std::chrono::steady_clock::now();
        auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
        uint64_t echoed = 0;
        auto drain = [&] { s.receive(classify); };
        if (mode == "send") {
            const auto dst = parse_mac(dst_s);
            if (!dst || !own)
                throw std::runtime_error("send needs --dst and --mac (the source) MAC addresses");
            std::vector<uint8_t> f(size, 0);
            std::memcpy(f.data(), dst->data(), 6);
            std::memcpy(f.data() + 6, own->data(), 6);
            f[12] = 0x88;
            f[13] = 0xb5;
            uint64_t sent = 0;
            while (sent < count && !g_stop) {
                if (rate > 0) {
                    const double due = sent / rate;
                    while (elapsed() < due && !g_stop)
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
            const double end = elapsed() + seconds;
            while (!g_stop && elapsed() < end)
                if (s.wait(50))
                    drain();
        } else {
            double next_report = 1;
            uint64_t last = 0;
            while (!g_stop && (seconds <= 0 || elapsed() < seconds)) {
                if (!s.wait(100))
                    continue;
                s.receive([&](std::span<const uint8_t> frame) {
                    classify(frame);
                    if (mode != "echo" || frame.size() < 12)
                        return;
                    std::vector<uint8_t> back(frame.begin(), frame.end());
                    std::swap_ranges(back.begin(), back.begin() + 6, back.begin() + 6);
                    echoed += s.send(std::span<const uint8_t>(back));
                });
                if (shm)
                    *shm = received;
                if (elapsed() >= next_report) {
                    const auto st = s.stats();
                    std::fprintf(stderr, "vepa-xsk: %.0f s: %llu frames received (%llu/s)\n", elapsed(),
                                 static_cast<unsigned long long>(st.rx_packets),
                                 static_cast<unsigned long long>(st.rx_packets - last));
                    last = st.rx_packets;
                    next_report += 1;
                }
            }
        }
        const auto st = s.stats();
        const double t = elapsed();
        if (as_json)
            std::printf("{\"ifname\": \"%s\", \"queue\": %u, \"mode\": \"%s\", \"seconds\": %.3f, \"rx_packets\": %llu, "
                        "\"rx_bytes\": %llu, \"tx_packets\": %llu, \"tx_bytes\": %llu, \"echoed\": %llu, "
                        "\"rx_dropped\": %llu, \"rx_ring_full\": %llu, \"rx_fill_ring_empty\": %llu, "
                        "\"rx_invalid\": %llu, \"tx_invalid\": %llu, \"broadcast\": %llu, \"own_source\": %llu, "
                        "\"foreign_unicast\": %llu}\n",
                        ifname.c_str(), queue, mode.c_str(), t, (unsigned long long)st.rx_packets,
                        (unsigned long long)st.rx_bytes, (unsigned long long)st.tx_packets,
                        (unsigned long long)st.tx_bytes, (unsigned long long)echoed, (unsigned long long)st.rx_dropped,
                        (unsigned long long)st.rx_ring_full, (unsigned long long)st.rx_fill_ring_empty,
                        (unsigned long long)st.rx_invalid_descs, (unsigned long long)st.tx_invalid_descs,
                        (unsigned long long)broadcast, (unsigned long long)own_source,
                        (unsigned long long)foreign_unicast);
        else
            std::printf("%s queue %u, %s, %.1f s: received %llu frames (%.0f/s), sent %llu, kernel drops %llu\n",
                        ifname.c_str(), queue, mode.c_str(), t, (unsigned long long)st.rx_packets,
                        t > 0 ? st.rx_packets / t : 0.0, (unsigned long long)st.tx_packets,
                        (unsigned long long)st.rx_dropped);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "vepa-xsk: " << e.what() << "\n";
        return 1;
    }
}
