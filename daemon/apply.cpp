#include "daemon/apply.hpp"

#include <spdlog/spdlog.h>

namespace vepad {

using vepa::Program;

namespace {
std::string list(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : "; ") + s;
    return out.empty() ? "nothing" : out;
}
} // namespace

ApplyError::ApplyError(const std::string& step, const std::string& why, const std::vector<std::string>& done)
    : std::runtime_error(step + " failed: " + why + " (done before it: " + list(done) + "; not done: " + step +
                         " and what follows it)")
{}

Applier::Applier(vepa::Dataplane& dp, vepa::NetlinkRequester& nl, KernelObserver& observer, std::string uplink)
    : dp_(dp), nl_(nl), observer_(observer), uplink_(std::move(uplink))
{}

// ---- step 0: devices -------------------------------------------------------

void Applier::configure_pair_end(const std::string& name, bool vepa_side, const std::string& port)
{
    const auto l = nl_.link(name);
    if (!l)
        throw vepa::Error(name + " vanished right after it was created");
    vepa::LinkSettings ls;
    ls.no_ipv6_addresses = true;
    ls.noarp = true;
    if (vepa_side)
        ls.alias = xsk_alias(port, uplink_);
    nl_.set_link(l->ifindex, ls);
    // Up in a request of its own, after the address generation mode is in place
    // (in one request the kernel, not we, would order the two), so the device
    // never comes up with an IPv6 link-local address.
    vepa::LinkSettings up;
    up.up = true;
    nl_.set_link(l->ifindex, up);
    if (const auto now = nl_.link(name))
        observer_.recorded_link(*now);
}

void Applier::make_pair(const XskPair& x)
{
    vepa::VethPair v;
    v.name = xsk_peer_name(x.port);
    v.peer = x.port;
    v.queues = x.queues;
    v.peer_mac = x.mac;
    nl_.create_veth(v);
    // Sockets in the slots were bound to a device that is gone: they receive
    // nothing any more, and the port must not look up because of them.
    dp_.clear_xsk_slots(x.first_slot, x.queues);
    configure_pair_end(v.name, true, x.port);
    configure_pair_end(v.peer, false, x.port);
    spdlog::info("xsk port {}: created veth pair {} (sockets) / {} (vepa side), {} queue(s)", x.port, v.peer, v.name,
                 x.queues);
}

std::map<std::string, std::string> Applier::apply_devices(const DeviceChanges& dc, const Snapshot& snap)
{
    for (const DeviceRemoval& r : dc.remove)
        if (const Device* d = snap.find(r.ifindex)) {
            spdlog::info("removing {}: {}", d->link.name, r.why);
            nl_.delete_link(r.ifindex);
            observer_.link_changed(d->link, true);
        }
    std::map<std::string, std::string> failed;
    for (const XskPair& x : dc.create)
        try {
            make_pair(x);
        } catch (const std::exception& e) {
            spdlog::error("xsk port {}: {}", x.port, e.what());
            failed[x.port] = e.what();
        }
    for (int idx : dc.xsk_program)
        try {
            observer_.recorded_xdp(idx, vepa::xdp_attach(idx, dp_.prog_fd(Program::XskXdp), vepa::XdpMode::Native));
            if (const Device* d = snap.find(idx))
                observer_.forget(d->link.link); // its peer has NAPI now: it takes XDP frames
        } catch (const std::exception& e) {
            spdlog::warn("xsk socket device ifindex {}: attach: {}", idx, e.what());
        }
    return failed;
}

// ---- steps 1-3 ---------------------------------------------------------------

void Applier::unhook(const Device& have, std::vector<std::string>& done)
{
    const int ifindex = have.link.ifindex;
    if (have.xdp)
        vepa::xdp_detach(ifindex);
    observer_.recorded_xdp(ifindex, std::nullopt);
    vepa::tc_detach(ifindex);
    observer_.recorded_tc(ifindex, std::nullopt);
    done.push_back("programs off ifindex " + std::to_string(ifindex));
}

std::optional<vepa::XdpAttachment> Applier::hook(const Hooks& want, const Device& have, const ProgramIds& ids)
{
    const int ifindex = have.link.ifindex;
    const auto tc = want.tc ? std::optional(vepa::TcAttachment{ids.at(*want.tc), want.tc_hook}) : std::nullopt;
    if (tc && have.tc != tc) {
        vepa::tc_attach(ifindex, dp_.prog_fd(*want.tc), want.tc_hook);
        observer_.recorded_tc(ifindex, tc);
    } else if (!tc && have.tc) {
        vepa::tc_detach(ifindex);
        observer_.recorded_tc(ifindex, std::nullopt);
    }
    if (!want.xdp) {
        if (have.xdp) {
            vepa::xdp_detach(ifindex);
            observer_.recorded_xdp(ifindex, std::nullopt);
        }
        return std::nullopt;
    }
    if (have.xdp && have.xdp->prog_id == ids.at(*want.xdp))
        return have.xdp;
    const vepa::XdpAttachment a = vepa::xdp_attach(ifindex, dp_.prog_fd(*want.xdp), want.xdp_mode);
    observer_.recorded_xdp(ifindex, a);
    if (a.legacy && !legacy_logged_) {
        spdlog::info("XDP programs are attached alone: libxdp's dispatcher cannot load on this kernel, so other "
                     "XDP programs cannot share vepad's devices");
        legacy_logged_ = true;
    }
    return a;
}

void Applier::hook_uplink(const Plan& plan, const Snapshot& snap, ApplyResult& r)
{
    const int up = plan.uplink.ifindex;
    const auto want = plan.hooks.find(up);
    if (!up || want == plan.hooks.end())
        return;
    r.uplink_xdp = hook(want->second, *snap.find(up), snap.programs);
    r.uplink_tc = vepa::TcAttachment{snap.programs.at(*want->second.tc), want->second.tc_hook};
}

void Applier::hook_ports(const Plan& plan, const Snapshot& snap, ApplyResult& r)
{
    for (const auto& [idx, want] : plan.hooks) {
        if (idx == plan.uplink.ifindex)
            continue;
        try {
            const auto x = hook(want, *snap.find(idx), snap.programs);
            if (want.tc)
                r.attached[idx] = !x                                  ? Attach::Tc
                                  : x->mode == vepa::XdpMode::Generic ? Attach::XdpGeneric
                                                                      : Attach::XdpNative;
        } catch (const std::exception& e) {
            // The device may have vanished under us; its RTM_DELLINK follows.
            spdlog::warn("ifindex {}: attach failed: {}", idx, e.what());
            observer_.forget(idx);
            r.failed["programs on ifindex " + std::to_string(idx)] = e.what();
        }
    }
}

ApplyResult Applier::apply(Plan& plan, Snapshot& snap)
{
    ApplyResult r;
    std::vector<std::string> done;
    for (int idx : plan.unhook)
        try {
            unhook(*snap.find(idx), done);
        } catch (const std::exception& e) {
            spdlog::warn("detaching from ifindex {}: {}", idx, e.what());
            r.failed["programs off ifindex " + std::to_string(idx)] = e.what();
        }
    try {
        r.maps = vepa::sync_maps(dp_, plan.maps, plan.macs, snap.maps);
    } catch (const std::exception& e) {
        // Partly written: no record goes back to the observer, the next observation reads them.
        throw ApplyError("map update", e.what(), done);
    }
    r.counts = {snap.maps.macs.size(), snap.maps.ports.size(), snap.maps.devs.size(), snap.maps.flood.size()};
    observer_.recorded_maps(std::move(snap.maps), std::move(plan.state));
    done.push_back("maps");
    try {
        hook_uplink(plan, snap, r);
    } catch (const std::exception& e) {
        observer_.forget(plan.uplink.ifindex);
        throw ApplyError("programs on the uplink", e.what(), done);
    }
    hook_ports(plan, snap, r);
    apply_rx_filter(plan, snap, r);
    return r;
}

} // namespace vepad
