// The dataplane's maps as a function of the present ports, and the one routine
// that makes the pinned maps hold exactly that, whatever they held before
// (fresh maps, a previous daemon's, a crashed one's).  Order of writes keeps
// every intermediate state safe: targets exist before anything points at them,
// and nothing points at a target when it goes.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "lib/dataplane.hpp"
#include "lib/mac.hpp"
#include "lib/port_vlans.hpp"
#include "vepa/abi.h"

namespace vepa {

// One port whose interface is present, as the dataplane must know it.
struct PresentPort {
    uint32_t ifindex = 0;
    uint16_t slot = 0; // 1..VEPA_MAX_PORTS-1, stable per configured port
    vepa_mode mode = VEPA_MODE_VEPA;
    vepa_delivery delivery = VEPA_DELIVER_TC;
    uint32_t flags = 0;    // VEPA_PORT_F_*
    std::vector<Mac> macs; // at most VEPA_MAX_PORT_MACS
    PortVlans vlans;       // empty: untagged frames only
    bool operator==(const PresentPort&) const = default;
};

// The socket device of an xsk port (the vepa-side end is a PresentPort).
struct XskDevice {
    uint32_t ifindex = 0;    // the device the AF_XDP sockets bind to
    uint32_t first_slot = 0; // XSKMAP slots first_slot .. first_slot + queues - 1
    uint16_t queues = 1;
    uint16_t slot = 0; // the port's counters slot
};

struct DataplaneState {
    uint32_t uplink_ifindex = 0; // 0: uplink absent
    uint32_t max_frame_len = 1518;
    bool uplink_takes_xdp = false; // put the uplink in the devmap
    Mac probe_dst;                 // reflection probe destination; zero: probing off
    std::vector<PresentPort> ports;
    std::vector<XskDevice> xsk_devices;
};

// A key of the MAC table: (VLAN, MAC); VLAN 0 is untagged, VEPA_VID_ANY a trunk-all port's.
using MacVid = std::pair<uint16_t, Mac>;

// What each map but the MAC table must hold: O(ports), built whole each time.
struct MapRecords {
    vepa_config config{};
    std::map<uint32_t, vepa_vlan_set> vlans; // by slot: the tagged VLANs of VEPA_VLAN_F_TRUNK ports
    std::map<uint32_t, vepa_port> ports;
    std::map<uint32_t, uint32_t> devs;
    std::vector<vepa_port_ref> flood;
    std::map<uint32_t, vepa_xsk_port> xskports;
};

using MacTable = std::map<MacVid, vepa_port_ref>;

// What each map must hold.
struct MapContents : MapRecords {
    MacTable macs; // O(all MACs): changed by MacChanges, not rebuilt
};

// Writes that take the MAC table from one content to another.
struct MacChanges {
    MacTable put;               // new or changed entries
    std::vector<MacVid> remove; // entries that go
    bool empty() const { return put.empty() && remove.empty(); }
};

// Throw Error on an inconsistent state (a MAC on two ports, a slot used twice, ...).
MapContents build_contents(const DataplaneState& st);
MapRecords build_records(const DataplaneState& st);

// The MAC table changes from `have` to `want`: O(all MACs).
MacChanges diff_macs(const MacTable& want, const MacTable& have);

// The ports that differ between two states, matched by slot: O(ports), with
// pointers into both (alive while they are).
struct PortChanges {
    std::vector<const PresentPort*> now;    // of want: added or changed
    std::vector<const PresentPort*> before; // of was: removed or changed
};
PortChanges diff_ports(const DataplaneState& want, const DataplaneState& was);

// The MAC table changes for a table `have` that is build_contents(was).macs, in
// O(the MACs of the changed ports).  Throws Error when a changed port's MAC is
// another port's in one of its VLANs.
MacChanges diff_macs(const PortChanges& changed, const MacTable& have);

// The MACs of the changed ports, each once.
std::vector<Mac> changed_macs(const PortChanges& changed);

struct SyncStats {
    size_t written = 0; // entries added or changed
    size_t removed = 0;
    bool flood_published = false;
};

// What the maps hold now.
MapContents read_contents(Dataplane& dp);

// Make the maps go from `have` (what they hold: read_contents(), or the result
// of the previous sync when nothing else writes them) to `want` and the MAC
// changes; `have` then holds what the maps hold (when it throws: unknown).
SyncStats sync_maps(Dataplane& dp, const MapRecords& want, const MacChanges& macs, MapContents& have);

// Both in one: read, then sync to build_contents(st).
SyncStats sync_maps(Dataplane& dp, const DataplaneState& st);

} // namespace vepa
