// Arithmetic on struct vepa_counters, field by field, whatever fields it has:
// every field is a __u64 count, so a new one needs no change here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "vepa/abi.h"

namespace vepa {

inline constexpr size_t kCounterFields = sizeof(vepa_counters) / sizeof(uint64_t);
static_assert(sizeof(vepa_counters) % sizeof(uint64_t) == 0, "vepa_counters holds only __u64 counts");

template <typename Op> vepa_counters combine(const vepa_counters& a, const vepa_counters& b, Op op)
{
    std::array<uint64_t, kCounterFields> x, y;
    std::memcpy(x.data(), &a, sizeof(a));
    std::memcpy(y.data(), &b, sizeof(b));
    for (size_t i = 0; i < kCounterFields; i++)
        x[i] = op(x[i], y[i]);
    vepa_counters out;
    std::memcpy(&out, x.data(), sizeof(out));
    return out;
}

inline vepa_counters operator+(const vepa_counters& a, const vepa_counters& b)
{
    return combine(a, b, [](uint64_t p, uint64_t q) { return p + q; });
}

inline vepa_counters operator-(const vepa_counters& a, const vepa_counters& b)
{
    return combine(a, b, [](uint64_t p, uint64_t q) { return p - q; });
}

inline bool operator==(const vepa_counters& a, const vepa_counters& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }

// Slot `slot` of a per-CPU array read (PerCpuMap::lookup_range: ncpu values per slot), summed over CPUs.
inline vepa_counters sum_cpus(const std::vector<vepa_counters>& raw, size_t slot, int ncpu)
{
    vepa_counters s{};
    for (int c = 0; c < ncpu; c++)
        s = s + raw[slot * static_cast<size_t>(ncpu) + static_cast<size_t>(c)];
    return s;
}

} // namespace vepa
