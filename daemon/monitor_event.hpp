// Decision records (struct vepa_event) as vepactl monitor's clients see them:
// the record with names (ports, rules, actions, reasons) in JSON, and the
// filters a client asks for.  Pure functions: unit-tested without BPF.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/mac.hpp"
#include "vepa/abi.h"

namespace vepad {

// A configured port as events name it, by its counters slot.
struct SlotPort {
    std::string name;
    std::vector<vepa::Mac> macs; // what anti-spoofing allows (shown for T5 drops)
};
using PortsBySlot = std::unordered_map<uint16_t, SlotPort>;

// What a monitor client asked for (args of the monitor request, vepa/control.hpp).
struct MonitorFilter {
    std::optional<std::string> port; // sender or receiver; "uplink" for the uplink
    std::optional<vepa::Mac> mac;    // source or destination
    bool drops = false;              // drops only
    std::optional<uint8_t> rule;     // enum vepa_rule
    std::optional<uint16_t> vlan;
    uint32_t sample = 0;             // forwarding decisions, one in sample; 0: none (drops only)
    uint32_t rate = 0;               // records per second per CPU; 0: the daemon's default
    bool payload = false;            // the frame's first bytes too ("payload": hex)

    bool wants_forwarding() const { return sample != 0 && !drops; }
};

const char* prog_name(uint8_t prog);
const char* rule_name(uint8_t rule);     // "T5", "" for VEPA_RULE_NONE
const char* action_name(uint8_t action); // "drop", "redirect", "redirect-peer", "host", "fan-out", "probe"
std::optional<uint8_t> parse_rule(std::string_view s); // "T5" (any case) -> VEPA_RULE_T5

// The event object of vepa/control.hpp; wall_offset_ns: CLOCK_REALTIME - CLOCK_MONOTONIC.
nlohmann::json event_json(const vepa_event& e, const PortsBySlot& ports, int64_t wall_offset_ns);

// The captured bytes as lower-case hex, two digits a byte ("payload" of the event object).
std::string payload_hex(const vepa_event_payload& p);

// Whether an event object passes the filter (sampling aside).
bool filter_matches(const MonitorFilter& f, const nlohmann::json& event);

} // namespace vepad
