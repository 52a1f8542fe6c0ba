#include "reconciler.hpp"

#include <bpf/bpf.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "attach.hpp"

namespace vepad {

using vepa::LinkInfo;
using vepa::Mac;

namespace {
uint32_t prog_id(int fd)
{
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    vepa::check_bpf(bpf_obj_get_info_by_fd(fd, &info, &len), "program info");
    return info.id;
}
} // namespace

Reconciler::Reconciler(vepa::Dataplane& dp, const Config& cfg, const vepa::Mac& probe_dst)
    : dp_(dp), cfg_(cfg), probe_dst_(probe_dst)
{
    progs_ = {prog_id(dp.uplink_xdp_fd()), prog_id(dp.uplink_tc_fd()), prog_id(dp.port_xdp_fd()),
              prog_id(dp.port_tc_fd()), prog_id(dp.xsk_xdp_fd())};
}

const LinkInfo* Reconciler::link_by_name(const std::string& name) const
{
    for (const auto& [idx, l] : links_)
        if (l.name == name)
            return &l;
    return nullptr;
}

void Reconciler::link_changed(const LinkInfo& link, bool removed)
{
    probes_.erase(link.ifindex);
    tc_ids_.erase(link.ifindex);
    xdp_.erase(link.ifindex);
    if (removed)
        links_.erase(link.ifindex);
    else
        links_[link.ifindex] = link;
}

bool Reconciler::peer_changed(int nsid, int ifindex)
{
    bool ours = false;
    for (const auto& [idx, l] : links_)
        if (l.link_netnsid && *l.link_netnsid == nsid && l.link == ifindex) {
            probes_.erase(idx);
            ours = true;
        }
    return ours;
}

Reconciler::Probe& Reconciler::probe(const LinkInfo& link, bool want_guest)
{
    Probe& p = probes_[link.ifindex];
    if (!p.features_known) {
        p.features = nl_.xdp_features(link.ifindex);
        p.features_known = true;
    }
    if (want_guest && !p.guest_known) {
        if (link.link_netnsid && link.link > 0) {
            if (auto peer = nl_.link_in_netns(*link.link_netnsid, link.link))
                p.guest_mac = peer->mac;
        } else if (link.link > 0) {
            if (auto peer = nl_.link(link.link))
                p.guest_mac = peer->mac;
        }
        p.guest_known = true;
    }
    return p;
}

void Reconciler::ensure_tc(int ifindex, int prog_fd, uint32_t prog_id)
{
    auto it = tc_ids_.find(ifindex);
    if (it == tc_ids_.end())
        it = tc_ids_.emplace(ifindex, vepa::tc_query(ifindex).value_or(0)).first;
    if (it->second == prog_id)
        return;
    vepa::tc_attach(ifindex, prog_fd);
    it->second = prog_id;
}

std::optional<vepa::XdpAttachment> Reconciler::ensure_xdp(int ifindex, int prog_fd, uint32_t prog_id,
                                                          vepa::XdpMode mode)
{
    auto it = xdp_.find(ifindex);
    if (it == xdp_.end())
        it = xdp_.emplace(ifindex, vepa::xdp_query(ifindex)).first;
    if (it->second && it->second->prog_id == prog_id)
        return it->second;
    it->second = vepa::xdp_attach(ifindex, prog_fd, mode);
    if (it->second->legacy && !legacy_logged_) {
        spdlog::info("XDP programs are attached alone: libxdp's dispatcher cannot load on this kernel, so other "
                     "XDP programs cannot share vepad's devices");
        legacy_logged_ = true;
    }
    return it->second;
}

void Reconciler::remove_xdp(int ifindex)
{
    auto it = xdp_.find(ifindex);
    if (it != xdp_.end() && !it->second)
        return;
    // rtnetlink told us whether the device has an XDP program: when it has none,
    // skip libxdp's query (a dump of every link: O(links) per new port).
    const auto link = links_.find(ifindex);
    if (it == xdp_.end() && link != links_.end() && link->second.xdp_attached == 0) {
        xdp_[ifindex] = std::nullopt;
        return;
    }
    vepa::xdp_detach(ifindex);
    xdp_[ifindex] = std::nullopt;
}

void Reconciler::remove_all_hooks(int ifindex)
{
    if (!links_.count(ifindex))
        return;   // gone: nothing attached any more
    try {
        remove_xdp(ifindex);
        vepa::tc_detach(ifindex);
        tc_ids_[ifindex] = 0;
    } catch (const std::exception& e) {
        spdlog::warn("detaching from ifindex {}: {}", ifindex, e.what());
    }
}

std::vector<uint32_t> Reconciler::xsk_sockets(const PortConfig& p) const
{
    std::vector<uint32_t> out;
    const auto q = dp_.xsk_sockets(p.xsk_first, p.queues);
    for (uint32_t i = 0; i < q.size(); i++)
        if (q[i] && *q[i] == i)
            out.push_back(i);
    return out;
}

bool Reconciler::xsk_sockets_changed(const PortTable& table) const
{
    for (const auto& [name, p] : table.ports()) {
        if (p.type != PortType::Xsk)
            continue;
        auto it = status_.find(name);
        const std::vector<uint32_t> none;
        if (xsk_sockets(p) != (it == status_.end() ? none : it->second.xsk_sockets))
            return true;
    }
    return false;
}

void Reconciler::ensure_xsk_pairs(const PortTable& table, std::map<std::string, PortStatus>& status)
{
    // Pairs vepad made for ports no longer configured go (they carry our alias).
    std::vector<int> orphans;
    for (const auto& [idx, l] : links_) {
        const auto port = xsk_alias_port(l.alias, cfg_.uplink);
        const PortConfig* p = port ? table.find(*port) : nullptr;
        if (port && (!p || p->type != PortType::Xsk))
            orphans.push_back(idx);
    }
    for (int idx : orphans) {
        spdlog::info("removing {}: its xsk port is no longer configured", links_[idx].name);
        nl_.delete_link(idx);
        links_.erase(idx);
    }

    for (const auto& [name, p] : table.ports()) {
        if (p.type != PortType::Xsk)
            continue;
        const std::string peer_name = xsk_peer_name(name);
        const LinkInfo* dev = link_by_name(name);
        const LinkInfo* peer = link_by_name(peer_name);
        const bool ours = dev && peer && dev->kind == "veth" && peer->kind == "veth" && !dev->link_netnsid &&
                          dev->link == peer->ifindex && peer->alias == xsk_alias(name, cfg_.uplink);
        if (ours)
            continue;
        if (dev && !(dev->kind == "veth" && peer && dev->link == peer->ifindex)) {
            PortStatus ps;
            ps.name = name;
            ps.state = "unsupported";
            ps.kind = "xsk";
            ps.reason = "a device named " + name + " exists and is not this xsk port's veth pair: rename or delete it";
            status[name] = ps;
            continue;
        }
        // Half a pair, or none: make it anew.
        for (const LinkInfo* l : {dev, peer})
            if (l) {
                const int idx = l->ifindex;
                nl_.delete_link(idx);
                links_.erase(idx);
            }
        try {
            vepa::VethPair v;
            v.name = peer_name;
            v.peer = name;
            v.queues = p.queues;
            v.peer_mac = p.macs.empty() ? std::nullopt : std::optional<Mac>(p.macs.front());
            nl_.create_veth(v);
            // Sockets in the slots were bound to a device that is gone: they receive nothing
            // any more, and the port must not look up because of them.
            dp_.clear_xsk_slots(p.xsk_first, p.queues);
            for (const std::string& n : {peer_name, name}) {
                auto l = nl_.link(n);
                if (!l)
                    throw vepa::Error(n + " vanished right after it was created");
                vepa::LinkSettings ls;
                ls.no_ipv6_addresses = true;
                ls.noarp = true;
                if (n == peer_name)
                    ls.alias = xsk_alias(name, cfg_.uplink);
                nl_.set_link(l->ifindex, ls);
                // Up in a request of its own, after the address generation mode is in place
                // (in one request the kernel, not we, would order the two), so the device
                // never comes up with an IPv6 link-local address.
                vepa::LinkSettings up;
                up.up = true;
                nl_.set_link(l->ifindex, up);
                links_[l->ifindex] = *nl_.link(n);
            }
            spdlog::info("xsk port {}: created veth pair {} (sockets) / {} (vepa side), {} queue(s)", name, name,
                         peer_name, p.queues);
        } catch (const std::exception& e) {
            spdlog::error("xsk port {}: {}", name, e.what());
            PortStatus ps;
            ps.name = name;
            ps.kind = "xsk";
            ps.reason = e.what();
            status[name] = ps;
        }
    }
}

void Reconciler::run(const PortTable& table, bool full)
{
    if (full || !links_loaded_) {
        links_.clear();
        for (auto& l : nl_.links())
            links_[l.ifindex] = l;
        probes_.clear();
        tc_ids_.clear();
        xdp_.clear();
        written_.reset();
        links_loaded_ = true;
    }
    if (!written_)
        written_ = vepa::read_contents(dp_);

    // The uplink.
    vepa::DataplaneState st;
    st.probe_dst = probe_dst_;
    const LinkInfo* up = link_by_name(cfg_.uplink);
    uplink_ = UplinkStatus{};
    uplink_.name = cfg_.uplink;
    if (up) {
        uplink_.ifindex = up->ifindex;
        uplink_.state = up->is_up() ? "up" : "down";
        uplink_.mac = up->mac;
        uplink_.takes_xdp = vepa::takes_xdp_frames(*up, probe(*up, false).features);
        st.uplink_ifindex = static_cast<uint32_t>(up->ifindex);
        st.uplink_takes_xdp = uplink_.takes_xdp;
        // Longest frame: MTU plus Ethernet header and two VLAN tags.
        st.max_frame_len = up->mtu + 14 + 8;
    }

    // The ports, in slot order, so MAC conflicts between learned MACs resolve stably.
    std::vector<const PortConfig*> order;
    for (const auto& [n, p] : table.ports())
        order.push_back(&p);
    std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->slot < b->slot; });
    std::set<Mac> claimed;
    for (const auto* p : order)
        claimed.insert(p->macs.begin(), p->macs.end());

    std::map<std::string, PortStatus> status;
    ensure_xsk_pairs(table, status);
    std::map<int, bool> xdp_egress;
    for (const auto* pc : order) {
        if (status.count(pc->name))
            continue;   // an xsk port whose pair could not be made
        PortStatus ps;
        ps.name = pc->name;
        ps.macs = pc->macs;
        const bool xsk = pc->type == PortType::Xsk;
        const LinkInfo* link = link_by_name(xsk ? xsk_peer_name(pc->name) : pc->name);
        if (!link) {
            status[pc->name] = ps;
            continue;
        }
        if (xsk) {
            // The socket device's program first: the vepa side then takes XDP frames.
            const LinkInfo* dev = link_by_name(pc->name);
            ps.xsk_ifindex = dev ? dev->ifindex : 0;
            try {
                if (dev) {
                    auto x = xdp_.find(dev->ifindex);
                    const bool had = x != xdp_.end() && x->second && x->second->prog_id == progs_.xsk_xdp;
                    ensure_xdp(dev->ifindex, dp_.xsk_xdp_fd(), progs_.xsk_xdp, vepa::XdpMode::Native);
                    if (!had)
                        probes_.erase(link->ifindex);   // its peer has NAPI now: it takes XDP frames
                }
            } catch (const std::exception& e) {
                spdlog::warn("xsk port {}: attach to {}: {}", pc->name, pc->name, e.what());
            }
            ps.xsk_sockets = xsk_sockets(*pc);
            if (dev) {
                vepa::XskDevice xd;
                xd.ifindex = static_cast<uint32_t>(dev->ifindex);
                xd.first_slot = pc->xsk_first;
                xd.queues = pc->queues;
                xd.slot = pc->slot;
                st.xsk_devices.push_back(xd);
            }
        }
        ps.ifindex = link->ifindex;
        const vepa::PortKind kind = vepa::port_kind(*link);
        ps.kind = xsk ? "xsk" : kind == vepa::PortKind::Unsupported ? link->kind : vepa::to_string(kind);
        if (pc->name == cfg_.uplink || kind == vepa::PortKind::Unsupported) {
            ps.state = "unsupported";
            ps.reason = pc->name == cfg_.uplink ? "it is the uplink"
                                                : "not a veth or tap (kind '" + link->kind + "')";
            status[pc->name] = ps;
            continue;
        }
        Probe& pr = probe(*link, pc->macs.empty() && kind == vepa::PortKind::Veth && !xsk);
        if (pc->macs.empty()) {
            ps.learned = true;
            ps.macs.clear();
            if (kind == vepa::PortKind::Tap)
                ps.reason = "a tap's own MAC is not its guest's: give the guest's MAC with --mac";
            else if (!pr.guest_mac)
                ps.reason = "the guest end's MAC cannot be read";
            else if (claimed.count(*pr.guest_mac))
                ps.reason = "guest MAC " + pr.guest_mac->str() + " is already another port's";
            else {
                ps.macs.push_back(*pr.guest_mac);
                claimed.insert(*pr.guest_mac);
            }
        }
        const vepa::PortPaths paths = vepa::choose_paths(*link, pr.features, uplink_.takes_xdp);
        // An xsk port is up while every queue has its socket.
        const bool sockets_ok = !xsk || ps.xsk_sockets.size() == pc->queues;
        ps.state = link->is_up() && sockets_ok ? "up" : "down";
        if (xsk && !sockets_ok && ps.reason.empty())
            ps.reason = ps.xsk_sockets.empty() ? "no AF_XDP socket attached"
                                               : std::to_string(pc->queues - ps.xsk_sockets.size()) + " of " +
                                                     std::to_string(pc->queues) + " queues have no AF_XDP socket";
        ps.delivery = ps.state == "up" ? paths.delivery : VEPA_DELIVER_DOWN;
        xdp_egress[link->ifindex] = paths.xdp_egress && up;
        vepa::PresentPort pp;
        pp.ifindex = static_cast<uint32_t>(link->ifindex);
        pp.slot = pc->slot;
        pp.mode = pc->mode;
        pp.delivery = *ps.delivery;
        pp.flags = pc->src_check ? 0 : VEPA_PORT_F_NO_SRC_CHECK;
        pp.macs = ps.macs;
        st.ports.push_back(pp);
        status[pc->name] = ps;
    }

    vepa::MapContents want = vepa::build_contents(st);

    // 1. Hooks off devices that stop being ours (ports deleted, or a new uplink).
    for (const auto& [ifindex, rec] : written_->ports)
        if (!want.ports.count(ifindex) && static_cast<int>(ifindex) != uplink_.ifindex)
            remove_all_hooks(static_cast<int>(ifindex));
    for (const auto& [ifindex, rec] : written_->xskports)
        if (!want.xskports.count(ifindex))
            remove_all_hooks(static_cast<int>(ifindex));
    const int old_uplink = static_cast<int>(written_->config.uplink_ifindex);
    if (old_uplink && old_uplink != uplink_.ifindex && !want.ports.count(static_cast<uint32_t>(old_uplink)))
        remove_all_hooks(old_uplink);

    // 2. The maps.
    const vepa::SyncStats s = vepa::sync_maps(dp_, want, *written_);
    written_ = std::move(want);
    if (s.written || s.removed)
        spdlog::debug("maps: {} written, {} removed{}", s.written, s.removed,
                      s.flood_published ? ", flood list published" : "");

    // 3. Hooks onto the uplink and every present port: TC first (complete on its
    //    own), then XDP (the fast path).
    if (up) {
        ensure_tc(up->ifindex, dp_.uplink_tc_fd(), progs_.uplink_tc);
        uplink_.tc = progs_.uplink_tc;
        // XDP on the uplink is the fast path into XDP-delivered ports (taps); with
        // none, it would only add a program run and an xdp_buff per frame before TC,
        // which does everything anyway.
        bool xdp_needed = false;
        for (const auto& [n, ps] : status)
            xdp_needed |= ps.delivery == VEPA_DELIVER_XDP;
        if (xdp_needed) {
            uplink_.xdp = ensure_xdp(up->ifindex, dp_.uplink_xdp_fd(), progs_.uplink_xdp, cfg_.xdp_mode);
        } else {
            remove_xdp(up->ifindex);
            uplink_.xdp.reset();
        }
    }
    for (auto& [name, ps] : status) {
        if (ps.state != "up" && ps.state != "down")
            continue;
        try {
            ensure_tc(ps.ifindex, dp_.port_tc_fd(), progs_.port_tc);
            ps.attach = "tc";
            if (xdp_egress[ps.ifindex]) {
                auto x = ensure_xdp(ps.ifindex, dp_.port_xdp_fd(), progs_.port_xdp, vepa::XdpMode::Native);
                ps.attach = x && x->mode == vepa::XdpMode::Generic ? "xdp generic" : "xdp native";
            } else {
                remove_xdp(ps.ifindex);
            }
        } catch (const std::exception& e) {
            // The device may have vanished under us; its RTM_DELLINK follows.
            spdlog::warn("port {}: attach failed: {}", name, e.what());
            tc_ids_.erase(ps.ifindex);
            xdp_.erase(ps.ifindex);
        }
    }
    status_ = std::move(status);
}

void Reconciler::detach_all()
{
    if (!links_loaded_)
        for (auto& l : nl_.links())
            links_[l.ifindex] = l;
    const vepa::MapContents have = written_ ? *written_ : vepa::read_contents(dp_);
    for (const auto& [ifindex, rec] : have.ports)
        remove_all_hooks(static_cast<int>(ifindex));
    for (const auto& [ifindex, rec] : have.xskports)
        remove_all_hooks(static_cast<int>(ifindex));
    if (have.config.uplink_ifindex)
        remove_all_hooks(static_cast<int>(have.config.uplink_ifindex));
    if (const LinkInfo* up = link_by_name(cfg_.uplink))
        remove_all_hooks(up->ifindex);
    vepa::sync_maps(dp_, vepa::MapContents{}, have);
    written_ = vepa::MapContents{};
    // The veth pairs of xsk ports are vepad's own: they go with the dataplane.
    for (const auto& [idx, l] : links_)
        if (xsk_alias_port(l.alias, cfg_.uplink))
            try {
                nl_.delete_link(idx);
            } catch (const std::exception& e) {
                spdlog::warn("deleting {}: {}", l.name, e.what());
            }
    status_.clear();
}

} // namespace vepad
