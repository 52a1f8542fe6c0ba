// vepad: one instance per uplink.  One thread, one Boost.Asio loop serving the
// control socket, rtnetlink events, timers and signals.  Data flows one way:
// a command changes the port table (PortService), the table is persisted, the
// reconciler makes the kernel match it (ReconcileLoop -> Reconciler).  This
// class only wires the parts together and runs the loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/control_server.hpp"
#include "daemon/lldp_agent.hpp"
#include "daemon/metrics.hpp"
#include "daemon/metrics_http.hpp"
#include "daemon/monitor_service.hpp"
#include "daemon/port_service.hpp"
#include "daemon/reconcile_loop.hpp"
#include "daemon/reconciler.hpp"
#include "daemon/reflection_probe.hpp"
#include "daemon/relay_watch.hpp"
#include "daemon/requests.hpp"
#include "daemon/rtnl_monitor.hpp"
#include "daemon/trace.hpp"
#include "lib/dataplane.hpp"
#include "lib/explain.hpp"
#include "lib/netlink.hpp"

namespace vepad {

class Daemon {
public:
    explicit Daemon(Config cfg);
    // Runs the event loop until SIGTERM/SIGINT or a shutdown command; returns the exit status.
    int run();

private:
    // Carry out one request; refusals throw CommandError.
    nlohmann::json dispatch(const Request& req);
    nlohmann::json list_ports() const;
    nlohmann::json port_stats(const Stats& c) const;
    nlohmann::json status() const;
    nlohmann::json probe_relay();
    nlohmann::json shutdown(const Shutdown& c);
    std::string metrics_text() const;
    nlohmann::json trace_frame(const Trace& c);
    TraceHost trace_host() const;
    PortsBySlot ports_by_slot() const;

    // What follows every reconcile.
    void after_reconcile();
    void schedule_trim();
    void on_link(const vepa::LinkInfo& link, bool removed, std::optional<int> nsid);
    // While xsk ports exist: look at their sockets every second (the kernel tells
    // no one when a socket closes), reconcile when they changed.
    void watch_xsk_sockets();
    void notify_status();
    uint64_t probes_returned() const;

    Config cfg_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    std::unique_ptr<vepa::Dataplane> dp_;
    vepa::NetlinkRequester nl_;
    std::unique_ptr<Reconciler> reconciler_;
    std::unique_ptr<ReconcileLoop> loop_;
    std::unique_ptr<PortService> ports_;
    std::unique_ptr<ReflectionProbe> probe_;
    std::unique_ptr<LldpAgent> lldp_;
    std::unique_ptr<RelayWatch> relay_;
    std::unique_ptr<RtnlMonitor> monitor_;
    std::unique_ptr<ControlServer> server_;
    std::unique_ptr<MetricsHttp> metrics_http_;
    std::unique_ptr<MonitorService> events_;
    std::unique_ptr<vepa::Explainer> explainer_; // vepactl trace's programs, loaded by the first trace
    RequestCounts requests_;
    boost::asio::steady_timer xsk_timer_;
    boost::asio::steady_timer trim_timer_; // malloc_trim, off the commands' path
    bool trim_pending_ = false;
    bool detach_at_exit_ = false;
};

} // namespace vepad
