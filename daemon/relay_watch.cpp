#include "daemon/relay_watch.hpp"

#include <spdlog/spdlog.h>

namespace vepad {

using nlohmann::json;

size_t ports_needing_relay(const PortTable& table)
{
    size_t n = 0;
    for (const auto& [name, p] : table.ports())
        n += p.mode == VEPA_MODE_VEPA || p.mode == VEPA_MODE_PRIVATE;
    return n;
}

RelayWatch::RelayWatch(const ReflectionProbe& probe, const LldpAgent& lldp, std::string uplink)
    : probe_(probe), lldp_(lldp), uplink_(std::move(uplink))
{}

void RelayWatch::check(const PortTable& table)
{
    const size_t need = ports_needing_relay(table);
    const bool bad = probe_.result().state == Reflection::NotReflecting && need >= 2;
    if (bad && !warned_)
        spdlog::warn("the switch does not reflect frames back to {} (reflection probe: {}), and {} ports are in vepa "
                     "or private mode: their VMs cannot reach each other. Enable reflective relay (hairpin) on the "
                     "switch port{}",
                     uplink_, probe_.result().reason, need,
                     lldp_.bridge_evb() ? "" : " (the switch sends no 802.1Qbg EVB TLV to negotiate it)");
    warned_ = bad;
}

RelayWatch::Verdict RelayWatch::verdict() const
{
    if (probe_.result().state != Reflection::Unknown)
        return {to_string(probe_.result().state), "probe"};
    if (auto evb = lldp_.bridge_evb())
        return {evb->rr_enabled() ? "reflecting" : "not-reflecting", "lldp"};
    return {};
}

json RelayWatch::to_json() const
{
    const Verdict v = verdict();
    return {{"verdict", v.state},
            {"by", v.by ? json(*v.by) : json(nullptr)},
            {"probe", probe_.to_json()},
            {"lldp", lldp_.to_json()}};
}

} // namespace vepad
