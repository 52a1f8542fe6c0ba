// FNV-1a, 64 bits: a stable, dependency-free hash for names derived from
// strings (the reflection probe's MACs, the CNI plugin's host-side veth names).
#pragma once

#include <cstdint>
#include <string_view>

namespace vepa {

inline uint64_t fnv1a(std::string_view s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

} // namespace vepa
