#include "lib/netlink.hpp"

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "lib/error.hpp"

namespace vepa {

namespace {
// netdev generic netlink family (linux/netdev.h)
constexpr uint8_t kNetdevCmdDevGet = 1;
constexpr uint16_t kNetdevAttrIfindex = 1;
constexpr uint16_t kNetdevAttrXdpFeatures = 3;

// libmnl's iteration macros do not compile as C++ (void * conversions).
template <typename F> void for_each_attr(const nlmsghdr* nlh, size_t offset, F f)
{
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, offset));
         mnl_attr_ok(a, static_cast<int>(tail - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a))
        f(a);
}

template <typename F> void for_each_nested(const nlattr* nest, F f)
{
    const char* end = static_cast<const char*>(mnl_attr_get_payload(nest)) + mnl_attr_get_payload_len(nest);
    for (auto* a = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a))
        f(a);
}

UniqueFd open_netlink(int proto)
{
    UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto));
    if (!fd)
        throw SysError(errno, "netlink socket");
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0)
        throw SysError(errno, "netlink bind");
    const int one = 1;
    ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
    ::setsockopt(fd.get(), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
    return fd;
}

// An rtnetlink link request: header and ifinfomsg (AF_UNSPEC, ifindex) in buf.
// A request's header in buf (transact numbers it).
nlmsghdr* request(void* buf, uint16_t type, uint16_t flags)
{
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | flags;
    return nlh;
}

nlmsghdr* link_request(void* buf, uint16_t type, uint16_t flags, int ifindex, ifinfomsg** ifi_out = nullptr)
{
    nlmsghdr* nlh = request(buf, type, flags);
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    if (ifi_out)
        *ifi_out = ifi;
    return nlh;
}

void parse_linkinfo(const nlattr* li, LinkInfo& out)
{
    for_each_nested(li, [&](const nlattr* a) {
        if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
            out.kind = mnl_attr_get_str(a);
    });
}

void parse_xdp(const nlattr* xa, LinkInfo& out)
{
    for_each_nested(xa, [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_XDP_ATTACHED:
            out.xdp_attached = mnl_attr_get_u8(a);
            break;
        case IFLA_XDP_PROG_ID:
            out.xdp_prog_id = mnl_attr_get_u32(a);
            break;
        }
    });
}
} // namespace

bool LinkInfo::is_up() const { return (flags & IFF_UP) && (flags & IFF_RUNNING); }

std::optional<LinkInfo> parse_link(const nlmsghdr* nlh)
{
    if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
        return std::nullopt;
    if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)))
        return std::nullopt;
    const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    LinkInfo out;
    out.ifindex = ifi->ifi_index;
    out.flags = ifi->ifi_flags;
    for_each_attr(nlh, sizeof(*ifi), [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case IFLA_IFNAME:
            if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                out.name = mnl_attr_get_str(a);
            break;
        case IFLA_MTU:
            if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                out.mtu = mnl_attr_get_u32(a);
            break;
        case IFLA_ADDRESS:
            if (mnl_attr_get_payload_len(a) == 6)
                out.mac = Mac(static_cast<const uint8_t*>(mnl_attr_get_payload(a)));
            break;
        case IFLA_LINK:
            if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                out.link = static_cast<int>(mnl_attr_get_u32(a));
            break;
        case IFLA_LINK_NETNSID:
            if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                out.link_netnsid = static_cast<int>(mnl_attr_get_u32(a));
            break;
        case IFLA_OPERSTATE:
            if (mnl_attr_validate(a, MNL_TYPE_U8) == 0)
                out.operstate = mnl_attr_get_u8(a);
            break;
        case IFLA_IFALIAS:
            if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                out.alias = mnl_attr_get_str(a);
            break;
        case IFLA_LINKINFO:
            parse_linkinfo(a, out);
            break;
        case IFLA_XDP:
            parse_xdp(a, out);
            break;
        }
    });
    return out;
}

NetlinkRequester::NetlinkRequester() : route_(open_netlink(NETLINK_ROUTE)) {}

int NetlinkRequester::transact(int fd, nlmsghdr* req, const std::function<void(const nlmsghdr*)>& cb)
{
    req->nlmsg_seq = seq_++;
    if (::send(fd, req, req->nlmsg_len, 0) < 0)
        throw SysError(errno, "netlink send");
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE * 4);
    for (;;) {
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw SysError(errno, "netlink recv");
        }
        int len = static_cast<int>(n);
        for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
             nlh = mnl_nlmsg_next(nlh, &len)) {
            if (nlh->nlmsg_seq != req->nlmsg_seq)
                continue;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
                return e->error; // 0 for an ACK
            }
            if (nlh->nlmsg_type == NLMSG_DONE)
                return 0;
            cb(nlh);
            if (!(nlh->nlmsg_flags & NLM_F_MULTI))
                return 0;
        }
    }
}

std::optional<LinkInfo> NetlinkRequester::get_link(int ifindex, const std::string* name, std::optional<int> nsid)
{
    char buf[512];
    nlmsghdr* nlh = link_request(buf, RTM_GETLINK, 0, ifindex);
    if (name) {
        if (name->empty() || name->size() >= IFNAMSIZ)
            return std::nullopt;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name->c_str());
    }
    if (nsid)
        mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, static_cast<uint32_t>(*nsid));
    std::optional<LinkInfo> out;
    const int err = transact(route_.get(), nlh, [&](const nlmsghdr* m) { out = parse_link(m); });
    if (err == -ENODEV || err == -ENOENT || (nsid && err == -EINVAL))
        return std::nullopt;
    if (err < 0)
        throw SysError(err, "RTM_GETLINK");
    return out;
}

std::optional<LinkInfo> NetlinkRequester::link(int ifindex)
{
    return ifindex > 0 ? get_link(ifindex, nullptr) : std::nullopt;
}

std::optional<LinkInfo> NetlinkRequester::link(const std::string& name) { return get_link(0, &name); }

std::optional<LinkInfo> NetlinkRequester::link_in_netns(int nsid, int ifindex)
{
    return ifindex > 0 ? get_link(ifindex, nullptr, nsid) : std::nullopt;
}

std::vector<LinkInfo> NetlinkRequester::links()
{
    char buf[256];
    nlmsghdr* nlh = link_request(buf, RTM_GETLINK, NLM_F_DUMP, 0);
    std::vector<LinkInfo> out;
    const int err = transact(route_.get(), nlh, [&](const nlmsghdr* m) {
        if (auto l = parse_link(m))
            out.push_back(std::move(*l));
    });
    if (err < 0)
        throw SysError(err, "RTM_GETLINK dump");
    return out;
}

int NetlinkRequester::netdev_family()
{
    if (netdev_family_ >= 0)
        return netdev_family_;
    if (!genl_)
        genl_ = open_netlink(NETLINK_GENERIC);
    char buf[256];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = GENL_ID_CTRL;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    g->cmd = CTRL_CMD_GETFAMILY;
    g->version = 1;
    mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "netdev");
    int id = 0;
    const int err = transact(genl_.get(), nlh, [&](const nlmsghdr* m) {
        for_each_attr(m, sizeof(genlmsghdr), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
                id = mnl_attr_get_u16(a);
        });
    });
    netdev_family_ = err < 0 ? 0 : id;
    return netdev_family_;
}

std::optional<uint64_t> NetlinkRequester::xdp_features(int ifindex)
{
    const int family = netdev_family();
    if (!family)
        return std::nullopt;
    char buf[256];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = static_cast<uint16_t>(family);
    nlh->nlmsg_flags = NLM_F_REQUEST;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
    g->cmd = kNetdevCmdDevGet;
    g->version = 1;
    mnl_attr_put_u32(nlh, kNetdevAttrIfindex, static_cast<uint32_t>(ifindex));
    std::optional<uint64_t> out;
    const int err = transact(genl_.get(), nlh, [&](const nlmsghdr* m) {
        for_each_attr(m, sizeof(genlmsghdr), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == kNetdevAttrXdpFeatures)
                out = mnl_attr_get_u64(a);
        });
    });
    if (err == -ENODEV)
        return std::nullopt;
    if (err < 0)
        throw SysError(err, "netdev dev-get");
    return out.value_or(0);
}

void NetlinkRequester::create_veth(const VethPair& v)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = link_request(buf.data(), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, 0);
    auto put_dev = [&](const std::string& name, const std::optional<Mac>& mac) {
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
        mnl_attr_put_u32(nlh, IFLA_NUM_TX_QUEUES, v.queues);
        mnl_attr_put_u32(nlh, IFLA_NUM_RX_QUEUES, v.queues);
        if (mac)
            mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac->bytes().data());
        if (v.mtu)
            mnl_attr_put_u32(nlh, IFLA_MTU, *v.mtu);
    };
    put_dev(v.name, v.mac);
    nlattr* linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
    mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
    nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
    nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
    auto* pifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
    pifi->ifi_family = AF_UNSPEC;
    put_dev(v.peer, v.peer_mac);
    if (v.peer_netns_fd >= 0)
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(v.peer_netns_fd));
    mnl_attr_nest_end(nlh, peer);
    mnl_attr_nest_end(nlh, data);
    mnl_attr_nest_end(nlh, linkinfo);
    const int err = transact(route_.get(), nlh, [](const nlmsghdr*) {});
    if (err < 0)
        throw SysError(-err, "create veth pair " + v.name + "/" + v.peer);
}

void NetlinkRequester::set_link(int ifindex, const LinkSettings& st)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    ifinfomsg* ifi = nullptr;
    nlmsghdr* nlh = link_request(buf.data(), RTM_NEWLINK, NLM_F_ACK, ifindex, &ifi);
    if (st.up) {
        ifi->ifi_change |= IFF_UP;
        ifi->ifi_flags |= *st.up ? IFF_UP : 0;
    }
    if (st.noarp) {
        ifi->ifi_change |= IFF_NOARP;
        ifi->ifi_flags |= IFF_NOARP;
    }
    if (st.allmulti) {
        ifi->ifi_change |= IFF_ALLMULTI;
        ifi->ifi_flags |= *st.allmulti ? IFF_ALLMULTI : 0;
    }
    if (st.promisc) {
        ifi->ifi_change |= IFF_PROMISC;
        ifi->ifi_flags |= *st.promisc ? IFF_PROMISC : 0;
    }
    if (st.alias)
        mnl_attr_put_strz(nlh, IFLA_IFALIAS, st.alias->c_str());
    if (st.no_ipv6_addresses) {
        nlattr* spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
        nlattr* in6 = mnl_attr_nest_start(nlh, AF_INET6);
        mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
        mnl_attr_nest_end(nlh, in6);
        mnl_attr_nest_end(nlh, spec);
    }
    const int err = transact(route_.get(), nlh, [](const nlmsghdr*) {});
    if (err < 0)
        throw SysError(-err, "configure ifindex " + std::to_string(ifindex));
}

bool NetlinkRequester::delete_link(int ifindex)
{
    char buf[256];
    nlmsghdr* nlh = link_request(buf, RTM_DELLINK, NLM_F_ACK, ifindex);
    const int err = transact(route_.get(), nlh, [](const nlmsghdr*) {});
    if (err == -ENODEV)
        return false;
    if (err < 0)
        throw SysError(-err, "delete ifindex " + std::to_string(ifindex));
    return true;
}

namespace {
nlmsghdr* neigh_request(char* buf, uint16_t type, uint16_t flags, int ifindex)
{
    nlmsghdr* nlh = request(buf, type, flags);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = AF_BRIDGE;
    ndm->ndm_ifindex = ifindex;
    return nlh;
}
} // namespace

std::vector<Mac> NetlinkRequester::fdb_self(int ifindex)
{
    // An unfiltered dump (the filtered forms differ between strict and legacy
    // checking); the device's entries are picked here.
    char buf[256];
    nlmsghdr* nlh = neigh_request(buf, RTM_GETNEIGH, NLM_F_DUMP, 0);
    std::vector<Mac> out;
    const int err = transact(route_.get(), nlh, [&](const nlmsghdr* m) {
        const auto* ndm = static_cast<const ndmsg*>(mnl_nlmsg_get_payload(m));
        if (m->nlmsg_type != RTM_NEWNEIGH || ndm->ndm_ifindex != ifindex || !(ndm->ndm_flags & NTF_SELF))
            return;
        for_each_attr(m, sizeof(ndmsg), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6) {
                const Mac mac(static_cast<const uint8_t*>(mnl_attr_get_payload(a)));
                if (!mac.is_group())
                    out.push_back(mac);
            }
        });
    });
    if (err < 0)
        throw SysError(-err, "RTM_GETNEIGH (bridge fdb) dump");
    return out;
}

int NetlinkRequester::fdb_self_change(uint16_t type, uint16_t flags, int ifindex, const Mac& mac)
{
    char buf[256];
    nlmsghdr* nlh = neigh_request(buf, type, NLM_F_ACK | flags, ifindex);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_get_payload(nlh));
    ndm->ndm_state = NUD_PERMANENT;
    ndm->ndm_flags = NTF_SELF;
    mnl_attr_put(nlh, NDA_LLADDR, 6, mac.bytes().data());
    return transact(route_.get(), nlh, [](const nlmsghdr*) {});
}

int NetlinkRequester::fdb_self_add(int ifindex, const Mac& mac)
{
    return fdb_self_change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL, ifindex, mac);
}

int NetlinkRequester::fdb_self_del(int ifindex, const Mac& mac)
{
    return fdb_self_change(RTM_DELNEIGH, 0, ifindex, mac);
}

void NetlinkRequester::add_address(int ifindex, const IpPrefix& p)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = request(buf.data(), RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    ifa->ifa_family = static_cast<uint8_t>(p.family);
    ifa->ifa_prefixlen = p.len;
    ifa->ifa_index = static_cast<uint32_t>(ifindex);
    const size_t n = p.family == AF_INET ? 4 : 16;
    mnl_attr_put(nlh, IFA_LOCAL, n, p.addr.data());
    mnl_attr_put(nlh, IFA_ADDRESS, n, p.addr.data());
    const int err = transact(route_.get(), nlh, [](const nlmsghdr*) {});
    if (err < 0)
        throw SysError(-err, "add an address to ifindex " + std::to_string(ifindex));
}

std::vector<IpPrefix> NetlinkRequester::addresses(int ifindex)
{
    char buf[256];
    nlmsghdr* nlh = request(buf, RTM_GETADDR, NLM_F_DUMP);
    auto* req = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
    req->ifa_family = AF_UNSPEC;
    std::vector<IpPrefix> out;
    const int err = transact(route_.get(), nlh, [&](const nlmsghdr* m) {
        const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(m));
        if (m->nlmsg_type != RTM_NEWADDR || static_cast<int>(ifa->ifa_index) != ifindex)
            return;
        IpPrefix p;
        p.family = ifa->ifa_family;
        p.len = ifa->ifa_prefixlen;
        const size_t n = p.family == AF_INET ? 4 : 16;
        for_each_attr(m, sizeof(ifaddrmsg), [&](const nlattr* a) {
            if (mnl_attr_get_type(a) == IFA_ADDRESS && mnl_attr_get_payload_len(a) == n)
                std::memcpy(p.addr.data(), mnl_attr_get_payload(a), n);
        });
        out.push_back(p);
    });
    if (err < 0)
        throw SysError(-err, "RTM_GETADDR dump");
    return out;
}

void NetlinkRequester::add_route(int ifindex, const IpPrefix& dst, const IpPrefix& gw)
{
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = request(buf.data(), RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
    auto* rt = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
    rt->rtm_family = static_cast<uint8_t>(dst.family);
    rt->rtm_dst_len = dst.len;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rt->rtm_type = RTN_UNICAST;
    const size_t n = dst.family == AF_INET ? 4 : 16;
    if (dst.len > 0)
        mnl_attr_put(nlh, RTA_DST, n, dst.addr.data());
    if (gw.family)
        mnl_attr_put(nlh, RTA_GATEWAY, n, gw.addr.data());
    mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(ifindex));
    const int err = transact(route_.get(), nlh, [](const nlmsghdr*) {});
    if (err < 0)
        throw SysError(-err, "add a route out of ifindex " + std::to_string(ifindex));
}

} // namespace vepa
