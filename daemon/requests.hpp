// Control requests, parsed and validated from one line of the protocol
// (vepa/control.hpp) into typed commands: everything a client can send is
// checked here, before any of it reaches the port table.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/monitor_event.hpp"
#include "daemon/stream_sink.hpp"
#include "daemon/vlan_json.hpp"
#include "lib/fd.hpp"
#include "lib/mac.hpp"
#include "vepa/abi.h"
#include "vepa/port_owner.hpp"

namespace vepad {

struct PortArgs { // add-port and set-port; an argument not given is nullopt (set-port: unchanged)
    std::string name;
    std::optional<std::vector<vepa::Mac>> macs;
    std::optional<vepa_mode> mode;
    std::optional<bool> src_check;
    std::optional<uint16_t> vlan; // the untagged VLAN; 0: none ("vlan": null)
    std::optional<Trunk> trunk;   // the tagged VLANs; empty: none ("trunk": null or [])
    std::optional<std::optional<vepa::PortOwner>> owner; // given: the owner, or none ("owner": null)

    // The port's VLANs with those given here (vlan, trunk) in place.
    vepa::PortVlans vlans(vepa::PortVlans v = {}) const;
};
struct AddPort : PortArgs {
    bool xsk = false; // type "xsk"
    std::optional<uint16_t> queues;
};
struct SetPort : PortArgs {};
struct DelPort {
    std::string name;
};
struct List {};
struct Stats {
    std::optional<std::string> name;
};
struct Status {};
struct ProbeRelay {}; // "probe": check the switch's reflective relay now
struct AttachXsk {    // an AF_XDP socket for an xsk port's queue
    std::string port;
    uint32_t queue = 0;
    std::shared_ptr<vepa::UniqueFd> fd; // passed with the request (SCM_RIGHTS); set by the server
};
struct Shutdown {
    std::optional<bool> detach;
};
struct Metrics {}; // the Prometheus text exposition
struct Monitor {   // a stream of decision events
    MonitorFilter filter;
    std::shared_ptr<StreamSink> sink; // where the events go; set by the server
};

struct Trace {      // what would happen to a frame (daemon/trace.hpp)
    std::string from; // a port's name or "uplink"
    std::vector<uint8_t> frame;
};

using PortCommand = std::variant<AddPort, SetPort, DelPort>;
struct Batch { // port commands as one (PortService::batch)
    std::vector<PortCommand> commands;
};

using Command = std::variant<AddPort, SetPort, DelPort, List, Stats, Status, ProbeRelay, AttachXsk, Shutdown, Metrics,
                             Monitor, Trace, Batch>;

struct Request {
    nlohmann::json id; // echoed back (null when absent)
    Command cmd;
};

// Parse one request line.  Throws CommandError (bad-request, unknown-command,
// invalid-argument) with the request's id in *id_out when it could be read, and
// the command's name (a proto::k* constant) in *cmd_out once it is known.
Request parse_request(std::string_view line, nlohmann::json* id_out = nullptr, const char** cmd_out = nullptr);

// The JSON nesting a request may have.
constexpr int kMaxRequestDepth = 32;

} // namespace vepad
