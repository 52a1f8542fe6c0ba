#include "cni/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

#include "cni/error.hpp"

namespace vepa::cni {
namespace {

std::string env_or_empty(const char* name)
{
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string require_env(const char* name)
{
    std::string v = env_or_empty(name);
    if (v.empty())
        throw CniError(kInvalidEnv, std::string(name) + " is not set");
    return v;
}

// CNI_ARGS: "K=V;K=V".  Only MAC is used; the rest (IgnoreUnknown, K8S_*) is ignored.
std::optional<Mac> mac_from_args(const std::string& args)
{
    std::stringstream ss(args);
    std::string kv;
    while (std::getline(ss, kv, ';')) {
        if (kv.rfind("MAC=", 0) != 0)
            continue;
        auto mac = Mac::parse(kv.substr(4));
        if (!mac || mac->is_group() || mac->is_zero())
            throw CniError(kInvalidEnv, "CNI_ARGS: invalid MAC '" + kv.substr(4) + "'");
        return mac;
    }
    return std::nullopt;
}

bool valid_ifname(const std::string& n)
{
    return !n.empty() && n.size() < 16 && n != "." && n != ".." && n.find_first_of("/: \t\n") == std::string::npos;
}

// GC's cni.dev/valid-attachments: [{"containerID", "ifname"}...].
std::vector<Attachment> valid_attachments(const nlohmann::json& j)
{
    constexpr const char* key = "cni.dev/valid-attachments";
    std::vector<Attachment> out;
    if (!j.contains(key) || j[key].is_null())
        return out;
    if (!j[key].is_array())
        throw CniError(kInvalidConfig, std::string(key) + " must be a list", j[key].dump());
    for (const auto& a : j[key]) {
        if (!a.is_object() || !a.contains("containerID") || !a["containerID"].is_string() || !a.contains("ifname") ||
            !a["ifname"].is_string())
            throw CniError(kInvalidConfig, std::string(key) + ": each entry needs containerID and ifname strings",
                           a.dump());
        out.push_back({a["containerID"].get<std::string>(), a["ifname"].get<std::string>()});
    }
    return out;
}

void check_vlan_keys(const Config& c)
{
    if (!c.vlan.is_null() && (!c.vlan.is_number_integer() || c.vlan.get<int>() < 1 || c.vlan.get<int>() > 4094))
        throw CniError(kInvalidConfig, "vlan must be a VID 1..4094", c.vlan.dump());
    if (c.trunk.is_null() || c.trunk == "all")
        return;
    if (!c.trunk.is_array())
        throw CniError(kInvalidConfig, "trunk must be a list of VIDs or \"all\"", c.trunk.dump());
    for (const auto& v : c.trunk)
        if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 4094)
            throw CniError(kInvalidConfig, "trunk must be a list of VIDs 1..4094", c.trunk.dump());
}

std::optional<Mac> runtime_mac(const nlohmann::json& j)
{
    if (!j.contains("runtimeConfig") || !j["runtimeConfig"].is_object() || !j["runtimeConfig"].contains("mac"))
        return std::nullopt;
    const auto& m = j["runtimeConfig"]["mac"];
    auto mac = m.is_string() ? Mac::parse(m.get<std::string>()) : std::nullopt;
    if (!mac || mac->is_group() || mac->is_zero())
        throw CniError(kInvalidConfig, "runtimeConfig.mac: invalid MAC", m.dump());
    return mac;
}

template <class T> T get_typed(const nlohmann::json& j, const char* key, T fallback)
{
    if (!j.contains(key))
        return fallback;
    try {
        return j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw CniError(kInvalidConfig, std::string(key) + " has the wrong type", j.at(key).dump());
    }
}

void parse_keys(Config& c, const nlohmann::json& j)
{
    c.cni_version = get_typed<std::string>(j, "cniVersion", "");
    if (std::find(std::begin(kSpecVersions), std::end(kSpecVersions), c.cni_version) == std::end(kSpecVersions))
        throw CniError(kIncompatibleVersion, "unsupported cniVersion '" + c.cni_version + "'",
                       "supported: " + nlohmann::json(kSpecVersions).dump());
    c.name = get_typed<std::string>(j, "name", "");
    if (c.name.empty())
        throw CniError(kInvalidConfig, "the network config has no name");
    c.socket = get_typed<std::string>(j, "socket", c.socket);
    c.mode = get_typed<std::string>(j, "mode", c.mode);
    if (c.mode != "vepa" && c.mode != "private" && c.mode != "bridge")
        throw CniError(kInvalidConfig, "mode must be vepa, private or bridge", c.mode);
    if (j.contains("mtu")) {
        const auto mtu = get_typed<int64_t>(j, "mtu", 0);
        if (mtu < 68 || mtu > 65535)
            throw CniError(kInvalidConfig, "mtu must be 68..65535", std::to_string(mtu));
        c.mtu = static_cast<uint32_t>(mtu);
    }
    c.vlan = j.value("vlan", nlohmann::json());
    c.trunk = j.value("trunk", nlohmann::json());
    check_vlan_keys(c);
    c.src_check = get_typed<bool>(j, "srcCheck", true);
    if (j.contains("ipam") && !j["ipam"].is_null()) {
        const auto& ipam = j["ipam"];
        if (!ipam.is_object() || !ipam.contains("type") || !ipam["type"].is_string() ||
            ipam["type"].get<std::string>().find('/') != std::string::npos || ipam["type"].get<std::string>().empty())
            throw CniError(kInvalidConfig, "ipam needs a plugin name in ipam.type", ipam.dump());
        c.ipam_type = ipam["type"].get<std::string>();
    }
    c.mac = runtime_mac(j);
    c.prev_result = j.value("prevResult", nlohmann::json());
    if (!c.prev_result.is_null() && !c.prev_result.is_object())
        throw CniError(kInvalidConfig, "prevResult must be an object", c.prev_result.dump());
    c.valid_attachments = valid_attachments(j);
}

} // namespace

Env read_env()
{
    Env e;
    e.command = require_env("CNI_COMMAND");
    if (e.command == "VERSION")
        return e;
    static const std::set<std::string> known = {"ADD", "DEL", "CHECK", "GC", "STATUS"};
    if (!known.count(e.command))
        throw CniError(kInvalidEnv, "unknown CNI_COMMAND '" + e.command + "'");
    e.path = env_or_empty("CNI_PATH");
    if (e.command == "GC" || e.command == "STATUS")
        return e;
    e.container_id = require_env("CNI_CONTAINERID");
    e.ifname = require_env("CNI_IFNAME");
    if (!valid_ifname(e.ifname))
        throw CniError(kInvalidEnv, "CNI_IFNAME is not a valid interface name", e.ifname);
    e.netns = env_or_empty("CNI_NETNS"); // DEL may come without one
    if (e.netns.empty() && e.command != "DEL")
        throw CniError(kInvalidEnv, "CNI_NETNS is not set");
    e.mac = mac_from_args(env_or_empty("CNI_ARGS"));
    return e;
}

Config parse_config(const std::string& text)
{
    Config c;
    try {
        c.raw = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw CniError(kDecodeFailed, "the network config is not JSON", e.what());
    }
    if (!c.raw.is_object())
        throw CniError(kDecodeFailed, "the network config is not a JSON object");
    parse_keys(c, c.raw);
    return c;
}

} // namespace vepa::cni
