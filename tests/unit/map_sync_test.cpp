#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>

#include "lib/map_sync.hpp"

using namespace vepa;

namespace {
PresentPort port(uint32_t ifindex, uint16_t slot, vepa_mode mode, std::vector<const char*> macs,
                 vepa_delivery d = VEPA_DELIVER_TC_PEER)
{
    PresentPort p;
    p.ifindex = ifindex;
    p.slot = slot;
    p.mode = mode;
    p.delivery = d;
    for (auto m : macs)
        p.macs.push_back(*Mac::parse(m));
    return p;
}
} // namespace

TEST_CASE("map contents: every MAC points at its port, records carry the MAC list")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    st.uplink_takes_xdp = true;
    st.ports = {port(10, 1, VEPA_MODE_VEPA, {"02:00:00:00:00:01", "02:00:00:00:00:02"}),
                port(11, 2, VEPA_MODE_BRIDGE, {"02:00:00:00:00:03"}, VEPA_DELIVER_XDP)};
    const MapContents c = build_contents(st);
    CHECK(c.macs.size() == 3);
    CHECK(c.macs.at({0, *Mac::parse("02:00:00:00:00:02")}).ifindex == 10);
    CHECK(c.macs.at({0, *Mac::parse("02:00:00:00:00:03")}).slot == 2);
    CHECK(c.ports.at(10).n_macs == 2);
    CHECK(c.ports.at(11).ref.mode == VEPA_MODE_BRIDGE);
    CHECK(c.flood.size() == 2);
    // devmap: the XDP-delivered port and the uplink
    CHECK(c.devs.size() == 2);
    CHECK(c.devs.count(11));
    CHECK(c.devs.count(2));
    CHECK(c.config.uplink_ifindex == 2);
    CHECK(c.config.layout_version == VEPA_LAYOUT_VERSION);
    CHECK_FALSE(c.config.flags & VEPA_CFG_F_HAVE_PRIVATE);
    CHECK_FALSE(c.config.flags & VEPA_CFG_F_VLANS);
}

TEST_CASE("map contents: a port with many MACs keeps the first few in its record, all in the table")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    st.ports = {port(10, 1, VEPA_MODE_VEPA, {})};
    for (int i = 0; i < 66; i++)
        st.ports[0].macs.push_back(Mac({0x02, 0, 0, 1, 0, static_cast<uint8_t>(i)}));
    const MapContents c = build_contents(st);
    CHECK(c.ports.at(10).n_macs == 66);
    CHECK(Mac::from_key(c.ports.at(10).macs[VEPA_PORT_FAST_MACS - 1]) == st.ports[0].macs[VEPA_PORT_FAST_MACS - 1]);
    CHECK(c.macs.size() == 66);
}

TEST_CASE("map contents: a private port turns R7's source lookup on")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    st.ports = {port(10, 1, VEPA_MODE_PRIVATE, {"02:00:00:00:00:01"})};
    CHECK(build_contents(st).config.flags & VEPA_CFG_F_HAVE_PRIVATE);
    CHECK(build_contents(st).devs.empty()); // uplink does not take XDP frames, port is TC
}

TEST_CASE("map contents: inconsistent states are refused")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    SECTION("a MAC on two ports")
    {
        st.ports = {port(10, 1, VEPA_MODE_VEPA, {"02:00:00:00:00:01"}),
                    port(11, 2, VEPA_MODE_VEPA, {"02:00:00:00:00:01"})};
        CHECK_THROWS_WITH(build_contents(st), Catch::Contains("on two ports"));
    }
    SECTION("a slot used twice")
    {
        st.ports = {port(10, 1, VEPA_MODE_VEPA, {}), port(11, 1, VEPA_MODE_VEPA, {})};
        CHECK_THROWS_AS(build_contents(st), Error);
    }
    SECTION("the uplink's slot")
    {
        st.ports = {port(10, 0, VEPA_MODE_VEPA, {})};
        CHECK_THROWS_AS(build_contents(st), Error);
    }
    SECTION("the uplink as a port")
    {
        st.ports = {port(2, 1, VEPA_MODE_VEPA, {})};
        CHECK_THROWS_AS(build_contents(st), Error);
    }
    SECTION("too many MACs")
    {
        st.ports = {port(10, 1, VEPA_MODE_VEPA, {})};
        for (int i = 0; i <= VEPA_MAX_PORT_MACS; i++)
            st.ports[0].macs.push_back(Mac({0x02, 0, 0, 1, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}));
        CHECK_THROWS_AS(build_contents(st), Error);
    }
}

namespace {
PortVlans vlans(uint16_t untagged, std::set<uint16_t> tagged = {}, bool all = false)
{
    return PortVlans{untagged, std::move(tagged), all};
}
} // namespace

TEST_CASE("map contents: a port's MACs go in once per VLAN, its record carries its VLAN words")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    st.ports = {port(10, 1, VEPA_MODE_VEPA, {"02:00:00:00:00:01"}), port(11, 2, VEPA_MODE_VEPA, {"02:00:00:00:00:02"}),
                port(12, 3, VEPA_MODE_VEPA, {"02:00:00:00:00:03"})};
    st.ports[0].vlans = vlans(10);
    st.ports[1].vlans = vlans(20, {30, 4094});
    st.ports[2].vlans = vlans(0, {}, true);
    const MapContents c = build_contents(st);
    const Mac m1 = *Mac::parse("02:00:00:00:00:01"), m2 = *Mac::parse("02:00:00:00:00:02"),
              m3 = *Mac::parse("02:00:00:00:00:03");
    CHECK(c.macs.size() == 1 + 3 + 2);
    CHECK(c.macs.at({10, m1}).ifindex == 10);
    CHECK_FALSE(c.macs.count({0, m1})); // untagged frames do not reach a port in VLAN 10
    CHECK(c.macs.at({30, m2}).ifindex == 11);
    CHECK(c.macs.at({4094, m2}).vid == 20);
    CHECK(c.macs.at({0, m3}).vflags == VEPA_VLAN_F_TRUNK_ALL);
    CHECK(c.macs.at({VEPA_VID_ANY, m3}).ifindex == 12);
    CHECK(c.config.flags & VEPA_CFG_F_VLANS);
    CHECK(c.ports.at(10).ref.vid == 10);
    CHECK(c.ports.at(10).ref.vflags == 0);
    CHECK(c.ports.at(11).ref.vflags == VEPA_VLAN_F_TRUNK);
    CHECK(c.flood.at(1).vid == 20);
    // The tagged set only for a TRUNK port, at its slot.
    REQUIRE(c.vlans.size() == 1);
    const vepa_vlan_set& s = c.vlans.at(2);
    CHECK(s.bits[0] == 0x40000000ull);          // 30
    CHECK(s.bits[63] == 0x4000000000000000ull); // 4094
}

TEST_CASE("map contents: a MAC on two ports is refused only within one VLAN")
{
    DataplaneState st;
    st.uplink_ifindex = 2;
    st.ports = {port(10, 1, VEPA_MODE_VEPA, {"02:00:00:00:00:01"}), port(11, 2, VEPA_MODE_VEPA, {"02:00:00:00:00:01"})};
    st.ports[0].vlans = vlans(10);
    st.ports[1].vlans = vlans(20, {30});
    CHECK(build_contents(st).macs.size() == 3);
    st.ports[1].vlans = vlans(20, {10});
    CHECK_THROWS_WITH(build_contents(st), Catch::Contains("on two ports"));
    st.ports[1].vlans = vlans(0, {}, true); // trunk all meets VLAN 10
    CHECK_THROWS_WITH(build_contents(st), Catch::Contains("on two ports"));
    st.ports[1].vlans = vlans(0, {4095});
    CHECK_THROWS_AS(build_contents(st), Error); // out of range
}

namespace {
// A random state: up to 8 ports (slots 1-8) with MACs from a small pool (so ports
// share some), some in VLANs; states build_contents refuses are drawn again.
DataplaneState random_state(std::mt19937& rng)
{
    const std::vector<const char*> pool = {"02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03",
                                           "02:00:00:00:00:04", "02:00:00:00:00:05", "02:00:00:00:00:06",
                                           "02:00:00:00:00:07", "02:00:00:00:00:08", "02:00:00:00:00:09"};
    for (;;) {
        DataplaneState st;
        st.uplink_ifindex = 2;
        for (uint16_t slot = 1; slot <= 8; slot++) {
            if (rng() % 3 == 0)
                continue;
            std::vector<const char*> macs;
            for (unsigned i = rng() % 3; i > 0; i--)
                macs.push_back(pool[rng() % pool.size()]);
            std::sort(macs.begin(), macs.end());
            macs.erase(std::unique(macs.begin(), macs.end()), macs.end());
            PresentPort p = port(10 + slot + 20 * (rng() % 2), slot, rng() % 2 ? VEPA_MODE_VEPA : VEPA_MODE_PRIVATE,
                                 macs, rng() % 2 ? VEPA_DELIVER_TC : VEPA_DELIVER_XDP);
            if (rng() % 3 == 0)
                p.vlans.untagged = 10 + rng() % 2;
            if (rng() % 4 == 0)
                p.vlans.tagged = {static_cast<uint16_t>(20 + rng() % 2)};
            st.ports.push_back(p);
        }
        try {
            build_contents(st);
            return st;
        } catch (const Error&) {
        }
    }
}

MacTable applied(MacTable t, const MacChanges& c)
{
    for (const auto& [k, v] : c.put)
        t[k] = v;
    for (const auto& k : c.remove)
        CHECK(t.erase(k) == 1); // only entries that are there are removed
    return t;
}

bool same_table(const MacTable& a, const MacTable& b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
               return x.first == y.first && std::memcmp(&x.second, &y.second, sizeof(x.second)) == 0;
           });
}
} // namespace

TEST_CASE("MAC table diff: the per-port diff of two states is the whole-table diff, in fewer writes")
{
    std::mt19937 rng(1234);
    DataplaneState was = random_state(rng);
    for (int i = 0; i < 3000; i++) {
        DataplaneState want = random_state(rng);
        if (i % 2) { // half the time a small change: one port differs
            want = was;
            if (!want.ports.empty())
                want.ports[rng() % want.ports.size()].delivery = VEPA_DELIVER_DOWN;
        }
        const MacTable have = build_contents(was).macs;
        const MacTable target = build_contents(want).macs;
        const MacChanges whole = diff_macs(target, have);
        const MacChanges part = diff_macs(diff_ports(want, was), have);
        INFO("step " << i);
        CHECK(same_table(applied(have, part), target));
        CHECK(part.put.size() == whole.put.size()); // nothing rewritten that is already right
        CHECK(part.remove.size() == whole.remove.size());
        was = want;
    }
}

TEST_CASE("MAC table diff: a changed port's MAC that an unchanged port holds is refused")
{
    DataplaneState was;
    was.uplink_ifindex = 2;
    was.ports = {port(10, 1, VEPA_MODE_VEPA, {"02:00:00:00:00:01"}), port(11, 2, VEPA_MODE_VEPA, {"02:00:00:00:00:02"})};
    DataplaneState want = was;
    want.ports[1].macs.push_back(*Mac::parse("02:00:00:00:00:01"));
    CHECK_THROWS_WITH(diff_macs(diff_ports(want, was), build_contents(was).macs), Catch::Contains("on two ports"));
    // Moving a MAC from one port to another in one change is fine.
    want = was;
    want.ports[0].macs.clear();
    want.ports[1].macs.push_back(*Mac::parse("02:00:00:00:00:01"));
    const MacChanges c = diff_macs(diff_ports(want, was), build_contents(was).macs);
    CHECK(c.remove.empty());
    CHECK(c.put.size() == 1);
    CHECK(c.put.begin()->second.ifindex == 11);
    CHECK(changed_macs(diff_ports(want, was)).size() == 2);
}
