#include "cli/frame_spec.hpp"

#include <cctype>
#include <map>
#include <optional>
#include <sstream>

#include "lib/mac.hpp"
#include "vepa/control.hpp"

namespace vepactl {

namespace {

constexpr size_t kMinLen = vepa::proto::kTraceMinFrame;
constexpr size_t kMaxLen = vepa::proto::kTraceMaxFrame;
constexpr size_t kIpv4Header = 20, kIpv6Header = 40;

std::optional<uint8_t> hex_digit(char c)
{
    if (std::isdigit(static_cast<unsigned char>(c)))
        return static_cast<uint8_t>(c - '0');
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c >= 'a' && c <= 'f')
        return static_cast<uint8_t>(c - 'a' + 10);
    return std::nullopt;
}

std::vector<uint8_t> parse_hex(const std::string& spec)
{
    std::vector<uint8_t> out;
    std::optional<uint8_t> high;
    for (size_t i = 0; i < spec.size(); i++) {
        const char c = spec[i];
        if (c == ' ' || c == ':' || c == '-' || c == '.') {
            if (high)
                throw FrameSpecError("hex: a lone digit before position " + std::to_string(i));
            continue;
        }
        const auto d = hex_digit(c);
        if (!d)
            throw FrameSpecError(std::string("hex: '") + c + "' at position " + std::to_string(i) +
                                 " is not a hex digit (fields look like dst=MAC,src=MAC)");
        if (high) {
            out.push_back(static_cast<uint8_t>(*high << 4 | *d));
            high.reset();
        } else {
            high = d;
        }
    }
    if (high)
        throw FrameSpecError("hex: an odd number of digits");
    return out;
}

unsigned long number(const std::string& key, const std::string& v, unsigned long max)
{
    size_t used = 0;
    unsigned long n = 0;
    try {
        n = std::stoul(v, &used, 0);
    } catch (const std::exception&) {
        used = 0;
    }
    if (v.empty() || used != v.size() || n > max || v[0] == '-')
        throw FrameSpecError(key + "=" + v + ": not a number from 0 to " + std::to_string(max));
    return n;
}

uint16_t ethertype(const std::string& v)
{
    static const std::map<std::string, uint16_t> names = {
        {"ipv4", 0x0800}, {"ip", 0x0800}, {"ipv6", 0x86dd}, {"arp", 0x0806}, {"lldp", 0x88cc}};
    if (auto it = names.find(v); it != names.end())
        return it->second;
    return static_cast<uint16_t>(number("type", v, 0xffff));
}

vepa::Mac mac(const std::string& key, const std::string& v)
{
    const auto m = vepa::Mac::parse(v);
    if (!m)
        throw FrameSpecError(key + "=" + v + ": not a MAC address");
    return *m;
}

void put16(std::vector<uint8_t>& f, size_t at, uint16_t v)
{
    f[at] = static_cast<uint8_t>(v >> 8);
    f[at + 1] = static_cast<uint8_t>(v);
}

// A well-formed IP header at `at`, for a frame that holds one.
void ip_header(std::vector<uint8_t>& f, size_t at, uint16_t type)
{
    const size_t rest = f.size() - at;
    if (type == 0x0800 && rest >= kIpv4Header) {
        f[at] = 0x45;
        put16(f, at + 2, static_cast<uint16_t>(rest));
        f[at + 8] = 64;  // TTL
        f[at + 9] = 253; // protocol: experimental (RFC 3692)
        uint32_t sum = 0;
        for (size_t i = 0; i < kIpv4Header; i += 2)
            sum += static_cast<uint32_t>(f[at + i] << 8 | f[at + i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        put16(f, at + 10, static_cast<uint16_t>(~sum));
    } else if (type == 0x86dd && rest >= kIpv6Header) {
        f[at] = 0x60;
        put16(f, at + 4, static_cast<uint16_t>(rest - kIpv6Header));
        f[at + 6] = 253; // next header: experimental
        f[at + 7] = 64;  // hop limit
    }
}

std::vector<uint8_t> build(const std::string& spec)
{
    std::optional<vepa::Mac> dst, src;
    uint16_t type = 0x0800, prio = 0;
    std::vector<uint16_t> vlans;
    size_t len = 60;
    std::stringstream ss(spec);
    std::string field;
    while (std::getline(ss, field, ',')) {
        const auto eq = field.find('=');
        if (eq == std::string::npos)
            throw FrameSpecError("'" + field + "': a field is KEY=VALUE (dst, src, type, vlan, prio, len)");
        const std::string k = field.substr(0, eq), v = field.substr(eq + 1);
        if (k == "dst")
            dst = mac(k, v);
        else if (k == "src")
            src = mac(k, v);
        else if (k == "type")
            type = ethertype(v);
        else if (k == "vlan")
            vlans.push_back(static_cast<uint16_t>(number(k, v, 4095)));
        else if (k == "prio")
            prio = static_cast<uint16_t>(number(k, v, 7));
        else if (k == "len")
            len = number(k, v, kMaxLen);
        else
            throw FrameSpecError("unknown field '" + k + "' (dst, src, type, vlan, prio, len)");
    }
    if (!dst || !src)
        throw FrameSpecError("a frame needs dst=MAC and src=MAC");
    if (prio && vlans.empty())
        throw FrameSpecError("prio=" + std::to_string(prio) + " is a VLAN tag's priority: give vlan=VID (0: a priority tag)");
    const size_t header = 14 + 4 * vlans.size();
    if (len < header + 1)
        throw FrameSpecError("len=" + std::to_string(len) + ": the header alone takes " + std::to_string(header) +
                             " bytes, and a frame needs at least one more");
    std::vector<uint8_t> f(len, 0);
    std::copy(dst->bytes().begin(), dst->bytes().end(), f.begin());
    std::copy(src->bytes().begin(), src->bytes().end(), f.begin() + 6);
    size_t at = 12;
    for (uint16_t vid : vlans) {
        put16(f, at, 0x8100);
        put16(f, at + 2, static_cast<uint16_t>(prio << 13 | vid));
        at += 4;
    }
    put16(f, at, type);
    ip_header(f, at + 2, type);
    return f;
}

} // namespace

std::vector<uint8_t> parse_frame_spec(const std::string& spec)
{
    const std::vector<uint8_t> f = spec.find('=') != std::string::npos ? build(spec) : parse_hex(spec);
    if (f.size() < kMinLen || f.size() > kMaxLen)
        throw FrameSpecError("a frame of " + std::to_string(f.size()) + " bytes; vepad traces " +
                             std::to_string(kMinLen) + " to " + std::to_string(kMaxLen));
    return f;
}

std::string to_hex(const std::vector<uint8_t>& bytes)
{
    static const char* digits = "0123456789abcdef";
    std::string s;
    s.reserve(2 * bytes.size());
    for (uint8_t b : bytes) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

} // namespace vepactl
