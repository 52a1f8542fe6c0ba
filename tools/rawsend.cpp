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
#include <cstring>
#include <string>
#include <vector>

#include "tools/cli.hpp"

namespace {

const char* kDescription = R"(vepa-rawsend - send a raw Ethernet frame out of an interface

Sends the frame HEX COUNT times out of IFNAME (AF_PACKET, in the current network
namespace; run it under `nsenter --net=...` for another).  For frames no stack
would send: PAUSE frames, spoofed source MACs, stacked VLAN tags.

HEX is the whole frame from the destination MAC on, without the FCS, as hex
digits: "ffffffffffff" "02000a14000b" "88b5" "0001...", at least 14 bytes.
It is sent as given: this tool pads nothing.

Exit status: 0 when every frame was sent, 1 when IFNAME is missing or a send
failed, 2 on a bad command line.)";

// "0a1b..." -> bytes; the message when it is not an even number of hex digits, 14 bytes or more.
std::string check_hex_frame(const std::string& hex)
{
    if (hex.size() % 2 || hex.size() < 28)
        return "HEX must be an even number of hex digits, 14 bytes or more";
    const size_t bad = hex.find_first_not_of("0123456789abcdefABCDEF");
    return bad == std::string::npos ? std::string() : "'" + hex.substr(bad & ~size_t{1}, 2) + "' is not hex";
}

std::vector<unsigned char> frame_of(const std::string& hex)
{
    std::vector<unsigned char> frame;
    for (size_t i = 0; i < hex.size(); i += 2)
        frame.push_back(static_cast<unsigned char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
    return frame;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepa-rawsend"};
    std::string ifname, hex;
    long count = 1;
    app.add_option("IFNAME", ifname, "interface to send on")->required()->type_name("")->check(vepa::tools::kIfname);
    app.add_option("HEX", hex, "the frame from the destination MAC on, as hex digits (no FCS)")
        ->required()
        ->type_name("")
        ->check(CLI::Validator(check_hex_frame, "", "HEX"));
    app.add_option("COUNT", count, "how many times to send it (default 1)")
        ->type_name("")
        ->check(vepa::tools::kNonNegative);
    vepa::tools::parse_or_exit(app, argc, argv);

    const std::vector<unsigned char> frame = frame_of(hex);
    const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    const unsigned idx = if_nametoindex(ifname.c_str());
    if (fd < 0 || !idx) {
        std::fprintf(stderr, "vepa-rawsend: %s: %s\n", ifname.c_str(), std::strerror(errno));
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
