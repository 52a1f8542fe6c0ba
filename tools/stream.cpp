// vepa-stream - a steady, numbered stream of frames between two namespaces,
// counting exactly what arrives: sent, received, lost, duplicated, reordered.
//
//   vepa-stream --from-netns PATH --from-if IF --to-netns PATH --to-if IF
//               --src MAC --dst MAC [--rate PPS] [--seconds S] [--id N] [--json]
//
// The sender transmits RATE frames a second for S seconds (ethertype 0x88b7,
// payload: magic, stream id, sequence number); the receiver keeps listening
// 300 ms after the last frame.  Exit status 0 when nothing was lost.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "lib/netns.hpp"
#include "tools/cli.hpp"

namespace {

constexpr uint16_t kEtherType = 0x88b7;
constexpr uint32_t kMagic = 0x76657061;    // "vepa"
constexpr uint64_t kQuietNs = 300'000'000; // the receiver's wait after the last frame
constexpr int kExitFailure = 2;            // a socket that cannot be opened (as a bad command line)

const char* kDescription = R"(vepa-stream - a numbered stream of frames between two namespaces, counted

Sends --rate frames a second for --seconds from --from-if in --from-netns to
--to-if in --to-netns, and counts at the receiver exactly what arrives. Each
frame is 64 bytes: --dst, --src, ethertype 0x88b7, then the magic "vepa", the
stream's --id and a 64-bit sequence number. The receiver counts the frames of
its own stream (magic and id), keeps listening 300 ms after the last one is
sent, and reports:
  sent         frames the sender's socket accepted
  received     distinct sequence numbers received
  lost         sent - received
  duplicates   sequence numbers received more than once
  reordered    frames that arrived after a later one
  send_errors  sends the socket refused
  foreign      frames of another stream (same magic, another id), ids listed
  socket_drops frames the receiving socket dropped for want of buffer space
               (PACKET_STATISTICS: past the dataplane, the receiver was late)
as a line of text, or with --json as one JSON object (fields as above, and
"id" and "foreign_ids").

Namespaces are paths (/run/netns/NAME, /proc/PID/ns/net) or names under
/run/netns.

Exit status: 0 when nothing was lost, duplicated or refused; 1 otherwise; 2 on
a bad command line or a socket that cannot be opened.)";

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-stream: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(kExitFailure);
}

struct Options {
    std::string from_netns, from_if, to_netns, to_if, src, dst;
    double rate = 10000, seconds = 5;
    uint32_t id = 1;
    bool json = false;
};

void add_endpoint_options(CLI::App& app, Options& o)
{
    using vepa::tools::kIfname, vepa::tools::kMac;
    app.add_option("--from-netns", o.from_netns, "the sender's network namespace")->required()->type_name("PATH");
    app.add_option("--from-if", o.from_if, "the sender's interface in --from-netns")
        ->required()
        ->type_name("IF")
        ->check(kIfname);
    app.add_option("--to-netns", o.to_netns, "the receiver's network namespace")->required()->type_name("PATH");
    app.add_option("--to-if", o.to_if, "the receiver's interface in --to-netns")
        ->required()
        ->type_name("IF")
        ->check(kIfname);
    app.add_option("--src", o.src, "source MAC of the frames")->required()->type_name("MAC")->check(kMac);
    app.add_option("--dst", o.dst, "destination MAC of the frames")->required()->type_name("MAC")->check(kMac);
}

Options parse_options(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-stream"};
    vepa::tools::use_wide_help(app);
    Options o;
    add_endpoint_options(app, o);
    app.add_option("--rate", o.rate, "frames per second, evenly spaced (default 10000)")
        ->type_name("PPS")
        ->check(vepa::tools::kPositive);
    app.add_option("--seconds", o.seconds, "how long to send, in seconds; fractions allowed (default 5)")
        ->type_name("S")
        ->check(vepa::tools::kPositive);
    app.add_option("--id", o.id, "the stream's number, to tell concurrent streams apart (default 1)")->type_name("N");
    app.add_flag("--json", o.json, "print the counts as one JSON object instead of a line of text");
    vepa::tools::parse_or_exit(app, argc, argv);
    return o;
}

// An AF_PACKET socket on ifname inside the namespace ns.  The receiving one
// (rx) takes the stream's ethertype only, not the frames it sends itself, and
// has a deep buffer.
int open_socket(const std::string& ns, const std::string& ifname, int& ifindex, bool rx)
{
    vepa::ScopedNetns in(ns);
    // Protocol 0 at creation: a socket created with a protocol receives from every
    // interface until bind() narrows it; bind() sets protocol and interface at once.
    const int s = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (s < 0 || !ifindex)
        die("socket on " + ifname + " in " + ns);
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(rx ? kEtherType : 0);
    sa.sll_ifindex = ifindex;
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        die("bind " + ifname);
    if (rx) {
        const int size = 16 << 20, one = 1;
        ::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        ::setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    }
    return s;
}

uint64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// What the receiver counted of stream id, whose sequence numbers run 0 .. total-1.
struct Tally {
    Tally(uint32_t stream_id, uint64_t total) : id(stream_id), seen(total, 0) {}
    uint32_t id;
    std::vector<uint8_t> seen;
    uint64_t received = 0, dup = 0, reordered = 0, foreign = 0, last = 0;
    std::vector<uint32_t> foreign_ids; // the first 16

    void count(const unsigned char* frame, size_t len)
    {
        if (len < 30)
            return;
        uint32_t m, fid;
        uint64_t seq;
        std::memcpy(&m, frame + 14, 4);
        std::memcpy(&fid, frame + 18, 4);
        std::memcpy(&seq, frame + 22, 8);
        if (ntohl(m) != kMagic)
            return;
        if (ntohl(fid) != id) {
            foreign++;
            if (foreign_ids.size() < 16)
                foreign_ids.push_back(ntohl(fid));
            return;
        }
        if (seq >= seen.size())
            return;
        if (seen[seq]++)
            dup++;
        else
            received++;
        if (seq < last)
            reordered++;
        last = seq;
    }
};

// Counts frames on rx until the sender is done and nothing has come for kQuietNs.
void receive(int rx, const std::atomic<bool>& sending, Tally& tally)
{
    unsigned char buf[2048];
    uint64_t quiet_since = 0;
    for (;;) {
        pollfd p{rx, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) {
            if (!sending) {
                if (!quiet_since)
                    quiet_since = now_ns();
                else if (now_ns() - quiet_since > kQuietNs)
                    return;
            }
            continue;
        }
        quiet_since = 0;
        const ssize_t n = ::recv(rx, buf, sizeof(buf), 0);
        if (n > 0)
            tally.count(buf, static_cast<size_t>(n));
    }
}

struct Sent {
    uint64_t sent = 0, errors = 0;
};

// Sends total frames at rate, each with its sequence number at offset 22.
Sent send_stream(int tx, int ifindex, unsigned char (&frame)[64], double rate, uint64_t total)
{
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame, 6);
    const uint64_t start = now_ns();
    const double interval = 1e9 / rate;
    Sent s;
    for (uint64_t seq = 0; seq < total; seq++) {
        const uint64_t due = start + static_cast<uint64_t>(seq * interval);
        while (now_ns() < due) {
            const uint64_t left = due - now_ns();
            if (left > 200'000) {
                timespec ts{0, static_cast<long>(left - 100'000)};
                nanosleep(&ts, nullptr);
            }
        }
        std::memcpy(frame + 22, &seq, 8);
        if (::sendto(tx, frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == sizeof(frame))
            s.sent++;
        else
            s.errors++;
    }
    return s;
}

// Frames the receiving socket dropped (its buffer full): they reached the receiver's host.
uint64_t socket_drops(int rx)
{
    tpacket_stats st{};
    socklen_t len = sizeof(st);
    return ::getsockopt(rx, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 ? st.tp_drops : 0;
}

void report(const Tally& t, const Sent& s, uint64_t sock_drops, bool json)
{
    const uint64_t lost = s.sent - t.received;
    if (json) {
        std::string ids;
        for (auto f : t.foreign_ids)
            ids += (ids.empty() ? "" : ", ") + std::to_string(f);
        std::printf("{\"id\": %u, \"sent\": %lu, \"received\": %lu, \"lost\": %lu, \"duplicates\": %lu, "
                    "\"reordered\": %lu, \"send_errors\": %lu, \"foreign\": %lu, \"foreign_ids\": [%s], "
                    "\"socket_drops\": %lu}\n",
                    t.id, s.sent, t.received, lost, t.dup, t.reordered, s.errors, t.foreign, ids.c_str(), sock_drops);
    } else
        std::printf("stream %u: sent %lu, received %lu, lost %lu, duplicates %lu, reordered %lu, send errors %lu, "
                    "socket drops %lu\n",
                    t.id, s.sent, t.received, lost, t.dup, t.reordered, s.errors, sock_drops);
}

int run(const Options& o)
{
    unsigned char frame[64] = {};
    std::memcpy(frame, vepa::tools::mac_of(o.dst).bytes().data(), 6);
    std::memcpy(frame + 6, vepa::tools::mac_of(o.src).bytes().data(), 6);
    frame[12] = kEtherType >> 8;
    frame[13] = kEtherType & 0xff;
    const uint32_t magic = htonl(kMagic), nid = htonl(o.id);
    std::memcpy(frame + 14, &magic, 4);
    std::memcpy(frame + 18, &nid, 4);

    int tidx = 0, ridx = 0;
    const int tx = open_socket(o.from_netns, o.from_if, tidx, false);
    const int rx = open_socket(o.to_netns, o.to_if, ridx, true);
    const uint64_t total = static_cast<uint64_t>(o.rate * o.seconds);
    Tally tally(o.id, total);
    std::atomic<bool> sending{true};
    std::thread receiver([&] { receive(rx, sending, tally); });
    const Sent sent = send_stream(tx, tidx, frame, o.rate, total);
    sending = false;
    receiver.join();
    report(tally, sent, socket_drops(rx), o.json);
    return sent.sent == tally.received && tally.dup == 0 && sent.errors == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    const Options o = parse_options(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vepa-stream: %s\n", e.what());
        return kExitFailure;
    }
}
