#include "daemon/plan.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "lib/port_paths.hpp"

namespace vepad {

using vepa::LinkInfo;
using vepa::Mac;
using vepa::Program;

namespace {

// MACs owned, each within the VLANs of its owners: taken for a port whose VLANs
// overlap an owner's (a MAC may be several ports' in disjoint VLANs).  Configured
// MACs are the table's (its index); learned ones are claimed as ports are planned.
class MacClaims {
public:
    explicit MacClaims(const PortTable& table) : table_(table) {}
    void claim_learned(const Mac& m, const vepa::PortVlans& v) { learned_[m].push_back(&v); }
    bool taken(const Mac& m, const vepa::PortVlans& v) const
    {
        if (table_.mac_owner(m, v))
            return true;
        const auto it = learned_.find(m);
        return it != learned_.end() &&
               std::any_of(it->second.begin(), it->second.end(), [&](auto* o) { return o->overlaps(v); });
    }

private:
    const PortTable& table_;
    std::map<Mac, std::vector<const vepa::PortVlans*>> learned_; // the port table's, alive while planning
};

// The snapshot's devices by name: it lists them by ifindex, and a plan looks up every port.
class DeviceNames {
public:
    explicit DeviceNames(const Snapshot& s)
    {
        for (const auto& [idx, d] : s.devices)
            by_name_.emplace(d.link.name, &d);
    }
    const Device* find(const std::string& name) const
    {
        const auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : it->second;
    }

private:
    std::unordered_map<std::string, const Device*> by_name_;
};

// What one planning pass builds up.
struct Draft {
    Draft(const PortTable& table, const Snapshot& snap) : devices(snap), claimed(table) {}
    DeviceNames devices;
    Plan plan;
    MacClaims claimed; // MACs owned: configured ones, then learned ones in slot order
};

UplinkStatus plan_uplink(const Device* up, const PlanSettings& s, vepa::DataplaneState& st)
{
    UplinkStatus u;
    u.name = s.uplink;
    if (!up)
        return u;
    u.ifindex = up->link.ifindex;
    u.state = up->link.is_up() ? LinkState::Up : LinkState::Down;
    u.mac = up->link.mac;
    u.takes_xdp = vepa::takes_xdp_frames(up->link, up->xdp_features);
    st.uplink_ifindex = static_cast<uint32_t>(u.ifindex);
    st.uplink_takes_xdp = u.takes_xdp;
    st.max_frame_len = up->link.mtu + 14 + 8; // MTU plus Ethernet header and two VLAN tags
    return u;
}

// Whether dev and peer are the veth pair vepad made for xsk port `name`.
bool is_our_pair(const Device* dev, const Device* peer, const std::string& name, const std::string& uplink)
{
    return dev && peer && dev->link.kind == "veth" && peer->link.kind == "veth" && !dev->link.link_netnsid &&
           dev->link.link == peer->link.ifindex && peer->link.alias == xsk_alias(name, uplink);
}

// Pairs vepad made for ports no longer configured as xsk ports go.
void plan_orphan_pairs(const PortTable& table, const Snapshot& snap, const PlanSettings& s, DeviceChanges& dc)
{
    for (const auto& [idx, d] : snap.devices) {
        const auto port = xsk_alias_port(d.link.alias, s.uplink);
        const PortConfig* p = port ? table.find(*port) : nullptr;
        if (port && (!p || p->type != PortType::Xsk))
            dc.remove.push_back({idx, "its xsk port " + *port + " is no longer configured"});
    }
}

// One xsk port's pair: fine, to make (anew), or blocked by a foreign device.
void plan_xsk_pair(const PortConfig& p, const Snapshot& snap, const PlanSettings& s, Draft& d)
{
    const Device* dev = d.devices.find(p.name);
    const Device* peer = d.devices.find(xsk_peer_name(p.name));
    if (is_our_pair(dev, peer, p.name, s.uplink)) {
        if (!dev->xdp || dev->xdp->prog_id != snap.programs.at(Program::XskXdp))
            d.plan.devices.xsk_program.push_back(dev->link.ifindex);
        return;
    }
    if (dev && !(dev->link.kind == "veth" && peer && dev->link.link == peer->link.ifindex)) {
        PortStatus& ps = d.plan.ports[p.name];
        ps.name = p.name;
        ps.state = PortState::Unsupported;
        ps.kind = "xsk";
        ps.reason = "a device named " + p.name + " exists and is not this xsk port's veth pair: rename or delete it";
        return;
    }
    for (const Device* half : {dev, peer}) // half a pair, or a pair without our alias: made anew
        if (half)
            d.plan.devices.remove.push_back({half->link.ifindex, "xsk port " + p.name + "'s pair is made anew"});
    d.plan.devices.create.push_back(
        {p.name, p.queues, p.macs.empty() ? std::nullopt : std::optional(p.macs.front()), p.xsk_first});
}

// The guest's MAC for a port that learns it, or why there is none.
void learn_mac(const Device& dev, vepa::PortKind kind, const vepa::PortVlans& vlans, PortStatus& ps, MacClaims& claimed)
{
    ps.learned = true;
    ps.macs.clear();
    if (kind == vepa::PortKind::Tap)
        ps.reason = "a tap's own MAC is not its guest's: give the guest's MAC with --mac";
    else if (!dev.peer_mac)
        ps.reason = "the guest end's MAC cannot be read";
    else if (claimed.taken(*dev.peer_mac, vlans))
        ps.reason = "guest MAC " + dev.peer_mac->str() + " is already another port's" +
                    (vlans.empty() ? "" : " in a VLAN of this port's");
    else {
        ps.macs.push_back(*dev.peer_mac);
        claimed.claim_learned(*dev.peer_mac, vlans);
    }
}

// An xsk port's socket device: its program and its map entry.
void plan_xsk_device(const PortConfig& pc, const Snapshot& snap, PortStatus& ps, Draft& d)
{
    const auto sockets = snap.xsk_sockets.find(pc.name);
    if (sockets != snap.xsk_sockets.end())
        ps.xsk_sockets = sockets->second;
    const Device* dev = d.devices.find(pc.name);
    if (!dev)
        return;
    ps.xsk_ifindex = dev->link.ifindex;
    d.plan.state.xsk_devices.push_back({static_cast<uint32_t>(dev->link.ifindex), pc.xsk_first, pc.queues, pc.slot});
    d.plan.hooks[dev->link.ifindex] = Hooks{std::nullopt, Program::XskXdp, vepa::XdpMode::Native};
}

// Up or down, and why down when it is for want of sockets.
void plan_state(const PortConfig& pc, const Device& dev, PortStatus& ps)
{
    const bool xsk = pc.type == PortType::Xsk;
    const bool sockets_ok = !xsk || ps.xsk_sockets.size() == pc.queues;
    ps.state = dev.link.is_up() && sockets_ok ? PortState::Up : PortState::Down;
    if (sockets_ok || !ps.reason.empty())
        return;
    ps.reason = ps.xsk_sockets.empty() ? "no AF_XDP socket attached"
                                       : std::to_string(pc.queues - ps.xsk_sockets.size()) + " of " +
                                             std::to_string(pc.queues) + " queues have no AF_XDP socket";
}

// A port whose device is present and may serve: its paths, map entry and hooks.
void plan_present_port(const PortConfig& pc, const Device& dev, vepa::PortKind kind, PortStatus& ps, Draft& d)
{
    if (pc.macs.empty())
        learn_mac(dev, kind, pc.vlans, ps, d.claimed);
    plan_state(pc, dev, ps);
    const vepa::PortPaths paths = vepa::choose_paths(dev.link, dev.xdp_features, d.plan.uplink.takes_xdp);
    ps.delivery = ps.state == PortState::Up ? paths.delivery : VEPA_DELIVER_DOWN;
    const bool xdp_egress = paths.xdp_egress && d.plan.uplink.ifindex;
    vepa::PresentPort pp;
    pp.ifindex = static_cast<uint32_t>(dev.link.ifindex);
    pp.slot = pc.slot;
    pp.mode = pc.mode;
    pp.delivery = *ps.delivery;
    pp.flags = pc.src_check ? 0 : VEPA_PORT_F_NO_SRC_CHECK;
    pp.macs = ps.macs;
    pp.vlans = pc.vlans;
    d.plan.state.ports.push_back(pp);
    d.plan.hooks[dev.link.ifindex] =
        Hooks{Program::PortTc, xdp_egress ? std::optional(Program::PortXdp) : std::nullopt, vepa::XdpMode::Native};
}

void plan_port(const PortConfig& pc, const Snapshot& snap, const PlanSettings& s, Draft& d)
{
    PortStatus ps;
    ps.name = pc.name;
    ps.macs = pc.macs;
    const bool xsk = pc.type == PortType::Xsk;
    const Device* dev = d.devices.find(xsk ? xsk_peer_name(pc.name) : pc.name);
    if (!dev) {
        d.plan.ports[pc.name] = ps;
        return;
    }
    if (xsk)
        plan_xsk_device(pc, snap, ps, d);
    ps.ifindex = dev->link.ifindex;
    const vepa::PortKind kind = vepa::port_kind(dev->link);
    ps.kind = xsk ? "xsk" : kind == vepa::PortKind::Unsupported ? dev->link.kind : vepa::to_string(kind);
    if (pc.name == s.uplink || kind == vepa::PortKind::Unsupported) {
        ps.state = PortState::Unsupported;
        ps.reason = pc.name == s.uplink ? "it is the uplink" : "not a veth or tap (kind '" + dev->link.kind + "')";
    } else {
        plan_present_port(pc, *dev, kind, ps, d);
    }
    d.plan.ports[pc.name] = ps;
}

Hooks uplink_hooks(const Plan& p, const PlanSettings& s)
{
    // XDP on the uplink is the fast path into XDP-delivered ports (taps); with
    // none, it would only add a program run and an xdp_buff per frame before TC,
    // which does everything anyway.
    bool xdp = false;
    for (const auto& [n, ps] : p.ports)
        xdp |= ps.delivery == VEPA_DELIVER_XDP;
    return Hooks{Program::UplinkTc, xdp ? std::optional(Program::UplinkXdp) : std::nullopt, s.uplink_xdp_mode};
}

// Devices that carried our programs for what the maps held and no longer serve.
std::vector<int> plan_unhook(const Snapshot& snap, const Plan& p)
{
    std::set<int> out;
    const int up = p.uplink.ifindex;
    for (const auto& [idx, rec] : snap.maps.ports)
        if (!p.maps.ports.count(idx) && static_cast<int>(idx) != up)
            out.insert(static_cast<int>(idx));
    for (const auto& [idx, rec] : snap.maps.xskports)
        if (!p.maps.xskports.count(idx))
            out.insert(static_cast<int>(idx));
    const auto old_up = snap.maps.config.uplink_ifindex;
    if (old_up && static_cast<int>(old_up) != up && !p.maps.ports.count(old_up))
        out.insert(static_cast<int>(old_up));
    std::vector<int> present;
    for (int idx : out)
        if (snap.find(idx)) // a device that is gone carries nothing any more
            present.push_back(idx);
    return present;
}

// Ports in slot order, so MAC conflicts between learned MACs resolve stably.
std::vector<const PortConfig*> slot_order(const PortTable& table)
{
    std::vector<const PortConfig*> order;
    for (const auto& [n, p] : table.ports())
        order.push_back(&p);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->slot < b->slot; });
    return order;
}

// Whether the plan has MAC m on a port: configured on a present port, or learned.
bool in_state(const vepa::Mac& m, const PortTable& table, const Plan& p, const std::set<vepa::Mac>& learned)
{
    if (learned.count(m))
        return true;
    for (const PortConfig* o : table.mac_owners(m))
        if (const auto it = p.ports.find(o->name); it != p.ports.end() && it->second.present())
            return true;
    return false;
}

// The receive filter's want for the MACs of the ports that changed since the last
// run that met its want: O(those MACs), not O(all MACs).
RxFilterWant rx_want_delta(const PortTable& table, const vepa::PortChanges& changed, const Plan& p)
{
    std::set<vepa::Mac> learned, macs;
    for (const auto& [n, ps] : p.ports)
        if (ps.learned && ps.present())
            learned.insert(ps.macs.begin(), ps.macs.end());
    auto considered = vepa::changed_macs(changed);
    for (const auto& m : considered)
        if (in_state(m, table, p, learned))
            macs.insert(m);
    const RxBasis& b = p.rx_basis;
    RxFilterWant w = rx_filter_want(b.mode, macs, b.probe_dst, b.uplink_mac);
    w.only = std::move(considered);
    return w;
}

// changed: the ports that changed since the maps' last sync (nullptr: not known).
void plan_rx(const PortTable& table, const Snapshot& snap, const vepa::PortChanges* changed, const Device* up,
             const PlanSettings& s, Plan& p)
{
    p.rx_basis = {s.rx_filter, p.uplink.ifindex, up ? up->link.mac : std::nullopt, s.probe_dst};
    if (changed && snap.rx.applied == p.rx_basis) {
        p.rx_want = rx_want_delta(table, *changed, p);
    } else {
        std::set<vepa::Mac> macs;
        for (const auto& port : p.state.ports)
            macs.insert(port.macs.begin(), port.macs.end());
        p.rx_want = rx_filter_want(s.rx_filter, macs, s.probe_dst, p.rx_basis.uplink_mac);
    }
    p.rx = plan_rx_filter(p.rx_want, snap.rx);
}

} // namespace

Plan plan(const PortTable& table, const Snapshot& snap, const PlanSettings& s)
{
    Draft d(table, snap);
    d.plan.state.probe_dst = s.probe_dst;
    const Device* up = d.devices.find(s.uplink);
    d.plan.uplink = plan_uplink(up, s, d.plan.state);
    plan_orphan_pairs(table, snap, s, d.plan.devices);
    const auto order = slot_order(table);
    for (const PortConfig* p : order)
        if (p->type == PortType::Xsk)
            plan_xsk_pair(*p, snap, s, d);
    for (const PortConfig* p : order)
        if (!d.plan.ports.count(p->name)) // not an xsk port blocked by a foreign device
            plan_port(*p, snap, s, d);
    d.plan.maps = vepa::build_records(d.plan.state);
    std::optional<vepa::PortChanges> changed; // since the maps' last sync, when known
    if (snap.state)
        changed = vepa::diff_ports(d.plan.state, *snap.state);
    d.plan.macs = changed ? vepa::diff_macs(*changed, snap.maps.macs)
                          : vepa::diff_macs(vepa::build_contents(d.plan.state).macs, snap.maps.macs);
    if (d.plan.uplink.ifindex)
        d.plan.hooks[d.plan.uplink.ifindex] = uplink_hooks(d.plan, s);
    for (auto& [idx, h] : d.plan.hooks)
        h.tc_hook = s.tc_hook;
    d.plan.unhook = plan_unhook(snap, d.plan);
    plan_rx(table, snap, changed ? &*changed : nullptr, up, s, d.plan);
    return std::move(d.plan);
}

Plan plan_teardown(const Snapshot& snap, const PlanSettings& s)
{
    Plan p;
    p.uplink.name = s.uplink;
    std::set<int> unhook;
    for (const auto& [idx, rec] : snap.maps.ports)
        unhook.insert(static_cast<int>(idx));
    for (const auto& [idx, rec] : snap.maps.xskports)
        unhook.insert(static_cast<int>(idx));
    unhook.insert(static_cast<int>(snap.maps.config.uplink_ifindex));
    if (const Device* up = snap.find(s.uplink))
        unhook.insert(up->link.ifindex);
    for (int idx : unhook)
        if (snap.find(idx))
            p.unhook.push_back(idx);
    p.macs = vepa::diff_macs(vepa::MacTable{}, snap.maps.macs);
    p.rx = plan_rx_filter(p.rx_want, snap.rx); // nothing wanted: every entry and flag of ours goes
    for (const auto& [idx, d] : snap.devices)
        if (auto port = xsk_alias_port(d.link.alias, s.uplink))
            p.devices.remove.push_back({idx, "vepad made it for xsk port " + *port});
    return p;
}

} // namespace vepad
