// Hex digits and byte strings (header only: vepactl, the daemon and the tools share it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vepa {

// The value of a hex digit (either case), -1 for any other character.
inline int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// Two lower-case digits per byte, no separators.
inline std::string to_hex(const std::vector<uint8_t>& bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * bytes.size());
    for (uint8_t b : bytes) {
        s += kDigits[b >> 4];
        s += kDigits[b & 15];
    }
    return s;
}

} // namespace vepa
