#include "daemon/port_status.hpp"

namespace vepad {

const char* to_string(PortState s)
{
    switch (s) {
    case PortState::Absent:
        return "absent";
    case PortState::Up:
        return "up";
    case PortState::Down:
        return "down";
    case PortState::Unsupported:
        return "unsupported";
    }
    return "?";
}

const char* to_string(Attach a)
{
    switch (a) {
    case Attach::None:
        return "";
    case Attach::Tc:
        return "tc";
    case Attach::XdpNative:
        return "xdp native";
    case Attach::XdpGeneric:
        return "xdp generic";
    }
    return "?";
}

const char* to_string(LinkState s)
{
    switch (s) {
    case LinkState::Absent:
        return "absent";
    case LinkState::Up:
        return "up";
    case LinkState::Down:
        return "down";
    }
    return "?";
}

} // namespace vepad
