// Step 4 of Applier::apply: the uplink's receive filter (rx_filter.hpp).
#include <spdlog/spdlog.h>

#include <cstring>

#include "daemon/apply.hpp"
#include "lib/error.hpp"

namespace vepad {

namespace {

vepa_mac_key flag_key(RxFlag f)
{
    return vepa::Mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).key(static_cast<uint16_t>(f));
}

const char* flag_name(RxFlag f) { return f == RxFlag::Allmulti ? "all-multicast" : "promiscuous mode"; }

// What status shows of the filter: vepad's entries on the uplink, and the wanted
// MACs in it by someone else's entry (kept in have.foreign, updated for the MACs
// the want is about).
void count_rx(const RxFilterWant& want, RxFilterHave& have, RxFilterStatus& st)
{
    const auto up = static_cast<uint32_t>(have.uplink);
    auto foreign = [&](const vepa::Mac& m) {
        const auto o = have.ours.find(m);
        return want.macs.count(m) && have.entries.count(m) && (o == have.ours.end() || o->second != up);
    };
    if (want.only) {
        for (const auto& m : *want.only)
            if (foreign(m))
                have.foreign.insert(m);
            else
                have.foreign.erase(m);
    } else {
        have.foreign.clear();
        for (const auto& m : want.macs)
            if (foreign(m))
                have.foreign.insert(m);
    }
    st.foreign = have.foreign.size();
    // After a run that met a want on this uplink, every entry of ours is on it.
    const bool all_here = have.applied && have.applied->uplink == have.uplink && want.only && st.error.empty();
    st.entries = 0;
    if (all_here)
        st.entries = have.ours.size();
    else
        for (const auto& [mac, dev] : have.ours)
            st.entries += dev == up;
}

} // namespace

bool Applier::record_entry(const vepa::Mac& mac, uint32_t uplink, vepa::RxMacMap& record, const RxFail& fail)
{
    try {
        record.update(mac.key(), uplink);
        return true;
    } catch (const vepa::SysError& e) {
        // An entry vepad has no record of would never be removed by it: take it off again.
        nl_.fdb_self_del(static_cast<int>(uplink), mac);
        fail("add " + mac.str(), std::string("cannot record it: ") + e.what());
        return false;
    }
}

void Applier::apply_rx_flag(const RxFlagChange& f, vepa::RxMacMap& record)
{
    vepa::LinkSettings ls;
    (f.flag == RxFlag::Allmulti ? ls.allmulti : ls.promisc) = f.on;
    nl_.set_link(static_cast<int>(f.device), ls);
    if (f.on)
        record.update(flag_key(f.flag), f.device);
    else
        record.erase(flag_key(f.flag));
    spdlog::info("uplink receive filter: {} {} on ifindex {}", flag_name(f.flag), f.on ? "on" : "off", f.device);
}

void Applier::apply_rx_filter(const Plan& plan, Snapshot& snap, ApplyResult& r)
{
    const RxFilterChanges& c = plan.rx;
    RxFilterHave& have = snap.rx; // kept to what the kernel holds, for the observer
    const auto up = static_cast<uint32_t>(have.uplink);
    auto& record = dp_.rxmacs();
    auto fail = [&](const std::string& what, const std::string& why) {
        spdlog::warn("uplink receive filter: {}: {}", what, why);
        r.rx.error = what + ": " + why;
    };
    bool partly = false; // an update broke off: what the kernel holds is not known
    try {
        for (const auto& [dev, mac] : c.remove) {
            const int err = nl_.fdb_self_del(static_cast<int>(dev), mac);
            if (err < 0 && err != -ENOENT && err != -ENODEV) {
                fail("remove " + mac.str(), std::strerror(-err));
                continue;
            }
            record.erase(mac.key());
            have.ours.erase(mac);
            if (dev == up)
                have.entries.erase(mac);
        }
        for (const auto& mac : c.forget) {
            record.erase(mac.key());
            have.ours.erase(mac);
        }
        for (const auto& f : c.forget_flags) {
            record.erase(flag_key(f));
            have.our_flags.erase(f);
        }
        for (const auto& f : c.flags)
            try {
                apply_rx_flag(f, record);
                if (f.on)
                    have.our_flags[f.flag] = f.device;
                else
                    have.our_flags.erase(f.flag);
            } catch (const std::exception& e) {
                fail(std::string(f.on ? "set " : "clear ") + flag_name(f.flag), e.what());
            }
        for (const auto& mac : c.add) {
            const int err = nl_.fdb_self_add(have.uplink, mac);
            if (err != 0 && err != -EEXIST) { // EEXIST: someone else's entry, which serves as well
                fail("add " + mac.str(), std::strerror(-err));
                continue;
            }
            if (err == 0 && !record_entry(mac, up, record, fail))
                break; // the record is full: no more this run, and what is there stays known
            if (err == 0)
                have.ours[mac] = up;
            have.entries.insert(mac);
        }
    } catch (const std::exception& e) {
        fail("update", e.what());
        partly = true;
    }
    count_rx(plan.rx_want, have, r.rx);
    if (!r.rx.error.empty() || partly)
        have.applied.reset(); // the next run plans the whole filter again
    else
        have.applied = plan.rx_basis;
    r.rx.allmulti = have.allmulti;
    r.rx.promisc = have.promisc;
    for (const auto& f : c.flags)
        if (f.device == up)
            (f.flag == RxFlag::Allmulti ? r.rx.allmulti : r.rx.promisc) = f.on;
    if (have.uplink && !c.flags.empty())
        if (auto l = nl_.link(have.uplink))
            observer_.recorded_link(*l);
    if (partly)
        observer_.forget_rx(); // the next observation reads it all
    else
        observer_.recorded_rx(std::move(have));
}

} // namespace vepad
