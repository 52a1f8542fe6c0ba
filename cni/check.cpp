// CHECK: vepad has the port, up, with the container's MAC and the config's mode; the
// container's interface is there with the MAC and the addresses of prevResult; the IPAM
// plugin agrees (IPAM CHECK).
#include "cni/commands.hpp"
#include "cni/error.hpp"
#include "cni/ipam.hpp"
#include "cni/link.hpp"
#include "cni/vepad.hpp"

namespace vepa::cni {
namespace {

void expect(bool ok, const std::string& what, const std::string& details = "")
{
    if (!ok)
        throw CniError(kCheckFailed, what, details);
}

bool has_mac(const nlohmann::json& port, const Mac& mac)
{
    for (const auto& m : port.value("macs", nlohmann::json::array()))
        if (m.is_string() && Mac::parse(m.get<std::string>()) == mac)
            return true;
    return false;
}

// The index of prevResult's entry for the container interface (name and sandbox).
std::optional<size_t> prev_interface(const Env& env, const nlohmann::json& ifs)
{
    for (size_t i = 0; i < ifs.size(); ++i)
        if (ifs[i].is_object() && ifs[i].value("name", "") == env.ifname && ifs[i].value("sandbox", "") == env.netns)
            return i;
    return std::nullopt;
}

// prevResult says the container interface has this MAC and these addresses.
void check_prev_result(const Env& env, const Config& cfg, const Mac& mac)
{
    if (cfg.prev_result.is_null())
        throw CniError(kInvalidConfig, "CHECK needs prevResult (the result of ADD)");
    const auto ifs = cfg.prev_result.value("interfaces", nlohmann::json::array());
    const auto index = ifs.is_array() ? prev_interface(env, ifs) : std::nullopt;
    expect(index.has_value(), "prevResult has no interface " + env.ifname + " in " + env.netns);
    const std::string prev_mac = ifs[*index].value("mac", "");
    expect(Mac::parse(prev_mac) == mac, "the container's MAC " + mac.str() + " is not prevResult's", prev_mac);
    std::vector<std::string> wanted;
    for (const auto& ip : cfg.prev_result.value("ips", nlohmann::json::array()))
        if (ip.is_object() && ip.value("interface", -1) == static_cast<int>(*index) && ip.contains("address"))
            wanted.push_back(ip.value("address", ""));
    const auto missing = addresses_missing(env.netns, env.ifname, wanted);
    expect(missing.empty(), "the container's " + env.ifname + " lacks prevResult's addresses",
           nlohmann::json(missing).dump());
}

} // namespace

nlohmann::json cmd_check(const Env& env, const Config& cfg)
{
    const std::string host_name = host_ifname(env.container_id, env.ifname);
    const auto mac = container_mac(env.netns, env.ifname);
    expect(mac.has_value(), "the container has no interface " + env.ifname, env.netns);
    check_prev_result(env, cfg, *mac);
    const auto port = find_port(cfg, host_name);
    expect(port.has_value(), "vepad has no port " + host_name);
    expect(port->value("state", "") == "up", "the port " + host_name + " is not up", port->value("state", ""));
    expect(has_mac(*port, *mac), "the port " + host_name + " does not have the container's MAC " + mac->str(),
           port->value("macs", nlohmann::json::array()).dump());
    expect(port->value("mode", "") == cfg.mode, "the port " + host_name + " is not in mode " + cfg.mode,
           port->value("mode", ""));
    if (!cfg.ipam_type.empty())
        run_ipam(env, cfg, "CHECK");
    return nullptr;
}

nlohmann::json cmd_version(const std::string& cni_version)
{
    return {{"cniVersion", cni_version}, {"supportedVersions", kSpecVersions}};
}

} // namespace vepa::cni
