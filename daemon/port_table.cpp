#include "daemon/port_table.hpp"

#include <algorithm>
#include <set>

#include "daemon/command_error.hpp"
#include "daemon/config.hpp"
#include "daemon/vlan_json.hpp"
#include "lib/error.hpp"
#include "vepa/control.hpp"
#include "vepa/vlan_list.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

const PortConfig* PortTable::find(const std::string& name) const
{
    auto it = ports_.find(name);
    return it == ports_.end() ? nullptr : &it->second;
}

namespace {

// A port's VLANs in a message.
std::string vlans_text(const vepa::PortVlans& v) { return v.empty() ? "untagged only" : v.str(); }

bool valid_vid(uint16_t vid) { return vid >= vepa::kVidMin && vid <= vepa::kVidMax; }

} // namespace

void check_vlans(const PortConfig& p)
{
    const vepa::PortVlans& v = p.vlans;
    auto bad = [&](uint16_t vid, const char* what) {
        return CommandError(proto::kErrInvalid,
                            "port " + p.name + ": " + what + " VLAN " + std::to_string(vid) + " is not 1 to 4094");
    };
    if (v.untagged && !valid_vid(v.untagged))
        throw bad(v.untagged, "untagged");
    for (auto vid : v.tagged)
        if (!valid_vid(vid))
            throw bad(vid, "tagged");
    if (v.all_tagged && !v.tagged.empty())
        throw CommandError(proto::kErrInvalid, "port " + p.name + ": trunk is either all or a VLAN list, not both");
    if (v.untagged && v.tagged.count(v.untagged))
        throw CommandError(proto::kErrInvalid, "port " + p.name + ": VLAN " + std::to_string(v.untagged) +
                                                   " cannot be both untagged (vlan) and tagged (trunk)");
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
    if (!seen.empty())
        check_mac_owners(p, seen);
}

// A MAC is one port's within a VLAN: each of p's looked up in the index.
void PortTable::check_mac_owners(const PortConfig& p, const std::set<vepa::Mac>& macs) const
{
    for (const auto& m : macs) {
        const PortConfig* other = mac_owner(m, p.vlans, p.name);
        if (!other)
            continue;
        const std::string where = other->vlans.empty() && p.vlans.empty()
                                      ? ""
                                      : ", whose VLANs (" + vlans_text(other->vlans) + ") overlap these (" +
                                            vlans_text(p.vlans) + ")";
        throw CommandError(proto::kErrMacInUse, "MAC " + m.str() + " belongs to port " + other->name + where);
    }
}

const PortConfig* PortTable::mac_owner(const vepa::Mac& m, const vepa::PortVlans& vlans,
                                       const std::string& except) const
{
    const auto [b, e] = mac_index_.equal_range(m);
    for (auto it = b; it != e; ++it)
        if (it->second->name != except && it->second->vlans.overlaps(vlans))
            return it->second;
    return nullptr;
}

std::vector<const PortConfig*> PortTable::mac_owners(const vepa::Mac& m) const
{
    std::vector<const PortConfig*> out;
    const auto [b, e] = mac_index_.equal_range(m);
    for (auto it = b; it != e; ++it)
        out.push_back(it->second);
    return out;
}

PortConfig& PortTable::insert(PortConfig p)
{
    erase(p.name);
    const std::string name = p.name;
    PortConfig& in = ports_[name] = std::move(p);
    for (const auto& m : in.macs)
        mac_index_.emplace(m, &in);
    return in;
}

void PortTable::index_all()
{
    mac_index_.clear();
    for (const auto& [name, p] : ports_)
        for (const auto& m : p.macs)
            mac_index_.emplace(m, &p);
}

void PortTable::erase(const std::string& name)
{
    const auto it = ports_.find(name);
    if (it == ports_.end())
        return;
    for (const auto& m : it->second.macs) {
        const auto [b, e] = mac_index_.equal_range(m);
        for (auto i = b; i != e; ++i)
            if (i->second == &it->second) {
                mac_index_.erase(i);
                break;
            }
    }
    ports_.erase(it);
}

void PortTable::put_back(const std::string& name, const std::optional<PortConfig>& was)
{
    if (was)
        insert(*was);
    else
        erase(name);
}

PortConfig& PortTable::add(PortConfig p)
{
    if (!valid_ifname(p.name))
        throw CommandError(proto::kErrInvalid, "'" + p.name + "' is not a valid interface name");
    if (ports_.count(p.name))
        throw CommandError(proto::kErrExists, "port " + p.name + " is already configured");
    check_xsk(p);
    if (ports_.size() >= VEPA_MAX_PORTS - 1)
        throw CommandError(proto::kErrLimit, "already " + std::to_string(ports_.size()) + " ports, the maximum");
    check_vlans(p);
    check_macs(p);
    if (p.type == PortType::Xsk)
        p.xsk_first = allocate_xsk(p);
    std::set<uint16_t> used;
    for (const auto& [n, q] : ports_)
        used.insert(q.slot);
    uint16_t slot = 1;
    while (used.count(slot))
        slot++;
    p.slot = slot;
    return insert(std::move(p));
}

std::string xsk_peer_name(const std::string& name) { return "vx-" + name; }

namespace {
const std::string kAliasPrefix = "vepad xsk port ";
}

std::string xsk_alias(const std::string& port, const std::string& uplink)
{
    return kAliasPrefix + port + " on " + uplink;
}

std::optional<std::string> xsk_alias_port(const std::string& alias, const std::string& uplink)
{
    const std::string suffix = " on " + uplink;
    if (alias.size() <= kAliasPrefix.size() + suffix.size() || alias.rfind(kAliasPrefix, 0) != 0 ||
        alias.compare(alias.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    return alias.substr(kAliasPrefix.size(), alias.size() - kAliasPrefix.size() - suffix.size());
}

void PortTable::check_xsk(const PortConfig& p) const
{
    if (p.type != PortType::Xsk) {
        if (p.name.rfind("vx-", 0) == 0)
            if (const PortConfig* x = find(p.name.substr(3)); x && x->type == PortType::Xsk)
                throw CommandError(proto::kErrExists, p.name + " is the vepa-side device of xsk port " + x->name);
        return;
    }
    if (p.name.size() > kMaxXskName)
        throw CommandError(proto::kErrInvalid, "an xsk port's name has at most " + std::to_string(kMaxXskName) +
                                                   " characters (its vepa-side device is " + xsk_peer_name(p.name) +
                                                   "), '" + p.name + "' has " + std::to_string(p.name.size()));
    if (p.queues < 1 || p.queues > VEPA_MAX_XSK_QUEUES)
        throw CommandError(proto::kErrInvalid, "an xsk port has 1 to " + std::to_string(VEPA_MAX_XSK_QUEUES) +
                                                   " queues, not " + std::to_string(p.queues));
    if (p.macs.empty())
        throw CommandError(proto::kErrInvalid, "an xsk port needs its MAC address(es) (--mac): there is no guest "
                                               "device to learn one from");
    for (const auto& [n, q] : ports_)
        if (q.type == PortType::Kernel && q.name == xsk_peer_name(p.name))
            throw CommandError(proto::kErrExists, "port " + n + " is the name this xsk port's vepa-side device needs");
}

uint32_t PortTable::allocate_xsk(const PortConfig& p) const
{
    // First fit over the slot ranges in use.
    std::vector<std::pair<uint32_t, uint32_t>> used;
    for (const auto& [n, q] : ports_)
        if (q.type == PortType::Xsk)
            used.emplace_back(q.xsk_first, q.xsk_first + q.queues);
    std::sort(used.begin(), used.end());
    uint32_t first = 0;
    for (const auto& [b, e] : used) {
        if (first + p.queues <= b)
            break;
        first = std::max(first, e);
    }
    if (first + p.queues > VEPA_MAX_XSK_SLOTS)
        throw CommandError(proto::kErrLimit, "no " + std::to_string(p.queues) + " consecutive free XSKMAP slots of " +
                                                 std::to_string(VEPA_MAX_XSK_SLOTS));
    return first;
}

void PortTable::replace(const PortConfig& p)
{
    auto it = ports_.find(p.name);
    if (it == ports_.end())
        throw CommandError(proto::kErrNotFound, "no port " + p.name);
    check_vlans(p);
    check_macs(p);
    if (p.type != it->second.type || p.queues != it->second.queues)
        throw CommandError(proto::kErrInvalid, "a port's type and queues are set when it is added (del-port, then "
                                               "add-port to change them)");
    check_xsk(p);
    PortConfig changed = p;
    changed.slot = it->second.slot;
    changed.xsk_first = it->second.xsk_first;
    insert(std::move(changed));
}

void PortTable::remove(const std::string& name)
{
    if (!ports_.count(name))
        throw CommandError(proto::kErrNotFound, "no port " + name);
    erase(name);
}

json port_config_json(const PortConfig& p)
{
    json macs = json::array();
    for (const auto& m : p.macs)
        macs.push_back(m.str());
    json j = {
        {"name", p.name}, {"macs", macs}, {"mode", mode_name(p.mode)}, {"src_check", p.src_check}, {"slot", p.slot}};
    if (p.vlans.untagged)
        j["vlan"] = vlan_json(p.vlans);
    if (!p.vlans.tagged.empty() || p.vlans.all_tagged)
        j["trunk"] = trunk_json(p.vlans);
    if (p.owner)
        j["owner"] = p.owner->json();
    if (p.type == PortType::Xsk) {
        j["type"] = "xsk";
        j["queues"] = p.queues;
        j["xsk_first_slot"] = p.xsk_first;
    }
    return j;
}

json PortTable::to_json(const std::string& uplink) const
{
    json ports = json::array();
    for (const auto& [n, p] : ports_)
        ports.push_back(port_config_json(p));
    return {{"format", 1}, {"uplink", uplink}, {"ports", ports}};
}

namespace {

// "vlan" and "trunk" of a port entry; absent (a file of a vepad before VLANs) or null: none.
void vlans_from_json(const json& e, PortConfig& p)
{
    try {
        if (e.contains("vlan"))
            p.vlans.untagged = vlan_from_json(e["vlan"]);
        if (e.contains("trunk")) {
            const Trunk t = trunk_from_json(e["trunk"]);
            p.vlans.tagged = t.vids;
            p.vlans.all_tagged = t.all;
        }
    } catch (const VlanJsonError& err) {
        throw vepa::Error("port " + p.name + ": " + err.what());
    }
}

// One port entry of the state file; throws vepa::Error saying what is wrong with it.
PortConfig port_from_json(const json& e)
{
    using vepa::Error;
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("slot") ||
        !e["slot"].is_number_unsigned())
        throw Error("a port entry lacks a name or a slot: " + e.dump());
    PortConfig p;
    p.name = e["name"];
    if (!valid_ifname(p.name))
        throw Error("port name '" + p.name + "' is not an interface name");
    const auto slot = e["slot"].get<uint64_t>();
    if (slot == 0 || slot >= VEPA_MAX_PORTS)
        throw Error("port " + p.name + " has an invalid or duplicate slot " + std::to_string(slot));
    p.slot = static_cast<uint16_t>(slot);
    if (e.contains("mode")) {
        auto m = e["mode"].is_string() ? parse_mode(e["mode"]) : std::nullopt;
        if (!m)
            throw Error("port " + p.name + " has an invalid mode " + e["mode"].dump());
        p.mode = *m;
    }
    if (e.contains("src_check")) {
        if (!e["src_check"].is_boolean())
            throw Error("port " + p.name + " has a non-boolean src_check");
        p.src_check = e["src_check"];
    }
    if (e.contains("macs")) {
        if (!e["macs"].is_array())
            throw Error("port " + p.name + " has a non-array macs");
        for (const auto& m : e["macs"]) {
            auto mac = m.is_string() ? vepa::Mac::parse(m.get<std::string>()) : std::nullopt;
            if (!mac)
                throw Error("port " + p.name + " has an invalid MAC " + m.dump());
            p.macs.push_back(*mac);
        }
    }
    vlans_from_json(e, p);
    if (e.contains("owner") && !e["owner"].is_null()) {
        std::string why;
        p.owner = vepa::parse_port_owner(e["owner"], &why);
        if (!p.owner)
            throw Error("port " + p.name + ": " + why);
    }
    if (e.contains("type")) {
        if (e["type"] != "xsk" && e["type"] != "kernel")
            throw Error("port " + p.name + " has an unknown type " + e["type"].dump());
        p.type = e["type"] == "xsk" ? PortType::Xsk : PortType::Kernel;
    }
    if (p.type == PortType::Xsk) {
        if (!e.contains("queues") || !e["queues"].is_number_unsigned() || !e.contains("xsk_first_slot") ||
            !e["xsk_first_slot"].is_number_unsigned())
            throw Error("xsk port " + p.name + " lacks queues or xsk_first_slot");
        const auto q = e["queues"].get<uint64_t>(), f = e["xsk_first_slot"].get<uint64_t>();
        if (q < 1 || q > VEPA_MAX_XSK_QUEUES || f + q > VEPA_MAX_XSK_SLOTS)
            throw Error("xsk port " + p.name + " has out-of-range queues or slots");
        p.queues = static_cast<uint16_t>(q);
        p.xsk_first = static_cast<uint32_t>(f);
    }
    return p;
}

} // namespace

// Checks a port read from a file against the ports read before it.
void PortTable::check_restored(const PortConfig& p) const
{
    for (const auto& [n, o] : ports_) {
        if (o.slot == p.slot)
            throw vepa::Error("port " + p.name + " has an invalid or duplicate slot " + std::to_string(p.slot));
        if (p.type == PortType::Xsk && o.type == PortType::Xsk && o.xsk_first < p.xsk_first + p.queues &&
            p.xsk_first < o.xsk_first + o.queues)
            throw vepa::Error("xsk ports " + n + " and " + p.name + " share XSKMAP slots");
    }
    if (ports_.count(p.name))
        throw vepa::Error("port " + p.name + " appears twice");
    try {
        check_vlans(p);
        check_macs(p);
        check_xsk(p);
    } catch (const CommandError& e) {
        throw vepa::Error(e.what());
    }
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
    for (const auto& e : j["ports"]) {
        try {
            PortConfig p = port_from_json(e);
            t.check_restored(p);
            t.insert(std::move(p));
        } catch (const vepa::Error& err) {
            throw bad(err.what());
        }
    }
    return t;
}

} // namespace vepad
