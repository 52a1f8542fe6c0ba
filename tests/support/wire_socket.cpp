#include "tests/support/wire_socket.hpp"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <stdexcept>

#include "lib/packet_socket.hpp"

namespace vepa::test {

WireSocket::WireSocket(const std::string& ifname, const Netns* ns) : name_(ifname)
{
    auto open = [&] {
        ifindex_ = static_cast<int>(if_nametoindex(ifname.c_str()));
        if (!ifindex_)
            throw std::runtime_error("no interface " + ifname);
        fd_ = open_packet_socket(ifindex_, ETH_P_ALL);
        const int size = 8 << 20, one = 1;
        ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
        // The stack strips an outer VLAN tag on receive; ask for it back (as libpcap does).
        ::setsockopt(fd_.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one));
    };
    if (ns)
        ns->run(open);
    else
        open();
}

std::vector<Bytes> WireSocket::collect(int timeout_ms)
{
    std::vector<Bytes> out;
    Bytes buf(65536);
    char cbuf[CMSG_SPACE(sizeof(tpacket_auxdata))];
    for (;;) {
        sockaddr_ll from{};
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof(from);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf;
        msg.msg_controllen = sizeof(cbuf);
        const ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
        if (n > 0) {
            if (from.sll_pkttype == PACKET_OUTGOING)
                continue;
            Bytes f(buf.begin(), buf.begin() + n);
            for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
                    continue;
                tpacket_auxdata aux{};
                std::memcpy(&aux, CMSG_DATA(c), sizeof(aux));
                if ((aux.tp_status & TP_STATUS_VLAN_VALID) && f.size() >= 12) {
                    const uint16_t tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : 0x8100;
                    const uint8_t tag[4] = {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid),
                                            static_cast<uint8_t>(aux.tp_vlan_tci >> 8),
                                            static_cast<uint8_t>(aux.tp_vlan_tci)};
                    f.insert(f.begin() + 12, tag, tag + 4);
                }
            }
            out.push_back(std::move(f));
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

void WireSocket::send(const Bytes& frame)
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
