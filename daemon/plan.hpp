// Plan: what the kernel must hold for a port table, given what it holds now —
// a pure function (no system calls), so every policy decision is unit-tested
// without root, and the daemon and the test bed wire the dataplane alike.
//
// Policy decided here (docs/VEPA-SEMANTICS.md and README's "Ports"):
//   - a port is absent (no device), unsupported (not a veth or tap, or the
//     uplink), down (present, no carrier; xsk: a queue without its socket) or up;
//   - delivery into a port: XDP when the device takes XDP frames, else
//     bpf_redirect_peer into a container's veth, else bpf_redirect
//     (vepa::choose_paths); down: frames to it are dropped as port_down;
//   - XDP on a port only for a tap while the uplink takes XDP frames; XDP on
//     the uplink only while some port is delivered by XDP;
//   - a port without configured MACs learns its guest end's MAC (veth), unless
//     another port owns that MAC (ports in slot order: the first keeps it);
//   - xsk ports: vepad's own veth pair, made when missing, removed with the port;
//   - the longest frame is the uplink's MTU plus Ethernet and two VLAN tags;
//   - the uplink's receive filter takes every port MAC and the probe's
//     destination (rx_filter.hpp), vepad's own entries only are removed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/observe.hpp"
#include "daemon/port_status.hpp"
#include "daemon/port_table.hpp"
#include "lib/map_sync.hpp"

namespace vepad {

struct PlanSettings {
    std::string uplink;
    vepa::XdpMode uplink_xdp_mode = vepa::XdpMode::Auto;
    vepa::Mac probe_dst; // the reflection probe's destination; zero: no probe
    RxFilterMode rx_filter = RxFilterMode::Auto;
    vepa::TcHook tc_hook = vepa::TcHook::Tcx; // where TC programs go (config tc_hook, resolved)
};

// The programs one device must carry (nullopt: none of ours there).
struct Hooks {
    std::optional<vepa::Program> tc;
    std::optional<vepa::Program> xdp;
    vepa::XdpMode xdp_mode = vepa::XdpMode::Native;
    vepa::TcHook tc_hook = vepa::TcHook::Tcx;
    bool operator==(const Hooks&) const = default;
};

// An xsk port's veth pair to make: `port` (the sockets' device) and its vepa side.
struct XskPair {
    std::string port;
    uint16_t queues = 1;
    std::optional<vepa::Mac> mac;
    uint32_t first_slot = 0; // its XSKMAP slots, emptied once the pair exists
};

// Device changes that alter what the rest of the plan sees: apply them, observe
// again and plan again.
struct DeviceRemoval {
    int ifindex = 0;
    std::string why;
    bool operator==(const DeviceRemoval&) const = default;
};

struct DeviceChanges {
    std::vector<DeviceRemoval> remove; // pairs of ports no longer configured, halves of broken pairs
    std::vector<XskPair> create;
    std::vector<int> xsk_program; // xsk socket devices without vepa_xsk_xdp (their peer then takes XDP frames)
    bool empty() const { return remove.empty() && create.empty() && xsk_program.empty(); }
};

struct Plan {
    UplinkStatus uplink;                     // hooks' outcome (xdp, tc) is filled in by apply
    std::map<std::string, PortStatus> ports; // every configured port
    vepa::DataplaneState state; // what the maps describe
    vepa::MapRecords maps;      // the maps but the MAC table, whole
    vepa::MacChanges macs;      // the MAC table: what changes
    std::map<int, Hooks> hooks; // devices that carry our programs
    std::vector<int> unhook;    // devices whose programs of ours must go
    DeviceChanges devices;
    RxFilterWant rx_want; // the uplink's receive filter (rx_filter.hpp)
    RxBasis rx_basis;     // what rx_want was computed from
    RxFilterChanges rx;
};

Plan plan(const PortTable& table, const Snapshot& snap, const PlanSettings& s);

// Everything of ours off every device, empty maps, vepad's own devices deleted.
Plan plan_teardown(const Snapshot& snap, const PlanSettings& s);

} // namespace vepad
