#include "daemon/port_service.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "daemon/command_error.hpp"
#include "daemon/render.hpp"
#include "lib/port_paths.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

PortTable restore_table(StateFile& state, const std::string& uplink)
{
    const auto j = state.load();
    if (!j) {
        spdlog::info("no state file at {}: starting with no ports", state.path());
        return {};
    }
    PortTable t = PortTable::from_json(*j, state.path());
    if (j->contains("uplink") && (*j)["uplink"] != uplink)
        throw vepa::Error("state file " + state.path() + " belongs to uplink " + (*j)["uplink"].dump() + ", not " +
                          uplink);
    spdlog::info("restored {} port(s) from {}", t.size(), state.path());
    return t;
}

PortService::PortService(const Config& cfg, StateFile state, PortTable table, vepa::Dataplane& dp,
                         vepa::NetlinkRequester& nl, const Reconciler& reconciler, std::function<void()> reconcile_now)
    : cfg_(cfg), state_(std::move(state)), table_(std::move(table)), dp_(dp), nl_(nl), reconciler_(reconciler),
      reconcile_now_(std::move(reconcile_now))
{}

namespace {

// Staged commands change the table in place (copying it would cost O(all ports and
// MACs) per command); this puts every port they touched back as it was, unless kept.
class TableUndo {
public:
    explicit TableUndo(PortTable& t) : table_(t) {}
    TableUndo(const TableUndo&) = delete;
    TableUndo& operator=(const TableUndo&) = delete;
    ~TableUndo()
    {
        for (auto it = was_.rbegin(); it != was_.rend(); ++it)
            table_.put_back(it->first, it->second);
    }
    // Before port `name` changes.
    void touch(const std::string& name)
    {
        const PortConfig* p = table_.find(name);
        was_.emplace_back(name, p ? std::optional(*p) : std::nullopt);
    }
    void keep() { was_.clear(); }

private:
    PortTable& table_;
    std::vector<std::pair<std::string, std::optional<PortConfig>>> was_;
};

} // namespace

void PortService::commit(const std::vector<Staged>& changed)
{
    json ports = json::array(), deleted = json::array();
    for (const Staged& s : changed) // a port staged twice in a batch is written twice, alike
        if (const PortConfig* p = table_.find(s.port.name))
            ports.push_back(port_config_json(*p));
        else
            deleted.push_back(s.port.name);
    try {
        state_.save_change({{"ports", std::move(ports)}, {"deleted", std::move(deleted)}},
                           [&] { return table_.to_json(cfg_.uplink); });
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        throw CommandError(proto::kErrState, std::string("configuration not changed: ") + e.what());
    }
}

json PortService::port_result(const std::string& name) const
{
    const PortConfig* p = table_.find(name);
    if (!p)
        return json::object();
    const auto it = reconciler_.ports().find(name);
    return port_json(*p, it == reconciler_.ports().end() ? nullptr : &it->second, dp_.pin_dir());
}

json PortService::after_change(const std::string& name)
{
    reconcile_now_();
    return port_result(name);
}

// ---- checks ----------------------------------------------------------------

void PortService::check_xsk_names(const PortConfig& p) const
{
    // vepad makes the pair; the names must be free, or the pair this vepad made for a port
    // of that name (its vepa side carries the alias; deleted with the port, or not yet).
    const auto peer = nl_.link(xsk_peer_name(p.name));
    const bool ours = peer && xsk_alias_port(peer->alias, cfg_.uplink) == p.name;
    for (const std::string& n : {p.name, xsk_peer_name(p.name)})
        if (!ours && nl_.link(n))
            throw CommandError(proto::kErrExists, "a device named " + n +
                                                      " exists: an xsk port's devices are made by vepad (" + p.name +
                                                      " and " + xsk_peer_name(p.name) + ")");
}

void PortService::check_kernel_port(const PortConfig& p) const
{
    const auto link = nl_.link(p.name);
    if (!link)
        return; // may be added before its device exists
    const auto kind = vepa::port_kind(*link);
    if (kind == vepa::PortKind::Unsupported)
        throw CommandError(proto::kErrUnsupported,
                           p.name + " is " + (link->kind.empty() ? "a physical or untyped" : "a " + link->kind) +
                               " interface; ports are veth or tap interfaces");
    if (kind == vepa::PortKind::Tap && p.macs.empty())
        throw CommandError(proto::kErrInvalid, p.name + " is a tap: give its guest's MAC with --mac (the tap's own "
                                                        "MAC is the host side's, not the VM's)");
}

// MACs learned from the guests of other ports in a VLAN of p's count as taken too.
void PortService::check_learned_macs(const PortConfig& p) const
{
    for (const auto& [n, ps] : reconciler_.ports()) {
        const PortConfig* other = table_.find(n);
        if (n == p.name || !ps.learned || !other || !other->vlans.overlaps(p.vlans))
            continue;
        for (const auto& m : p.macs)
            if (std::find(ps.macs.begin(), ps.macs.end(), m) != ps.macs.end())
                throw CommandError(proto::kErrMacInUse, "MAC " + m.str() + " belongs to port " + n + " (its guest's)");
    }
}

void PortService::check_request(const PortConfig& p) const
{
    if (p.name == cfg_.uplink)
        throw CommandError(proto::kErrIsUplink, p.name + " is vepad's uplink, it cannot be a port");
    if (p.type == PortType::Xsk)
        check_xsk_names(p);
    else
        check_kernel_port(p);
    check_learned_macs(p);
}

// ---- commands ----------------------------------------------------------------

namespace {
// A port's VLANs in a log line, when it has any: ", VLANs 10 +20,30".
std::string vlans_log(const vepa::PortVlans& v) { return v.empty() ? "" : ", VLANs " + v.str(); }
} // namespace

PortService::Staged PortService::stage(const AddPort& c)
{
    PortConfig p;
    p.name = c.name;
    p.mode = c.mode.value_or(cfg_.default_mode);
    p.macs = c.macs.value_or(std::vector<vepa::Mac>{});
    p.src_check = c.src_check.value_or(true);
    p.vlans = c.vlans();
    p.owner = c.owner.value_or(std::nullopt);
    if (c.xsk) {
        p.type = PortType::Xsk;
        p.queues = c.queues.value_or(1);
    }
    const PortConfig added = table_.add(p); // refuses a taken name, bad xsk names, queues, MACs before any netlink work
    check_request(added);
    return {Staged::Added, added};
}

PortService::Staged PortService::stage(const SetPort& c)
{
    const PortConfig* cur = table_.find(c.name);
    if (!cur)
        throw CommandError(proto::kErrNotFound, "no port " + c.name);
    PortConfig p = *cur;
    p.mode = c.mode.value_or(p.mode);
    p.macs = c.macs.value_or(p.macs);
    p.src_check = c.src_check.value_or(p.src_check);
    p.vlans = c.vlans(p.vlans);
    p.owner = c.owner.value_or(p.owner);
    check_request(p);
    table_.replace(p);
    return {Staged::Changed, p};
}

PortService::Staged PortService::stage(const DelPort& c)
{
    const PortConfig* cur = table_.find(c.name);
    if (!cur)
        throw CommandError(proto::kErrNotFound, "no port " + c.name);
    Staged s{Staged::Deleted, *cur};
    table_.remove(c.name);
    return s;
}

void PortService::finish(const Staged& s)
{
    const PortConfig& p = s.port;
    switch (s.kind) {
    case Staged::Added:
        if (p.type == PortType::Xsk) // a deleted port's sockets (QEMU's, say) are not this one's
            dp_.clear_xsk_slots(p.xsk_first, p.queues);
        // A new port's counters start at zero (its slot may have served a deleted port).
        dp_.stats().update(p.slot, std::vector<vepa_counters>(dp_.stats().cpus()));
        spdlog::info("port {} added (mode {}, slot {}{})", p.name, mode_name(p.mode), p.slot, vlans_log(p.vlans));
        break;
    case Staged::Changed:
        spdlog::info("port {} changed (mode {}, {} MAC(s){})", p.name, mode_name(p.mode), p.macs.size(),
                     vlans_log(p.vlans));
        break;
    case Staged::Deleted:
        if (p.type == PortType::Xsk)
            dp_.clear_xsk_slots(p.xsk_first, p.queues);
        spdlog::info("port {} deleted", p.name);
        break;
    }
}

// One port command: staged on the table, committed (or undone), finished, reconciled.
template <typename C> json PortService::apply_one(const C& c)
{
    TableUndo undo(table_);
    undo.touch(c.name);
    const Staged s = stage(c);
    commit({s});
    undo.keep();
    finish(s);
    return after_change(c.name);
}

json PortService::add_port(const AddPort& c) { return apply_one(c); }
json PortService::set_port(const SetPort& c) { return apply_one(c); }
json PortService::del_port(const DelPort& c) { return apply_one(c); }

json PortService::batch(const Batch& c)
{
    TableUndo undo(table_);
    std::vector<Staged> staged;
    for (size_t i = 0; i < c.commands.size(); i++) {
        try {
            staged.push_back(std::visit(
                [&](const auto& cmd) {
                    undo.touch(cmd.name);
                    return stage(cmd);
                },
                c.commands[i]));
        } catch (const CommandError& e) {
            throw CommandError(e.code(), "command " + std::to_string(i + 1) + " of " +
                                             std::to_string(c.commands.size()) + ": " + e.what() +
                                             " (nothing changed)");
        }
    }
    commit(staged);
    undo.keep();
    for (const Staged& s : staged)
        finish(s);
    reconcile_now_();
    json results = json::array();
    for (const Staged& s : staged)
        results.push_back(s.kind == Staged::Deleted ? json::object() : port_result(s.port.name));
    return {{"results", std::move(results)}};
}

void PortService::fold_state()
{
    state_.fold([&] { return table_.to_json(cfg_.uplink); });
}

void PortService::insert_xsk_socket(const AttachXsk& c, const PortConfig& p)
{
    const int fd = c.fd->get();
    const uint32_t slot = p.xsk_first + c.queue;
    try {
        dp_.xsks().update(slot, static_cast<uint32_t>(fd));
    } catch (const vepa::SysError& e) {
        const int err = e.code().value();
        throw CommandError(proto::kErrBadSocket,
                           std::string("the socket cannot go into the XSKMAP: ") + std::strerror(err) +
                               (err == EOPNOTSUPP || err == ENOTCONN || err == EINVAL
                                    ? " (bind it to " + c.port + " queue " + std::to_string(c.queue) + " first)"
                                    : ""));
    }
    const auto bound = dp_.xsk_sockets(slot, 1).front();
    if (!bound || *bound != c.queue) {
        dp_.xsks().erase(slot);
        throw CommandError(proto::kErrBadSocket, "the socket is bound to queue " +
                                                     (bound ? std::to_string(*bound) : std::string("?")) +
                                                     ", not queue " + std::to_string(c.queue));
    }
}

json PortService::attach_xsk(const AttachXsk& c)
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
    int domain = 0;
    socklen_t len = sizeof(domain);
    if (::getsockopt(c.fd->get(), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_XDP)
        throw CommandError(proto::kErrBadSocket, "the descriptor is not an AF_XDP socket");
    insert_xsk_socket(c, *p);
    const uint32_t slot = p->xsk_first + c.queue;
    spdlog::info("xsk port {}: socket attached to queue {} (XSKMAP slot {})", c.port, c.queue, slot);
    after_change(c.port);
    return {{"name", c.port}, {"queue", c.queue}, {"xsk_slot", slot}};
}

} // namespace vepad
