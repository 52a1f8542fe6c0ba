#include "daemon/vlan_json.hpp"

#include "vepa/vlan_list.hpp"

namespace vepad {

using nlohmann::json;

namespace {

// A value as a message shows it: one line, at most 40 characters.
std::string shown(const json& v)
{
    std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

bool is_vid(const json& v)
{
    return v.is_number_unsigned() && v.get<uint64_t>() >= vepa::kVidMin && v.get<uint64_t>() <= vepa::kVidMax;
}

} // namespace

uint16_t vlan_from_json(const json& v, const char* key)
{
    if (v.is_null())
        return 0;
    if (!is_vid(v))
        throw VlanJsonError(std::string("'") + key + "' must be a VLAN id from 1 to 4094 or null, not " + shown(v));
    return v.get<uint16_t>();
}

Trunk trunk_from_json(const json& v, const char* key)
{
    Trunk t;
    if (v.is_null())
        return t;
    if (v == "all") {
        t.all = true;
        return t;
    }
    if (!v.is_array())
        throw VlanJsonError(std::string("'") + key +
                            "' must be an array of VLAN ids (1 to 4094), \"all\" or null, not " + shown(v));
    for (const auto& e : v) {
        if (!is_vid(e))
            throw VlanJsonError(std::string("'") + key + "' holds " + shown(e) + ", not a VLAN id from 1 to 4094");
        t.vids.insert(e.get<uint16_t>());
    }
    return t;
}

json vlan_json(const vepa::PortVlans& v) { return v.untagged ? json(v.untagged) : json(nullptr); }

json trunk_json(const vepa::PortVlans& v) { return v.all_tagged ? json("all") : json(v.tagged); }

} // namespace vepad
