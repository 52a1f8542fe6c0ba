// What vepad reads about network interfaces over netlink: rtnetlink links, and
// the "netdev" generic netlink family's XDP features (which tell whether a
// device accepts XDP_REDIRECT frames, e.g. a veth only while its peer has NAPI).
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/fd.hpp"
#include "lib/mac.hpp"

namespace vepa {

// XDP feature bits of the netdev family (linux/netdev.h, kernel 6.3+; not in 6.1 UAPI).
enum XdpFeature : uint64_t {
    kXdpActBasic = 1u << 0,
    kXdpActRedirect = 1u << 1,
    kXdpActNdoXmit = 1u << 2,
    kXdpActXskZerocopy = 1u << 3,
    kXdpActHwOffload = 1u << 4,
    kXdpActRxSg = 1u << 5,
    kXdpActNdoXmitSg = 1u << 6,
};

struct LinkInfo {
    int ifindex = 0;
    std::string name;
    std::string kind;      // IFLA_INFO_KIND: "veth", "tun", "bridge", ... ("" for a plain NIC)
    unsigned flags = 0;    // IFF_*
    uint8_t operstate = 0; // IF_OPER_*
    uint32_t mtu = 0;
    std::optional<Mac> mac;
    int link = 0;                    // IFLA_LINK: a veth's peer ifindex (in its own netns)
    std::optional<int> link_netnsid; // set when the peer lives in another netns
    uint32_t xdp_prog_id = 0;        // IFLA_XDP_PROG_ID
    uint8_t xdp_attached = 0;        // XDP_ATTACHED_*
    std::string alias;               // IFLA_IFALIAS
    bool is_up() const;              // admin up and carrier
};

// Parse one RTM_NEWLINK/RTM_DELLINK message.
std::optional<LinkInfo> parse_link(const nlmsghdr* nlh);

// A veth pair to create (both ends in this namespace).
struct VethPair {
    std::string name, peer;
    uint16_t queues = 1; // TX and RX queues of each end
    std::optional<Mac> mac, peer_mac;
    std::optional<uint32_t> mtu; // of both ends
    int peer_netns_fd = -1;      // >= 0: the peer is made in that namespace (as `peer` there)
};

// An IPv4 or IPv6 address (network byte order) with a prefix length.
struct IpPrefix {
    int family = 0; // AF_INET or AF_INET6
    std::array<uint8_t, 16> addr{};
    uint8_t len = 0;

    bool operator==(const IpPrefix&) const = default;
};

// What set_link changes (unset fields stay as they are).
struct LinkSettings {
    std::optional<bool> up;
    std::optional<std::string> alias;
    bool no_ipv6_addresses = false; // IPv6 address generation mode none: no link-local, no DAD, no RS
    bool noarp = false;
    std::optional<bool> allmulti; // IFF_ALLMULTI: the device takes every multicast frame
    std::optional<bool> promisc;  // IFF_PROMISC
};

// A blocking NETLINK_ROUTE or NETLINK_GENERIC request socket (not for events).
class NetlinkRequester {
public:
    NetlinkRequester();
    std::optional<LinkInfo> link(int ifindex);
    std::optional<LinkInfo> link(const std::string& name);
    std::vector<LinkInfo> links();
    // A link in another namespace, by that namespace's id as this one sees it
    // (a veth's IFLA_LINK_NETNSID) and its ifindex there.
    std::optional<LinkInfo> link_in_netns(int nsid, int ifindex);
    // The netdev family's xdp-features of a device; nullopt when the kernel lacks the family.
    std::optional<uint64_t> xdp_features(int ifindex);

    // Throw SysError naming the device on failure.
    void create_veth(const VethPair& v);
    void set_link(int ifindex, const LinkSettings& s);
    // false when it was not there.
    bool delete_link(int ifindex);
    // Throw SysError on failure.
    void add_address(int ifindex, const IpPrefix& p);
    // The device's addresses (both families, IFA_ADDRESS with its prefix length).
    std::vector<IpPrefix> addresses(int ifindex);
    // A route to dst (len 0: default) via gw (family 0: on-link) out of ifindex, main table.
    void add_route(int ifindex, const IpPrefix& dst, const IpPrefix& gw);

    // The device's own receive filter, as FDB "self" entries (AF_BRIDGE,
    // NTF_SELF; a NIC's unicast address list): its unicast entries.
    std::vector<Mac> fdb_self(int ifindex);
    // Add a permanent self entry: 0, or -EEXIST when the address is already in
    // the filter (someone else's), or another negative errno.
    int fdb_self_add(int ifindex, const Mac& mac);
    // 0, -ENOENT when it was not there, or another negative errno.
    int fdb_self_del(int ifindex, const Mac& mac);

private:
    // Send req and hand every reply message to cb; returns 0 or a negative errno.
    int transact(int fd, nlmsghdr* req, const std::function<void(const nlmsghdr*)>& cb);
    std::optional<LinkInfo> get_link(int ifindex, const std::string* name, std::optional<int> nsid = {});
    int fdb_self_change(uint16_t type, uint16_t flags, int ifindex, const Mac& mac);
    int netdev_family();

    UniqueFd route_;
    UniqueFd genl_;
    uint32_t seq_ = 1;
    int netdev_family_ = -1; // -1 unknown, 0 absent
};

} // namespace vepa
