// vepactl trace's FRAME argument: the frame as hex bytes, or built from fields.
//   hex:    "ffffffffffff0200..." (separators ' ', ':', '-', '.' between bytes allowed)
//   fields: "dst=MAC,src=MAC[,type=ETHERTYPE][,vlan=VID][,prio=P][,len=N]"
//           type: a number (0x0800, 2054) or ipv4, ipv6, arp, lldp (default ipv4);
//           vlan: an 802.1Q tag (VID 0-4095; repeat for stacked tags, outer first);
//           prio: the tags' priority (0-7); len: the whole frame in bytes as on the
//           wire, tags included (default 60: a minimum frame without its FCS).
//           An IPv4 or IPv6 frame gets a well-formed header (the kernel's test run
//           refuses shorter ones), the rest is zeros.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vepactl {

class FrameSpecError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// The frame FRAME describes; throws FrameSpecError saying what is wrong.
std::vector<uint8_t> parse_frame_spec(const std::string& spec);

} // namespace vepactl
