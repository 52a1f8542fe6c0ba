// cni/commands.hpp - the plugin's commands; each returns the JSON to print on success
// and throws CniError on failure.
#pragma once

#include <nlohmann/json.hpp>

#include "cni/config.hpp"

namespace vepa::cni {

nlohmann::json cmd_add(const Env& env, const Config& cfg);
nlohmann::json cmd_del(const Env& env, const Config& cfg);   // null: nothing to print
nlohmann::json cmd_check(const Env& env, const Config& cfg); // null
nlohmann::json cmd_gc(const Env& env, const Config& cfg);    // null
nlohmann::json cmd_status(const Config& cfg);                // null
nlohmann::json cmd_version(const std::string& cni_version);

} // namespace vepa::cni
