// How an XDP program runs on a device: in the driver (native) or on the skb
// path (generic); auto tries native, then generic.
#pragma once

#include <optional>
#include <string>

namespace vepa {

enum class XdpMode { Auto, Native, Generic };

std::string to_string(XdpMode m);
std::optional<XdpMode> parse_xdp_mode(const std::string& s);

} // namespace vepa
