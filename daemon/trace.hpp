// vepactl trace: what would happen to a frame, without touching anything.
// The frame goes through the explain programs (lib/explain.hpp) of the device
// it comes from, against the live maps; a frame out the uplink goes on through
// the adjacent switch, modelled from the reflection state (reflecting, not,
// unknown), and, when the switch sends it back, through the uplink's explain
// programs.  Each hop is reported with the rule that decided, and the trace
// ends in one verdict: delivered (to ports, the host, the network beyond the
// switch) or dropped (by vepad, with its reason, or by the switch).
//
// Pure: the explain programs are reached through a function, so the hops and
// the verdict are unit-tested with made-up decisions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/monitor_event.hpp"
#include "lib/dataplane.hpp"
#include "lib/explain.hpp"
#include "lib/mac.hpp"

namespace vepad {

// A device a traced frame may arrive on.
struct TraceDevice {
    int ifindex = 0;
    bool xdp = false; // vepad's XDP program runs first there (else TC alone)
};

// What a trace knows of the host: the uplink, the ports, the switch.
struct TraceHost {
    std::string uplink;
    TraceDevice uplink_dev;
    bool uplink_up = true;                       // with carrier: frames out of it reach the switch
    std::vector<vepa::Mac> local_macs;           // the switch learned them from this host: ports' and the uplink's
    std::map<std::string, TraceDevice> ports;    // present ports by name
    PortsBySlot names;                           // configured ports by slot
    std::string reflection = "unknown";          // "reflecting", "not-reflecting", "unknown"
    std::optional<std::string> reflection_by;    // "probe", "lldp"
};

using ExplainFn = std::function<vepa::Explanation(vepa::Program, int ifindex, const std::vector<uint8_t>& frame)>;

// The trace of frame from `from` (a port's name or "uplink"): the trace object
// of vepa/control.hpp.  Throws CommandError when from is not a present port.
nlohmann::json trace(const TraceHost& host, const std::string& from, const std::vector<uint8_t>& frame,
                     const ExplainFn& explain);

// The frame as the uplink puts it on the wire: with the tag of VLAN vid in the
// data when the frame carries no tag there (TC keeps a pushed tag in metadata).
std::vector<uint8_t> wire_frame(std::vector<uint8_t> out, uint16_t vid);

} // namespace vepad
