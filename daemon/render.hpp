// The control protocol's reply objects (vepa/control.hpp documents them):
// the only place where ports, counters and status become JSON, and where
// state enums become their names.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/port_status.hpp"
#include "daemon/port_table.hpp"
#include "daemon/reconciler.hpp"
#include "lib/dataplane.hpp"

namespace vepad {

// A port object: what is configured (p) and what the reconciler made of it (st: null before it ran).
nlohmann::json port_json(const PortConfig& p, const PortStatus* st, const std::string& pin_dir);
nlohmann::json list_json(const PortTable& table, const Reconciler& r, const std::string& pin_dir);
nlohmann::json counters_json(const vepa_counters& c);
// Counters of the uplink and of the given ports, read in one batch.
nlohmann::json stats_json(const std::string& uplink, const std::vector<const PortConfig*>& ports,
                          const vepa::StatsMap& stats);

// What status shows besides the reconciler's view.
struct StatusFacts {
    std::string version;
    std::string pin_dir, state_file, socket;
    size_t configured = 0;
    nlohmann::json reflective_relay;
};
nlohmann::json status_json(const Reconciler& r, const StatusFacts& f);

} // namespace vepad
