// vepad: one instance per uplink.  One thread, one Boost.Asio loop serving the
// control socket, rtnetlink events and signals.  Data flows one way: a command
// changes the port table, the table is persisted, the reconciler makes the
// kernel match it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "config.hpp"
#include "control_server.hpp"
#include "dataplane.hpp"
#include "fd.hpp"
#include "lldp_agent.hpp"
#include "port_table.hpp"
#include "reconciler.hpp"
#include "reflection_probe.hpp"
#include "requests.hpp"
#include "rtnl_monitor.hpp"
#include "state_file.hpp"

namespace vepad {

class Daemon {
public:
    explicit Daemon(Config cfg);
    // Runs until SIGTERM/SIGINT or a shutdown command; returns the exit status.
    int run();

private:
    // Carry out one request; refusals throw CommandError.
    nlohmann::json dispatch(const Request& req);
    nlohmann::json run(const AddPort& c);
    nlohmann::json run(const SetPort& c);
    nlohmann::json run(const DelPort& c);
    nlohmann::json run(const List& c) const;
    nlohmann::json run(const Stats& c) const;
    nlohmann::json run(const Status& c) const;
    nlohmann::json run(const ProbeRelay& c);
    nlohmann::json run(const AttachXsk& c);
    nlohmann::json run(const Shutdown& c);

    // Persist t, then make it the table; throws CommandError("state") leaving both unchanged.
    void commit(PortTable t);
    void check_port_request(const PortConfig& p, bool adding) const;
    nlohmann::json port_json(const std::string& name) const;
    void reconcile(bool full);
    // While xsk ports exist: look at their sockets every second (the kernel tells
    // no one when a socket closes), reconcile when they changed.
    void watch_xsk_sockets();
    void schedule_reconcile(bool full);
    void on_link(const vepa::LinkInfo& link, bool removed, std::optional<int> nsid);
    void notify_status();
    // The uplink may have changed: tell the reflection probe and the LLDP agent.
    void uplink_maybe_changed();
    uint64_t probes_returned() const;
    // Warn once when the switch does not reflect and ports need it to.
    void check_relay();
    nlohmann::json relay_json() const;

    Config cfg_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    vepa::UniqueFd lock_;
    StateFile state_;
    PortTable table_;
    std::unique_ptr<vepa::Dataplane> dp_;
    std::unique_ptr<Reconciler> reconciler_;
    std::unique_ptr<RtnlMonitor> monitor_;
    std::unique_ptr<ControlServer> server_;
    ProbeMacs probe_macs_;
    std::unique_ptr<ReflectionProbe> probe_;
    std::unique_ptr<LldpAgent> lldp_;
    std::unique_ptr<boost::asio::steady_timer> xsk_timer_;
    bool relay_warned_ = false;
    bool reconcile_pending_ = false;
    bool full_pending_ = false;
    bool detach_at_exit_ = false;
};

} // namespace vepad
