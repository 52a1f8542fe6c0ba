#include "daemon/observe.hpp"

#include <net/if.h>

namespace vepad {

using vepa::LinkInfo;

const Device* Snapshot::find(const std::string& name) const
{
    for (const auto& [idx, d] : devices)
        if (d.link.name == name)
            return &d;
    return nullptr;
}

const Device* Snapshot::find(int ifindex) const
{
    const auto it = devices.find(ifindex);
    return it == devices.end() ? nullptr : &it->second;
}

KernelObserver::KernelObserver(vepa::Dataplane& dp, vepa::NetlinkRequester& nl) : dp_(dp), nl_(nl)
{
    for (vepa::Program p : vepa::kPrograms)
        programs_[p] = dp.prog_id(p);
}

void KernelObserver::link_changed(const LinkInfo& link, bool removed)
{
    forget(link.ifindex);
    if (link.ifindex == rx_uplink_)
        rx_entries_.reset();
    if (const auto old = links_.find(link.ifindex); old != links_.end()) {
        if (const auto n = names_.find(old->second.name); n != names_.end() && n->second == link.ifindex)
            names_.erase(n);
        links_.erase(old);
    }
    if (!removed) {
        links_[link.ifindex] = link;
        names_[link.name] = link.ifindex;
    }
}

bool KernelObserver::peer_changed(int nsid, int ifindex)
{
    bool ours = false;
    for (const auto& [idx, l] : links_)
        if (l.link_netnsid && *l.link_netnsid == nsid && l.link == ifindex) {
            features_.erase(idx);
            peers_.erase(idx);
            ours = true;
        }
    return ours;
}

void KernelObserver::forget(int ifindex)
{
    features_.erase(ifindex);
    peers_.erase(ifindex);
    tc_.erase(ifindex);
    xdp_.erase(ifindex);
}

void KernelObserver::load_links(bool full)
{
    if (links_loaded_ && !full)
        return;
    links_.clear();
    names_.clear();
    features_.clear();
    peers_.clear();
    tc_.clear();
    xdp_.clear();
    maps_.reset();
    state_.reset();
    forget_rx();
    for (auto& l : nl_.links()) {
        names_[l.name] = l.ifindex;
        links_[l.ifindex] = l;
    }
    links_loaded_ = true;
}

int KernelObserver::ifindex_of(const std::string& name) const
{
    const auto it = names_.find(name);
    return it == names_.end() ? 0 : it->second;
}

std::vector<int> KernelObserver::managed_devices(const PortTable& table, const std::string& uplink,
                                                 const vepa::MapContents& maps) const
{
    std::vector<int> out{ifindex_of(uplink)};
    for (const auto& [name, p] : table.ports()) {
        out.push_back(ifindex_of(name));
        if (p.type == PortType::Xsk)
            out.push_back(ifindex_of(xsk_peer_name(name)));
    }
    // Devices the maps still name: their hooks may have to go.
    for (const auto& [idx, rec] : maps.ports)
        out.push_back(static_cast<int>(idx));
    for (const auto& [idx, rec] : maps.xskports)
        out.push_back(static_cast<int>(idx));
    out.push_back(static_cast<int>(maps.config.uplink_ifindex));
    return out;
}

void KernelObserver::fill(Device& d, bool want_peer)
{
    const LinkInfo& l = d.link;
    d.managed = true;
    if (!features_.count(l.ifindex))
        features_[l.ifindex] = nl_.xdp_features(l.ifindex);
    d.xdp_features = features_[l.ifindex];
    if (want_peer && l.link > 0 && !peers_.count(l.ifindex)) {
        const auto peer = l.link_netnsid ? nl_.link_in_netns(*l.link_netnsid, l.link) : nl_.link(l.link);
        peers_[l.ifindex] = peer ? peer->mac : std::nullopt;
    }
    if (auto it = peers_.find(l.ifindex); it != peers_.end())
        d.peer_mac = it->second;
    if (!tc_.count(l.ifindex))
        tc_[l.ifindex] = vepa::tc_query(l.ifindex);
    d.tc = tc_[l.ifindex];
    // rtnetlink tells whether the device has any XDP program: when none, skip
    // libxdp's query (a dump of every link).
    if (!xdp_.count(l.ifindex))
        xdp_[l.ifindex] = l.xdp_attached ? vepa::xdp_query(l.ifindex) : std::nullopt;
    d.xdp = xdp_[l.ifindex];
}

Snapshot KernelObserver::observe(const PortTable& table, const std::string& uplink, bool full)
{
    load_links(full);
    Snapshot s;
    s.programs = programs_;
    if (maps_) {
        s.maps = std::move(*maps_);
        s.state = std::move(state_);
    } else {
        s.maps = vepa::read_contents(dp_);
    }
    maps_.reset();
    state_.reset();
    for (const auto& [idx, l] : links_)
        s.devices[idx].link = l;
    for (int idx : managed_devices(table, uplink, s.maps)) {
        auto it = s.devices.find(idx);
        if (it == s.devices.end() || it->second.managed)
            continue;
        const PortConfig* p = table.find(it->second.link.name);
        fill(it->second, p && p->type == PortType::Kernel && p->macs.empty());
    }
    for (const auto& [name, p] : table.ports())
        if (p.type == PortType::Xsk)
            s.xsk_sockets[name] = xsk_sockets(p);
    s.rx = observe_rx(ifindex_of(uplink));
    return s;
}

RxFilterHave KernelObserver::observe_rx(int uplink)
{
    if (!rx_record_) {
        rx_record_.emplace();
        for (const auto& [k, dev] : dp_.rxmacs().entries()) {
            const auto mac = vepa::Mac::from_key(k);
            if (mac.is_broadcast())
                rx_record_->our_flags[static_cast<RxFlag>(k.vid)] = dev;
            else
                rx_record_->ours[mac] = dev;
        }
    }
    RxFilterHave h = std::move(*rx_record_);
    rx_record_.reset();
    h.uplink = uplink;
    for (const auto& [idx, l] : links_)
        h.devices.insert(idx);
    if (!uplink)
        return h;
    if (!rx_entries_ || rx_uplink_ != uplink) {
        h.applied.reset(); // entries read anew: someone else's may have come or gone
        const auto e = nl_.fdb_self(uplink);
        rx_entries_.emplace(e.begin(), e.end());
        rx_uplink_ = uplink;
    }
    h.entries = std::move(*rx_entries_);
    rx_entries_.reset();
    const unsigned flags = links_.at(uplink).flags;
    h.allmulti = flags & IFF_ALLMULTI;
    h.promisc = flags & IFF_PROMISC;
    return h;
}

void KernelObserver::recorded_rx(RxFilterHave h)
{
    rx_record_.emplace();
    rx_record_->ours = std::move(h.ours);
    rx_record_->our_flags = std::move(h.our_flags);
    rx_record_->applied = h.applied;
    rx_record_->foreign = std::move(h.foreign);
    if (h.uplink) {
        rx_entries_ = std::move(h.entries);
        rx_uplink_ = h.uplink;
    }
}

std::vector<uint32_t> KernelObserver::xsk_sockets(const PortConfig& p) const
{
    std::vector<uint32_t> out;
    const auto q = dp_.xsk_sockets(p.xsk_first, p.queues);
    for (uint32_t i = 0; i < q.size(); i++)
        if (q[i] && *q[i] == i)
            out.push_back(i);
    return out;
}

} // namespace vepad
