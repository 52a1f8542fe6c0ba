// cni/vepad.hpp - the plugin's requests to vepad (vepa/control_client.hpp).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cni/config.hpp"

namespace vepa::cni {

// add-port for the host end, owned by the container (network name, container id,
// ifname); macs only when the runtime asked for one.
// Throws CniError: kVepadUnreachable, kVepadRefused.
void add_port(const Config& cfg, const Env& env, const std::string& host_name, const std::optional<Mac>& mac);

// del-port; false when vepad is unreachable or has no such port.
bool del_port(const Config& cfg, const std::string& host_name);

// The port object from list, nullopt when absent.  Throws CniError(kVepadUnreachable).
std::optional<nlohmann::json> find_port(const Config& cfg, const std::string& host_name);
// Every port object list returns.  Throws CniError(kVepadUnreachable).
nlohmann::json list_ports(const Config& cfg);
// The status object.  Throws CniError(kVepadUnreachable).
nlohmann::json vepad_status(const Config& cfg);

// Waits (up to timeout_ms) for list to show the port up; throws CniError(kPortNotUp).
void wait_port_up(const Config& cfg, const std::string& host_name, int timeout_ms);

} // namespace vepa::cni
