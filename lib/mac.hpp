// Ethernet MAC addresses: parsing, printing, and the BPF map key.
#pragma once

#include <array>
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

    auto operator<=>(const Mac&) const = default;

private:
    std::array<uint8_t, 6> b_{};
};

} // namespace vepa
