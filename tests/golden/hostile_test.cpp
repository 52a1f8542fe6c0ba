// Hostile input through the real, attached programs: at least 1 000 000
// random, mutated, truncated, VLAN-stacked, spoofed, group and unicast frames
// sent from the switch end of the uplink, from guests' veth ends and into taps,
// and every frame that arrives anywhere checked against the semantics model.
// The switch end does not reflect, so any frame seen at a port that the model
// does not send there broke an invariant:
//   - a frame from a port reached another local port (other than bridge to bridge);
//   - a unicast frame from the uplink reached a port not owning its destination;
//   - a spoofed, malformed or PAUSE frame left the host, or reached a port.
// Frames the kernel drops under load are allowed (not extra deliveries).
// VEPA_HOSTILE_FRAMES=N changes the count, VEPA_SEED=S replays a run.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <unordered_map>

#include "tests/support/frame_gen.hpp"
#include "lib/netlink.hpp"
#include "tests/support/wire_socket.hpp"
#include "tests/support/testbed.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

struct Sent {
    uint16_t from; // slot of the sender (0: the switch)
    Outcome want;
    Bytes frame; // as sent
    int seen_uplink = 0;
    std::map<uint16_t, int> seen;
};

// A frame without its VLAN tags: what identifies it whatever tags vepad put on
// or took off on the way (V1, V3-V5).
std::string key_of(const Bytes& b)
{
    size_t off = 12;
    while (b.size() >= off + 4 && ((b[off] == 0x81 && b[off + 1] == 0x00) || (b[off] == 0x88 && b[off + 1] == 0xa8)))
        off += 4;
    std::string k(b.begin(), b.begin() + static_cast<long>(std::min<size_t>(12, b.size())));
    if (b.size() > off)
        k.append(b.begin() + static_cast<long>(off), b.end());
    return k;
}

} // namespace

TEST_CASE("hostile frames through the attached programs never break isolation", "[hostile]")
{
    const std::vector<PortSpec> specs = {
        {"v1", false, VEPA_MODE_VEPA, {mac("02:00:00:00:01:01"), mac("02:00:00:00:01:02")}},
        {"v2", false, VEPA_MODE_BRIDGE, {mac("02:00:00:00:02:01")}},
        {"v3", false, VEPA_MODE_PRIVATE, {mac("02:00:00:00:03:01")}},
        {"g1", false, VEPA_MODE_VEPA, {mac("02:00:00:00:04:01")}, std::nullopt, true, true}, // XDP delivery
        {"n1", false, VEPA_MODE_VEPA, {mac("02:00:00:00:05:01")}, std::nullopt, false},      // no src check
        {"t1", true, VEPA_MODE_VEPA, {mac("02:00:00:00:06:01")}},
        {"t2", true, VEPA_MODE_BRIDGE, {mac("02:00:00:00:07:01")}},
        {"t3", true, VEPA_MODE_PRIVATE, {mac("02:00:00:00:08:01")}},
        // VLAN ports (V rules): access, trunk, trunk all, VLAN 10 bridge ports
        {"a1", false, VEPA_MODE_VEPA, {mac("02:00:00:00:10:01")}, std::nullopt, true, false, port_vlans(10)},
        {"a2", true, VEPA_MODE_VEPA, {mac("02:00:00:00:10:02")}, std::nullopt, true, false, port_vlans(20)},
        {"k1", false, VEPA_MODE_VEPA, {mac("02:00:00:00:10:03")}, std::nullopt, true, false, port_vlans(20, {10, 30})},
        {"k2", true, VEPA_MODE_VEPA, {mac("02:00:00:00:10:04")}, std::nullopt, true, false, port_vlans(0, {}, true)},
        {"r1", false, VEPA_MODE_BRIDGE, {mac("02:00:00:00:10:05")}, std::nullopt, true, false, port_vlans(10)},
        {"r2", true, VEPA_MODE_BRIDGE, {mac("02:00:00:00:10:06")}, std::nullopt, true, false, port_vlans(0, {10})},
        {"q1", true, VEPA_MODE_PRIVATE, {mac("02:00:00:00:10:07")}, std::nullopt, true, false, port_vlans(10)},
    };
    Testbed tb(specs);
    tb.attach(true);
    const Model model = tb.model();
    std::vector<Mac> macs;
    for (const auto& p : tb.ports)
        macs.insert(macs.end(), p.macs.begin(), p.macs.end());
    const Mac host = *NetlinkRequester().link("up0")->mac;

    const char* seed_env = std::getenv("VEPA_SEED");
    const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 0) : std::random_device{}();
    const char* n_env = std::getenv("VEPA_HOSTILE_FRAMES");
    const size_t total = n_env ? std::strtoul(n_env, nullptr, 0) : 1000000;
    std::cout << "hostile frames: seed " << seed << ", " << total << " frames" << std::endl;
    Generator gen(seed, macs, host, tb.probe_dst);
    gen.use_vids({0, 10, 20, 30, 77});

    WireSocket sw_sock("sw0", &tb.sw);
    std::map<std::string, std::unique_ptr<WireSocket>> guest;
    for (auto& p : tb.ports)
        if (!p.tap)
            guest.emplace(p.name, std::make_unique<WireSocket>(p.guest_end, &tb.guests));

    std::unordered_map<std::string, Sent> sent;
    size_t violations = 0, unknown = 0, delivered = 0, send_failed = 0;
    std::vector<std::string> examples;
    auto violation = [&](const std::string& what) {
        violations++;
        if (examples.size() < 10)
            examples.push_back(what);
    };
    auto receive = [&](const Bytes& f, int at_slot) { // at_slot -1: the switch
        auto it = sent.find(key_of(f));
        if (it == sent.end()) {
            unknown++;
            return;
        }
        Sent& s = it->second;
        delivered++;
        if (at_slot < 0) {
            if (!s.want.uplink)
                violation("frame from slot " + std::to_string(s.from) + " left the host, the model says " +
                          describe(s.want) + ": " + hex(f));
            else if (++s.seen_uplink > 1)
                violation("frame reached the switch twice: " + hex(f));
            else if (f != s.want.uplink_frame)
                violation("frame reached the switch as " + hex(f) + ", the model says " + hex(s.want.uplink_frame));
            return;
        }
        const auto slot = static_cast<uint16_t>(at_slot);
        if (!s.want.ports.count(slot))
            violation("frame from slot " + std::to_string(s.from) + " reached slot " + std::to_string(slot) +
                      ", the model says " + describe(s.want) + ": " + hex(f));
        else if (++s.seen[slot] > 1)
            violation("frame reached slot " + std::to_string(slot) + " twice: " + hex(f));
        else if (f != s.want.frames.at(slot))
            violation("frame reached slot " + std::to_string(slot) + " as " + hex(f) + ", the model says " +
                      hex(s.want.frames.at(slot)));
    };
    auto drain = [&] {
        for (const auto& f : sw_sock.drain())
            receive(f, -1);
        for (auto& p : tb.ports) {
            if (p.tap)
                for (const auto& f : p.tap_fd->drain())
                    receive(f, p.slot);
            else
                for (const auto& f : guest.at(p.name)->drain())
                    receive(f, p.slot);
        }
    };

    const auto t0 = std::chrono::steady_clock::now();
    constexpr size_t kBatch = 200;
    for (size_t i = 0; i < total; i++) {
        const int who = gen.uniform(0, static_cast<int>(tb.ports.size())); // 0: the switch
        TestPort* sender = who == 0 ? nullptr : &tb.ports[static_cast<size_t>(who - 1)];
        Bytes f = gen.frame(sender ? sender->macs : std::vector<Mac>{}, 1514);
        if (f.size() < 14)
            f.resize(14);
        const std::string k = key_of(f);
        if (sent.count(k))
            continue; // the same bytes twice could not be told apart at the sinks
        const uint16_t from = sender ? sender->slot : VEPA_SLOT_UPLINK;
        sent.emplace(k, Sent{from, expect(model, from, f), f});
        try {
            if (!sender)
                sw_sock.send(f);
            else if (sender->tap)
                sender->tap_fd->send(f);
            else
                guest.at(sender->name)->send(f);
        } catch (const std::exception&) {
            send_failed++; // e.g. a guest's kernel refusing a frame it cannot send
        }
        if (i % kBatch == kBatch - 1)
            drain();
        // Old frames cannot arrive any more: forget them, keep memory flat.
        if (sent.size() > 200000) {
            drain();
            ::usleep(20000);
            drain();
            sent.clear();
        }
    }
    ::usleep(200000);
    drain();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "hostile frames: " << total << " sent in " << secs << " s (" << send_failed
              << " refused by the sender's own stack), " << delivered << " deliveries checked, " << unknown
              << " unrelated frames ignored, " << violations << " violations" << std::endl;
    for (const auto& e : examples)
        UNSCOPED_INFO(e);
    CHECK(violations == 0);
    CHECK(delivered > total / 10); // the run really exercised delivery
}
