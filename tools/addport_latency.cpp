// vepa-addport-latency - time from `vepactl add-port` to the first frame of
// that port forwarded to the switch, measured on the lab (tools/lablib.sh).
//
//   vepa-addport-latency --guest-netns PATH --guest-if IF --remote-netns PATH --remote-if IF
//                        --dst MAC --src MAC --port NAME [--runs N] -- VEPACTL [ARGS...]
//
// A sender in the guest's namespace transmits a frame every 50 us; a receiver
// in the remote host's namespace waits for the first one.  Each run deletes the
// port (frames stop), starts the clock, runs `VEPACTL ARGS... add-port NAME`
// and stops the clock at the first frame received.  Prints each run and the
// median, min and max, in milliseconds.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t kEtherType = 0x88b6;

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-addport-latency: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

bool parse_mac(const std::string& s, unsigned char* out)
{
    return std::sscanf(s.c_str(), "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &out[0], &out[1], &out[2], &out[3], &out[4],
                       &out[5]) == 6;
}

// An AF_PACKET socket on ifname inside the namespace at path.
int packet_socket(const std::string& ns, const std::string& ifname, int& ifindex)
{
    const int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const int fd_ns = ::open(ns.c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || fd_ns < 0 || ::setns(fd_ns, CLONE_NEWNET) != 0)
        die("enter " + ns);
    // Protocol 0 at creation, protocol and interface together at bind(): no frame
    // from another interface slips in between.
    const int s = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (s < 0 || !ifindex)
        die("socket on " + ifname);
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(kEtherType);
    sa.sll_ifindex = ifindex;
    if (::bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        die("bind " + ifname);
    ::setns(home, CLONE_NEWNET);
    ::close(home);
    ::close(fd_ns);
    return s;
}

int run(const std::vector<std::string>& argv)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> a;
        for (const auto& s : argv)
            a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::execvp(a[0], a.data());
        _exit(127);
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

} // namespace

int main(int argc, char** argv)
{
    std::string gns, gif, rns, rif, port, dst_s, src_s;
    int runs = 21;
    std::vector<std::string> ctl;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--guest-netns") gns = next();
        else if (a == "--guest-if") gif = next();
        else if (a == "--remote-netns") rns = next();
        else if (a == "--remote-if") rif = next();
        else if (a == "--port") port = next();
        else if (a == "--dst") dst_s = next();
        else if (a == "--src") src_s = next();
        else if (a == "--runs") runs = std::atoi(next().c_str());
        else if (a == "--") { for (i++; i < argc; i++) ctl.emplace_back(argv[i]); }
        else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
    }
    unsigned char frame[64] = {};
    if (gns.empty() || rns.empty() || port.empty() || ctl.empty() || runs < 1 || !parse_mac(dst_s, frame) ||
        !parse_mac(src_s, frame + 6)) {
        std::fprintf(stderr, "usage: vepa-addport-latency --guest-netns P --guest-if IF --remote-netns P "
                             "--remote-if IF --dst MAC --src MAC --port NAME [--runs N] -- VEPACTL [ARGS]\n");
        return 2;
    }
    frame[12] = kEtherType >> 8;
    frame[13] = kEtherType & 0xff;
    int gidx = 0, ridx = 0;
    const int tx = packet_socket(gns, gif, gidx);
    const int rx = packet_socket(rns, rif, ridx);

    std::atomic<bool> stop{false};
    std::thread sender([&] {
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = gidx;
        to.sll_halen = 6;
        std::memcpy(to.sll_addr, frame, 6);
        while (!stop) {
            ::sendto(tx, frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });

    auto drain = [&] {
        char buf[2048];
        while (::recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0) {}
    };
    std::vector<double> ms;
    for (int r = 0; r < runs; r++) {
        std::vector<std::string> del = ctl, add = ctl;
        del.insert(del.end(), {"del-port", port});
        add.insert(add.end(), {"add-port", port});
        run(del);   // may fail on the first run if it was not there
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        drain();
        const auto t0 = Clock::now();
        if (run(add) != 0) {
            std::fprintf(stderr, "vepa-addport-latency: add-port failed\n");
            stop = true;
            sender.join();
            return 1;
        }
        pollfd p{rx, POLLIN, 0};
        if (::poll(&p, 1, 5000) != 1) {
            std::fprintf(stderr, "vepa-addport-latency: no frame within 5 s of add-port\n");
            stop = true;
            sender.join();
            return 1;
        }
        const double d = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        ms.push_back(d);
        std::printf("run %2d: %.2f ms\n", r + 1, d);
    }
    stop = true;
    sender.join();
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    std::printf("add-port to first forwarded frame over %d runs: median %.2f ms, min %.2f ms, max %.2f ms\n", runs,
                sorted[sorted.size() / 2], sorted.front(), sorted.back());
    return 0;
}
