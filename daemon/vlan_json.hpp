// A port's VLANs as JSON, one form for the control protocol and the state file
// (vepa/control.hpp): "vlan" a VID or null, "trunk" an array of VIDs, "all",
// or null / [] (none).
#pragma once

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/port_vlans.hpp"

namespace vepad {

// A port's tagged VLANs as given: a VID set, or every VID.
struct Trunk {
    std::set<uint16_t> vids;
    bool all = false;
    bool operator==(const Trunk&) const = default;
};

// A "vlan" or "trunk" value that is not one; the message names the key and the value.
class VlanJsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// null: 0 (none); 1..4094: that VID.  Throws VlanJsonError.
uint16_t vlan_from_json(const nlohmann::json& v, const char* key = "vlan");
// null, []: none; "all"; [VID...].  Throws VlanJsonError.
Trunk trunk_from_json(const nlohmann::json& v, const char* key = "trunk");

nlohmann::json vlan_json(const vepa::PortVlans& v);  // the VID or null
nlohmann::json trunk_json(const vepa::PortVlans& v); // [VID...] (empty: none) or "all"

} // namespace vepad
