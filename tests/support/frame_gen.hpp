// Random and mutated Ethernet frames for the randomized and hostile-input
// tests: valid frames between known MACs, group and link-local destinations,
// stacked VLAN tags, PAUSE, truncations, flipped header bits, random bytes.
#pragma once

#include <random>
#include <vector>

#include "tests/support/frames.hpp"

namespace vepa::test {

class Generator {
public:
    // port_macs: every port's MACs; host: the uplink's own MAC; probe: vepad's reflection probe destination.
    Generator(uint64_t seed, std::vector<Mac> port_macs, Mac host, Mac probe)
        : rng_(seed), port_macs_(std::move(port_macs))
    {
        others_ = {host, mac("02:00:00:00:99:99"), mac("02:00:00:00:99:98"), mac("00:16:3e:00:00:01"), probe};
        groups_ = {kBroadcast,
                   mac("01:00:5e:00:00:01"),
                   mac("33:33:00:00:00:01"),
                   mac("01:80:c2:00:00:00"),
                   mac("01:80:c2:00:00:0e"),
                   mac("01:80:c2:00:00:01"),
                   mac("01:80:c2:00:00:10")};
    }

    Mac pick_mac(bool allow_group)
    {
        const int r = uniform(0, 99);
        if (r < 50)
            return port_macs_[uniform(0, static_cast<int>(port_macs_.size()) - 1)];
        if (r < 75)
            return others_[uniform(0, static_cast<int>(others_.size()) - 1)];
        if (r < 80 || !allow_group) {
            std::array<uint8_t, 6> b{};
            for (auto& x : b)
                x = static_cast<uint8_t>(uniform(0, 255));
            if (r >= 78)
                b = {}; // zero
            return Mac(b);
        }
        return groups_[uniform(0, static_cast<int>(groups_.size()) - 1)];
    }

    // sender_macs: the sending port's own MACs (empty: from the uplink).
    // max_len: longest frame to make (a veth refuses to send more than its MTU allows).
    Bytes frame(const std::vector<Mac>& sender_macs, size_t max_len = 1700)
    {
        const bool from_port = !sender_macs.empty();
        const int kind = uniform(0, 99);
        if (kind < 3) { // random bytes
            Bytes b(static_cast<size_t>(uniform(15, 200)));
            for (auto& x : b)
                x = static_cast<uint8_t>(uniform(0, 255));
            return b;
        }
        const Mac dst = pick_mac(true);
        Mac src = pick_mac(uniform(0, 19) == 0);
        if (from_port && uniform(0, 9) < 8)
            src = sender_macs[uniform(0, static_cast<int>(sender_macs.size()) - 1)];
        std::vector<uint16_t> tags;
        const int t = uniform(0, 99);
        const int ntags = vids_.empty() ? (t < 80   ? 0
                                           : t < 90 ? 1
                                           : t < 96 ? 2
                                                    : 3)
                                        : (t < 45   ? 0
                                           : t < 85 ? 1
                                           : t < 96 ? 2
                                                    : 3);
        for (int i = 0; i < ntags; i++)
            tags.push_back(uniform(0, vids_.empty() ? 1 : 5) ? kEthVlan : kEthQinq);
        static const uint16_t types[] = {kEthIpv4, kEthArp, kEthPause, 0x86dd,
                                         0x88cc,   0x0042,  kEthVlan,  VEPA_PROBE_ETHERTYPE};
        const uint16_t et = types[uniform(0, 7)];
        const int l = uniform(0, 99);
        const size_t payload = l < 5    ? 0
                               : l < 70 ? static_cast<size_t>(uniform(1, 100))
                               : l < 95 ? static_cast<size_t>(uniform(100, 1500))
                                        : static_cast<size_t>(uniform(1500, 1600));
        Bytes b = eth_frame(dst, src, et, payload, tags, static_cast<uint32_t>(rng_()));
        set_vids(b, ntags);
        if (b.size() > max_len)
            b.resize(max_len);
        if (uniform(0, 99) < 8 && b.size() > 15) // truncation
            b.resize(static_cast<size_t>(uniform(15, static_cast<int>(b.size()) - 1)));
        if (uniform(0, 99) < 5) { // flip a header byte
            const size_t i = static_cast<size_t>(uniform(12, std::min<int>(21, static_cast<int>(b.size()) - 1)));
            b[i] ^= static_cast<uint8_t>(1 << uniform(0, 7));
        }
        return b;
    }

    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

    // VIDs for the tags of the frames made from now on (random PCP too); empty: 100, 101, ...
    void use_vids(std::vector<uint16_t> vids) { vids_ = std::move(vids); }

private:
    std::mt19937_64 rng_;
    std::vector<Mac> port_macs_, others_, groups_;
    std::vector<uint16_t> vids_;

    void set_vids(Bytes& b, int ntags)
    {
        for (int i = 0; i < ntags && !vids_.empty(); i++) {
            const size_t off = 14 + 4 * static_cast<size_t>(i);
            const uint16_t tci =
                static_cast<uint16_t>(uniform(0, 7) << 13 | vids_[uniform(0, static_cast<int>(vids_.size()) - 1)]);
            b[off] = static_cast<uint8_t>(tci >> 8);
            b[off + 1] = static_cast<uint8_t>(tci);
        }
    }
};

} // namespace vepa::test
