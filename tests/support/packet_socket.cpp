#include "packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

namespace vepa::test {

PacketSocket::PacketSocket(const std::string& ifname, const Netns* ns) : name_(ifname)
{
    auto open = [&] {
        fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)));
        if (!fd_)
            throw std::runtime_error("AF_PACKET socket: " + std::string(std::strerror(errno)));
        ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (!ifindex_)
            throw std::runtime_error("no interface " + ifname);
        sockaddr_ll sa{};
        sa.sll_family = AF_PACKET;
        sa.sll_protocol = htons(ETH_P_ALL);
        sa.sll_ifindex = ifindex_;
        if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
            throw std::runtime_error("bind AF_PACKET to " + ifname + ": " + std::strerror(errno));
        const int size = 8 << 20;
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
    };
    if (ns)
        ns->run(open);
    else
        open();
}

std::vector<Bytes> PacketSocket::collect(int timeout_ms)
{
    std::vector<Bytes> out;
    Bytes buf(65536);
    for (;;) {
        sockaddr_ll from{};
        socklen_t len = sizeof(from);
        const ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
            if (from.sll_pkttype != PACKET_OUTGOING)
                out.emplace_back(buf.begin(), buf.begin() + n);
            continue;
        }
        if (timeout_ms <= 0)
            break;
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            break;
    }
    return out;
}

void PacketSocket::send(const Bytes& frame)
{
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_ifindex = ifindex_;
    sa.sll_halen = 6;
    std::memcpy(sa.sll_addr, frame.data(), 6);
    if (::sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) !=
        static_cast<ssize_t>(frame.size()))
        throw std::runtime_error("send on " + name_ + ": " + std::strerror(errno));
}

} // namespace vepa::test
