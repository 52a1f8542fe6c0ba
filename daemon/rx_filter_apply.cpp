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

} // namespace

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

void Applier::apply_rx_filter(const Plan& plan, const Snapshot& snap, ApplyResult& r)
{
    const RxFilterChanges& c = plan.rx;
    auto& record = dp_.rxmacs();
    auto fail = [&](const std::string& what, const std::string& why) {
        spdlog::warn("uplink receive filter: {}: {}", what, why);
        r.rx.error = what + ": " + why;
    };
    std::set<vepa::Mac> ours;
    for (const auto& [mac, dev] : snap.rx.ours)
        if (dev == static_cast<uint32_t>(snap.rx.uplink))
            ours.insert(mac);
    try {
        for (const auto& [dev, mac] : c.remove) {
            const int err = nl_.fdb_self_del(static_cast<int>(dev), mac);
            if (err < 0 && err != -ENOENT && err != -ENODEV) {
                fail("remove " + mac.str(), std::strerror(-err));
                continue;
            }
            record.erase(mac.key());
            ours.erase(mac);
        }
        for (const auto& mac : c.forget) {
            record.erase(mac.key());
            ours.erase(mac);
        }
        for (const auto& f : c.forget_flags)
            record.erase(flag_key(f));
        for (const auto& f : c.flags)
            try {
                apply_rx_flag(f, record);
            } catch (const std::exception& e) {
                fail(std::string(f.on ? "set " : "clear ") + flag_name(f.flag), e.what());
            }
        for (const auto& mac : c.add) {
            const int err = nl_.fdb_self_add(snap.rx.uplink, mac);
            if (err == 0) {
                record.update(mac.key(), static_cast<uint32_t>(snap.rx.uplink));
                ours.insert(mac);
            } else if (err != -EEXIST) { // EEXIST: someone else's entry, which serves as well
                fail("add " + mac.str(), std::strerror(-err));
            }
        }
    } catch (const std::exception& e) {
        fail("update", e.what());
    }
    if (!c.empty()) {
        observer_.forget_rx();
        if (snap.rx.uplink && !c.flags.empty())
            if (auto l = nl_.link(snap.rx.uplink))
                observer_.recorded_link(*l);
    }
    size_t in_filter = 0;
    for (const auto& mac : plan.rx_want.macs)
        in_filter += snap.rx.entries.count(mac) && !ours.count(mac);
    r.rx.entries = ours.size();
    r.rx.foreign = in_filter;
    r.rx.allmulti = snap.rx.allmulti;
    r.rx.promisc = snap.rx.promisc;
    for (const auto& f : c.flags)
        if (f.device == static_cast<uint32_t>(snap.rx.uplink))
            (f.flag == RxFlag::Allmulti ? r.rx.allmulti : r.rx.promisc) = f.on;
}

} // namespace vepad
