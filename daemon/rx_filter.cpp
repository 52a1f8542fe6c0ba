#include "daemon/rx_filter.hpp"

namespace vepad {

std::optional<RxFilterMode> parse_rx_filter_mode(const std::string& s)
{
    for (auto m : {RxFilterMode::Auto, RxFilterMode::Fdb, RxFilterMode::Promisc, RxFilterMode::None})
        if (s == to_string(m))
            return m;
    return std::nullopt;
}

const char* to_string(RxFilterMode m)
{
    switch (m) {
    case RxFilterMode::Auto:
        return "auto";
    case RxFilterMode::Fdb:
        return "fdb";
    case RxFilterMode::Promisc:
        return "promisc";
    case RxFilterMode::None:
        return "none";
    }
    return "?";
}

RxFilterWant rx_filter_want(RxFilterMode mode, const std::set<vepa::Mac>& port_macs, const vepa::Mac& probe_dst,
                            const std::optional<vepa::Mac>& uplink_mac)
{
    RxFilterWant w;
    if (mode == RxFilterMode::Promisc)
        w.promisc = true;
    if (mode != RxFilterMode::Auto && mode != RxFilterMode::Fdb)
        return w;
    w.allmulti = mode == RxFilterMode::Auto;
    for (const auto& m : port_macs)
        if (!m.is_group() && !m.is_zero())
            w.macs.insert(m);
    if (!probe_dst.is_zero())
        w.macs.insert(probe_dst);
    if (uplink_mac)
        w.macs.erase(*uplink_mac); // the device's own address: always accepted
    return w;
}

namespace {

// One MAC's record of ours: kept, or its entry goes, or it is forgotten.
void plan_ours(const vepa::Mac& mac, bool wanted, const RxFilterHave& have, RxFilterChanges& c)
{
    const auto o = have.ours.find(mac);
    if (o == have.ours.end())
        return;
    const auto up = static_cast<uint32_t>(have.uplink);
    const uint32_t dev = o->second;
    const bool here = dev == up && have.entries.count(mac);
    if (dev == up && wanted && here)
        return; // ours, wanted, there
    if (here || (dev != up && have.devices.count(static_cast<int>(dev))))
        c.remove.emplace_back(dev, mac); // not wanted, or on a device that is no longer the uplink
    else
        c.forget.push_back(mac); // gone with its device, or removed by someone
}

void plan_entries(const RxFilterWant& want, const RxFilterHave& have, RxFilterChanges& c)
{
    auto add = [&](const vepa::Mac& mac) {
        if (want.macs.count(mac) && !have.entries.count(mac))
            c.add.push_back(mac); // missing; an entry someone else made is left to them
    };
    if (want.only) {
        const std::set<vepa::Mac> only(want.only->begin(), want.only->end());
        for (const auto& mac : only)
            plan_ours(mac, want.macs.count(mac), have, c);
        for (const auto& mac : only)
            add(mac);
        return;
    }
    for (const auto& [mac, dev] : have.ours)
        plan_ours(mac, want.macs.count(mac), have, c);
    for (const auto& mac : want.macs)
        add(mac);
}

void plan_flag(RxFlag f, bool want, bool on, const RxFilterHave& have, RxFilterChanges& c)
{
    const auto up = static_cast<uint32_t>(have.uplink);
    const auto o = have.our_flags.find(f);
    bool ours = o != have.our_flags.end();
    if (ours && o->second != up) {
        // Set on a device that is no longer the uplink: cleared there if it still exists.
        if (have.devices.count(static_cast<int>(o->second)))
            c.flags.push_back({f, o->second, false});
        else
            c.forget_flags.push_back(f);
        ours = false;
    }
    if (want && !on)
        c.flags.push_back({f, up, true});
    else if (!want && ours && on)
        c.flags.push_back({f, up, false});
    else if (!want && ours)
        c.forget_flags.push_back(f); // someone cleared it
    // want && on: set, by us (recorded) or by someone else (left to them)
}

} // namespace

RxFilterChanges plan_rx_filter(const RxFilterWant& want, const RxFilterHave& have)
{
    RxFilterChanges c;
    if (have.uplink <= 0)
        return c;
    plan_entries(want, have, c);
    plan_flag(RxFlag::Allmulti, want.allmulti, have.allmulti, have, c);
    plan_flag(RxFlag::Promisc, want.promisc, have.promisc, have, c);
    return c;
}

bool RxFilterChanges::empty() const
{
    return add.empty() && remove.empty() && forget.empty() && flags.empty() && forget_flags.empty();
}

} // namespace vepad
