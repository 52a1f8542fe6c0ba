#include "lib/xdp_mode.hpp"

namespace vepa {

std::string to_string(XdpMode m)
{
    switch (m) {
    case XdpMode::Auto:
        return "auto";
    case XdpMode::Native:
        return "native";
    case XdpMode::Generic:
        return "generic";
    }
    return "?";
}

std::optional<XdpMode> parse_xdp_mode(const std::string& s)
{
    for (XdpMode m : {XdpMode::Auto, XdpMode::Native, XdpMode::Generic})
        if (s == to_string(m))
            return m;
    return std::nullopt;
}

} // namespace vepa
