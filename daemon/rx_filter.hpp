// The uplink's receive filter: a NIC that filters by destination MAC must
// accept every frame vepad forwards to a port (docs in README, "Uplink receive
// filter").  vepad keeps it as kernel state that outlives the daemon: a
// permanent FDB self entry (the NIC's unicast address list) per port MAC and
// for the reflection probe's destination, and all-multicast, or promiscuous
// mode.  What vepad made is recorded in the pinned rxmacs map, so that it
// removes only its own entries and flags, after a restart or a crash too.
//
// This file is the policy: what is wanted, and the changes from what is
// there, as pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/mac.hpp"

namespace vepad {

enum class RxFilterMode {
    Auto,    // fdb + all-multicast (the default)
    Fdb,     // FDB self entries only
    Promisc, // promiscuous mode (for NICs or drivers without a usable filter)
    None,    // vepad leaves the filter alone
};

std::optional<RxFilterMode> parse_rx_filter_mode(const std::string& s);
const char* to_string(RxFilterMode m);

// Device flags vepad may set, recorded in the rxmacs map under reserved keys
// (the broadcast MAC, which is never a filter entry, with these VIDs).
enum class RxFlag : uint16_t { Allmulti = 1, Promisc = 2 };

struct RxFilterWant {
    std::set<vepa::Mac> macs;
    bool allmulti = false;
    bool promisc = false;
    // Set: a change of these MACs only (macs: the wanted ones among them); every
    // other entry is as the last run that met its want left it (RxFilterHave::applied).
    std::optional<std::vector<vepa::Mac>> only;
    bool operator==(const RxFilterWant&) const = default;
};

// What a want was computed from, beside the ports' MACs.
struct RxBasis {
    RxFilterMode mode = RxFilterMode::Auto;
    int uplink = 0;
    std::optional<vepa::Mac> uplink_mac;
    vepa::Mac probe_dst;
    bool operator==(const RxBasis&) const = default;
};

// What vepad wants on the uplink in this mode: the unicast MACs ports own
// (and the probe's destination), never the uplink's own address.
RxFilterWant rx_filter_want(RxFilterMode mode, const std::set<vepa::Mac>& port_macs, const vepa::Mac& probe_dst,
                            const std::optional<vepa::Mac>& uplink_mac);

// What is there: the uplink's filter and flags, and vepad's record.
struct RxFilterHave {
    int uplink = 0;              // ifindex; 0: absent (nothing is changed)
    std::set<vepa::Mac> entries; // the uplink's unicast self entries, whoever made them
    bool allmulti = false, promisc = false;
    std::map<vepa::Mac, uint32_t> ours; // recorded entries: MAC -> the device vepad added it on
    std::map<RxFlag, uint32_t> our_flags;
    std::set<int> devices; // ifindexes that exist (a record on a vanished device is forgotten)
    // The basis of the last want met in full, when entries and records are as that
    // run left them (nullopt: not known; the next plan is a full one).
    std::optional<RxBasis> applied;
    std::set<vepa::Mac> foreign; // with applied: wanted MACs in the filter by someone else's entry
};

struct RxFlagChange {
    RxFlag flag;
    uint32_t device = 0;
    bool on = false; // on: set, then recorded; off: cleared, then forgotten
    bool operator==(const RxFlagChange&) const = default;
};

struct RxFilterChanges {
    std::vector<vepa::Mac> add;                         // on the uplink, then recorded
    std::vector<std::pair<uint32_t, vepa::Mac>> remove; // (device, MAC) of ours, then forgotten
    std::vector<vepa::Mac> forget;                      // records of entries that are gone
    std::vector<RxFlagChange> flags;                    // in this order
    std::vector<RxFlag> forget_flags;                   // records of flags that are gone
    bool empty() const;
};

RxFilterChanges plan_rx_filter(const RxFilterWant& want, const RxFilterHave& have);

// What status shows.
struct RxFilterStatus {
    RxFilterMode mode = RxFilterMode::Auto;
    size_t entries = 0;                     // vepad's entries on the uplink
    size_t foreign = 0;                     // wanted MACs already in the filter by someone else's entry
    bool allmulti = false, promisc = false; // the uplink's flags now
    std::string error;                      // the last change that failed, and why
};

} // namespace vepad
