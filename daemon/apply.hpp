// Apply: the kernel changes that take it from a snapshot to a plan, in an
// order that keeps every intermediate state safe:
//   0. devices (apply_devices): xsk ports' veth pairs made or removed, their
//      socket device's program; the caller then observes and plans again;
//   1. our programs off devices that no longer serve (ports deleted, old uplink);
//   2. the maps (vepa::sync_maps: config, targets, records, MACs, flood list,
//      stale entries last);
//   3. programs onto the uplink, then every port: TC first (complete on its
//      own), then XDP (the fast path), or XDP off where the plan has none;
//   4. the uplink's receive filter: entries and flags of vepad's that go, then
//      those that come (each recorded in the rxmacs map as it is made).
// Only what differs from the snapshot is touched.  A port whose programs
// cannot be attached (its device vanished under us, say) is reported and the
// rest goes on, and so does a device programs cannot be taken off; a failure
// to write the maps or to hook the uplink stops the run with an ApplyError
// that says what was done and what was not.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon/observe.hpp"
#include "daemon/plan.hpp"

namespace vepad {

// How many entries the maps hold after a run.
struct MapCounts {
    size_t macs = 0, ports = 0, devs = 0, flood = 0;
};

struct ApplyResult {
    std::map<int, Attach> attached; // port devices: what their frames meet first
    std::optional<vepa::XdpAttachment> uplink_xdp;
    std::optional<vepa::TcAttachment> uplink_tc;
    std::map<std::string, std::string> failed; // what could not be done -> why
    vepa::SyncStats maps;
    MapCounts counts;
    RxFilterStatus rx; // mode is the caller's
};

class ApplyError : public std::runtime_error {
public:
    ApplyError(const std::string& step, const std::string& why, const std::vector<std::string>& done);
};

class Applier {
public:
    Applier(vepa::Dataplane& dp, vepa::NetlinkRequester& nl, KernelObserver& observer, std::string uplink);

    // Step 0.  Returns the ports whose pair could not be made, with why.
    std::map<std::string, std::string> apply_devices(const DeviceChanges& dc, const Snapshot& snap);
    // Steps 1-4.  The snapshot's maps and receive filter, as the kernel holds them
    // afterwards, and the plan's state go to the observer (moved: none is used after).
    ApplyResult apply(Plan& plan, Snapshot& snap);

private:
    void make_pair(const XskPair& x);
    void configure_pair_end(const std::string& name, bool vepa_side, const std::string& port);
    void unhook(const Device& have, std::vector<std::string>& done);
    // Make a device carry exactly `want`; returns its XDP attachment of ours.
    std::optional<vepa::XdpAttachment> hook(const Hooks& want, const Device& have, const ProgramIds& ids);
    void hook_uplink(const Plan& plan, const Snapshot& snap, ApplyResult& r);
    void hook_ports(const Plan& plan, const Snapshot& snap, ApplyResult& r);
    // The uplink's receive filter (rx_filter_apply.cpp); failures go to r.rx.error.
    void apply_rx_filter(const Plan& plan, Snapshot& snap, ApplyResult& r);
    void apply_rx_flag(const RxFlagChange& f, vepa::RxMacMap& record);
    using RxFail = std::function<void(const std::string& what, const std::string& why)>;
    // Records an entry vepad added; when it cannot, removes the entry and says why.
    bool record_entry(const vepa::Mac& mac, uint32_t uplink, vepa::RxMacMap& record, const RxFail& fail);

    vepa::Dataplane& dp_;
    vepa::NetlinkRequester& nl_;
    KernelObserver& observer_;
    std::string uplink_;
    bool legacy_logged_ = false;
};

} // namespace vepad
