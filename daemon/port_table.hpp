// The desired port table: the one source of truth for what vepad manages.
// Commands change it (and it is persisted) before the reconciler makes the
// kernel match it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/mac.hpp"
#include "lib/port_vlans.hpp"
#include "vepa/port_owner.hpp"
#include "vepa/abi.h"

namespace vepad {

// A kernel port is a device the user made (veth end, tap).  An xsk port is a
// veth pair vepad makes: the device `name`, which AF_XDP sockets (a network
// function, QEMU's -netdev af-xdp) bind to, and its vepa-side peer
// xsk_peer_name(name), which vepad treats as an ordinary port.
enum class PortType { Kernel, Xsk };

struct PortConfig {
    std::string name;
    PortType type = PortType::Kernel;
    uint16_t queues = 1;         // xsk: sockets (queues) of the port
    uint32_t xsk_first = 0;      // xsk: its first XSKMAP slot, stable while configured
    std::vector<vepa::Mac> macs; // empty: the guest's MAC, learned (veth ports)
    vepa_mode mode = VEPA_MODE_VEPA;
    bool src_check = true;
    vepa::PortVlans vlans; // empty: untagged frames only (docs/VEPA-SEMANTICS.md, V rules)
    uint16_t slot = 0;     // counters slot, stable while configured
    std::optional<vepa::PortOwner> owner; // who made it (CNI, libvirt), shown, never acted on

    bool operator==(const PortConfig&) const = default;
};

class PortTable {
public:
    PortTable() = default;
    PortTable(const PortTable& o) : ports_(o.ports_) { index_all(); }
    PortTable& operator=(const PortTable& o)
    {
        ports_ = o.ports_;
        index_all();
        return *this;
    }
    PortTable(PortTable&&) = default; // map nodes move with the map: the index stays right
    PortTable& operator=(PortTable&&) = default;

    const std::map<std::string, PortConfig>& ports() const { return ports_; }
    const PortConfig* find(const std::string& name) const;
    size_t size() const { return ports_.size(); }

    // Throw CommandError (exists, invalid-argument, mac-in-use, limit) when refused.
    // add() assigns the lowest free slot.  A MAC is one port's within a VLAN: two
    // ports may share one only when their VLANs do not overlap (PortVlans::overlaps).
    PortConfig& add(PortConfig p);
    void replace(const PortConfig& p);
    void remove(const std::string& name);
    // Undo: port `name` as it was (nullopt: not configured), unchecked.
    void put_back(const std::string& name, const std::optional<PortConfig>& was);

    // The port other than `except` that owns MAC m in a VLAN of `vlans`, if any
    // (an index lookup: a command's checks cost O(its MACs x log all MACs)).
    const PortConfig* mac_owner(const vepa::Mac& m, const vepa::PortVlans& vlans,
                                const std::string& except = {}) const;
    // Every port MAC m is configured on, in any VLAN.
    std::vector<const PortConfig*> mac_owners(const vepa::Mac& m) const;

    nlohmann::json to_json(const std::string& uplink) const;
    // Throws vepa::Error naming `origin` on anything malformed.
    static PortTable from_json(const nlohmann::json& j, const std::string& origin);

private:
    void check_macs(const PortConfig& p) const;
    void check_mac_owners(const PortConfig& p, const std::set<vepa::Mac>& macs) const;
    void check_restored(const PortConfig& p) const;
    void check_xsk(const PortConfig& p) const;
    uint32_t allocate_xsk(const PortConfig& p) const;
    // Every change of ports_ goes through these two, which keep the MAC index.
    PortConfig& insert(PortConfig p);
    void erase(const std::string& name);
    void index_all();

    std::map<std::string, PortConfig> ports_;
    // Configured MAC -> its port(s): pointers to ports_'s entries, which stay where they are.
    std::multimap<vepa::Mac, const PortConfig*> mac_index_;
};

nlohmann::json port_config_json(const PortConfig& p);

// Throws CommandError (invalid-argument) when p's VLANs are not a port's: a VID out of
// 1..4094, or the untagged VLAN also among the tagged ones.
void check_vlans(const PortConfig& p);

// The vepa-side device of an xsk port ("vx-" + name).
std::string xsk_peer_name(const std::string& name);
// The alias vepad gives an xsk port's vepa-side device, naming its port and uplink;
// and back: the port a device's alias names, if it is one of ours for this uplink.
std::string xsk_alias(const std::string& port, const std::string& uplink);
std::optional<std::string> xsk_alias_port(const std::string& alias, const std::string& uplink);
// The longest name an xsk port may have (its peer's name must fit IFNAMSIZ).
constexpr size_t kMaxXskName = 12;

} // namespace vepad
