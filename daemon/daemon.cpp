#include "daemon.hpp"

#include <grp.h>
#include <unistd.h>
#include <linux/magic.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include <sys/socket.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>

#include "command_error.hpp"
#include "counters.hpp"
#include "port_paths.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;
using vepa::Mac;

static_assert(proto::kDropReasons.size() == VEPA_DROP__MAX, "drop reason names and enum differ");

namespace {

void ensure_bpffs(const std::string& pin_dir)
{
    namespace fs = std::filesystem;
    if (pin_dir.rfind("/sys/fs/bpf/", 0) != 0 || vepa::is_bpffs("/sys/fs/bpf"))
        return;
    std::error_code ec;
    fs::create_directories("/sys/fs/bpf", ec);
    if (::mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") != 0)
        throw vepa::SysError(errno, "mount bpffs on /sys/fs/bpf");
    spdlog::info("mounted bpffs on /sys/fs/bpf");
}

vepa::UniqueFd lock_pin_dir(const std::string& dir, const std::string& uplink)
{
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw vepa::SysError(ec.value(), "create pin directory " + dir);
    vepa::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd)
        throw vepa::SysError(errno, "open pin directory " + dir);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            throw vepa::Error("another vepad manages uplink " + uplink + " (" + dir + " is locked)");
        throw vepa::SysError(errno, "lock " + dir);
    }
    return fd;
}

std::optional<gid_t> group_id(const std::string& name)
{
    if (name.empty())
        return std::nullopt;
    const group* g = ::getgrnam(name.c_str());
    if (!g) {
        spdlog::info("group '{}' does not exist: only root may use the control socket", name);
        return std::nullopt;
    }
    return g->gr_gid;
}

json counters_json(const vepa_counters& c)
{
    json drops = json::object();
    for (size_t i = 0; i < proto::kDropReasons.size(); i++)
        drops[std::string(proto::kDropReasons[i])] = c.drops[i];
    return {{"rx_packets", c.rx_packets}, {"rx_bytes", c.rx_bytes},     {"tx_packets", c.tx_packets},
            {"tx_bytes", c.tx_bytes},     {"host_packets", c.host_packets}, {"host_bytes", c.host_bytes},
            {"probe_packets", c.probe_packets}, {"drops", drops}};
}

} // namespace

Daemon::Daemon(Config cfg) : cfg_(std::move(cfg)), signals_(io_, SIGTERM, SIGINT), state_(cfg_.state_file())
{
    const std::string pin_dir = cfg_.effective_pin_dir();
    ensure_bpffs(pin_dir);
    lock_ = lock_pin_dir(pin_dir, cfg_.uplink);

    if (auto j = state_.load()) {
        table_ = PortTable::from_json(*j, state_.path());
        if (j->contains("uplink") && (*j)["uplink"] != cfg_.uplink)
            throw vepa::Error("state file " + state_.path() + " belongs to uplink " + (*j)["uplink"].dump() +
                              ", not " + cfg_.uplink);
        spdlog::info("restored {} port(s) from {}", table_.size(), state_.path());
    } else {
        spdlog::info("no state file at {}: starting with no ports", state_.path());
    }

    dp_ = std::make_unique<vepa::Dataplane>(vepa::DataplaneOptions{pin_dir});
    vepa::set_bpf_log([](int, const char* msg) { spdlog::debug("bpf: {}", msg); });
    probe_macs_ = probe_macs(machine_identity(), cfg_.uplink);
    reconciler_ = std::make_unique<Reconciler>(*dp_, cfg_, probe_macs_.dst);
    probe_ = std::make_unique<ReflectionProbe>(
        io_, ReflectionProbe::Options{probe_macs_, std::chrono::seconds(cfg_.probe_interval)},
        [this] { return probes_returned(); },
        [this](const ProbeResult& r) {
            spdlog::log(r.state == Reflection::Reflecting ? spdlog::level::debug : spdlog::level::info,
                        "reflection probe: {} ({})", to_string(r.state), r.reason);
            check_relay();
        });
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    lldp_ = std::make_unique<LldpAgent>(io_, LldpAgent::Options{std::chrono::seconds(cfg_.lldp_interval), host},
                                        [this] { check_relay(); });
    // Subscribe before the first full read, so no event between the two is lost.
    monitor_ = std::make_unique<RtnlMonitor>(
        io_, cfg_.netlink_rcvbuf, [this](const vepa::LinkInfo& l, bool removed, std::optional<int> nsid) { on_link(l, removed, nsid); },
        [this] { schedule_reconcile(true); });
}

int Daemon::run()
{
    reconcile(true);
    server_ = std::make_unique<ControlServer>(
        io_, ControlServer::Options{cfg_.socket, group_id(cfg_.socket_group)},
        [this](const Request& req) { return dispatch(req); });
    monitor_->start();
    watch_xsk_sockets();
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec)
            return;
        spdlog::info("signal {}: stopping; the dataplane {}", sig,
                     cfg_.detach_on_exit ? "is removed" : "stays attached and forwarding");
        detach_at_exit_ = cfg_.detach_on_exit;
        io_.stop();
    });
    const auto& up = reconciler_->uplink();
    spdlog::info("vepad {} ready: uplink {} ({}), {} port(s), maps in {}", VEPAD_VERSION, cfg_.uplink, up.state,
                 table_.size(), dp_->pin_dir());
    sd_notify(0, "READY=1");
    notify_status();
    io_.run();

    server_.reset();
    if (detach_at_exit_) {
        reconciler_->detach_all();
        dp_.reset();
        vepa::Dataplane::unpin(cfg_.effective_pin_dir());
        spdlog::info("dataplane removed from {} and its ports; maps unpinned", cfg_.uplink);
    }
    sd_notify(0, "STOPPING=1");
    return 0;
}

void Daemon::notify_status()
{
    size_t present = 0;
    for (const auto& [n, ps] : reconciler_->ports())
        present += ps.state == "up" || ps.state == "down";
    sd_notifyf(0, "STATUS=uplink %s %s, %zu port(s) configured, %zu present", cfg_.uplink.c_str(),
               reconciler_->uplink().state.c_str(), table_.size(), present);
}

void Daemon::reconcile(bool full)
{
    try {
        reconciler_->run(table_, full);
    } catch (const std::exception& e) {
        spdlog::error("reconcile failed: {}; retrying in full at the next event", e.what());
        full_pending_ = true;
    }
    uplink_maybe_changed();
}

void Daemon::watch_xsk_sockets()
{
    if (!xsk_timer_)
        xsk_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
    xsk_timer_->expires_after(std::chrono::seconds(1));
    xsk_timer_->async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        try {
            if (reconciler_->xsk_sockets_changed(table_)) {
                reconcile(false);
                notify_status();
            }
        } catch (const std::exception& e) {
            spdlog::warn("checking xsk sockets: {}", e.what());
        }
        watch_xsk_sockets();
    });
}

void Daemon::uplink_maybe_changed()
{
    const UplinkStatus& up = reconciler_->uplink();
    const bool is_up = up.state == "up";
    probe_->uplink_changed(up.ifindex, is_up);
    lldp_->uplink_changed(up.ifindex, up.name, up.mac.value_or(Mac{}), is_up);
}

uint64_t Daemon::probes_returned() const
{
    return vepa::sum_cpus(dp_->stats().lookup_range(VEPA_SLOT_UPLINK, 1), 0, dp_->stats().cpus()).probe_packets;
}

void Daemon::check_relay()
{
    size_t need = 0;
    for (const auto& [n, p] : table_.ports())
        need += p.mode == VEPA_MODE_VEPA || p.mode == VEPA_MODE_PRIVATE;
    const bool bad = probe_->result().state == Reflection::NotReflecting && need >= 2;
    if (bad && !relay_warned_)
        spdlog::warn("the switch does not reflect frames back to {} (reflection probe: {}), and {} ports are in vepa "
                     "or private mode: their VMs cannot reach each other. Enable reflective relay (hairpin) on the "
                     "switch port{}",
                     cfg_.uplink, probe_->result().reason, need,
                     lldp_->bridge_evb() ? "" : " (the switch sends no 802.1Qbg EVB TLV to negotiate it)");
    relay_warned_ = bad;
}

json Daemon::relay_json() const
{
    json verdict = "unknown", by = nullptr;
    if (probe_->result().state != Reflection::Unknown) {
        verdict = to_string(probe_->result().state);
        by = "probe";
    } else if (auto evb = lldp_->bridge_evb()) {
        verdict = evb->rr_enabled() ? "reflecting" : "not-reflecting";
        by = "lldp";
    }
    return {{"verdict", verdict}, {"by", by}, {"probe", probe_->to_json()}, {"lldp", lldp_->to_json()}};
}

json Daemon::run(const ProbeRelay&)
{
    const uint64_t seq = probe_->request();
    return {{"seq", seq}, {"probe", probe_->to_json()}};
}

void Daemon::schedule_reconcile(bool full)
{
    full_pending_ |= full;
    if (reconcile_pending_)
        return;
    reconcile_pending_ = true;
    boost::asio::post(io_, [this] {
        reconcile_pending_ = false;
        const bool f = full_pending_;
        full_pending_ = false;
        reconcile(f);
        notify_status();
    });
}

void Daemon::on_link(const vepa::LinkInfo& link, bool removed, std::optional<int> nsid)
{
    if (nsid) {
        if (reconciler_->peer_changed(*nsid, link.ifindex))
            schedule_reconcile(false);
        return;
    }
    const auto& st = reconciler_->ports();
    auto known = [&](const std::string& n) { return n == cfg_.uplink || table_.find(n); };
    bool relevant = known(link.name) || link.ifindex == reconciler_->uplink().ifindex;
    for (const auto& [n, ps] : st)
        relevant |= ps.ifindex == link.ifindex;
    reconciler_->link_changed(link, removed);
    if (relevant) {
        spdlog::debug("link {} (ifindex {}) {}", link.name, link.ifindex, removed ? "removed" : "changed");
        schedule_reconcile(false);
    }
}

json Daemon::dispatch(const Request& req)
{
    return std::visit([this](const auto& c) { return run(c); }, req.cmd);
}

void Daemon::commit(PortTable t)
{
    try {
        state_.save(t.to_json(cfg_.uplink));
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        throw CommandError(proto::kErrState, std::string("configuration not changed: ") + e.what());
    }
    table_ = std::move(t);
}

void Daemon::check_port_request(const PortConfig& p, bool adding) const
{
    if (p.name == cfg_.uplink)
        throw CommandError(proto::kErrIsUplink, p.name + " is vepad's uplink, it cannot be a port");
    vepa::NetlinkRequester nl;
    if (p.type == PortType::Xsk) {
        // vepad makes the pair; the names must be free, or the pair this vepad made for a port
        // of that name (its vepa side carries the alias; deleted with the port, or not yet).
        const auto peer = nl.link(xsk_peer_name(p.name));
        const bool ours = peer && xsk_alias_port(peer->alias, cfg_.uplink) == p.name;
        for (const std::string& n : {p.name, xsk_peer_name(p.name)})
            if (!ours && nl.link(n))
                throw CommandError(proto::kErrExists, "a device named " + n + " exists: an xsk port's devices are "
                                                      "made by vepad (" + p.name + " and " + xsk_peer_name(p.name) + ")");
    } else if (auto link = nl.link(p.name)) {
        const auto kind = vepa::port_kind(*link);
        if (kind == vepa::PortKind::Unsupported)
            throw CommandError(proto::kErrUnsupported,
                               p.name + " is " + (link->kind.empty() ? "a physical or untyped" : "a " + link->kind) +
                                   " interface; ports are veth or tap interfaces");
        if (kind == vepa::PortKind::Tap && p.macs.empty())
            throw CommandError(proto::kErrInvalid, p.name +
                                                       " is a tap: give its guest's MAC with --mac (the tap's own "
                                                       "MAC is the host side's, not the VM's)");
    }
    // MACs learned from other ports' guests count as taken too.
    for (const auto& m : p.macs)
        for (const auto& [n, ps] : reconciler_->ports())
            if (n != p.name && ps.learned && std::find(ps.macs.begin(), ps.macs.end(), m) != ps.macs.end())
                throw CommandError(proto::kErrMacInUse, "MAC " + m.str() + " belongs to port " + n + " (its guest's)");
    (void)adding;
}

json Daemon::run(const AddPort& c)
{
    PortConfig p;
    p.name = c.name;
    p.mode = c.mode.value_or(cfg_.default_mode);
    p.macs = c.macs.value_or(std::vector<Mac>{});
    p.src_check = c.src_check.value_or(true);
    if (c.xsk) {
        p.type = PortType::Xsk;
        p.queues = c.queues.value_or(1);
    }
    if (table_.find(p.name))
        throw CommandError(proto::kErrExists, "port " + p.name + " is already configured");
    PortTable t = table_;
    const PortConfig added = t.add(p);   // refuses bad xsk names, queues, MACs before any netlink work
    check_port_request(added, true);
    const uint16_t slot = added.slot;
    commit(std::move(t));
    if (added.type == PortType::Xsk)
        dp_->clear_xsk_slots(added.xsk_first, added.queues);   // a deleted port's sockets (QEMU's, say) are not this one's
    // A new port's counters start at zero (its slot may have served a deleted port).
    dp_->stats().update(slot, std::vector<vepa_counters>(dp_->stats().cpus()));
    spdlog::info("port {} added (mode {}, slot {})", p.name, mode_name(p.mode), slot);
    reconcile(false);
    notify_status();
    check_relay();
    return port_json(p.name);
}

json Daemon::run(const SetPort& c)
{
    const PortConfig* cur = table_.find(c.name);
    if (!cur)
        throw CommandError(proto::kErrNotFound, "no port " + c.name);
    PortConfig p = *cur;
    if (c.mode)
        p.mode = *c.mode;
    if (c.macs)
        p.macs = *c.macs;
    if (c.src_check)
        p.src_check = *c.src_check;
    check_port_request(p, false);
    PortTable t = table_;
    t.replace(p);
    commit(std::move(t));
    spdlog::info("port {} changed (mode {}, {} MAC(s))", c.name, mode_name(p.mode), p.macs.size());
    reconcile(false);
    check_relay();
    return port_json(c.name);
}

json Daemon::run(const DelPort& c)
{
    PortTable t = table_;
    t.remove(c.name);
    const PortConfig gone = *table_.find(c.name);
    commit(std::move(t));
    if (gone.type == PortType::Xsk)
        dp_->clear_xsk_slots(gone.xsk_first, gone.queues);
    spdlog::info("port {} deleted", c.name);
    reconcile(false);
    notify_status();
    check_relay();
    return json::object();
}

json Daemon::port_json(const std::string& name) const
{
    const PortConfig* p = table_.find(name);
    if (!p)
        return nullptr;
    PortStatus ps;
    if (auto it = reconciler_->ports().find(name); it != reconciler_->ports().end())
        ps = it->second;
    json macs = json::array();
    for (const auto& m : (ps.state == "up" || ps.state == "down") ? ps.macs : p->macs)
        macs.push_back(m.str());
    json out = {{"name", p->name},
                {"ifindex", ps.ifindex},
                {"state", ps.state},
                {"kind", ps.kind},
                {"macs", macs},
                {"mac_source", p->macs.empty() ? "guest" : "config"},
                {"mode", mode_name(p->mode)},
                {"src_check", p->src_check},
                {"slot", p->slot},
                {"delivery", ps.delivery ? vepa::to_string(*ps.delivery) : ""},
                {"attach", ps.attach}};
    if (!ps.reason.empty())
        out["reason"] = ps.reason;
    out["type"] = p->type == PortType::Xsk ? "xsk" : "kernel";
    out["xsk"] = nullptr;
    if (p->type == PortType::Xsk)
        out["xsk"] = {{"device", p->name},
                      {"ifindex", ps.xsk_ifindex},
                      {"peer", xsk_peer_name(p->name)},
                      {"queues", p->queues},
                      {"first_slot", p->xsk_first},
                      {"map", dp_->pin_dir().empty() ? "" : dp_->pin_dir() + "/" VEPA_MAP_XSKS},
                      {"sockets", ps.xsk_sockets}};
    return out;
}

json Daemon::run(const AttachXsk& c)
{
    const PortConfig* p = table_.find(c.port);
    if (!p)
        throw CommandError(proto::kErrNotFound, "no port " + c.port);
    if (p->type != PortType::Xsk)
        throw CommandError(proto::kErrInvalid, "port " + c.port + " is not an xsk port");
    if (c.queue >= p->queues)
        throw CommandError(proto::kErrInvalid, "port " + c.port + " has " + std::to_string(p->queues) +
                                                   " queue(s): no queue " + std::to_string(c.queue));
    if (!c.fd || !*c.fd)
        throw CommandError(proto::kErrBadSocket, "attach-xsk needs the socket's file descriptor with the request "
                                                 "(SCM_RIGHTS)");
    const int fd = c.fd->get();
    int domain = 0;
    socklen_t len = sizeof(domain);
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_XDP)
        throw CommandError(proto::kErrBadSocket, "the descriptor is not an AF_XDP socket");
    const uint32_t slot = p->xsk_first + c.queue;
    try {
        dp_->xsks().update(slot, static_cast<uint32_t>(fd));
    } catch (const vepa::SysError& e) {
        const int err = e.code().value();
        throw CommandError(proto::kErrBadSocket,
                           std::string("the socket cannot go into the XSKMAP: ") + std::strerror(err) +
                               (err == EOPNOTSUPP || err == ENOTCONN || err == EINVAL
                                    ? " (bind it to " + c.port + " queue " + std::to_string(c.queue) + " first)"
                                    : ""));
    }
    const auto bound = dp_->xsk_sockets(slot, 1).front();
    if (!bound || *bound != c.queue) {
        dp_->xsks().erase(slot);
        throw CommandError(proto::kErrBadSocket, "the socket is bound to queue " +
                                                     (bound ? std::to_string(*bound) : std::string("?")) +
                                                     ", not queue " + std::to_string(c.queue));
    }
    spdlog::info("xsk port {}: socket attached to queue {} (XSKMAP slot {})", c.port, c.queue, slot);
    reconcile(false);
    notify_status();
    return {{"name", c.port}, {"queue", c.queue}, {"xsk_slot", slot}};
}

json Daemon::run(const List&) const
{
    json ports = json::array();
    for (const auto& [name, p] : table_.ports())
        ports.push_back(port_json(name));
    return {{"ports", ports}};
}

json Daemon::run(const Stats& c) const
{
    std::vector<const PortConfig*> which;
    if (c.name) {
        const PortConfig* p = table_.find(*c.name);
        if (!p)
            throw CommandError(proto::kErrNotFound, "no port " + *c.name);
        which.push_back(p);
    } else {
        for (const auto& [n, p] : table_.ports())
            which.push_back(&p);
    }
    uint16_t max_slot = 0;
    for (auto* p : which)
        max_slot = std::max(max_slot, p->slot);
    const auto raw = dp_->stats().lookup_range(0, max_slot + 1u);
    const int ncpu = dp_->stats().cpus();
    auto sum = [&](uint16_t slot) { return vepa::sum_cpus(raw, slot, ncpu); };
    json ports = json::array();
    for (auto* p : which)
        ports.push_back({{"name", p->name}, {"slot", p->slot}, {"counters", counters_json(sum(p->slot))}});
    return {{"uplink", {{"name", cfg_.uplink}, {"counters", counters_json(sum(VEPA_SLOT_UPLINK))}}},
            {"ports", ports}};
}

json Daemon::run(const Status&) const
{
    const UplinkStatus& up = reconciler_->uplink();
    json xdp = nullptr, tc = nullptr;
    if (up.xdp)
        xdp = {{"prog_id", up.xdp->prog_id}, {"mode", vepa::to_string(up.xdp->mode)}, {"multiprog", !up.xdp->legacy}};
    if (up.tc)
        tc = {{"prog_id", *up.tc}};
    const ProgramIds ids = reconciler_->programs();
    size_t present = 0, upc = 0;
    for (const auto& [n, ps] : reconciler_->ports()) {
        present += ps.state == "up" || ps.state == "down";
        upc += ps.state == "up";
    }
    return {{"version", VEPAD_VERSION},
               {"layout_version", VEPA_LAYOUT_VERSION},
               {"uplink",
                {{"name", up.name},
                 {"ifindex", up.ifindex},
                 {"state", up.state},
                 {"takes_xdp", up.takes_xdp},
                 {"xdp", xdp},
                 {"tc", tc}}},
               {"programs",
                {{"uplink_xdp", ids.uplink_xdp}, {"uplink_tc", ids.uplink_tc}, {"port_xdp", ids.port_xdp},
                 {"port_tc", ids.port_tc}}},
               {"maps",
                {{"macs", dp_->macs().keys().size()},
                 {"ports", dp_->ports().keys().size()},
                 {"devs", dp_->devs().keys().size()},
                 {"flood", dp_->flood().current().size()}}},
               {"pin_dir", dp_->pin_dir()},
               {"state_file", state_.path()},
               {"socket", cfg_.socket},
               {"ports", {{"configured", table_.size()}, {"present", present}, {"up", upc}}},
               {"reflective_relay", relay_json()}};
}

json Daemon::run(const Shutdown& c)
{
    detach_at_exit_ = c.detach.value_or(cfg_.detach_on_exit);
    spdlog::info("shutdown requested{}", detach_at_exit_ ? " with detach" : "");
    // Answer first; stop once the reply has had time to leave.
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(100));
    timer->async_wait([this, timer](const boost::system::error_code&) { io_.stop(); });
    return {{"detach", detach_at_exit_}};
}

} // namespace vepad
