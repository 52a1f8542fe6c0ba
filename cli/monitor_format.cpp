#include "cli/monitor_format.hpp"

#include <cctype>
#include <ctime>
#include <iomanip>
#include <sstream>
#include <vector>

namespace vepactl {

using nlohmann::json;

namespace {

// ev[k], or null when ev has no k (operator[] on a const json must not miss).
const json& field(const json& ev, const char* k)
{
    static const json null;
    auto it = ev.find(k);
    return it == ev.end() ? null : *it;
}

std::string str_or(const json& v, const char* dflt)
{
    return v.is_string() ? v.get<std::string>() : dflt;
}

std::string clock_time(int64_t ns, bool local)
{
    const time_t s = static_cast<time_t>(ns / 1000000000);
    std::tm tm{};
    if (local)
        localtime_r(&s, &tm);
    else
        gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
    char ms[8];
    std::snprintf(ms, sizeof(ms), ".%03lld", static_cast<long long>(ns % 1000000000 / 1000000));
    return std::string(buf) + ms;
}

std::string pad(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

// Where the frame went: "DROP", a port, "host", "3 ports".
std::string target(const json& ev)
{
    const std::string action = ev.value("action", "");
    if (action == "drop")
        return "DROP";
    if (action == "host")
        return "host";
    if (action == "probe")
        return "vepad";
    if (action == "fan-out") {
        const std::string n = std::to_string(ev.value("copies", 0));
        return n + (n == "1" ? " port" : " ports") + (ev.value("flags", json::object()).value("host", false) ? "+host" : "");
    }
    return str_or(field(ev, "to"), "?");
}

// The decision's details: why, and the addresses that made it.
std::string details(const json& ev)
{
    std::ostringstream os;
    const std::string action = ev.value("action", "");
    if (action == "drop")
        os << str_or(field(ev, "reason"), "?") << "  ";
    else if (action == "probe")
        os << "reflection probe consumed  ";
    else if (action != "fan-out" && action != "host")
        os << action << "  ";
    if (ev.value("reason", json()) == "spoofed") {
        os << "src " << ev.value("src", "") << " (" << str_or(field(ev, "port"), "?") << " has ";
        const json macs = ev.value("port_macs", json::array());
        for (size_t i = 0; i < macs.size(); i++)
            os << (i ? "," : "") << macs[i].get<std::string>();
        os << (macs.empty() ? "no MAC" : "") << ")";
    } else {
        os << "dst " << ev.value("dst", "") << " src " << ev.value("src", "");
    }
    return os.str();
}

} // namespace

std::string ethertype_name(unsigned type)
{
    switch (type) {
    case 0x0800:
        return "ipv4";
    case 0x86dd:
        return "ipv6";
    case 0x0806:
        return "arp";
    case 0x88cc:
        return "lldp";
    case 0x8808:
        return "pause";
    default: {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "0x%04x", type);
        return buf;
    }
    }
}

std::string format_event(const json& ev, bool local_time)
{
    std::ostringstream os;
    os << clock_time(ev.value("time_ns", int64_t{0}), local_time) << " " << pad(ev.value("program", "?"), 10)
       << pad(str_or(field(ev, "port"), "?"), 8) << "-> " << pad(target(ev), 9) << pad(str_or(field(ev, "rule"), "-"), 3)
       << details(ev) << " " << ethertype_name(ev.value("ethertype", 0u));
    if (ev.value("vlan", 0) != 0)
        os << " vlan " << ev.value("vlan", 0);
    os << " " << ev.value("len", 0) << "B";
    const json& flags = ev.value("flags", json::object());
    if (flags.value("reflected", false))
        os << " reflected";
    if (flags.value("gso", false))
        os << " gso";
    return os.str();
}

std::string format_payload(const json& ev)
{
    const json& hex = field(ev, "payload");
    if (!hex.is_string())
        return "";
    const std::string& s = hex.get_ref<const std::string&>();
    auto digit = [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i + 1 < s.size(); i += 2) {
        const int hi = digit(s[i]), lo = digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return "";
        bytes.push_back(static_cast<uint8_t>(hi << 4 | lo));
    }
    std::ostringstream os;
    for (size_t line = 0; line < bytes.size(); line += 16) {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "      %04zx ", line);
        os << (line ? "\n" : "") << buf;
        std::string ascii;
        for (size_t i = line; i < line + 16; i++) {
            if (i % 8 == 0)
                os << " ";
            if (i < bytes.size()) {
                std::snprintf(buf, sizeof(buf), "%02x ", bytes[i]);
                os << buf;
                ascii.push_back(bytes[i] >= 0x20 && bytes[i] < 0x7f ? static_cast<char>(bytes[i]) : '.');
            } else {
                os << "   ";
            }
        }
        os << " " << ascii;
    }
    return os.str();
}

void MonitorSummary::add(const json& line)
{
    if (line.value("type", "") == "lost") {
        lost = line.value("lost", uint64_t{0}); // the stream's total so far
        return;
    }
    if (line.value("type", "") != "event")
        return;
    events++;
    by_rule[str_or(field(line, "rule"), "-")]++;
}

std::string MonitorSummary::str() const
{
    std::ostringstream os;
    os << events << " event" << (events == 1 ? "" : "s") << ", " << lost << " lost";
    if (!by_rule.empty()) {
        os << "; by rule:";
        bool first = true;
        for (const auto& [rule, n] : by_rule) {
            os << (first ? " " : ", ") << rule << " " << n;
            first = false;
        }
    }
    return os.str();
}

} // namespace vepactl
