// cni/config.hpp - what a CNI call gives the plugin: the CNI_* environment and the
// network configuration on stdin, checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/mac.hpp"

namespace vepa::cni {

// The versions whose config and result formats the plugin implements: 0.4.0's result
// differs from 1.0.0's only by each IP's "version"; 1.1.0 adds the GC and STATUS
// commands and keeps 1.0.0's result.  kSpecVersion is the newest.
inline constexpr const char* kOldSpecVersion = "0.4.0";
inline constexpr const char* kSpecVersion = "1.1.0";
inline constexpr const char* kSpecVersions[] = {kOldSpecVersion, "1.0.0", kSpecVersion};

// A container's attachment to a network, as GC's cni.dev/valid-attachments lists them.
struct Attachment {
    std::string container_id, ifname;
    bool operator<(const Attachment& o) const
    {
        return container_id != o.container_id ? container_id < o.container_id : ifname < o.ifname;
    }
};

struct Env {
    std::string command; // ADD, DEL, CHECK, VERSION, GC, STATUS
    std::string container_id, netns, ifname, path;
    std::optional<Mac> mac; // CNI_ARGS MAC=
};

struct Config {
    nlohmann::json raw; // as read, for the IPAM plugin's stdin
    std::string cni_version, name;
    std::string socket = "/run/vepad/vepad.sock";
    std::string mode = "vepa";
    std::optional<uint32_t> mtu;
    nlohmann::json vlan;  // null or a VID, as add-port takes it
    nlohmann::json trunk; // null, [VID...] or "all"
    bool src_check = true;
    std::string ipam_type;  // "" when there is no IPAM
    std::optional<Mac> mac; // runtimeConfig.mac
    nlohmann::json prev_result;              // prevResult (CHECK, DEL), null when absent
    std::vector<Attachment> valid_attachments; // GC: cni.dev/valid-attachments
};

// Throws CniError (code 4) when a variable the command needs is missing or bad.
// GC and STATUS are about the network, not one container: they need none of
// CNI_CONTAINERID, CNI_IFNAME and CNI_NETNS.
Env read_env();
// Throws CniError: 6 for undecodable JSON, 1 for an unsupported cniVersion, 7 for a bad key.
Config parse_config(const std::string& text);

} // namespace vepa::cni
