// CHECK: vepad has the port, up, with the container's MAC and the config's mode, and the
// container's interface is there.
#include "cni/commands.hpp"
#include "cni/error.hpp"
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

} // namespace

nlohmann::json cmd_check(const Env& env, const Config& cfg)
{
    const std::string host_name = host_ifname(env.container_id, env.ifname);
    const auto mac = container_mac(env.netns, env.ifname);
    expect(mac.has_value(), "the container has no interface " + env.ifname, env.netns);
    const auto port = find_port(cfg, host_name);
    expect(port.has_value(), "vepad has no port " + host_name);
    expect(port->value("state", "") == "up", "the port " + host_name + " is not up", port->value("state", ""));
    expect(has_mac(*port, *mac), "the port " + host_name + " does not have the container's MAC " + mac->str(),
           port->value("macs", nlohmann::json::array()).dump());
    expect(port->value("mode", "") == cfg.mode, "the port " + host_name + " is not in mode " + cfg.mode,
           port->value("mode", ""));
    return nullptr;
}

nlohmann::json cmd_version()
{
    return {{"cniVersion", kSpecVersion}, {"supportedVersions", {kOldSpecVersion, kSpecVersion}}};
}

} // namespace vepa::cni
