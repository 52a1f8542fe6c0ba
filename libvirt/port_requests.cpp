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

json port_args(const WantedPort& w)
{
    json a = {{"name", w.dev},
              {"macs", macs_json(w)},
              {"src_check", w.src_check},
              {"vlan", w.vlan ? json(*w.vlan) : json(nullptr)},
              {"trunk", trunk_json(w)}};
    if (w.mode)
        a["mode"] = *w.mode;
    return a;
}

bool same_settings(const json& port, const WantedPort& w)
{
    const json want_trunk = trunk_json(w);
    return port.value("macs", json()) == macs_json(w) && port.value("src_check", !w.src_check) == w.src_check &&
           port.value("vlan", json()) == (w.vlan ? json(*w.vlan) : json(nullptr)) &&
           port.value("trunk", json()) == (want_trunk.is_null() ? json::array() : want_trunk) &&
           (!w.mode || port.value("mode", "") == *w.mode);
}

bool may_take(const json& port, const WantedPort& w) { return port.value("macs", json()) == macs_json(w); }

Release release_match(const json& port, const WantedPort& w)
{
    const bool name_known = !w.dev.empty(), mac_known = !w.mac.is_zero();
    if (!name_known && !mac_known)
        return Release::No;
    if (name_known && port.value("name", "") != w.dev)
        return Release::No;
    if (mac_known && port.value("macs", json()) != macs_json(w))
        return Release::No;
    if ((name_known && mac_known) || port.value("state", "") == "absent")
        return Release::Yes;
    return Release::WhenAbsent;
}

std::string describe(const WantedPort& w)
{
    if (w.dev.empty())
        return "the interface with MAC " + w.mac.str();
    return w.dev + (w.mac.is_zero() ? "" : " (MAC " + w.mac.str() + ")");
}

} // namespace vepa::libvirt
