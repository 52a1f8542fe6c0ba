// vepa-tap-relay - stand in for QEMU in the lab and the tests: open a tap
// device the way QEMU does (non-persistent: the tap disappears when the
// process exits, as when a VM stops) and move frames between it and a guest
// NIC, here an interface in a network namespace with a real Linux stack.
//
//   vepa-tap-relay --tap TAP --guest-netns PATH --guest-if IFNAME
//
// Frames vepad delivers into the tap are sent out of IFNAME (the guest
// receives them); frames the guest transmits on IFNAME are written into the
// tap (vepad sees them as the VM's).  Runs until SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lib/netns.hpp"
#include "tools/cli.hpp"

namespace {

const char* kDescription = R"(vepa-tap-relay - a tap opened as QEMU opens it, relayed to a guest NIC

Opens the tap device TAP in the current network namespace the way QEMU does
(IFF_TAP | IFF_NO_PI, not persistent: the tap disappears when the relay exits,
as when a VM stops) and moves frames both ways between it and IFNAME in the
network namespace --guest-netns, which stands for the guest's NIC:
  TAP -> IFNAME   frames written into the tap (vepad delivering to the VM) are
                  sent out of IFNAME, so the guest's stack receives them
  IFNAME -> TAP   frames the guest transmits on IFNAME are written into the tap,
                  so vepad sees them as the VM's
Runs until SIGTERM or SIGINT; then reports on stderr the frames from the guest
that the kernel dropped because the relay was too slow to read them.

Exit status: 0 after a signal, 1 when the tap or the guest's socket cannot be
opened, 2 on a bad command line.)";

volatile sig_atomic_t g_stop = 0;

[[noreturn]] void die(const std::string& what)
{
    std::fprintf(stderr, "vepa-tap-relay: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

struct Options {
    std::string tap, netns, guest_if;
};

Options parse_options(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-tap-relay"};
    vepa::tools::use_wide_help(app);
    Options o;
    app.add_option("--tap", o.tap, "name of the tap device to create in the current namespace (e.g. tap1)")
        ->required()
        ->type_name("TAP")
        ->check(vepa::tools::kIfname);
    app.add_option("--guest-netns", o.netns,
                   "the guest's network namespace: a path (/run/netns/vm1) or a name under /run/netns")
        ->required()
        ->type_name("PATH");
    app.add_option("--guest-if", o.guest_if, "the guest's NIC: an interface in --guest-netns (e.g. qemu0)")
        ->required()
        ->type_name("IFNAME")
        ->check(vepa::tools::kIfname);
    vepa::tools::parse_or_exit(app, argc, argv);
    return o;
}

// The guest side: an AF_PACKET socket opened inside the guest's namespace, on
// every frame of ifname but those it sends itself.
int open_guest_socket(const std::string& netns, const std::string& ifname, int& ifindex)
{
    vepa::ScopedNetns in(netns);
    // Protocol 0 at creation, ETH_P_ALL and the interface together at bind(): a socket
    // created with a protocol would take frames of every interface until bound.
    const int pk = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (pk < 0)
        die("AF_PACKET socket");
    ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (!ifindex)
        die("guest interface " + ifname);
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(ETH_P_ALL);
    sa.sll_ifindex = ifindex;
    if (::bind(pk, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        die("bind to " + ifname);
    const int one = 1;
    ::setsockopt(pk, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    // A guest's NIC has a ring of its own: give the relay room when it is slow to run.
    const int bufsize = 8 << 20;
    ::setsockopt(pk, SOL_SOCKET, SO_RCVBUFFORCE, &bufsize, sizeof(bufsize));
    return pk;
}

// The host side: the tap, as QEMU opens it.
int open_tap(const std::string& name)
{
    const int tfd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tfd < 0)
        die("open /dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(tfd, TUNSETIFF, &ifr) != 0)
        die("TUNSETIFF " + name);
    return tfd;
}

// Moves frames both ways until a signal.
void relay(int tfd, int pk, int guest_ifindex)
{
    std::vector<char> buf(65536);
    constexpr int kBudget = 64;
    pollfd fds[2] = {{tfd, POLLIN, 0}, {pk, POLLIN, 0}};
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = guest_ifindex;
    to.sll_halen = 6;
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
        ssize_t n;
        for (int i = 0; i < kBudget && (n = ::read(tfd, buf.data(), buf.size())) > 0; i++) {
            std::memcpy(to.sll_addr, buf.data(), 6);
            ::sendto(pk, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
        }
        // guest -> host
        for (int i = 0; i < kBudget && (n = ::recv(pk, buf.data(), buf.size(), 0)) > 0; i++)
            (void)!::write(tfd, buf.data(), static_cast<size_t>(n));
    }
}

void report_guest_drops(int pk)
{
    tpacket_stats st{};
    socklen_t len = sizeof(st);
    if (::getsockopt(pk, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops)
        std::fprintf(stderr, "vepa-tap-relay: %u frames from the guest dropped (relay too slow)\n", st.tp_drops);
}

} // namespace

int main(int argc, char** argv)
{
    const Options o = parse_options(argc, argv);
    try {
        int gidx = 0;
        const int pk = open_guest_socket(o.netns, o.guest_if, gidx);
        const int tfd = open_tap(o.tap);
        struct sigaction sig {};
        sig.sa_handler = [](int) { g_stop = 1; };
        ::sigaction(SIGTERM, &sig, nullptr);
        ::sigaction(SIGINT, &sig, nullptr);
        std::fprintf(stderr, "vepa-tap-relay: %s <-> %s in %s\n", o.tap.c_str(), o.guest_if.c_str(), o.netns.c_str());
        relay(tfd, pk, gidx);
        report_guest_drops(pk);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "vepa-tap-relay: %s\n", e.what());
        return 1;
    }
}
