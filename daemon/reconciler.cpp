#include "daemon/reconciler.hpp"

#include <spdlog/spdlog.h>

namespace vepad {

Reconciler::Reconciler(vepa::Dataplane& dp, vepa::NetlinkRequester& nl, PlanSettings settings)
    : settings_(std::move(settings)), observer_(dp, nl), applier_(dp, nl, observer_, settings_.uplink)
{
    uplink_.name = settings_.uplink;
}

void Reconciler::run(const PortTable& table, bool full)
{
    Snapshot snap = observer_.observe(table, settings_.uplink, full);
    programs_ = snap.programs;
    Plan p = plan(table, snap, settings_);
    std::map<std::string, std::string> device_errors;
    if (!p.devices.empty()) {
        // Devices made or removed change what the plan sees: once more, on the new kernel state.
        device_errors = applier_.apply_devices(p.devices, snap);
        // Devices leave the maps and the receive filter as they were: back to the observer.
        observer_.recorded_maps(std::move(snap.maps), std::move(snap.state));
        observer_.recorded_rx(std::move(snap.rx));
        snap = observer_.observe(table, settings_.uplink, false);
        p = plan(table, snap, settings_);
    }
    const ApplyResult r = applier_.apply(p, snap);
    if (r.maps.written || r.maps.removed)
        spdlog::debug("maps: {} written, {} removed{}", r.maps.written, r.maps.removed,
                      r.maps.flood_published ? ", flood list published" : "");
    record(std::move(p), r, device_errors);
}

void Reconciler::record(Plan p, const ApplyResult& r, const std::map<std::string, std::string>& device_errors)
{
    for (auto& [name, ps] : p.ports) {
        if (auto a = r.attached.find(ps.ifindex); a != r.attached.end() && ps.present())
            ps.attach = a->second;
        if (auto e = device_errors.find(name); e != device_errors.end() && ps.reason.empty())
            ps.reason = e->second;
    }
    p.uplink.xdp = r.uplink_xdp;
    p.uplink.tc = r.uplink_tc;
    p.uplink.rx_filter = r.rx;
    p.uplink.rx_filter.mode = settings_.rx_filter;
    ports_ = std::move(p.ports);
    uplink_ = std::move(p.uplink);
    counts_ = r.counts;
}

bool Reconciler::xsk_sockets_changed(const PortTable& table) const
{
    for (const auto& [name, p] : table.ports()) {
        if (p.type != PortType::Xsk)
            continue;
        const auto it = ports_.find(name);
        const std::vector<uint32_t> none;
        if (observer_.xsk_sockets(p) != (it == ports_.end() ? none : it->second.xsk_sockets))
            return true;
    }
    return false;
}

void Reconciler::detach_all()
{
    Snapshot snap = observer_.observe(PortTable{}, settings_.uplink, true);
    Plan t = plan_teardown(snap, settings_);
    applier_.apply(t, snap);
    applier_.apply_devices(t.devices, snap);
    ports_.clear();
}

} // namespace vepad
