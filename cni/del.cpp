// DEL: idempotent; IPAM DEL always (when configured), del-port when vepad answers,
// the host end deleted when present.
#include "cni/commands.hpp"
#include "cni/error.hpp"
#include "cni/ipam.hpp"
#include "cni/link.hpp"
#include "cni/vepad.hpp"

namespace vepa::cni {

nlohmann::json cmd_del(const Env& env, const Config& cfg)
{
    const std::string host_name = host_ifname(env.container_id, env.ifname);
    del_port(cfg, host_name);
    try {
        delete_host_end(host_name);
    } catch (const std::exception& e) {
        throw CniError(kNetlinkFailed, "cannot delete the host end " + host_name, e.what());
    }
    if (!cfg.ipam_type.empty())
        run_ipam(env, cfg, "DEL");
    return nullptr;
}

} // namespace vepa::cni
