#include "daemon/daemon.hpp"

#include <grp.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon/command_error.hpp"
#include "daemon/render.hpp"
#include "lib/counters.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;
using When = ReconcileLoop::When;

namespace {

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

std::unique_ptr<vepa::Dataplane> load_dataplane(const Config& cfg)
{
    const std::string dir = cfg.effective_pin_dir();
    try {
        auto dp = std::make_unique<vepa::Dataplane>(vepa::DataplaneOptions{dir});
        if (dp->mounted_bpffs())
            spdlog::info("mounted bpffs on /sys/fs/bpf");
        return dp;
    } catch (const vepa::PinDirBusy&) {
        throw vepa::Error("another vepad manages uplink " + cfg.uplink + " (" + dir + " is locked)");
    }
}

std::string hostname()
{
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    return host;
}

template <class... F> struct Overloaded : F... {
    using F::operator()...;
};
template <class... F> Overloaded(F...) -> Overloaded<F...>;

// The configured TC hook, auto resolved; tcx on a kernel without it is an error.
vepa::TcHook tc_hook(const Config& cfg)
{
    const vepa::TcHook here = vepa::tc_hook_available();
    if (cfg.tc_hook == vepa::TcHook::Tcx && here != vepa::TcHook::Tcx)
        throw vepa::Error("tc_hook = tcx, but this kernel has no tcx (Linux 6.6 or later); use auto or clsact");
    const vepa::TcHook hook = cfg.tc_hook.value_or(here);
    spdlog::info("TC programs attach at {}", hook == vepa::TcHook::Tcx ? "tcx" : "clsact");
    return hook;
}

} // namespace

Daemon::Daemon(Config cfg) : cfg_(std::move(cfg)), signals_(io_, SIGTERM, SIGINT), xsk_timer_(io_), trim_timer_(io_)
{
    StateFile state(cfg_.state_file());
    PortTable table = restore_table(state, cfg_.uplink);
    dp_ = load_dataplane(cfg_);
    vepa::set_bpf_log([](int, const char* msg) { spdlog::debug("bpf: {}", msg); });
    const ProbeMacs macs = probe_macs(machine_identity(), cfg_.uplink);
    reconciler_ = std::make_unique<Reconciler>(
        *dp_, nl_, PlanSettings{cfg_.uplink, cfg_.xdp_mode, macs.dst, cfg_.rx_filter, tc_hook(cfg_)});
    loop_ = std::make_unique<ReconcileLoop>(
        io_, [this](bool full) { reconciler_->run(ports_->table(), full); }, [this] { after_reconcile(); });
    ports_ = std::make_unique<PortService>(cfg_, std::move(state), std::move(table), *dp_, nl_, *reconciler_,
                                           [this] { loop_->request(false, When::Now); });
    probe_ = std::make_unique<ReflectionProbe>(
        io_, ReflectionProbe::Options{macs, std::chrono::seconds(cfg_.probe_interval)},
        [this] { return probes_returned(); },
        [this](const ProbeResult& r) {
            spdlog::log(r.state == Reflection::Reflecting ? spdlog::level::debug : spdlog::level::info,
                        "reflection probe: {} ({})", to_string(r.state), r.reason);
            relay_->check(ports_->table());
        });
    lldp_ = std::make_unique<LldpAgent>(io_, LldpAgent::Options{std::chrono::seconds(cfg_.lldp_interval), hostname()},
                                        [this] { relay_->check(ports_->table()); });
    relay_ = std::make_unique<RelayWatch>(*probe_, *lldp_, cfg_.uplink);
    // Subscribe before the first full read, so no event between the two is lost.
    monitor_ = std::make_unique<RtnlMonitor>(
        io_, cfg_.netlink_rcvbuf,
        [this](const vepa::LinkInfo& l, bool removed, std::optional<int> nsid) { on_link(l, removed, nsid); },
        [this] { loop_->request(true, When::Soon); });
}

int Daemon::run()
{
    loop_->request(true, When::Now);
    ControlServer::Options control;
    control.path = cfg_.socket;
    control.group = group_id(cfg_.socket_group);
    control.observe = [this](const std::string& cmd, const std::string& result, double seconds) {
        requests_.count(cmd, result, seconds);
    };
    server_ = std::make_unique<ControlServer>(io_, control, [this](const Request& req) { return dispatch(req); });
    if (cfg_.metrics_listen)
        metrics_http_ = std::make_unique<MetricsHttp>(io_, MetricsHttp::Options{*cfg_.metrics_listen},
                                                      [this] { return metrics_text(); });
    events_ = std::make_unique<MonitorService>(io_, *dp_, [this] { return ports_by_slot(); },
                                               MonitorService::Options{});
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
    spdlog::info("vepad {} ready: uplink {} ({}), {} port(s), maps in {}", VEPAD_VERSION, cfg_.uplink,
                 to_string(reconciler_->uplink().state), ports_->table().size(), dp_->pin_dir());
    sd_notify(0, "READY=1");
    notify_status();
    io_.run();

    ports_->fold_state(); // an older vepad reads the snapshot only
    server_.reset();
    metrics_http_.reset();
    events_.reset();
    if (detach_at_exit_) {
        reconciler_->detach_all();
        dp_.reset();
        vepa::Dataplane::unpin(cfg_.effective_pin_dir());
        spdlog::info("dataplane removed from {} and its ports; maps unpinned", cfg_.uplink);
    }
    sd_notify(0, "STOPPING=1");
    return 0;
}

// A run builds and drops its plan (O(ports)), a full one whole copies of every MAC;
// glibc keeps the freed memory in its heap unless asked to give it back.  Asking walks
// the heap (milliseconds at 1000 ports): not on a command's path, but a second after
// the first run since the last time, so a burst of commands costs one walk a second.
void Daemon::schedule_trim()
{
    if (trim_pending_)
        return;
    trim_pending_ = true;
    trim_timer_.expires_after(std::chrono::seconds(1));
    trim_timer_.async_wait([this](const boost::system::error_code& ec) {
        trim_pending_ = false;
        if (!ec)
            malloc_trim(0);
    });
}

void Daemon::after_reconcile()
{
    const UplinkStatus& up = reconciler_->uplink();
    const bool is_up = up.state == LinkState::Up;
    probe_->uplink_changed(up.ifindex, is_up);
    lldp_->uplink_changed(up.ifindex, up.name, up.mac.value_or(vepa::Mac{}), is_up);
    relay_->check(ports_->table());
    notify_status();
    schedule_trim();
}

void Daemon::notify_status()
{
    size_t present = 0;
    for (const auto& [n, ps] : reconciler_->ports())
        present += ps.present();
    sd_notifyf(0, "STATUS=uplink %s %s, %zu port(s) configured, %zu present", cfg_.uplink.c_str(),
               to_string(reconciler_->uplink().state), ports_->table().size(), present);
}

void Daemon::watch_xsk_sockets()
{
    xsk_timer_.expires_after(std::chrono::seconds(1));
    xsk_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        try {
            if (reconciler_->xsk_sockets_changed(ports_->table()))
                loop_->request(false, When::Now);
        } catch (const std::exception& e) {
            spdlog::warn("checking xsk sockets: {}", e.what());
        }
        watch_xsk_sockets();
    });
}

uint64_t Daemon::probes_returned() const
{
    return vepa::sum_cpus(dp_->stats().lookup_range(VEPA_SLOT_UPLINK, 1), 0, dp_->stats().cpus()).probe_packets;
}

void Daemon::on_link(const vepa::LinkInfo& link, bool removed, std::optional<int> nsid)
{
    if (nsid) {
        if (reconciler_->peer_changed(*nsid, link.ifindex))
            loop_->request(false, When::Soon);
        return;
    }
    bool relevant =
        link.name == cfg_.uplink || ports_->table().find(link.name) || link.ifindex == reconciler_->uplink().ifindex;
    for (const auto& [n, ps] : reconciler_->ports())
        relevant |= ps.ifindex == link.ifindex;
    reconciler_->link_changed(link, removed);
    if (relevant) {
        spdlog::debug("link {} (ifindex {}) {}", link.name, link.ifindex, removed ? "removed" : "changed");
        loop_->request(false, When::Soon);
    }
}

// ---- requests ----------------------------------------------------------------

json Daemon::dispatch(const Request& req)
{
    return std::visit(Overloaded{
                          [this](const AddPort& c) { return ports_->add_port(c); },
                          [this](const SetPort& c) { return ports_->set_port(c); },
                          [this](const DelPort& c) { return ports_->del_port(c); },
                          [this](const AttachXsk& c) { return ports_->attach_xsk(c); },
                          [this](const List&) { return list_ports(); },
                          [this](const Stats& c) { return port_stats(c); },
                          [this](const Status&) { return status(); },
                          [this](const ProbeRelay&) { return probe_relay(); },
                          [this](const Shutdown& c) { return shutdown(c); },
                          [this](const Metrics&) { return json{{"text", metrics_text()}}; },
                          [this](const Monitor& c) { return events_->subscribe(c); },
                          [this](const Trace& c) { return trace_frame(c); },
                          [this](const Batch& c) { return ports_->batch(c); },
                      },
                      req.cmd);
}

json Daemon::list_ports() const { return list_json(ports_->table(), *reconciler_, dp_->pin_dir()); }

json Daemon::port_stats(const Stats& c) const
{
    std::vector<const PortConfig*> which;
    if (c.name) {
        const PortConfig* p = ports_->table().find(*c.name);
        if (!p)
            throw CommandError(proto::kErrNotFound, "no port " + *c.name);
        which.push_back(p);
    } else {
        for (const auto& [n, p] : ports_->table().ports())
            which.push_back(&p);
    }
    return stats_json(cfg_.uplink, which, dp_->stats());
}

json Daemon::status() const
{
    const StatusFacts f{VEPAD_VERSION, dp_->pin_dir(),         ports_->state_file().path(),
                        cfg_.socket,   ports_->table().size(), relay_->to_json()};
    json s = status_json(*reconciler_, f);
    if (events_)
        s["monitor"] = events_->to_json();
    return s;
}

PortsBySlot Daemon::ports_by_slot() const
{
    PortsBySlot out;
    for (const auto& [name, p] : ports_->table().ports()) {
        SlotPort sp{name, p.macs};
        if (auto it = reconciler_->ports().find(name); it != reconciler_->ports().end() && !it->second.macs.empty())
            sp.macs = it->second.macs;
        out.emplace(p.slot, std::move(sp));
    }
    return out;
}

std::string Daemon::metrics_text() const
{
    MetricsSources s{list_ports(), port_stats(Stats{}), status(), &requests_};
    s.reconcile_runs = loop_->runs();
    s.reconcile_failures = loop_->failures();
    s.reconcile_failing = loop_->failing();
    s.reconcile_last_seconds = loop_->last_seconds();
    s.reconcile_seconds = loop_->seconds();
    return render_metrics(s);
}

TraceHost Daemon::trace_host() const
{
    TraceHost h;
    const UplinkStatus& up = reconciler_->uplink();
    h.uplink = cfg_.uplink;
    if (up.state != LinkState::Absent)
        h.uplink_dev = {up.ifindex, up.xdp.has_value()};
    h.uplink_up = up.state == LinkState::Up;
    if (up.mac)
        h.local_macs.push_back(*up.mac);
    for (const auto& [name, ps] : reconciler_->ports()) {
        if (!ps.present())
            continue;
        h.ports[name] = {ps.ifindex, ps.attach == Attach::XdpNative || ps.attach == Attach::XdpGeneric};
        h.local_macs.insert(h.local_macs.end(), ps.macs.begin(), ps.macs.end());
    }
    h.names = ports_by_slot();
    const RelayWatch::Verdict v = relay_->verdict();
    h.reflection = v.state;
    h.reflection_by = v.by;
    return h;
}

json Daemon::trace_frame(const Trace& c)
{
    if (!explainer_)
        explainer_ = std::make_unique<vepa::Explainer>(*dp_);
    return trace(trace_host(), c.from, c.frame, [this](vepa::Program p, int ifindex, const std::vector<uint8_t>& f) {
        return explainer_->run(p, ifindex, f);
    });
}

json Daemon::probe_relay()
{
    const uint64_t seq = probe_->request();
    return {{"seq", seq}, {"probe", probe_->to_json()}};
}

json Daemon::shutdown(const Shutdown& c)
{
    detach_at_exit_ = c.detach.value_or(cfg_.detach_on_exit);
    spdlog::info("shutdown requested{}", detach_at_exit_ ? " with detach" : "");
    // Answer first; stop once the reply has had time to leave.
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(100));
    timer->async_wait([this, timer](const boost::system::error_code&) { io_.stop(); });
    return {{"detach", detach_at_exit_}};
}

} // namespace vepad
