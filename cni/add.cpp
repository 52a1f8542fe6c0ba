// ADD: veth pair, vepad port (up), IPAM, addresses; undone on any failure.
#include "cni/commands.hpp"
#include "cni/error.hpp"
#include "cni/ipam.hpp"
#include "cni/link.hpp"
#include "cni/vepad.hpp"

namespace vepa::cni {
namespace {

constexpr int kPortUpTimeoutMs = 3000;

// What ADD has made so far, undone (in reverse) unless released.
struct Undo {
    const Env& env;
    const Config& cfg;
    std::string host_name;
    bool port = false, ipam = false, done = false;
    ~Undo()
    {
        if (done)
            return;
        if (ipam)
            try {
                run_ipam(env, cfg, "DEL");
            } catch (...) {}
        if (port)
            del_port(cfg, host_name);
        if (!host_name.empty())
            try {
                delete_host_end(host_name);
            } catch (...) {}
    }
};

nlohmann::json result(const Env& env, const Config& cfg, const ContainerLink& l, const nlohmann::json& ipam)
{
    nlohmann::json r = {{"cniVersion", cfg.cni_version},
                        {"interfaces",
                         {{{"name", l.host_name}, {"mac", l.host_mac.str()}},
                          {{"name", env.ifname}, {"mac", l.mac.str()}, {"sandbox", env.netns}}}},
                        {"ips", nlohmann::json::array()}};
    if (ipam.is_null())
        return r;
    for (auto ip : ipam.value("ips", nlohmann::json::array())) {
        ip["interface"] = 1;
        if (cfg.cni_version == kOldSpecVersion) // 0.4.0: each IP says its family
            ip["version"] = ip.value("address", "").find(':') == std::string::npos ? "4" : "6";
        r["ips"].push_back(ip);
    }
    if (ipam.contains("routes"))
        r["routes"] = ipam["routes"];
    if (ipam.contains("dns"))
        r["dns"] = ipam["dns"];
    return r;
}

} // namespace

nlohmann::json cmd_add(const Env& env, const Config& cfg)
{
    const auto requested = cfg.mac ? cfg.mac : env.mac;
    Undo undo{env, cfg, ""};
    const ContainerLink link = create_pair(env, requested.value_or(random_mac()), cfg.mtu);
    undo.host_name = link.host_name;
    undo.port = true; // a refused add-port may still be ours from an earlier try: del-port is harmless
    add_port(cfg, env, link.host_name, requested);
    wait_port_up(cfg, link.host_name, kPortUpTimeoutMs);
    nlohmann::json ipam;
    if (!cfg.ipam_type.empty()) {
        undo.ipam = true;
        ipam = run_ipam(env, cfg, "ADD");
        apply_ip_config(env.netns, link.ifindex, ipam);
    }
    undo.done = true;
    return result(env, cfg, link, ipam);
}

} // namespace vepa::cni
