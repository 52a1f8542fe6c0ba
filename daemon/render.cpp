#include "daemon/render.hpp"

#include "daemon/config.hpp"
#include "daemon/vlan_json.hpp"
#include "lib/counters.hpp"
#include "lib/port_paths.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

static_assert(proto::kDropReasons.size() == VEPA_DROP__MAX, "drop reason names and enum differ");

namespace {
json xsk_json(const PortConfig& p, const PortStatus& st, const std::string& pin_dir)
{
    if (p.type != PortType::Xsk)
        return nullptr;
    return {{"device", p.name},
            {"ifindex", st.xsk_ifindex},
            {"peer", xsk_peer_name(p.name)},
            {"queues", p.queues},
            {"first_slot", p.xsk_first},
            {"map", pin_dir.empty() ? "" : pin_dir + "/" VEPA_MAP_XSKS},
            {"sockets", st.xsk_sockets}};
}

json rx_filter_json(const RxFilterStatus& rx)
{
    return {{"mode", to_string(rx.mode)}, {"entries", rx.entries},
            {"foreign", rx.foreign},      {"allmulti", rx.allmulti},
            {"promisc", rx.promisc},      {"error", rx.error.empty() ? json(nullptr) : json(rx.error)}};
}

json uplink_json(const UplinkStatus& up)
{
    json xdp = nullptr, tc = nullptr;
    if (up.xdp)
        xdp = {{"prog_id", up.xdp->prog_id}, {"mode", vepa::to_string(up.xdp->mode)}, {"multiprog", !up.xdp->legacy}};
    if (up.tc)
        tc = {{"prog_id", up.tc->prog_id}, {"hook", up.tc->hook == vepa::TcHook::Tcx ? "tcx" : "clsact"}};
    return {{"name", up.name},
            {"ifindex", up.ifindex},
            {"state", to_string(up.state)},
            {"takes_xdp", up.takes_xdp},
            {"xdp", xdp},
            {"tc", tc},
            {"rx_filter", rx_filter_json(up.rx_filter)}};
}
} // namespace

json port_json(const PortConfig& p, const PortStatus* st, const std::string& pin_dir)
{
    const PortStatus ps = st ? *st : PortStatus{};
    json macs = json::array();
    for (const auto& m : ps.present() ? ps.macs : p.macs)
        macs.push_back(m.str());
    json out = {{"name", p.name},
                {"ifindex", ps.ifindex},
                {"state", to_string(ps.state)},
                {"kind", ps.kind},
                {"macs", macs},
                {"mac_source", p.macs.empty() ? "guest" : "config"},
                {"mode", mode_name(p.mode)},
                {"src_check", p.src_check},
                {"vlan", vlan_json(p.vlans)},
                {"trunk", trunk_json(p.vlans)},
                {"owner", p.owner ? p.owner->json() : json()},
                {"slot", p.slot},
                {"delivery", ps.delivery ? vepa::to_string(*ps.delivery) : ""},
                {"attach", to_string(ps.attach)}};
    if (!ps.reason.empty())
        out["reason"] = ps.reason;
    out["type"] = p.type == PortType::Xsk ? "xsk" : "kernel";
    out["xsk"] = xsk_json(p, ps, pin_dir);
    return out;
}

json list_json(const PortTable& table, const Reconciler& r, const std::string& pin_dir)
{
    json ports = json::array();
    for (const auto& [name, p] : table.ports()) {
        const auto it = r.ports().find(name);
        ports.push_back(port_json(p, it == r.ports().end() ? nullptr : &it->second, pin_dir));
    }
    return {{"ports", ports}};
}

json counters_json(const vepa_counters& c)
{
    json drops = json::object();
    for (size_t i = 0; i < proto::kDropReasons.size(); i++)
        drops[std::string(proto::kDropReasons[i])] = c.drops[i];
    return {{"rx_packets", c.rx_packets},       {"rx_bytes", c.rx_bytes},
            {"tx_packets", c.tx_packets},       {"tx_bytes", c.tx_bytes},
            {"host_packets", c.host_packets},   {"host_bytes", c.host_bytes},
            {"probe_packets", c.probe_packets}, {"drops", drops}};
}

json stats_json(const std::string& uplink, const std::vector<const PortConfig*>& ports, const vepa::StatsMap& stats)
{
    uint16_t max_slot = 0;
    for (auto* p : ports)
        max_slot = std::max(max_slot, p->slot);
    const auto raw = stats.lookup_range(0, max_slot + 1u);
    auto sum = [&](uint16_t slot) { return vepa::sum_cpus(raw, slot, stats.cpus()); };
    json out = json::array();
    for (auto* p : ports)
        out.push_back({{"name", p->name}, {"slot", p->slot}, {"counters", counters_json(sum(p->slot))}});
    return {{"uplink", {{"name", uplink}, {"counters", counters_json(sum(VEPA_SLOT_UPLINK))}}}, {"ports", out}};
}

json status_json(const Reconciler& r, const StatusFacts& f)
{
    size_t present = 0, up = 0;
    for (const auto& [n, ps] : r.ports()) {
        present += ps.present();
        up += ps.state == PortState::Up;
    }
    json programs = json::object();
    for (const auto& [prog, id] : r.programs())
        programs[vepa::to_string(prog)] = id;
    return {{"version", f.version},
            {"layout_version", VEPA_LAYOUT_VERSION},
            {"uplink", uplink_json(r.uplink())},
            {"programs", programs},
            {"maps",
             {{"macs", r.map_counts().macs}, // as the last run left them: counting
              {"ports", r.map_counts().ports}, // 66 000 entries would cost as many syscalls
              {"devs", r.map_counts().devs},
              {"flood", r.map_counts().flood}}},
            {"pin_dir", f.pin_dir},
            {"state_file", f.state_file},
            {"socket", f.socket},
            {"ports", {{"configured", f.configured}, {"present", present}, {"up", up}}},
            {"reflective_relay", f.reflective_relay}};
}

} // namespace vepad
