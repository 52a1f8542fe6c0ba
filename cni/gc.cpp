// GC (spec 1.1.0): remove this network's attachments that the runtime no longer knows.
// vepad records each port's owner (tool "cni", the network's name, container id and
// ifname), so the stale ones are the ports owned by this network whose (container id,
// ifname) is not in cni.dev/valid-attachments.  Each goes the way DEL takes it: del-port,
// its host end, and an IPAM DEL for its container (IPAM plugins before 1.1 have no GC).
#include <set>

#include "cni/commands.hpp"
#include "cni/error.hpp"
#include "cni/ipam.hpp"
#include "cni/link.hpp"
#include "cni/vepad.hpp"
#include "vepa/port_owner.hpp"

namespace vepa::cni {
namespace {

// The attachment a port of this network belongs to; nullopt for any other port.
std::optional<Attachment> attachment_of(const Config& cfg, const nlohmann::json& port)
{
    std::string why;
    const auto o = port.contains("owner") ? parse_port_owner(port["owner"], &why) : std::nullopt;
    if (!o || o->tool != "cni" || o->name != cfg.name)
        return std::nullopt;
    return Attachment{o->id, o->ifname};
}

// Removes one stale attachment; the port is ours only under the name ADD gives it.
void collect(const Env& env, const Config& cfg, const std::string& port, const Attachment& a)
{
    if (port != host_ifname(a.container_id, a.ifname))
        return;
    del_port(cfg, port);
    delete_host_end(port);
    if (cfg.ipam_type.empty())
        return;
    Env ipam_env = env;
    ipam_env.container_id = a.container_id;
    ipam_env.ifname = a.ifname;
    ipam_env.netns.clear();
    run_ipam(ipam_env, cfg, "DEL");
}

} // namespace

nlohmann::json cmd_gc(const Env& env, const Config& cfg)
{
    const std::set<Attachment> valid(cfg.valid_attachments.begin(), cfg.valid_attachments.end());
    std::string failed;
    for (const auto& port : list_ports(cfg)) {
        const auto a = attachment_of(cfg, port);
        if (!a || valid.count(*a))
            continue;
        try {
            collect(env, cfg, port.value("name", ""), *a);
        } catch (const std::exception& e) { // go on with the others; report at the end
            failed += (failed.empty() ? "" : "; ") + a->container_id + "/" + a->ifname + ": " + e.what();
        }
    }
    if (!failed.empty())
        throw CniError(kTryAgainLater, "GC could not remove every stale attachment", failed);
    return nullptr;
}

} // namespace vepa::cni
