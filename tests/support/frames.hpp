// Crafting Ethernet frames for tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/mac.hpp"

namespace vepa::test {

using Bytes = std::vector<uint8_t>;

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthArp = 0x0806;
constexpr uint16_t kEthPause = 0x8808;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinq = 0x88a8;
constexpr uint16_t kEthTest = 0x88b5; // IEEE local experimental ethertype

// dst, src, optional VLAN tags (TPIDs, outermost first), ethertype, then
// payload_len bytes of payload; the payload starts with a 4-byte tag so each
// frame is recognisable at a sink.
Bytes eth_frame(const Mac& dst, const Mac& src, uint16_t ethertype, size_t payload_len,
                const std::vector<uint16_t>& vlan_tpids = {}, uint32_t tag = 0);

// The tag eth_frame() wrote, or 0 if the frame is not one of ours.
uint32_t frame_tag(const Bytes& f);

Mac mac_dst(const Bytes& f);
Mac mac_src(const Bytes& f);

std::string hex(const Bytes& b, size_t max = 64);

Mac mac(const char* s); // Mac::parse or throw
extern const Mac kBroadcast;

} // namespace vepa::test

namespace vepa::test {
// An ARP request from (sha, spa) asking for tpa (addresses in network order bytes "a.b.c.d").
Bytes arp_request(const Mac& sha, const char* spa, const char* tpa, uint32_t tag = 0);
// True when f is an ARP reply from sha.
bool is_arp_reply_from(const Bytes& f, const Mac& sha);
} // namespace vepa::test
