// cni/link.hpp - the veth pair of a container: its host end (named from the container
// id and interface name) and its container end in CNI_NETNS, over rtnetlink.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cni/config.hpp"
#include "lib/mac.hpp"

namespace vepa::cni {

// "vp" + 11 hex digits of a hash of container id and ifname (13 characters < IFNAMSIZ).
std::string host_ifname(const std::string& container_id, const std::string& ifname);

// A locally administered unicast MAC, random.
Mac random_mac();

struct ContainerLink {
    std::string host_name;
    Mac host_mac, mac;
    int ifindex = 0; // of the container end, in its namespace
};

// Creates the pair (the container end as ifname in the netns, with mac) and sets both
// ends up.  Throws CniError (kNetlinkFailed, or kInvalidEnv for a netns that cannot be opened).
ContainerLink create_pair(const Env& env, const Mac& mac, std::optional<uint32_t> mtu);

// Deletes the host end (and with it the container end) if it is there; false when absent.
bool delete_host_end(const std::string& host_name);

// The container end's MAC, nullopt when the netns or the interface is gone.
std::optional<Mac> container_mac(const std::string& netns, const std::string& ifname);

// Of the addresses `wanted` ("10.1.2.3/24"), those the container's interface does not
// have (all of them when the netns or the interface is gone).  Throws
// CniError(kInvalidConfig) for an address that is not one.
std::vector<std::string> addresses_missing(const std::string& netns, const std::string& ifname,
                                           const std::vector<std::string>& wanted);
// Addresses and routes of an IPAM result on the container end (ifindex in netns).
void apply_ip_config(const std::string& netns, int ifindex, const nlohmann::json& ipam_result);

} // namespace vepa::cni
