// Ethernet MAC addresses: parsing, printing, and the BPF map key.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vepa/abi.h"

namespace vepa {

class Mac {
public:
    constexpr Mac() = default;
    constexpr explicit Mac(const std::array<uint8_t, 6>& b) : b_(b) {}
    explicit Mac(const uint8_t* p);

    // "52:54:00:12:34:56" (or with '-'); nullopt on anything else.
    static std::optional<Mac> parse(std::string_view s);

    std::string str() const;
    const std::array<uint8_t, 6>& bytes() const { return b_; }
    bool is_group() const { return b_[0] & 1; }
    bool is_broadcast() const;
    bool is_zero() const;
    bool is_locally_administered() const { return b_[0] & 2; }

    vepa_mac_key key(uint16_t vid = VEPA_VID_UNTAGGED) const;
    static Mac from_key(const vepa_mac_key& k) { return Mac(k.addr); }

    // The address as a number (first byte highest): ordering and equality in a few
    // instructions, not a memcmp call per comparison (maps of 66 000 MACs compare a lot).
    constexpr uint64_t value() const
    {
        uint64_t v = 0;
        for (uint8_t x : b_)
            v = v << 8 | x;
        return v;
    }
    constexpr std::strong_ordering operator<=>(const Mac& o) const { return value() <=> o.value(); }
    constexpr bool operator==(const Mac& o) const { return value() == o.value(); }

private:
    std::array<uint8_t, 6> b_{};
};

} // namespace vepa
