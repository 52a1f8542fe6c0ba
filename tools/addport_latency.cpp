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
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lib/netns.hpp"
#include "tools/cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t kEtherType = 0x88b6;
constexpr auto kSendInterval = std::chrono::microseconds(50);
constexpr int kFirstFrameTimeoutMs = 5000;

const char* kDescription = R"(vepa-addport-latency - time from vepactl add-port to the port's first frame on the wire

Measures, on the lab (tools/lablib.sh), how long a port takes to forward after
`vepactl add-port`. A sender on --guest-if in --guest-netns (the port's guest
end) transmits a 64-byte frame every 50 us (--dst, --src, ethertype 0x88b6);
a receiver on --remote-if in --remote-netns (a host beyond the switch) waits
for them. Each of --runs runs:
  1. runs `VEPACTL [ARGS...] del-port NAME` (its failure is ignored: the port
     may not exist yet) and waits 100 ms, so no frame gets through;
  2. drops what the receiver has queued and starts the clock;
  3. runs `VEPACTL [ARGS...] add-port NAME` (its stdout discarded);
  4. stops the clock at the first frame received (fails after 5 s).
Prints each run's time and then the median, min and max, in milliseconds.

VEPACTL and its ARGS come after `--`, e.g.
  -- env VEPAD_SOCKET=/tmp/lab/vepad.sock build/cli/vepactl
Namespaces are paths (/run/netns/NAME) or names under /run/netns.

Exit status: 0 after every run, 1 when add-port fails, no frame arrives
within 5 s or a socket cannot be opened, 2 on a bad command line.)";

struct Options {
    std::string guest_netns, guest_if, remote_netns, remote_if, port, dst, src;
    int runs = 21;
    std::vector<std::string> vepactl;
};

Options parse_options(int argc, char** argv)
{
    using vepa::tools::kIfname, vepa::tools::kMac;
    CLI::App app{kDescription, "vepa-addport-latency"};
    vepa::tools::use_wide_help(app);
    Options o;
    app.add_option("--guest-netns", o.guest_netns, "namespace of the port's guest end (the sender)")
        ->required()
        ->type_name("PATH");
    app.add_option("--guest-if", o.guest_if, "the sender's interface in --guest-netns")
        ->required()
        ->type_name("IF")
        ->check(kIfname);
    app.add_option("--remote-netns", o.remote_netns, "namespace of a host beyond the switch (the receiver)")
        ->required()
        ->type_name("PATH");
    app.add_option("--remote-if", o.remote_if, "the receiver's interface in --remote-netns")
        ->required()
        ->type_name("IF")
        ->check(kIfname);
    app.add_option("--dst", o.dst, "destination MAC of the frames (the remote host's)")
        ->required()
        ->type_name("MAC")
        ->check(kMac);
    app.add_option("--src", o.src, "source MAC of the frames (the guest's)")->required()->type_name("MAC")->check(kMac);
    app.add_option("--port", o.port, "the port to delete and add again (vepactl's NAME)")
        ->required()
        ->type_name("NAME");
    app.add_option("--runs", o.runs, "number of runs (default 21)")->type_name("N")->check(vepa::tools::kPositive);
    app.add_option("VEPACTL", o.vepactl, "after --: the vepactl command line, before its command")
        ->required()
        ->type_name("[ARGS...]");
    vepa::tools::parse_or_exit(app, argc, argv);
    return o;
}

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-addport-latency: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

// An AF_PACKET socket on ifname inside the namespace ns, taking kEtherType.
int packet_socket(const std::string& ns, const std::string& ifname, int& ifindex)
{
    vepa::ScopedNetns in(ns);
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
    return s;
}

// Runs argv (stdout to /dev/null); its exit status, 128 when killed.
int run_command(const std::vector<std::string>& argv)
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

std::vector<std::string> vepactl_command(const Options& o, const char* command)
{
    std::vector<std::string> argv = o.vepactl;
    argv.insert(argv.end(), {command, o.port});
    return argv;
}

// One run: the port deleted, then added; milliseconds to its first frame, nullopt on failure.
std::optional<double> time_one_add(const Options& o, int rx)
{
    run_command(vepactl_command(o, "del-port")); // may fail on the first run if it was not there
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    char buf[2048];
    while (::recv(rx, buf, sizeof(buf), MSG_DONTWAIT) > 0) {}
    const auto t0 = Clock::now();
    if (run_command(vepactl_command(o, "add-port")) != 0) {
        std::fprintf(stderr, "vepa-addport-latency: add-port failed\n");
        return std::nullopt;
    }
    pollfd p{rx, POLLIN, 0};
    if (::poll(&p, 1, kFirstFrameTimeoutMs) != 1) {
        std::fprintf(stderr, "vepa-addport-latency: no frame within 5 s of add-port\n");
        return std::nullopt;
    }
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// A frame every kSendInterval out of tx until stop.
void send_until(const std::atomic<bool>& stop, int tx, int ifindex, const unsigned char (&frame)[64])
{
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame, 6);
    while (!stop) {
        ::sendto(tx, frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        std::this_thread::sleep_for(kSendInterval);
    }
}

int run(const Options& o)
{
    unsigned char frame[64] = {};
    std::memcpy(frame, vepa::tools::mac_of(o.dst).bytes().data(), 6);
    std::memcpy(frame + 6, vepa::tools::mac_of(o.src).bytes().data(), 6);
    frame[12] = kEtherType >> 8;
    frame[13] = kEtherType & 0xff;
    int gidx = 0, ridx = 0;
    const int tx = packet_socket(o.guest_netns, o.guest_if, gidx);
    const int rx = packet_socket(o.remote_netns, o.remote_if, ridx);

    std::atomic<bool> stop{false};
    std::thread sender([&] { send_until(stop, tx, gidx, frame); });
    std::vector<double> ms;
    for (int r = 0; r < o.runs; r++) {
        const std::optional<double> d = time_one_add(o, rx);
        if (!d)
            break;
        ms.push_back(*d);
        std::printf("run %2d: %.2f ms\n", r + 1, *d);
    }
    stop = true;
    sender.join();
    if (ms.size() != static_cast<size_t>(o.runs))
        return 1;
    std::sort(ms.begin(), ms.end());
    std::printf("add-port to first forwarded frame over %d runs: median %.2f ms, min %.2f ms, max %.2f ms\n", o.runs,
                ms[ms.size() / 2], ms.front(), ms.back());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    const Options o = parse_options(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vepa-addport-latency: %s\n", e.what());
        return 1;
    }
}
