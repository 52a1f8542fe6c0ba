// Which hooks serve a port, decided from what its device can do.
//
// Delivery into a port (uplink -> port):
//   XDP devmap redirect when the device accepts XDP frames (the netdev family's
//   NDO_XMIT feature: always for a tap, for a veth only while its peer has NAPI,
//   i.e. GRO on or an XDP program); frames sent to a veth without it vanish.
//   Otherwise TC: bpf_redirect_peer when the veth's peer is in another netns (a
//   container: skips the host end's transmit path), else bpf_redirect.
// Egress from a port (port -> uplink):
//   XDP on a tap when the uplink accepts XDP frames (the guest's frames then never
//   become an skb on the host), TC otherwise.  Never XDP on a veth host end: it
//   takes GSO away from the peer and copies every skb into an XDP buffer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/netlink.hpp"
#include "vepa/abi.h"

namespace vepa {

enum class PortKind { Veth, Tap, Unsupported };

PortKind port_kind(const LinkInfo& link);
std::string to_string(PortKind k);

struct PortPaths {
    vepa_delivery delivery = VEPA_DELIVER_TC;
    bool xdp_egress = false;
};

// port_features: the port's XDP features (nullopt if the kernel cannot say).
PortPaths choose_paths(const LinkInfo& port, std::optional<uint64_t> port_features, bool uplink_takes_xdp);

// Whether a device accepts XDP_REDIRECT frames.
bool takes_xdp_frames(const LinkInfo& link, std::optional<uint64_t> features);

std::string to_string(vepa_delivery d);

} // namespace vepa
