// The test oracle itself checked against the "Modes between ports" table of
// docs/VEPA-SEMANTICS.md, cell by cell, so the randomized tests rest on a
// model that says what the document says.
#include <catch2/catch.hpp>

#include "tests/support/model.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {
const Mac kVepa = mac("02:00:00:00:00:01"), kVepa2 = mac("02:00:00:00:00:04");
const Mac kBridge = mac("02:00:00:00:00:02"), kBridge2 = mac("02:00:00:00:00:05");
const Mac kPriv = mac("02:00:00:00:00:03"), kPriv2 = mac("02:00:00:00:00:06");
const Mac kExt = mac("02:00:00:00:00:99");

Model model()
{
    Model m;
    m.uplink_ifindex = 100;
    m.ports = {
        {1, 11, VEPA_MODE_VEPA, true, {kVepa}},      {2, 12, VEPA_MODE_BRIDGE, true, {kBridge}},
        {3, 13, VEPA_MODE_PRIVATE, true, {kPriv}},   {4, 14, VEPA_MODE_VEPA, true, {kVepa2}},
        {5, 15, VEPA_MODE_BRIDGE, true, {kBridge2}}, {6, 16, VEPA_MODE_PRIVATE, true, {kPriv2}},
    };
    return m;
}

// Does a frame from sender (slot) reach receiver (slot), with the switch reflecting?
bool reaches(const Model& m, uint16_t from, uint16_t to, const Mac& dst)
{
    const Mac src = m.by_slot(from)->macs[0];
    const Bytes f = eth_frame(dst, src, kEthIpv4, 46);
    const Outcome out = expect(m, from, f);
    if (out.ports.count(to))
        return true; // locally
    if (!out.uplink)
        return false;
    return expect(m, VEPA_SLOT_UPLINK, f).ports.count(to) > 0; // reflected
}
} // namespace

TEST_CASE("model: unicast between modes follows the semantics table")
{
    const Model m = model();
    struct Row {
        uint16_t from;
        uint16_t to;
        bool reach;
    };
    // sender vepa(1)/bridge(2)/private(3) to receivers vepa(4)/bridge(5)/private(6)
    for (auto [from, to, reach] : {Row{1, 4, true}, Row{1, 5, true}, Row{1, 6, false}, Row{2, 4, true}, Row{2, 5, true},
                                   Row{2, 6, false}, Row{3, 4, false}, Row{3, 5, false}, Row{3, 6, false}}) {
        INFO("from slot " << from << " to slot " << to);
        CHECK(reaches(m, from, to, m.by_slot(to)->macs[0]) == reach);
    }
    // bridge to bridge is local, not on the wire (T2)
    const Bytes f = eth_frame(kBridge2, kBridge, kEthIpv4, 46);
    const Outcome o = expect(m, 2, f);
    CHECK(o.ports == std::set<uint16_t>{5});
    CHECK_FALSE(o.uplink);
}

TEST_CASE("model: group frames between modes follow the semantics table")
{
    const Model m = model();
    struct Row {
        uint16_t from;
        uint16_t to;
        bool reach;
    };
    for (auto [from, to, reach] :
         {Row{1, 4, true}, Row{1, 5, true}, Row{1, 6, false}, Row{1, 1, false}, Row{2, 4, true}, Row{2, 5, true},
          Row{2, 6, false}, Row{2, 2, false}, Row{3, 4, false}, Row{3, 5, false}, Row{3, 6, false}, Row{3, 3, false}}) {
        INFO("from slot " << from << " to slot " << to);
        CHECK(reaches(m, from, to, Mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff})) == reach);
    }
}

TEST_CASE("model: every port reaches the external network, external broadcast reaches every port")
{
    const Model m = model();
    for (const auto& p : m.ports) {
        CHECK(expect(m, p.slot, eth_frame(kExt, p.macs[0], kEthIpv4, 46)).uplink);
        CHECK(expect(m, VEPA_SLOT_UPLINK, eth_frame(kBroadcast, kExt, kEthIpv4, 46)).ports.count(p.slot));
    }
    CHECK(expect(m, VEPA_SLOT_UPLINK, eth_frame(kBroadcast, kExt, kEthIpv4, 46)).host);
    CHECK(expect(m, VEPA_SLOT_UPLINK, eth_frame(kBroadcast, kPriv, kEthIpv4, 46)).host); // R6 improved
}

TEST_CASE("model: counters of a reflected broadcast")
{
    const Model m = model();
    const Bytes f = eth_frame(kBroadcast, kVepa, kEthIpv4, 46);
    const auto c = expected_counters(VEPA_SLOT_UPLINK, expect(m, VEPA_SLOT_UPLINK, f), f.size());
    CHECK(c.at(0).rx_packets == 1);
    CHECK(c.at(0).host_packets == 1);
    CHECK(c.at(4).tx_packets == 1); // other vepa port
    CHECK(c.at(2).tx_packets == 1); // bridge port
    CHECK_FALSE(c.count(1));        // sender excluded
    CHECK_FALSE(c.count(3));        // private excluded
}
