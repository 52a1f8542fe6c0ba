#include "libvirt/port_requests.hpp"

namespace vepa::libvirt {

using nlohmann::json;

namespace {

json trunk_json(const WantedPort& w)
{
    if (w.trunk_all)
        return "all";
    if (w.trunk.empty())
        return nullptr;
    return json(w.trunk);
}

json macs_json(const WantedPort& w) { return json::array({w.mac.str()}); }

} // namespace

PortOwner domain_owner(const DomainPorts& d)
{
    std::string name = d.name.substr(0, 255);
    for (char& c : name)
        if (c <= ' ' || c >= 0x7f)
            c = '_';
    return {kOwnerTool, name, d.uuid, ""};
}

json port_args(const WantedPort& w, const PortOwner& owner)
{
    json a = {{"name", w.dev},
              {"macs", macs_json(w)},
              {"src_check", w.src_check},
              {"vlan", w.vlan ? json(*w.vlan) : json(nullptr)},
              {"trunk", trunk_json(w)},
              {"owner", owner.json()}};
    if (w.mode)
        a["mode"] = *w.mode;
    return a;
}

std::optional<PortOwner> owner_of(const json& port)
{
    if (!port.contains("owner") || port["owner"].is_null())
        return std::nullopt;
    std::string why;
    return parse_port_owner(port["owner"], &why);
}

bool same_settings(const json& port, const WantedPort& w, const PortOwner& owner)
{
    const json want_trunk = trunk_json(w);
    return port.value("macs", json()) == macs_json(w) && port.value("src_check", !w.src_check) == w.src_check &&
           port.value("vlan", json()) == (w.vlan ? json(*w.vlan) : json(nullptr)) &&
           port.value("trunk", json()) == (want_trunk.is_null() ? json::array() : want_trunk) &&
           (!w.mode || port.value("mode", "") == *w.mode) && owner_of(port) == owner;
}

bool is_domains(const json& port, const PortOwner& owner)
{
    const auto o = owner_of(port);
    return o && o->tool == kOwnerTool && !owner.id.empty() && o->id == owner.id;
}

bool may_take(const json& port, const WantedPort& w, const PortOwner& owner)
{
    if (is_domains(port, owner))
        return true;
    const bool ownerless = !port.contains("owner") || port["owner"].is_null();
    return ownerless && port.value("macs", json()) == macs_json(w);
}

std::string describe(const WantedPort& w)
{
    if (w.dev.empty())
        return "the interface with MAC " + w.mac.str();
    return w.dev + (w.mac.is_zero() ? "" : " (MAC " + w.mac.str() + ")");
}

} // namespace vepa::libvirt
