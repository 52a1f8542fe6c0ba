// vepactl monitor's output: one aligned text line per event object (the
// monitor stream of vepa/control.hpp), and the summary printed at the end.
// Pure functions over JSON, unit-tested.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace vepactl {

// "10:21:03.512 port_tc    c2       -> DROP     T5 spoofed  src 02:00:0a:14:00:0b (c2 has 02:00:0a:14:00:0c) ipv4 98B"
// local_time: print the time in the local zone (tests: UTC).
std::string format_event(const nlohmann::json& ev, bool local_time = true);

// An event's "payload" (hex) as a dump under its line, 16 bytes a line, each
// line indented, with its offset and the bytes as ASCII:
// "      0000  02 00 00 00 01 01 02 00  00 00 99 99 08 00 45 00  ..............E."
// Empty when the event has no payload (or it is not hex).
std::string format_payload(const nlohmann::json& ev);

// "ipv4", "ipv6", "arp", "lldp", else 0x88b5.
std::string ethertype_name(unsigned type);

// Events and lost records seen over a stream, by rule.
struct MonitorSummary {
    uint64_t events = 0;
    uint64_t lost = 0;
    std::map<std::string, uint64_t> by_rule; // "T5", or "-" for none

    // One line of the stream (an event or a lost report).
    void add(const nlohmann::json& line);
    // "12 events, 0 lost; by rule: R1 10, T5 2"
    std::string str() const;
};

} // namespace vepactl
