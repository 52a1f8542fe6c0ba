#include <catch2/catch.hpp>

#include "lib/port_vlans.hpp"
#include "vepa/vlan_list.hpp"

using vepa::PortVlans;

TEST_CASE("VLAN lists parse ranges and refuse what is not one")
{
    using S = std::set<uint16_t>;
    CHECK(vepa::parse_vid_list("10") == S{10});
    CHECK(vepa::parse_vid_list("10,20-22,4094") == S{10, 20, 21, 22, 4094});
    CHECK(vepa::parse_vid_list("5,5,4-6") == S{4, 5, 6});
    for (const char* bad : {"", "0", "4095", "10,", ",10", "20-10", "1-", "-3", "a", "10 ,20", "1-4095", "+10"})
        CHECK_FALSE(vepa::parse_vid_list(bad));
    CHECK(vepa::format_vid_list({10, 20, 21, 22, 30, 31}) == "10,20-22,30,31");
    CHECK(vepa::format_vid_list({}) == "");
    CHECK(vepa::parse_vid_list(vepa::format_vid_list({1, 2, 3, 7, 4094})) == S{1, 2, 3, 7, 4094});
}

TEST_CASE("A port's VLANs: membership on the uplink side")
{
    PortVlans none;
    CHECK(none.member(0));
    CHECK_FALSE(none.member(10));
    CHECK(none.str().empty());
    CHECK(none.mac_vids() == std::vector<uint16_t>{0});

    PortVlans access{10};
    CHECK_FALSE(access.member(0)); // untagged on the wire is not VLAN 10
    CHECK(access.member(10));
    CHECK_FALSE(access.member(20));
    CHECK(access.str() == "10");
    CHECK(access.mac_vids() == std::vector<uint16_t>{10});

    PortVlans trunk{10, {20, 21, 30}};
    CHECK(trunk.member(21));
    CHECK_FALSE(trunk.member(22));
    CHECK(trunk.str() == "10 +20,21,30");
    CHECK(trunk.mac_vids() == std::vector<uint16_t>{10, 20, 21, 30});

    PortVlans all{0, {}, true};
    CHECK(all.member(0));
    CHECK(all.member(4094));
    CHECK(all.str() == "+all");
    CHECK(all.mac_vids() == std::vector<uint16_t>{0, VEPA_VID_ANY});
}

TEST_CASE("Two ports overlap when one frame could reach both")
{
    PortVlans none, v10{10}, v20{20}, t20{10, {20}}, all{0, {}, true}, all5{5, {}, true};
    CHECK(none.overlaps(none));
    CHECK_FALSE(none.overlaps(v10));
    CHECK_FALSE(v10.overlaps(v20));
    CHECK(v20.overlaps(t20));
    CHECK(t20.overlaps(v20));
    CHECK(all.overlaps(v10));
    CHECK(v10.overlaps(all));
    CHECK_FALSE(all5.overlaps(none)); // all5 is tagged-only on the wire apart from 5
    CHECK_FALSE(none.overlaps(all5));
    CHECK(all5.overlaps(all));
}
