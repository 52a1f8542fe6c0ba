// libvirt/vepad_sync.hpp - the hook's requests to vepad (vepa/control_client.hpp):
// make vepad's ports what a domain wants, and delete them when it is gone.  Each
// request waits at most kCallTimeoutMs, the connection included.
#pragma once

#include <vector>

#include "libvirt/wanted_ports.hpp"

namespace vepa::libvirt {

inline constexpr int kCallTimeoutMs = 2000;

// Adds each port vepad lacks, changes one of this guest's that differs (set-port), leaves
// one that is as wanted.  Throws VepadError when vepad refuses a port, when a port of that
// name is another guest's, or when vepad cannot be reached for a port with required="yes";
// a port with required="no" is then left out with a warning on stderr.
void attach_ports(const DomainPorts& d, const std::vector<WantedPort>& ports);

// Deletes the domain's ports: on each socket its metadata names, those whose owner is
// the domain's UUID.  Throws VepadError (after trying every socket) when vepad cannot be
// reached or refuses a deletion; a port already gone is fine.
void detach_ports(const DomainPorts& d);

} // namespace vepa::libvirt
