#include "daemon/monitor_event.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "vepa/control.hpp"

namespace vepad {

using nlohmann::json;
namespace proto = vepa::proto;

namespace {

constexpr const char* kProgs[] = {"uplink_xdp", "uplink_tc", "port_xdp", "port_tc", "xsk_xdp"};
constexpr const char* kRules[] = {"",   "T1", "T2", "T3", "T4", "T5", "T6", "R1", "R2", "R3", "R4", "R5", "R6",
                                  "R7", "M1", "M2", "M3", "M4", "M5", "V1", "V2", "V3", "V4", "V5", "V6", "V7"};
constexpr const char* kActions[] = {"drop", "redirect", "redirect-peer", "host", "fan-out", "probe"};
static_assert(std::size(kProgs) == VEPA_PROG__MAX);
static_assert(std::size(kRules) == VEPA_RULE__MAX);
static_assert(std::size(kActions) == VEPA_ACT__MAX);

bool from_uplink(uint8_t prog) { return prog == VEPA_PROG_UPLINK_XDP || prog == VEPA_PROG_UPLINK_TC; }

// A slot's port name: "uplink" for slot 0, null when no port has it.
json slot_name(uint16_t slot, const PortsBySlot& ports)
{
    if (slot == VEPA_SLOT_UPLINK)
        return "uplink";
    auto it = ports.find(slot);
    return it == ports.end() ? json(nullptr) : json(it->second.name);
}

// ISO 8601 UTC with microseconds.
std::string iso_time(int64_t wall_ns)
{
    const time_t s = static_cast<time_t>(wall_ns / 1000000000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[64];
    const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof(buf) - n, ".%06lldZ", static_cast<long long>(wall_ns % 1000000000 / 1000));
    return buf;
}

} // namespace

const char* prog_name(uint8_t prog) { return prog < VEPA_PROG__MAX ? kProgs[prog] : "?"; }
const char* rule_name(uint8_t rule) { return rule < VEPA_RULE__MAX ? kRules[rule] : "?"; }
const char* action_name(uint8_t action) { return action < VEPA_ACT__MAX ? kActions[action] : "?"; }

std::optional<uint8_t> parse_rule(std::string_view s)
{
    std::string up(s);
    for (char& c : up)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (uint8_t r = 1; r < VEPA_RULE__MAX; r++)
        if (up == kRules[r])
            return r;
    return std::nullopt;
}

json event_json(const vepa_event& e, const PortsBySlot& ports, int64_t wall_offset_ns)
{
    const int64_t wall = static_cast<int64_t>(e.time_ns) + wall_offset_ns;
    json j = {{"type", "event"},
              {"time", iso_time(wall)},
              {"time_ns", wall},
              {"cpu", e.cpu},
              {"program", prog_name(e.prog)},
              {"ifindex", e.ifindex},
              {"port", from_uplink(e.prog) ? json("uplink")
                       : e.slot == VEPA_SLOT_UPLINK ? json(nullptr)
                                                    : slot_name(e.slot, ports)},
              {"rule", e.rule == VEPA_RULE_NONE ? json(nullptr) : json(rule_name(e.rule))},
              {"action", action_name(e.action)},
              {"reason", nullptr},
              {"to", nullptr},
              {"copies", nullptr},
              {"vlan", e.vid},
              {"dst", vepa::Mac(e.dst).str()},
              {"src", vepa::Mac(e.src).str()},
              {"ethertype", e.proto},
              {"len", e.len},
              {"flags",
               {{"group", (e.flags & VEPA_EV_F_GROUP) != 0},
                {"reflected", (e.flags & VEPA_EV_F_REFLECTED) != 0},
                {"gso", (e.flags & VEPA_EV_F_GSO) != 0},
                {"host", (e.flags & VEPA_EV_F_HOST) != 0}}}};
    switch (e.action) {
    case VEPA_ACT_DROP:
        j["reason"] = e.reason < proto::kDropReasons.size() ? json(std::string(proto::kDropReasons[e.reason]))
                                                            : json(nullptr);
        j["to"] = slot_name(e.egress, ports); // the slot the drop is counted on
        break;
    case VEPA_ACT_REDIRECT:
    case VEPA_ACT_REDIRECT_PEER:
        j["to"] = slot_name(e.egress, ports);
        break;
    case VEPA_ACT_FANOUT:
        j["copies"] = e.egress;
        break;
    default:
        break;
    }
    if (e.action == VEPA_ACT_DROP && e.reason == VEPA_DROP_SPOOFED) {
        json macs = json::array();
        if (auto it = ports.find(e.slot); it != ports.end())
            for (const vepa::Mac& m : it->second.macs)
                macs.push_back(m.str());
        j["port_macs"] = macs;
    }
    return j;
}

std::string payload_hex(const vepa_event_payload& p)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    const size_t n = std::min<size_t>(p.len, sizeof(p.data));
    std::string s;
    s.reserve(2 * n);
    for (size_t i = 0; i < n; i++) {
        s.push_back(kDigits[p.data[i] >> 4]);
        s.push_back(kDigits[p.data[i] & 0xf]);
    }
    return s;
}

bool filter_matches(const MonitorFilter& f, const json& ev)
{
    const bool drop = ev["action"] == "drop";
    if (!drop && !f.wants_forwarding())
        return false;
    if (f.port && ev["port"] != *f.port && ev["to"] != *f.port)
        return false;
    if (f.mac && ev["src"] != f.mac->str() && ev["dst"] != f.mac->str())
        return false;
    if (f.rule && ev["rule"] != rule_name(*f.rule))
        return false;
    if (f.vlan && ev["vlan"] != *f.vlan)
        return false;
    return true;
}

} // namespace vepad
