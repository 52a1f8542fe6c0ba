#include "port_table.hpp"

#include <algorithm>
#include <set>

#include "command_error.hpp"
#include "config.hpp"
#include "error.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

const PortConfig* PortTable::find(const std::string& name) const
{
    auto it = ports_.find(name);
    return it == ports_.end() ? nullptr : &it->second;
}

const PortConfig* PortTable::owner_of(const vepa::Mac& mac, const std::string& except) const
{
    for (const auto& [name, p] : ports_)
        if (name != except && std::find(p.macs.begin(), p.macs.end(), mac) != p.macs.end())
            return &p;
    return nullptr;
}

void PortTable::check_macs(const PortConfig& p) const
{
    if (p.macs.size() > VEPA_MAX_PORT_MACS)
        throw CommandError(proto::kErrLimit, "a port has at most " + std::to_string(VEPA_MAX_PORT_MACS) +
                                                 " MAC addresses, " + std::to_string(p.macs.size()) + " given");
    std::set<vepa::Mac> seen;
    for (const auto& m : p.macs) {
        if (m.is_group() || m.is_zero())
            throw CommandError(proto::kErrInvalid, "MAC " + m.str() + " is a group or zero address, not a port's");
        if (!seen.insert(m).second)
            throw CommandError(proto::kErrInvalid, "MAC " + m.str() + " given twice");
    }
    // One pass over every other port's MACs, each looked up among this port's few:
    // a command costs O(all MACs), not O(all MACs x this port's).
    if (seen.empty())
        return;
    for (const auto& [name, other] : ports_) {
        if (name == p.name)
            continue;
        for (const auto& m : other.macs)
            if (seen.count(m))
                throw CommandError(proto::kErrMacInUse, "MAC " + m.str() + " belongs to port " + name);
    }
}

PortConfig& PortTable::add(PortConfig p)
{
    if (!valid_ifname(p.name))
        throw CommandError(proto::kErrInvalid, "'" + p.name + "' is not a valid interface name");
    if (ports_.count(p.name))
        throw CommandError(proto::kErrExists, "port " + p.name + " is already configured");
    if (ports_.size() >= VEPA_MAX_PORTS - 1)
        throw CommandError(proto::kErrLimit, "already " + std::to_string(ports_.size()) + " ports, the maximum");
    check_macs(p);
    std::set<uint16_t> used;
    for (const auto& [n, q] : ports_)
        used.insert(q.slot);
    uint16_t slot = 1;
    while (used.count(slot))
        slot++;
    p.slot = slot;
    return ports_[p.name] = std::move(p);
}

void PortTable::replace(const PortConfig& p)
{
    auto it = ports_.find(p.name);
    if (it == ports_.end())
        throw CommandError(proto::kErrNotFound, "no port " + p.name);
    check_macs(p);
    const uint16_t slot = it->second.slot;
    it->second = p;
    it->second.slot = slot;
}

void PortTable::remove(const std::string& name)
{
    if (!ports_.erase(name))
        throw CommandError(proto::kErrNotFound, "no port " + name);
}

json port_config_json(const PortConfig& p)
{
    json macs = json::array();
    for (const auto& m : p.macs)
        macs.push_back(m.str());
    return {{"name", p.name}, {"macs", macs}, {"mode", mode_name(p.mode)}, {"src_check", p.src_check},
            {"slot", p.slot}};
}

json PortTable::to_json(const std::string& uplink) const
{
    json ports = json::array();
    for (const auto& [n, p] : ports_)
        ports.push_back(port_config_json(p));
    return {{"format", 1}, {"uplink", uplink}, {"ports", ports}};
}

PortTable PortTable::from_json(const json& j, const std::string& origin)
{
    auto bad = [&](const std::string& why) { return vepa::Error(origin + ": " + why); };
    if (!j.is_object())
        throw bad("not a JSON object");
    if (!j.contains("format") || j["format"] != 1)
        throw bad("unknown format (expected \"format\": 1)");
    if (!j.contains("ports") || !j["ports"].is_array())
        throw bad("no \"ports\" array");
    PortTable t;
    std::set<uint16_t> slots;
    for (const auto& e : j["ports"]) {
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("slot") ||
            !e["slot"].is_number_unsigned())
            throw bad("a port entry lacks a name or a slot: " + e.dump());
        PortConfig p;
        p.name = e["name"];
        if (!valid_ifname(p.name))
            throw bad("port name '" + p.name + "' is not an interface name");
        const auto slot = e["slot"].get<uint64_t>();
        if (slot == 0 || slot >= VEPA_MAX_PORTS || !slots.insert(static_cast<uint16_t>(slot)).second)
            throw bad("port " + p.name + " has an invalid or duplicate slot " + std::to_string(slot));
        p.slot = static_cast<uint16_t>(slot);
        if (e.contains("mode")) {
            auto m = e["mode"].is_string() ? parse_mode(e["mode"]) : std::nullopt;
            if (!m)
                throw bad("port " + p.name + " has an invalid mode " + e["mode"].dump());
            p.mode = *m;
        }
        if (e.contains("src_check")) {
            if (!e["src_check"].is_boolean())
                throw bad("port " + p.name + " has a non-boolean src_check");
            p.src_check = e["src_check"];
        }
        if (e.contains("macs")) {
            if (!e["macs"].is_array())
                throw bad("port " + p.name + " has a non-array macs");
            for (const auto& m : e["macs"]) {
                auto mac = m.is_string() ? vepa::Mac::parse(m.get<std::string>()) : std::nullopt;
                if (!mac)
                    throw bad("port " + p.name + " has an invalid MAC " + m.dump());
                p.macs.push_back(*mac);
            }
        }
        if (t.ports_.count(p.name))
            throw bad("port " + p.name + " appears twice");
        try {
            t.check_macs(p);
        } catch (const CommandError& e2) {
            throw bad(e2.what());
        }
        t.ports_[p.name] = std::move(p);
    }
    return t;
}

} // namespace vepad
