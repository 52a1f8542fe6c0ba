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
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
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

namespace {

constexpr uint16_t kEtherType = 0x88b7;
constexpr uint32_t kMagic = 0x76657061;   // "vepa"

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-stream: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(2);
}

bool parse_mac(const std::string& s, unsigned char* out)
{
    return std::sscanf(s.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4],
                       &out[5]) == 6;
}

int open_socket(const std::string& ns, const std::string& ifname, int& ifindex, bool rx)
{
    const int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int fd_ns = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || fd_ns < 0 || ::setns(fd_ns, CLONE_NEWNET) != 0)
        die("enter " + ns);
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
    ::setns(home, CLONE_NEWNET);
    ::close(home);
    ::close(fd_ns);
    return s;
}

uint64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace

int main(int argc, char** argv)
{
    std::string fns, fif, tns, tif, src, dst;
    double rate = 10000, seconds = 5;
    uint32_t id = 1;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--from-netns") fns = next();
        else if (a == "--from-if") fif = next();
        else if (a == "--to-netns") tns = next();
        else if (a == "--to-if") tif = next();
        else if (a == "--src") src = next();
        else if (a == "--dst") dst = next();
        else if (a == "--rate") rate = std::atof(next().c_str());
        else if (a == "--seconds") seconds = std::atof(next().c_str());
        else if (a == "--id") id = static_cast<uint32_t>(std::atoi(next().c_str()));
        else if (a == "--json") json = true;
        else { std::fprintf(stderr, "vepa-stream: unknown argument %s\n", a.c_str()); return 2; }
    }
    unsigned char frame[64] = {};
    if (fns.empty() || fif.empty() || tns.empty() || tif.empty() || !parse_mac(dst, frame) || !parse_mac(src, frame + 6) ||
        rate <= 0 || seconds <= 0) {
        std::fprintf(stderr, "usage: vepa-stream --from-netns P --from-if IF --to-netns P --to-if IF --src MAC "
                             "--dst MAC [--rate PPS] [--seconds S] [--id N] [--json]\n");
        return 2;
    }
    frame[12] = kEtherType >> 8;
    frame[13] = kEtherType & 0xff;
    const uint32_t magic = htonl(kMagic), nid = htonl(id);
    std::memcpy(frame + 14, &magic, 4);
    std::memcpy(frame + 18, &nid, 4);

    int tidx = 0, ridx = 0;
    const int tx = open_socket(fns, fif, tidx, false);
    const int rx = open_socket(tns, tif, ridx, true);
    const uint64_t total = static_cast<uint64_t>(rate * seconds);
    std::vector<uint8_t> seen(total, 0);
    std::atomic<bool> sending{true};
    uint64_t received = 0, dup = 0, reordered = 0, foreign = 0;
    std::vector<uint32_t> foreign_ids;

    std::thread receiver([&] {
        unsigned char buf[2048];
        uint64_t last = 0, quiet_since = 0;
        for (;;) {
            pollfd p{rx, POLLIN, 0};
            const int r = ::poll(&p, 1, 20);
            if (r <= 0) {
                if (!sending) {
                    if (!quiet_since)
                        quiet_since = now_ns();
                    else if (now_ns() - quiet_since > 300'000'000ull)
                        return;
                }
                continue;
            }
            quiet_since = 0;
            const ssize_t n = ::recv(rx, buf, sizeof(buf), 0);
            if (n < 30)
                continue;
            uint32_t m, fid;
            uint64_t seq;
            std::memcpy(&m, buf + 14, 4);
            std::memcpy(&fid, buf + 18, 4);
            std::memcpy(&seq, buf + 22, 8);
            if (ntohl(m) != kMagic || ntohl(fid) != id || seq >= total) {
                if (ntohl(m) == kMagic && ntohl(fid) != id) {
                    foreign++;
                    if (foreign_ids.size() < 16)
                        foreign_ids.push_back(ntohl(fid));
                }
                continue;
            }
            if (seen[seq]++)
                dup++;
            else
                received++;
            if (seq < last)
                reordered++;
            last = seq;
        }
    });

    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = tidx;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame, 6);
    const uint64_t start = now_ns();
    const double interval = 1e9 / rate;
    uint64_t sent = 0, send_errors = 0;
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
            sent++;
        else
            send_errors++;
    }
    sending = false;
    receiver.join();
    const uint64_t lost = sent - received;
    if (json) {
        std::string ids;
        for (auto f : foreign_ids)
            ids += (ids.empty() ? "" : ", ") + std::to_string(f);
        std::printf("{\"id\": %u, \"sent\": %lu, \"received\": %lu, \"lost\": %lu, \"duplicates\": %lu, "
                    "\"reordered\": %lu, \"send_errors\": %lu, \"foreign\": %lu, \"foreign_ids\": [%s]}\n",
                    id, sent, received, lost, dup, reordered, send_errors, foreign, ids.c_str());
    }
    else
        std::printf("stream %u: sent %lu, received %lu, lost %lu, duplicates %lu, reordered %lu, send errors %lu\n", id,
                    sent, received, lost, dup, reordered, send_errors);
    return lost == 0 && dup == 0 && send_errors == 0 ? 0 : 1;
}
