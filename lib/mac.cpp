#include "lib/mac.hpp"

#include "lib/hex.hpp"

#include <cstdio>
#include <cstring>

namespace vepa {

Mac::Mac(const uint8_t* p) { std::memcpy(b_.data(), p, 6); }

std::optional<Mac> Mac::parse(std::string_view s)
{
    if (s.size() != 17)
        return std::nullopt;
    const char sep = s[2];
    if (sep != ':' && sep != '-')
        return std::nullopt;
    std::array<uint8_t, 6> b{};
    for (size_t i = 0; i < 6; i++) {
        const size_t o = i * 3;
        if (i < 5 && s[o + 2] != sep)
            return std::nullopt;
        const int hi = hex_value(s[o]), lo = hex_value(s[o + 1]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        b[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return Mac(b);
}

std::string Mac::str() const
{
    // By hand: the state file prints every MAC of every port at each change.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(17, ':');
    for (size_t i = 0; i < 6; i++) {
        s[3 * i] = kHex[b_[i] >> 4];
        s[3 * i + 1] = kHex[b_[i] & 15];
    }
    return s;
}

bool Mac::is_broadcast() const
{
    for (auto x : b_)
        if (x != 0xff)
            return false;
    return true;
}

bool Mac::is_zero() const
{
    for (auto x : b_)
        if (x)
            return false;
    return true;
}

vepa_mac_key Mac::key(uint16_t vid) const
{
    vepa_mac_key k{};
    std::memcpy(k.addr, b_.data(), 6);
    k.vid = vid;
    return k;
}

} // namespace vepa
