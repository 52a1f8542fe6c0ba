// The loaded dataplane: vepad's BPF object, its maps pinned under one
// directory per uplink, typed views of them, and the program fds to attach.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/bpf_map.hpp"
#include "lib/flood_list.hpp"
#include "lib/pin_dir.hpp"
#include "vepa/abi.h"

struct vepa_bpf;

namespace vepa {

using MacMap = BpfMap<vepa_mac_key, vepa_port_ref>;
using PortMap = BpfMap<uint32_t, vepa_port>;
using StatsMap = PerCpuMap<uint32_t, vepa_counters>;
using DevMap = BpfMap<uint32_t, uint32_t>;
using ConfigMap = BpfMap<uint32_t, vepa_config>;
using XskMap = BpfMap<uint32_t, uint32_t>; // update (socket fd) and delete only
using XskPortMap = BpfMap<uint32_t, vepa_xsk_port>;
using VlanMap = BpfMap<uint32_t, vepa_vlan_set>;
using RxMacMap = BpfMap<vepa_mac_key, uint32_t>;
using MonitorMap = BpfMap<uint32_t, vepa_monitor>;
using MonStateMap = PerCpuMap<uint32_t, vepa_monitor_state>;

// The programs vepad attaches, and how status names them.
enum class Program { UplinkXdp, UplinkTc, PortXdp, PortTc, XskXdp };
inline constexpr Program kPrograms[] = {Program::UplinkXdp, Program::UplinkTc, Program::PortXdp, Program::PortTc,
                                        Program::XskXdp};
const char* to_string(Program p);

// Pinned maps of another layout version were found where ours belong.
class LayoutMismatch : public Error {
public:
    using Error::Error;
};

struct DataplaneOptions {
    // Where the maps are pinned (see PinDir: created, on bpffs, locked while
    // the Dataplane lives).  Empty: nothing is pinned (tests).
    std::string pin_dir;
};

class Dataplane {
public:
    // Load the programs; reuse the maps pinned in pin_dir, or create and pin them.
    explicit Dataplane(const DataplaneOptions& opts);
    ~Dataplane();
    Dataplane(const Dataplane&) = delete;
    Dataplane& operator=(const Dataplane&) = delete;

    int prog_fd(Program p) const;
    uint32_t prog_id(Program p) const; // the kernel's id of the loaded program
    int uplink_xdp_fd() const;
    int uplink_tc_fd() const;
    int port_xdp_fd() const;
    int port_tc_fd() const;
    int xsk_xdp_fd() const;
    // The bound queue of the socket in each XSKMAP slot first .. first+count-1
    // (nullopt: empty slot).  count <= VEPA_MAX_XSK_QUEUES.
    std::vector<std::optional<uint32_t>> xsk_sockets(uint32_t first, uint32_t count) const;
    // Empty XSKMAP slots first .. first+count-1.
    void clear_xsk_slots(uint32_t first, uint32_t count);
    const std::string& pin_dir() const { return pin_dir_; }
    // Whether loading mounted bpffs on /sys/fs/bpf.
    bool mounted_bpffs() const { return pin_ && pin_->mounted_bpffs(); }

    MacMap& macs() { return *macs_; }
    PortMap& ports() { return *ports_; }
    StatsMap& stats() { return *stats_; }
    DevMap& devs() { return *devs_; }
    ConfigMap& config() { return *config_; }
    FloodList& flood() { return *flood_; }
    XskMap& xsks() { return *xsks_; }
    XskPortMap& xskports() { return *xskports_; }
    VlanMap& vlans() { return *vlans_; }
    RxMacMap& rxmacs() { return *rxmacs_; }
    MonitorMap& monitor() { return *monitor_; }
    MonStateMap& monstate() { return *monstate_; }
    int events_fd() const { return events_.get(); } // the decision ring buffer (struct vepa_event)
    // The fd of the map of that name (one of map_names()), owned by the Dataplane.
    int map_fd(const std::string& name) const;

    // Names of the pinned files this layout uses.
    static std::vector<std::string> map_names();
    // Pins of another layout version in dir (e.g. "macs_v0"); empty when none.
    static std::vector<std::string> foreign_pins(const std::string& dir);
    // Remove this layout's pins from dir (and dir, if then empty).
    static void unpin(const std::string& dir);

private:
    std::unique_ptr<PinDir> pin_;
    vepa_bpf* skel_ = nullptr;
    std::string pin_dir_;
    std::unique_ptr<MacMap> macs_;
    std::unique_ptr<PortMap> ports_;
    std::unique_ptr<StatsMap> stats_;
    std::unique_ptr<DevMap> devs_;
    std::unique_ptr<ConfigMap> config_;
    std::unique_ptr<FloodList> flood_;
    std::unique_ptr<XskMap> xsks_;
    std::unique_ptr<XskPortMap> xskports_;
    std::unique_ptr<VlanMap> vlans_;
    std::unique_ptr<RxMacMap> rxmacs_;
    std::unique_ptr<MonitorMap> monitor_;
    std::unique_ptr<MonStateMap> monstate_;
    UniqueFd events_;
};

} // namespace vepa
