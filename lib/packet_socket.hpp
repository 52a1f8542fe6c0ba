// AF_PACKET sockets on one interface: the frames vepad itself sends out of the
// uplink (reflection probes, LLDPDUs) and the LLDPDUs it receives there.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lib/fd.hpp"
#include "lib/mac.hpp"

namespace vepa {

// A non-blocking raw socket bound to ifindex.  protocol (host order) selects
// what it receives; 0 receives nothing (send only).  The protocol is given at
// bind(), together with the interface: a socket created with one receives
// frames of every interface until it is bound.
UniqueFd open_packet_socket(int ifindex, uint16_t protocol);

// Send one whole Ethernet frame out of ifindex; throws SysError.
void send_frame(int fd, int ifindex, const std::vector<uint8_t>& frame);

// One frame this host received (frames it sent itself are skipped); nullopt
// when none is waiting.  Throws SysError on a socket error.
std::optional<std::vector<uint8_t>> receive_frame(int fd);

} // namespace vepa
