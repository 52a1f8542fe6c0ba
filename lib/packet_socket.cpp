#include "lib/packet_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include <cstring>

#include "lib/error.hpp"

namespace vepa {

UniqueFd open_packet_socket(int ifindex, uint16_t protocol)
{
    UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd)
        throw SysError(errno, "AF_PACKET socket");
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(protocol);
    sa.sll_ifindex = ifindex;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        throw SysError(errno, "bind AF_PACKET socket to ifindex " + std::to_string(ifindex));
    return fd;
}

void send_frame(int fd, int ifindex, const std::vector<uint8_t>& frame)
{
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = ifindex;
    to.sll_halen = 6;
    std::memcpy(to.sll_addr, frame.data(), 6);
    if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) < 0)
        throw SysError(errno, "send a frame out of ifindex " + std::to_string(ifindex));
}

std::optional<std::vector<uint8_t>> receive_frame(int fd)
{
    std::vector<uint8_t> buf(9216);
    for (;;) {
        sockaddr_ll from{};
        socklen_t fl = sizeof(from);
        const ssize_t n = ::recvfrom(fd, buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr*>(&from), &fl);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return std::nullopt;
            if (errno == EINTR)
                continue;
            throw SysError(errno, "receive from AF_PACKET socket");
        }
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        buf.resize(std::min<size_t>(static_cast<size_t>(n), buf.size()));
        return buf;
    }
}

} // namespace vepa
