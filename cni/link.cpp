#include "cni/link.hpp"

#include "lib/fnv1a.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "cni/error.hpp"
#include "lib/error.hpp"
#include "lib/netlink.hpp"
#include "lib/netns.hpp"

namespace vepa::cni {
namespace {

UniqueFd open_ns(const std::string& netns)
{
    try {
        return open_netns(netns);
    } catch (const std::exception& e) {
        throw CniError(kInvalidEnv, "cannot open CNI_NETNS " + netns, e.what());
    }
}

// "10.1.2.3/24" or "fd00::1/64" (len given) or "10.1.2.3" (len 32/128).
IpPrefix parse_prefix(const std::string& s)
{
    IpPrefix p;
    const auto slash = s.find('/');
    const std::string addr = s.substr(0, slash);
    p.family = addr.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (::inet_pton(p.family, addr.c_str(), p.addr.data()) != 1)
        throw CniError(kIpamFailed, "IPAM result: bad address '" + s + "'");
    const int max = p.family == AF_INET ? 32 : 128;
    int len = max;
    if (slash != std::string::npos)
        len = std::atoi(s.c_str() + slash + 1);
    if (len < 0 || len > max)
        throw CniError(kIpamFailed, "IPAM result: bad prefix length in '" + s + "'");
    p.len = static_cast<uint8_t>(len);
    return p;
}

std::string str_or_empty(const nlohmann::json& j, const char* key)
{
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

void apply_routes(NetlinkRequester& nl, int ifindex, const nlohmann::json& routes)
{
    for (const auto& r : routes) {
        const std::string dst = str_or_empty(r, "dst"), gw = str_or_empty(r, "gw");
        if (dst.empty())
            throw CniError(kIpamFailed, "IPAM result: a route without dst", r.dump());
        nl.add_route(ifindex, parse_prefix(dst), gw.empty() ? IpPrefix{} : parse_prefix(gw));
    }
}

LinkSettings up()
{
    LinkSettings s;
    s.up = true;
    return s;
}

} // namespace

std::string host_ifname(const std::string& container_id, const std::string& ifname)
{
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fnv1a(container_id + "/" + ifname)));
    return "vp" + std::string(hex, 11);
}

Mac random_mac()
{
    std::array<uint8_t, 6> b{};
    std::ifstream("/dev/urandom", std::ios::binary).read(reinterpret_cast<char*>(b.data()), b.size());
    b[0] = static_cast<uint8_t>((b[0] & 0xfe) | 0x02);
    return Mac(b);
}

ContainerLink create_pair(const Env& env, const Mac& mac, std::optional<uint32_t> mtu)
{
    ContainerLink out;
    out.host_name = host_ifname(env.container_id, env.ifname);
    out.mac = mac;
    UniqueFd ns = open_ns(env.netns);
    bool created = false;
    try {
        NetlinkRequester host;
        VethPair pair;
        pair.name = out.host_name;
        pair.peer = env.ifname;
        pair.peer_mac = mac;
        pair.mtu = mtu;
        pair.peer_netns_fd = ns.get();
        host.create_veth(pair);
        created = true;
        auto h = host.link(out.host_name);
        if (!h || !h->mac)
            throw Error("the host end " + out.host_name + " vanished");
        out.host_mac = *h->mac;
        host.set_link(h->ifindex, up());
        ScopedNetns in(ns.get());
        NetlinkRequester guest;
        auto c = guest.link(env.ifname);
        if (!c)
            throw Error("the container end " + env.ifname + " is not in " + env.netns);
        out.ifindex = c->ifindex;
        guest.set_link(c->ifindex, up());
    } catch (const CniError&) {
        throw;
    } catch (const std::exception& e) {
        if (created)
            delete_host_end(out.host_name);
        throw CniError(kNetlinkFailed, "cannot create the veth pair " + out.host_name + "/" + env.ifname, e.what());
    }
    return out;
}

bool delete_host_end(const std::string& host_name)
{
    NetlinkRequester nl;
    auto l = nl.link(host_name);
    return l && nl.delete_link(l->ifindex);
}

std::optional<Mac> container_mac(const std::string& netns, const std::string& ifname)
{
    try {
        UniqueFd ns = open_netns(netns);
        ScopedNetns in(ns.get());
        NetlinkRequester nl;
        auto l = nl.link(ifname);
        return l ? l->mac : std::nullopt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

std::vector<std::string> addresses_missing(const std::string& netns, const std::string& ifname,
                                           const std::vector<std::string>& wanted)
{
    std::vector<IpPrefix> have;
    try {
        UniqueFd ns = open_netns(netns);
        ScopedNetns in(ns.get());
        NetlinkRequester nl;
        if (auto l = nl.link(ifname))
            have = nl.addresses(l->ifindex);
    } catch (const std::exception&) {
    }
    std::vector<std::string> missing;
    for (const auto& w : wanted) {
        IpPrefix p;
        try {
            p = parse_prefix(w);
        } catch (const CniError& e) {
            throw CniError(kInvalidConfig, "prevResult: bad address", w);
        }
        if (std::find(have.begin(), have.end(), p) == have.end())
            missing.push_back(w);
    }
    return missing;
}

void apply_ip_config(const std::string& netns, int ifindex, const nlohmann::json& r)
{
    UniqueFd ns = open_ns(netns);
    try {
        ScopedNetns in(ns.get());
        NetlinkRequester nl;
        for (const auto& ip : r.value("ips", nlohmann::json::array()))
            nl.add_address(ifindex, parse_prefix(str_or_empty(ip, "address")));
        apply_routes(nl, ifindex, r.value("routes", nlohmann::json::array()));
    } catch (const CniError&) {
        throw;
    } catch (const std::exception& e) {
        throw CniError(kNetlinkFailed, "cannot set the container's addresses and routes", e.what());
    }
}

} // namespace vepa::cni
