// The commands that change ports.  Each checks the request against the table
// and the kernel, persists the new table (refusing with "state", nothing
// changed, when it cannot be written), does the part of the dataplane only a
// command knows of (a new port's counters start at zero; an xsk port's slots
// hold no socket of a port deleted before it), and ends in after_change():
// reconcile now, so the reply shows what the kernel made of it.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/config.hpp"
#include "daemon/port_table.hpp"
#include "daemon/reconciler.hpp"
#include "daemon/requests.hpp"
#include "daemon/state_file.hpp"
#include "lib/dataplane.hpp"
#include "lib/netlink.hpp"

namespace vepad {

// The port table a state file holds (empty when there is none); throws
// vepa::Error naming the file when it is corrupt or another uplink's.
PortTable restore_table(StateFile& state, const std::string& uplink);

class PortService {
public:
    PortService(const Config& cfg, StateFile state, PortTable table, vepa::Dataplane& dp, vepa::NetlinkRequester& nl,
                const Reconciler& reconciler, std::function<void()> reconcile_now);

    const PortTable& table() const { return table_; }
    const StateFile& state_file() const { return state_; }

    // Refusals throw CommandError.
    nlohmann::json add_port(const AddPort& c);
    nlohmann::json set_port(const SetPort& c);
    nlohmann::json del_port(const DelPort& c);
    nlohmann::json attach_xsk(const AttachXsk& c);
    // Port commands as one: applied in order to the table, all or none
    // (the refusal names the command), one state-file write, one reconcile.
    nlohmann::json batch(const Batch& c);
    // At a clean stop: the state file's journal folded into its snapshot.
    void fold_state();

private:
    // A port command checked and applied to the table, not yet committed.
    struct Staged {
        enum Kind { Added, Changed, Deleted } kind;
        PortConfig port; // as it is now (deleted: as it was)
    };
    Staged stage(const AddPort& c);
    Staged stage(const SetPort& c);
    Staged stage(const DelPort& c);
    // What only a command knows of, once its table is committed: slots and counters, the log.
    void finish(const Staged& s);
    nlohmann::json port_result(const std::string& name) const;
    template <typename C> nlohmann::json apply_one(const C& c);

    // Persist the ports `changed` (as the table has them now: changed, added or
    // deleted); throws CommandError("state"), the file unchanged.
    void commit(const std::vector<Staged>& changed);
    void check_request(const PortConfig& p) const;
    void check_xsk_names(const PortConfig& p) const;
    void check_kernel_port(const PortConfig& p) const;
    void check_learned_macs(const PortConfig& p) const;
    void insert_xsk_socket(const AttachXsk& c, const PortConfig& p);
    nlohmann::json after_change(const std::string& name);

    const Config& cfg_;
    StateFile state_;
    PortTable table_;
    vepa::Dataplane& dp_;
    vepa::NetlinkRequester& nl_;
    const Reconciler& reconciler_;
    std::function<void()> reconcile_now_;
};

} // namespace vepad
