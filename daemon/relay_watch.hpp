// Does the switch reflect for the ports that need it?  The verdict (the
// reflection probe first, the bridge's 802.1Qbg EVB TLV otherwise) and one
// warning per episode while the switch does not reflect and two or more
// ports are in vepa or private mode (their VMs cannot reach each other).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/lldp_agent.hpp"
#include "daemon/port_table.hpp"
#include "daemon/reflection_probe.hpp"

namespace vepad {

// Ports whose local peers are reached only through the switch's reflective relay.
size_t ports_needing_relay(const PortTable& table);

class RelayWatch {
public:
    RelayWatch(const ReflectionProbe& probe, const LldpAgent& lldp, std::string uplink);
    // Warn when the episode starts; quiet while it lasts.
    void check(const PortTable& table);
    // The verdict: "reflecting", "not-reflecting" or "unknown", and what said so ("probe", "lldp").
    struct Verdict {
        std::string state = "unknown";
        std::optional<std::string> by;
    };
    Verdict verdict() const;
    nlohmann::json to_json() const;

private:
    const ReflectionProbe& probe_;
    const LldpAgent& lldp_;
    std::string uplink_;
    bool warned_ = false;
};

} // namespace vepad
