// A port's VLAN membership (docs/VEPA-SEMANTICS.md, V rules): an untagged VLAN
// (frames without a tag from the guest leave tagged with it; frames of it reach
// the guest untagged) and a set of tagged VLANs (trunk), or every VLAN.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "vepa/abi.h"

namespace vepa {

struct PortVlans {
    uint16_t untagged = 0;     // 1..4094; 0: none (untagged frames stay untagged)
    std::set<uint16_t> tagged; // VIDs whose frames pass with their tag
    bool all_tagged = false;   // --trunk all: every VID passes tagged

    bool operator==(const PortVlans&) const = default;

    // Does a frame on the uplink side with this VID (0: untagged) reach the port?
    bool member(uint16_t vid) const;
    // The VIDs (0 = untagged) under which the port's MACs go in the MAC table.
    // A trunk-all port is keyed by VEPA_VID_ANY for its tagged VLANs.
    std::vector<uint16_t> mac_vids() const;
    // Could one frame belong to both ports (a MAC of both would be ambiguous)?
    bool overlaps(const PortVlans& o) const;
    bool empty() const { return untagged == 0 && tagged.empty() && !all_tagged; }
    // "" (none), "10", "10 +20,30", "+all", "+20-25"
    std::string str() const;
};

} // namespace vepa
