// What the reconciler found and made of each port and of the uplink.  States
// are enums; their names exist only where they are rendered (to_string).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/attach.hpp"
#include "daemon/rx_filter.hpp"
#include "lib/mac.hpp"
#include "vepa/abi.h"

namespace vepad {

enum class PortState {
    Absent,      // no device of that name
    Up,          // present, admin up with carrier (xsk: and every queue has its socket)
    Down,        // present, not up: in the maps, frames to it are dropped as port_down
    Unsupported, // present but cannot be a port (reason says why)
};

// Which of vepad's programs a port's frames meet first.
enum class Attach { None, Tc, XdpNative, XdpGeneric };

enum class LinkState { Absent, Up, Down };

const char* to_string(PortState s);
const char* to_string(Attach a);
const char* to_string(LinkState s);

struct PortStatus {
    std::string name;
    int ifindex = 0;
    PortState state = PortState::Absent;
    std::string reason;          // why unsupported or down, or a MAC left out
    std::string kind;            // veth, tap, xsk, or the device's own kind
    std::vector<vepa::Mac> macs; // installed in the MAC table
    bool learned = false;        // macs are the guest's, learned
    std::optional<vepa_delivery> delivery;
    Attach attach = Attach::None;
    // xsk ports: the socket device, and the queues whose XSKMAP slot holds a socket bound to that queue.
    int xsk_ifindex = 0;
    std::vector<uint32_t> xsk_sockets;

    // In the maps: up or down.
    bool present() const { return state == PortState::Up || state == PortState::Down; }
};

struct UplinkStatus {
    std::string name;
    int ifindex = 0;
    LinkState state = LinkState::Absent;
    std::optional<vepa::Mac> mac;
    bool takes_xdp = false;                 // accepts XDP_REDIRECT frames
    std::optional<vepa::XdpAttachment> xdp; // our XDP program there
    std::optional<vepa::TcAttachment> tc;   // our TC program there
    RxFilterStatus rx_filter;
};

} // namespace vepad
