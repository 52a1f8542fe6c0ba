// libvirt/port_requests.hpp - what the hook asks vepad for a wanted port, and how it
// reads vepad's port objects (vepa/control.hpp): pure, unit-tested.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "libvirt/wanted_ports.hpp"

namespace vepa::libvirt {

// add-port/set-port arguments that make vepad's port what the domain wants: every
// setting given (vlan and trunk null when none), so set-port also clears what the
// metadata no longer has; mode only when the metadata gives one.
nlohmann::json port_args(const WantedPort& w);

// Whether vepad's port object already has every setting of port_args(w).
bool same_settings(const nlohmann::json& port, const WantedPort& w);

// Whether an existing port of w's name may be taken by this domain (at prepare and
// start): its MACs are the interface's (the same guest: a start again, or a port a
// crash left behind).  A port with other MACs is another guest's: the hook refuses.
bool may_take(const nlohmann::json& port, const WantedPort& w);

// Whether vepad's port is one the domain's release must delete: its name is w's (when
// the XML still names the tap) and its MACs are w's MAC (when known).  When the name or
// the MAC is not known, only once its device is gone (state "absent"), so that a running
// guest's port is never taken for this one's.
enum class Release { No, Yes, WhenAbsent };
Release release_match(const nlohmann::json& port, const WantedPort& w);

// "tapvm1 (MAC 52:54:00:aa:00:01)", "the interface with MAC 52:54:00:aa:00:02"
std::string describe(const WantedPort& w);

} // namespace vepa::libvirt
