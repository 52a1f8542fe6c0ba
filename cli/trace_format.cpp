#include "cli/trace_format.hpp"

#include <sstream>

namespace vepactl {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* k, const std::string& dflt = "")
{
    return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : dflt;
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

std::string ethertype(const json& frame)
{
    if (!frame["ethertype"].is_number())
        return "-";
    const unsigned t = frame["ethertype"];
    switch (t) {
    case 0x0800: return "ipv4";
    case 0x86dd: return "ipv6";
    case 0x0806: return "arp";
    case 0x88cc: return "lldp";
    }
    char b[16];
    std::snprintf(b, sizeof(b), "0x%04x", t);
    return b;
}

// One decision record: "T1 redirect -> uplink", "T5 DROP spoofed", "R3 fan-out 2 copies".
std::string decision(const json& d, const json& copies)
{
    std::ostringstream os;
    os << str(d, "rule", "-") << " ";
    const std::string action = str(d, "action");
    if (action == "drop") {
        os << "DROP " << str(d, "reason", "?");
        if (str(d, "reason") == "spoofed") {
            os << " (" << str(d, "port", "?") << " has";
            for (const auto& m : d.value("port_macs", json::array()))
                os << " " << m.get<std::string>();
            os << ")";
        }
    } else if (action == "fan-out") {
        os << "fan-out to";
        for (const auto& c : copies)
            os << " " << c.get<std::string>();
        if (copies.empty())
            os << " no port";
        if (d["flags"].value("host", false))
            os << " +host";
    } else if (action == "host") {
        os << "to the host stack";
    } else if (action == "probe") {
        os << "vepad's reflection probe, consumed";
    } else {
        os << action << " -> " << str(d, "to", "?");
    }
    return os.str();
}

std::string program_hop(const json& hop)
{
    std::ostringstream os;
    const json& ds = hop["decisions"];
    if (ds.empty())
        os << (str(hop, "verdict") == "pass" ? "pass to TC" : "no decision (" + str(hop, "verdict") + ")");
    for (size_t i = 0; i < ds.size(); i++)
        os << (i ? "; " : "") << decision(ds[i], hop["copies"]);
    if (hop.value("unrecorded", 0) > 0)
        os << " (+" << hop["unrecorded"].get<int>() << " more)";
    return os.str();
}

} // namespace

std::string format_trace(const json& t)
{
    std::ostringstream os;
    const json& f = t["frame"];
    os << "trace from " << str(t, "from") << ": " << str(f, "src") << " > " << str(f, "dst") << " " << ethertype(f);
    if (f["vlan"].is_number())
        os << " vlan " << f["vlan"].get<int>();
    os << " " << f.value("len", 0) << "B\n";
    for (const json& hop : t["hops"]) {
        os << "  " << pad(std::to_string(hop.value("hop", 0)), 3) << pad(str(hop, "at"), 10);
        if (str(hop, "at") == "switch") {
            std::string by = str(hop, "by");
            os << pad("", 11) << pad(str(hop, "action"), 18) << str(hop, "why") << " [reflection "
               << str(hop, "reflection") << (by.empty() ? "" : " by " + by) << "]\n";
        } else {
            os << pad(str(hop, "program"), 11) << pad(str(hop, "verdict"), 18) << program_hop(hop) << "\n";
        }
    }
    os << str(t["result"], "summary") << "\n";
    return os.str();
}

int trace_status(const json& t) { return str(t["result"], "outcome") == "dropped" ? 1 : 0; }

} // namespace vepactl
