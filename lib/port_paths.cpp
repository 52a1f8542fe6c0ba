#include "lib/port_paths.hpp"

namespace vepa {

PortKind port_kind(const LinkInfo& link)
{
    if (link.kind == "veth" && link.mac)
        return PortKind::Veth;
    // A tun device in tap mode has a MAC address; one in tun (L3) mode has none.
    if (link.kind == "tun" && link.mac)
        return PortKind::Tap;
    return PortKind::Unsupported;
}

std::string to_string(PortKind k)
{
    switch (k) {
    case PortKind::Veth:
        return "veth";
    case PortKind::Tap:
        return "tap";
    case PortKind::Unsupported:
        break;
    }
    return "unsupported";
}

bool takes_xdp_frames(const LinkInfo& link, std::optional<uint64_t> features)
{
    if (features)
        return *features & kXdpActNdoXmit;
    // Kernels before 6.3 cannot say: only a tap is known to take them unconditionally.
    return port_kind(link) == PortKind::Tap;
}

PortPaths choose_paths(const LinkInfo& port, std::optional<uint64_t> port_features, bool uplink_takes_xdp)
{
    PortPaths p;
    const PortKind kind = port_kind(port);
    if (takes_xdp_frames(port, port_features))
        p.delivery = VEPA_DELIVER_XDP;
    else if (kind == PortKind::Veth && port.link_netnsid)
        p.delivery = VEPA_DELIVER_TC_PEER;
    else
        p.delivery = VEPA_DELIVER_TC;
    p.xdp_egress = kind == PortKind::Tap && uplink_takes_xdp;
    return p;
}

std::string to_string(vepa_delivery d)
{
    switch (d) {
    case VEPA_DELIVER_XDP:
        return "xdp";
    case VEPA_DELIVER_TC_PEER:
        return "tc-peer";
    case VEPA_DELIVER_TC:
        return "tc";
    case VEPA_DELIVER_DOWN:
        return "down";
    default:
        return "?";
    }
}

} // namespace vepa
