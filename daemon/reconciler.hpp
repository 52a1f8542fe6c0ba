// The one reconciler: makes programs, attachments and map entries match the
// desired port table, from whatever the kernel holds — at start (after a crash
// or an upgrade), after an rtnetlink event, after a command.
//
// What it knows of the kernel is cached between runs and invalidated by link
// events; a full run (start, netlink overrun) re-reads everything.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "dataplane.hpp"
#include "map_sync.hpp"
#include "netlink.hpp"
#include "port_paths.hpp"
#include "port_table.hpp"

namespace vepad {

struct PortStatus {
    std::string name;
    int ifindex = 0;
    std::string state = "absent";       // up, down, absent, unsupported
    std::string reason;                 // why unsupported, or a MAC left out
    std::string kind;                   // veth, tap, or the device's kind
    std::vector<vepa::Mac> macs;        // installed in the MAC table
    bool learned = false;               // macs are the guest's, learned
    std::optional<vepa_delivery> delivery;
    std::string attach;                 // "xdp native", "xdp generic", "tc", ""
    // xsk ports: the socket device, and the queues whose XSKMAP slot holds a socket bound to that queue.
    int xsk_ifindex = 0;
    std::vector<uint32_t> xsk_sockets;
};

struct UplinkStatus {
    std::string name;
    int ifindex = 0;
    std::string state = "absent";
    std::optional<vepa::Mac> mac;
    bool takes_xdp = false;
    std::optional<vepa::XdpAttachment> xdp;
    std::optional<uint32_t> tc;
};

struct ProgramIds {
    uint32_t uplink_xdp = 0, uplink_tc = 0, port_xdp = 0, port_tc = 0, xsk_xdp = 0;
};

class Reconciler {
public:
    // probe_dst: the reflection probe's destination MAC, for the uplink program.
    Reconciler(vepa::Dataplane& dp, const Config& cfg, const vepa::Mac& probe_dst);

    // Make the kernel match the table.  full: forget every cache first.
    void run(const PortTable& table, bool full);

    // A link changed (RTM_NEWLINK/DELLINK in our namespace): update the cache.
    void link_changed(const vepa::LinkInfo& link, bool removed);
    // A link in another namespace (nsid) changed: a guest end, maybe.
    // Returns true when it is the guest end of one of our ports.
    bool peer_changed(int nsid, int ifindex);

    const std::map<std::string, PortStatus>& ports() const { return status_; }
    // Whether the sockets in any xsk port's slots differ from what the last run saw.
    bool xsk_sockets_changed(const PortTable& table) const;
    const UplinkStatus& uplink() const { return uplink_; }
    ProgramIds programs() const { return progs_; }

    // Remove every program and map entry of ours from every device.
    void detach_all();

private:
    struct Probe {
        std::optional<uint64_t> features;
        bool features_known = false;
        std::optional<vepa::Mac> guest_mac;
        bool guest_known = false;
    };
    const vepa::LinkInfo* link_by_name(const std::string& name) const;
    Probe& probe(const vepa::LinkInfo& link, bool want_guest);
    void ensure_tc(int ifindex, int prog_fd, uint32_t prog_id);
    std::optional<vepa::XdpAttachment> ensure_xdp(int ifindex, int prog_fd, uint32_t prog_id, vepa::XdpMode mode);
    void remove_xdp(int ifindex);
    void remove_all_hooks(int ifindex);
    // Make the veth pairs of xsk ports exist (and no pair of a port no longer configured).
    void ensure_xsk_pairs(const PortTable& table, std::map<std::string, PortStatus>& status);
    std::vector<uint32_t> xsk_sockets(const PortConfig& p) const;

    vepa::Dataplane& dp_;
    const Config& cfg_;
    vepa::Mac probe_dst_;
    vepa::NetlinkRequester nl_;
    ProgramIds progs_;

    std::map<int, vepa::LinkInfo> links_;                    // every link in our namespace
    std::map<int, Probe> probes_;                            // by ifindex
    std::map<int, uint32_t> tc_ids_;                         // ifindex -> our TC prog id there (0 none)
    std::map<int, std::optional<vepa::XdpAttachment>> xdp_; // ifindex -> our XDP attachment
    std::optional<vepa::MapContents> written_;               // what the maps hold
    std::map<std::string, PortStatus> status_;
    UplinkStatus uplink_;
    bool links_loaded_ = false;
    bool legacy_logged_ = false;
};

} // namespace vepad
