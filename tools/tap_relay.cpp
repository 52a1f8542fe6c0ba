// vepa-tap-relay - stand in for QEMU in the lab and the tests: open a tap
// device the way QEMU does (non-persistent: the tap disappears when the
// process exits, as when a VM stops) and move frames between it and a guest
// NIC, here an interface in a network namespace with a real Linux stack.
//
//   vepa-tap-relay --tap TAP --guest-netns PATH --guest-if IFNAME [--mac MAC]
//
// Frames vepad delivers into the tap are sent out of IFNAME (the guest
// receives them); frames the guest transmits on IFNAME are written into the
// tap (vepad sees them as the VM's).  Runs until SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-tap-relay: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

void usage()
{
    std::fprintf(stderr,
                 "usage: vepa-tap-relay --tap TAP --guest-netns PATH --guest-if IFNAME\n"
                 "  Open TAP as QEMU does and relay frames to and from IFNAME in the\n"
                 "  network namespace PATH (e.g. /run/netns/vm1), the guest's NIC.\n");
    std::exit(2);
}

} // namespace

int main(int argc, char** argv)
{
    std::string tap, netns, guest_if;
    for (int i = 1; i < argc; i++) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc)
                usage();
            return argv[++i];
        };
        if (a == "--tap")
            tap = next();
        else if (a == "--guest-netns")
            netns = next();
        else if (a == "--guest-if")
            guest_if = next();
        else
            usage();
    }
    if (tap.empty() || netns.empty() || guest_if.empty() || tap.size() >= IFNAMSIZ)
        usage();

    // The guest side: an AF_PACKET socket opened inside the guest's namespace.
    const int home = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int gns = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || gns < 0)
        die("open namespace " + netns);
    if (::setns(gns, CLONE_NEWNET) != 0)
        die("enter " + netns);
    // Protocol 0 at creation, ETH_P_ALL and the interface together at bind(): a socket
    // created with a protocol would take frames of every interface until bound.
    const int pk = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pk < 0)
        die("AF_PACKET socket");
    const unsigned gidx = if_nametoindex(guest_if.c_str());
    if (!gidx)
        die("guest interface " + guest_if);
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(ETH_P_ALL);
    sa.sll_ifindex = static_cast<int>(gidx);
    if (::bind(pk, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        die("bind to " + guest_if);
    const int one = 1;
    ::setsockopt(pk, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    // A guest's NIC has a ring of its own: give the relay room when it is slow to run.
    const int bufsize = 8 << 20;
    ::setsockopt(pk, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize));
    if (::setns(home, CLONE_NEWNET) != 0)
        die("return to own namespace");

    // The host side: the tap, as QEMU opens it.
    const int tfd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tfd < 0)
        die("open /dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, tap.c_str(), IFNAMSIZ - 1);
    if (::ioctl(tfd, TUNSETIFF, &ifr) != 0)
        die("TUNSETIFF " + tap);

    struct sigaction sig{};
    sig.sa_handler = [](int) { g_stop = 1; };
    ::sigaction(SIGTERM, &sig, nullptr);
    ::sigaction(SIGINT, &sig, nullptr);
    std::fprintf(stderr, "vepa-tap-relay: %s <-> %s in %s\n", tap.c_str(), guest_if.c_str(), netns.c_str());

    std::vector<char> buf(65536);
    constexpr int kBudget = 64;
    pollfd fds[2] = {{tfd, POLLIN, 0}, {pk, POLLIN, 0}};
    while (!g_stop) {
        if (::poll(fds, 2, 500) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        // Each direction at most kBudget frames a round, as a virtio queue has its
        // budget: a direction that never runs dry (a 10 kpps stream) must not
        // starve the other, whose queue would overflow meanwhile.
        // host -> guest
        for (int i = 0; i < kBudget; i++) {
            const ssize_t n = ::read(tfd, buf.data(), buf.size());
            if (n <= 0)
                break;
            sockaddr_ll to{};
            to.sll_family = AF_PACKET;
            to.sll_ifindex = static_cast<int>(gidx);
            to.sll_halen = 6;
            std::memcpy(to.sll_addr, buf.data(), 6);
            ::sendto(pk, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        }
        // guest -> host
        for (int i = 0; i < kBudget; i++) {
            const ssize_t n = ::recv(pk, buf.data(), buf.size(), 0);
            if (n <= 0)
                break;
            (void)!::write(tfd, buf.data(), static_cast<size_t>(n));
        }
    }
    tpacket_stats st{};
    socklen_t len = sizeof(st);
    if (::getsockopt(pk, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops)
        std::fprintf(stderr, "vepa-tap-relay: %u frames from the guest dropped (relay too slow)\n", st.tp_drops);
    return 0;
}
