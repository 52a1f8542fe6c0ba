#include "libvirt/vepad_sync.hpp"

#include <iostream>

#include "libvirt/hook_error.hpp"
#include "libvirt/port_requests.hpp"
#include "vepa/control.hpp"
#include "vepa/control_client.hpp"

namespace vepa::libvirt {

using nlohmann::json;

namespace {

// Each line on stderr names the hook and the domain: libvirt logs it with the hook's
// command line, and virsh shows it when the hook fails.
void say(const DomainPorts& d, const std::string& msg)
{
    std::cerr << "vepad-libvirt-hook: domain " << d.name << ": " << msg << std::endl;
}

std::string where(const std::string& socket) { return "vepad at " + proto::socket_path(socket); }

// One request; a refusal is returned ({"ok": false, ...}), an unreachable vepad throws ClientError.
json call(const std::string& socket, const char* cmd, const json& args)
{
    return proto::call(proto::socket_path(socket), {{"id", 1}, {"cmd", cmd}, {"args", args}}, kCallTimeoutMs);
}

bool ok(const json& r) { return r.value("ok", false); }
std::string code(const json& r) { return r.value("error", json::object()).value("code", ""); }
std::string refusal(const json& r)
{
    const auto e = r.value("error", json::object());
    return e.value("code", "?") + ": " + e.value("message", "");
}

json list_ports(const std::string& socket)
{
    const json r = call(socket, proto::kList, json::object());
    if (!ok(r))
        throw VepadError(where(socket) + " refused list: " + refusal(r));
    return r["result"].value("ports", json::array());
}

const json* find_port(const json& ports, const std::string& name)
{
    for (const auto& p : ports)
        if (p.value("name", "") == name)
            return &p;
    return nullptr;
}

std::string settings(const WantedPort& w)
{
    std::string s = "MAC " + w.mac.str() + ", mode " + w.mode.value_or("vepad's default");
    if (w.vlan)
        s += ", vlan " + std::to_string(*w.vlan);
    if (w.trunk_all)
        s += ", trunk all";
    else if (!w.trunk.empty())
        s += ", trunk " + json(w.trunk).dump();
    return s + (w.src_check ? "" : ", no source check");
}

std::string owner_text(const json& port)
{
    const auto o = owner_of(port);
    return o ? "owned by " + o->str() : "with MAC(s) " + port.value("macs", json::array()).dump() + ", no owner";
}

void attach_one(const DomainPorts& d, const WantedPort& w, const json& ports)
{
    const PortOwner owner = domain_owner(d);
    const json* cur = find_port(ports, w.dev);
    if (cur && !may_take(*cur, w, owner))
        throw VepadError(where(w.socket) + " already has a port " + w.dev + " (" + owner_text(*cur) +
                         "), another guest's; remove it (vepactl del-port " + w.dev +
                         ") or give the interface another <target dev>");
    if (cur && same_settings(*cur, w, owner)) {
        say(d, "port " + w.dev + " is in " + where(w.socket) + " as wanted (" + settings(w) + ")");
        return;
    }
    const char* cmd = cur ? proto::kSetPort : proto::kAddPort;
    const json r = call(w.socket, cmd, port_args(w, owner));
    if (!ok(r))
        throw VepadError(where(w.socket) + " refused the port " + describe(w) + ": " + refusal(r));
    say(d, std::string("port ") + w.dev + (cur ? " changed in " : " added to ") + where(w.socket) + " (" + settings(w) +
               ")");
}

// vepad could not be reached for these ports: fail for a required one, warn for the others.
void unreachable(const DomainPorts& d, const std::vector<const WantedPort*>& ports, const std::string& why)
{
    for (const WantedPort* w : ports)
        if (w->required)
            throw VepadError("cannot reach " + where(w->socket) + ": " + why + "; " + describe(*w) +
                             " would not be a VEPA port. Start vepad, or set required=\"no\" on its <vepad:port> "
                             "to start the domain without it");
    for (const WantedPort* w : ports)
        say(d, "WARNING: cannot reach " + where(w->socket) + ": " + why + "; " + describe(*w) +
                   " starts without a vepad port (required=\"no\"): its frames do not leave through the uplink until "
                   "vepad has it (vepactl add-port " +
                   (w->dev.empty() ? "TAP" : w->dev) + " --mac " + w->mac.str() + ")");
}

} // namespace

void attach_ports(const DomainPorts& d, const std::vector<WantedPort>& ports)
{
    for (const std::string& socket : d.sockets()) {
        std::vector<const WantedPort*> group;
        for (const auto& w : ports)
            if (w.socket == socket)
                group.push_back(&w);
        if (group.empty())
            continue;
        json listed;
        try {
            listed = list_ports(socket);
        } catch (const proto::ClientError& e) {
            unreachable(d, group, e.what());
            continue;
        }
        for (size_t i = 0; i < group.size(); ++i) {
            try {
                attach_one(d, *group[i], listed);
            } catch (const proto::ClientError& e) {
                unreachable(d, {group.begin() + static_cast<std::ptrdiff_t>(i), group.end()}, e.what());
                break;
            }
        }
    }
}

void detach_ports(const DomainPorts& d)
{
    const PortOwner owner = domain_owner(d);
    std::string errors;
    for (const std::string& socket : d.sockets()) {
        try {
            for (const auto& p : list_ports(socket)) {
                if (!is_domains(p, owner))
                    continue;
                const std::string name = p.value("name", "");
                const json r = call(socket, proto::kDelPort, {{"name", name}});
                if (ok(r))
                    say(d, "port " + name + " deleted from " + where(socket));
                else if (code(r) != proto::kErrNotFound)
                    errors += "; " + where(socket) + " refused to delete the port " + name + ": " + refusal(r);
            }
        } catch (const proto::ClientError& e) {
            errors += "; cannot reach " + where(socket) + ": " + e.what() +
                      ": the domain's ports stay in vepad (vepactl list shows them with owner libvirt:" + owner.name +
                      "; vepactl del-port NAME)";
        } catch (const VepadError& e) {
            errors += std::string("; ") + e.what();
        }
    }
    if (!errors.empty())
        throw VepadError(errors.substr(2));
}

} // namespace vepa::libvirt
