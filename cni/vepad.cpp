#include "cni/vepad.hpp"

#include <chrono>
#include <thread>

#include "cni/error.hpp"
#include "vepa/control.hpp"
#include "vepa/control_client.hpp"
#include "vepa/port_owner.hpp"

namespace vepa::cni {
namespace {

constexpr int kCallTimeoutMs = 5000;

nlohmann::json call(const Config& cfg, const char* cmd, const nlohmann::json& args)
{
    try {
        return proto::call(cfg.socket, {{"id", 1}, {"cmd", cmd}, {"args", args}}, kCallTimeoutMs);
    } catch (const proto::ClientError& e) {
        throw CniError(kVepadUnreachable, "vepad is unreachable at " + cfg.socket, e.what());
    }
}

std::string refusal(const nlohmann::json& r)
{
    const auto& e = r.value("error", nlohmann::json::object());
    return e.value("code", "?") + ": " + e.value("message", "");
}

// The result of a query without arguments; a refusal counts as unreachable.
nlohmann::json result_of(const Config& cfg, const char* cmd)
{
    const auto r = call(cfg, cmd, nlohmann::json::object());
    if (!r.value("ok", false))
        throw CniError(kVepadUnreachable, std::string("vepad refused ") + cmd, refusal(r));
    return r.value("result", nlohmann::json::object());
}

} // namespace

void add_port(const Config& cfg, const Env& env, const std::string& host_name, const std::optional<Mac>& mac)
{
    const PortOwner owner{"cni", cfg.name, env.container_id, env.ifname};
    nlohmann::json args = {{"name", host_name},   {"mode", cfg.mode},   {"src_check", cfg.src_check},
                           {"vlan", cfg.vlan},    {"trunk", cfg.trunk}, {"owner", owner.json()}};
    if (mac)
        args["macs"] = {mac->str()};
    auto r = call(cfg, proto::kAddPort, args);
    // The name is this container's (its veth was just made, so no live container has it):
    // a port of that name is left from a DEL that found vepad stopped.  Replace it.
    if (!r.value("ok", false) && r["error"].value("code", "") == proto::kErrExists) {
        del_port(cfg, host_name);
        r = call(cfg, proto::kAddPort, args);
    }
    if (!r.value("ok", false))
        throw CniError(kVepadRefused, "vepad refused the port " + host_name, refusal(r));
}

bool del_port(const Config& cfg, const std::string& host_name)
{
    try {
        return call(cfg, proto::kDelPort, {{"name", host_name}}).value("ok", false);
    } catch (const CniError&) {
        return false;
    }
}

nlohmann::json list_ports(const Config& cfg) { return result_of(cfg, proto::kList).value("ports", nlohmann::json::array()); }

nlohmann::json vepad_status(const Config& cfg) { return result_of(cfg, proto::kStatus); }

std::optional<nlohmann::json> find_port(const Config& cfg, const std::string& host_name)
{
    for (const auto& p : list_ports(cfg))
        if (p.value("name", "") == host_name)
            return p;
    return std::nullopt;
}

void wait_port_up(const Config& cfg, const std::string& host_name, int timeout_ms)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::string state = "absent";
    for (;;) {
        auto p = find_port(cfg, host_name);
        state = p ? p->value("state", "?") : "absent";
        if (state == "up")
            return;
        if (std::chrono::steady_clock::now() >= end)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw CniError(kPortNotUp, "the port " + host_name + " did not come up in vepad", "state: " + state);
}

} // namespace vepa::cni
