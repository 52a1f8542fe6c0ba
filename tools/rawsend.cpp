// vepa-rawsend - send a raw Ethernet frame on an interface, for tests and the
// lab: frames no stack would send (PAUSE, spoofed sources, stacked VLAN tags).
//
//   vepa-rawsend IFNAME HEX [COUNT]
//
// HEX is the whole frame from the destination MAC on ("ffffffffffff0200...").
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    if (argc < 3 || argc > 4) {
        std::fprintf(stderr, "usage: vepa-rawsend IFNAME HEX [COUNT]\n");
        return 2;
    }
    const std::string hex = argv[2];
    if (hex.size() % 2 || hex.size() < 28) {
        std::fprintf(stderr, "vepa-rawsend: HEX must be an even number of hex digits, 14 bytes or more\n");
        return 2;
    }
    std::vector<unsigned char> frame;
    for (size_t i = 0; i < hex.size(); i += 2) {
        char* end = nullptr;
        const std::string byte = hex.substr(i, 2);
        const long v = std::strtol(byte.c_str(), &end, 16);
        if (*end) {
            std::fprintf(stderr, "vepa-rawsend: '%s' is not hex\n", byte.c_str());
            return 2;
        }
        frame.push_back(static_cast<unsigned char>(v));
    }
    const long count = argc == 4 ? std::strtol(argv[3], nullptr, 10) : 1;
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    const unsigned idx = if_nametoindex(argv[1]);
    if (fd < 0 || !idx) {
        std::fprintf(stderr, "vepa-rawsend: %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    sockaddr_ll sa{};
    sa.sll_family = AF_PACKET;
    sa.sll_ifindex = static_cast<int>(idx);
    sa.sll_halen = 6;
    std::memcpy(sa.sll_addr, frame.data(), 6);
    for (long i = 0; i < count; i++)
        if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
            std::fprintf(stderr, "vepa-rawsend: send: %s\n", std::strerror(errno));
            return 1;
        }
    return 0;
}
