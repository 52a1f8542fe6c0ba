// Observe: one snapshot of the kernel state vepad reconciles — the links of
// its namespace, the XDP features and guest ends of the devices it manages,
// its hooks on them, what the pinned maps hold and which XSKMAP slots hold a
// socket.  Reads are cached between observations: rtnetlink events forget
// what they make stale (link_changed, peer_changed), apply records what it
// changed, and a full observation forgets everything first.  The large parts
// (the maps' contents, the receive filter) are moved into the snapshot, not
// copied: apply hands them back as it left them, with the state the maps were
// synced to (from which the next plan finds the ports that changed), so a run
// costs what it changes, not what the kernel holds; a run that fails before
// that makes the next observation read them again.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "daemon/port_table.hpp"
#include "daemon/rx_filter.hpp"
#include "lib/attach.hpp"
#include "lib/dataplane.hpp"
#include "lib/map_sync.hpp"
#include "lib/netlink.hpp"

namespace vepad {

// One device, and what vepad knows of it.  Features, peer and hooks are read
// only for the devices vepad manages or managed (managed == true).
struct Device {
    vepa::LinkInfo link;
    bool managed = false;
    std::optional<uint64_t> xdp_features;   // nullopt: the kernel cannot say
    std::optional<vepa::Mac> peer_mac;      // a veth's other end, read for ports that learn their guest's MAC
    std::optional<vepa::TcAttachment> tc;   // our TC ingress program
    std::optional<vepa::XdpAttachment> xdp; // our XDP program
};

using ProgramIds = std::map<vepa::Program, uint32_t>;

struct Snapshot {
    std::map<int, Device> devices;                            // by ifindex
    vepa::MapContents maps;                                   // what the pinned maps hold
    std::optional<vepa::DataplaneState> state;                // what they were last synced to (nullopt: read)
    std::map<std::string, std::vector<uint32_t>> xsk_sockets; // xsk port -> queues holding a socket bound to them
    ProgramIds programs;                                      // ids of the loaded programs
    RxFilterHave rx;                                          // the uplink's receive filter, and vepad's record

    const Device* find(const std::string& name) const;
    const Device* find(int ifindex) const;
};

class KernelObserver {
public:
    KernelObserver(vepa::Dataplane& dp, vepa::NetlinkRequester& nl);

    // What matters for this table and uplink.  full: forget every cache first.
    Snapshot observe(const PortTable& table, const std::string& uplink, bool full);

    // rtnetlink: a link of our namespace changed or went.
    void link_changed(const vepa::LinkInfo& link, bool removed);
    // rtnetlink: a link in namespace nsid changed.  True when it is the other
    // end of a device here (a guest end): that device's features and peer are forgotten.
    bool peer_changed(int nsid, int ifindex);
    // Something changed a device's features behind rtnetlink's back (its peer got XDP).
    void forget(int ifindex);

    // What apply changed.
    void recorded_link(const vepa::LinkInfo& link) { link_changed(link, false); }
    void recorded_tc(int ifindex, std::optional<vepa::TcAttachment> a) { tc_[ifindex] = a; }
    void recorded_xdp(int ifindex, std::optional<vepa::XdpAttachment> a) { xdp_[ifindex] = a; }
    // What the maps hold, and the state they were synced to (nullopt: not known).
    void recorded_maps(vepa::MapContents m, std::optional<vepa::DataplaneState> st)
    {
        maps_ = std::move(m);
        state_ = std::move(st);
    }
    // The uplink's receive filter and vepad's record of it as apply left them
    // (a snapshot's, updated by what apply did).
    void recorded_rx(RxFilterHave h);
    void forget_rx()
    {
        rx_entries_.reset();
        rx_record_.reset();
    }

    // The sockets in an xsk port's slots now (uncached).
    std::vector<uint32_t> xsk_sockets(const PortConfig& p) const;

private:
    void load_links(bool full);
    void fill(Device& d, bool want_peer);
    std::vector<int> managed_devices(const PortTable& table, const std::string& uplink,
                                     const vepa::MapContents& maps) const;
    RxFilterHave observe_rx(int uplink);
    int ifindex_of(const std::string& name) const;

    vepa::Dataplane& dp_;
    vepa::NetlinkRequester& nl_;
    ProgramIds programs_;
    std::map<int, vepa::LinkInfo> links_; // every link in our namespace
    std::map<std::string, int> names_;    // their ifindexes by name
    bool links_loaded_ = false;
    std::map<int, std::optional<uint64_t>> features_;
    std::map<int, std::optional<vepa::Mac>> peers_;
    std::map<int, std::optional<vepa::TcAttachment>> tc_;
    std::map<int, std::optional<vepa::XdpAttachment>> xdp_;
    std::optional<vepa::MapContents> maps_;
    std::optional<vepa::DataplaneState> state_; // only with maps_
    std::optional<std::set<vepa::Mac>> rx_entries_; // the uplink's filter (ifindex rx_uplink_)
    int rx_uplink_ = 0;
    std::optional<RxFilterHave> rx_record_; // ours and our_flags only
};

} // namespace vepad
