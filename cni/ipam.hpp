// cni/ipam.hpp - the delegated IPAM plugin: found by name in CNI_PATH, run with the
// same environment (CNI_COMMAND set to the command) and the same network config on stdin.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cni/config.hpp"

namespace vepa::cni {

// Run the IPAM plugin for `command` (ADD, DEL or CHECK) with env's CNI_* variables; its
// result (ADD) or null.
// Throws CniError (kIpamFailed, or the plugin's own error code and message).
nlohmann::json run_ipam(const Env& env, const Config& cfg, const std::string& command);

} // namespace vepa::cni
