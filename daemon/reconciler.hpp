// The one reconciler: makes programs, attachments, map entries and vepad's own
// devices match the desired port table, from whatever the kernel holds — at
// start (after a crash or an upgrade), after an rtnetlink event, after a
// command.  Each run observes (observe.hpp), plans with a pure function
// (plan.hpp) and applies the difference (apply.hpp).
#pragma once

#include <map>
#include <string>

#include "daemon/apply.hpp"
#include "daemon/observe.hpp"
#include "daemon/plan.hpp"
#include "daemon/port_status.hpp"
#include "daemon/port_table.hpp"

namespace vepad {

class Reconciler {
public:
    Reconciler(vepa::Dataplane& dp, vepa::NetlinkRequester& nl, PlanSettings settings);

    // Make the kernel match the table.  full: forget every cache first.
    // Throws ApplyError (or a netlink/BPF error while observing) when it could not.
    void run(const PortTable& table, bool full);

    // Remove every program, map entry and device of ours.
    void detach_all();

    // rtnetlink told of a change: see KernelObserver.
    void link_changed(const vepa::LinkInfo& link, bool removed) { observer_.link_changed(link, removed); }
    bool peer_changed(int nsid, int ifindex) { return observer_.peer_changed(nsid, ifindex); }

    // Whether the sockets in any xsk port's slots differ from what the last run saw.
    bool xsk_sockets_changed(const PortTable& table) const;

    const std::map<std::string, PortStatus>& ports() const { return ports_; }
    const UplinkStatus& uplink() const { return uplink_; }
    const ProgramIds& programs() const { return programs_; }
    // What the maps held after the last run that wrote them.
    const MapCounts& map_counts() const { return counts_; }
    const PlanSettings& settings() const { return settings_; }

private:
    void record(Plan p, const ApplyResult& r, const std::map<std::string, std::string>& device_errors);

    PlanSettings settings_;
    KernelObserver observer_;
    Applier applier_;
    ProgramIds programs_;
    std::map<std::string, PortStatus> ports_;
    UplinkStatus uplink_;
    MapCounts counts_;
};

} // namespace vepad
