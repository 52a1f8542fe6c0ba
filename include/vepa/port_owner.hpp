// Who a port belongs to: the tool that made it (a CNI runtime, libvirt) and its names
// for the port's user.  vepad only stores and shows it; GC in the CNI plugin and the
// libvirt hook's release find their ports by it.  Header-only: vepad, vepactl, the
// CNI plugin and the libvirt hook read and write the same JSON.
//
// JSON (add-port/set-port "owner", the port object's "owner", the state file):
//   {"tool": "cni", "name": <network name>, "id": <container id>, "ifname": <CNI_IFNAME>}
//   {"tool": "libvirt", "name": <domain name>, "id": <domain UUID>, "ifname": ""}
// tool: 1 to 32 of [a-z0-9_-]; name, id, ifname: at most 255 printable ASCII
// characters (no spaces), each may be empty.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace vepa {

struct PortOwner {
    std::string tool, name, id, ifname;

    bool operator==(const PortOwner&) const = default;

    nlohmann::json json() const { return {{"tool", tool}, {"name", name}, {"id", id}, {"ifname", ifname}}; }

    // As `vepactl list` shows it: "cni:vepanet:3f2a1b2c4d5e:eth0" (id shortened to 12
    // characters), empty parts at the end left out.
    std::string str() const
    {
        std::string s = tool;
        const std::string parts[] = {name, id.substr(0, 12), ifname};
        size_t last = 0;
        for (size_t i = 0; i < 3; ++i)
            if (!parts[i].empty())
                last = i + 1;
        for (size_t i = 0; i < last; ++i)
            s += ":" + parts[i];
        return s;
    }
};

namespace owner_detail {
inline bool tool_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; }
inline bool text_char(char c) { return c > ' ' && c < 0x7f; }
template <typename Pred> bool all_of(const std::string& s, Pred p)
{
    for (char c : s)
        if (!p(c))
            return false;
    return true;
}
} // namespace owner_detail

// Parses an owner object; on anything else returns nullopt and says why in *why.
inline std::optional<PortOwner> parse_port_owner(const nlohmann::json& j, std::string* why)
{
    using namespace owner_detail;
    auto fail = [&](const std::string& w) {
        *why = w;
        return std::nullopt;
    };
    if (!j.is_object())
        return fail("owner must be an object {\"tool\", \"name\", \"id\", \"ifname\"}");
    PortOwner o;
    for (const auto& [k, v] : j.items()) {
        std::string* field = k == "tool" ? &o.tool : k == "name" ? &o.name : k == "id" ? &o.id
                           : k == "ifname"                        ? &o.ifname
                                                                  : nullptr;
        if (!field)
            return fail("owner has an unknown key '" + k + "' (tool, name, id, ifname)");
        if (!v.is_string())
            return fail("owner." + k + " must be a string");
        *field = v.get<std::string>();
        if (k != "tool" && (field->size() > 255 || !all_of(*field, text_char)))
            return fail("owner." + k + " must be at most 255 printable characters without spaces");
    }
    if (o.tool.empty() || o.tool.size() > 32 || !all_of(o.tool, tool_char))
        return fail("owner.tool must be 1 to 32 of a-z, 0-9, '_' and '-'");
    return o;
}

} // namespace vepa
