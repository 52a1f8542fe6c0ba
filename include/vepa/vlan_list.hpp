// VLAN id lists as users write them: "10", "10,20-25,30", "all".  Header-only:
// vepactl and the daemon parse the same way.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace vepa {

inline constexpr uint16_t kVidMin = 1;
inline constexpr uint16_t kVidMax = 4094;

// One VID, 1..4094; nullopt on anything else.
inline std::optional<uint16_t> parse_vid(std::string_view s)
{
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < kVidMin || v > kVidMax)
        return std::nullopt;
    return static_cast<uint16_t>(v);
}

// "10,20-25": the set; nullopt on a bad item, an empty item or a range whose end is below its start.
inline std::optional<std::set<uint16_t>> parse_vid_list(std::string_view s)
{
    std::set<uint16_t> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto item = s.substr(0, comma);
        auto dash = item.find('-');
        auto lo = parse_vid(item.substr(0, dash));
        auto hi = dash == std::string_view::npos ? lo : parse_vid(item.substr(dash + 1));
        if (!lo || !hi || *hi < *lo)
            return std::nullopt;
        for (unsigned v = *lo; v <= *hi; ++v)
            out.insert(static_cast<uint16_t>(v));
        if (comma == std::string_view::npos)
            break;
        s.remove_prefix(comma + 1);
        if (s.empty())
            return std::nullopt; // trailing comma
    }
    if (out.empty())
        return std::nullopt;
    return out;
}

// The set as ranges: {10, 20, 21, 22} -> "10,20-22".
inline std::string format_vid_list(const std::set<uint16_t>& vids)
{
    std::string out;
    for (auto it = vids.begin(); it != vids.end();) {
        uint16_t lo = *it, hi = lo;
        while (++it != vids.end() && *it == hi + 1)
            hi = *it;
        if (!out.empty())
            out += ',';
        out += std::to_string(lo);
        if (hi != lo)
            out += (hi == lo + 1 ? "," : "-") + std::to_string(hi);
    }
    return out;
}

} // namespace vepa
