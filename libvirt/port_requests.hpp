// libvirt/port_requests.hpp - what the hook asks vepad for a wanted port, and how it
// reads vepad's port objects (vepa/control.hpp): pure, unit-tested.
//
// Each port the hook makes carries the owner {"tool": "libvirt", "name": <domain
// name>, "id": <domain UUID>, "ifname": ""} (vepa/port_owner.hpp): release deletes
// exactly the ports whose owner is the domain's UUID, and a start never takes a port
// that is another's.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "libvirt/wanted_ports.hpp"
#include "vepa/port_owner.hpp"

namespace vepa::libvirt {

inline constexpr const char* kOwnerTool = "libvirt";

// The owner of the domain's ports.  The domain's name as vepad takes it: a character
// other than printable ASCII or a space becomes '_', at most 255 characters.
PortOwner domain_owner(const DomainPorts& d);

// add-port/set-port arguments that make vepad's port what the domain wants: every
// setting given (vlan and trunk null when none), so set-port also clears what the
// metadata no longer has; mode only when the metadata gives one; the owner.
nlohmann::json port_args(const WantedPort& w, const PortOwner& owner);

// Whether vepad's port object already has every setting of port_args(w, owner).
bool same_settings(const nlohmann::json& port, const WantedPort& w, const PortOwner& owner);

// The owner of vepad's port object; nullopt when it has none.
std::optional<PortOwner> owner_of(const nlohmann::json& port);

// Whether an existing port of w's name may be taken by this domain (at prepare and
// start, with set-port when it differs): it is the domain's (its owner has the domain's
// UUID: a start again, or a port a crash left behind), or it has no owner and the
// interface's MAC (made by hand for this guest).  Another owner's port, or an ownerless
// one with other MACs, is another guest's: the hook refuses.
bool may_take(const nlohmann::json& port, const WantedPort& w, const PortOwner& owner);

// Whether vepad's port is one of the domain's, to delete at release: its owner is the
// libvirt tool with the domain's UUID.
bool is_domains(const nlohmann::json& port, const PortOwner& owner);

// "tapvm1 (MAC 52:54:00:aa:00:01)", "the interface with MAC 52:54:00:aa:00:02"
std::string describe(const WantedPort& w);

} // namespace vepa::libvirt
