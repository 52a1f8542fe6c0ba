#include <catch2/catch.hpp>

#include "lib/mac.hpp"

using vepa::Mac;

TEST_CASE("MAC addresses parse in colon and dash forms, any case")
{
    auto m = Mac::parse("52:54:00:AB:cd:0F");
    REQUIRE(m);
    CHECK(m->str() == "52:54:00:ab:cd:0f");
    CHECK(Mac::parse("52-54-00-ab-cd-0f") == m);
    CHECK_FALSE(m->is_group());
    CHECK(m->is_locally_administered()); // QEMU's 52:54:00 prefix is locally administered
    CHECK_FALSE(Mac::parse("00:16:3e:00:00:01")->is_locally_administered());
}

TEST_CASE("malformed MAC addresses are refused")
{
    for (const char* bad : {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0f:11", "52:54:00:ab:cd:0g", "52:54-00:ab:cd:0f",
                            "5254.00ab.cd0f", "52:54:00:ab:cd:0f ", " 52:54:00:ab:cd:0f", "525:4:00:ab:cd:0f"})
        CHECK_FALSE(Mac::parse(bad));
}

TEST_CASE("group, broadcast and zero MACs are recognised")
{
    CHECK(Mac::parse("ff:ff:ff:ff:ff:ff")->is_broadcast());
    CHECK(Mac::parse("ff:ff:ff:ff:ff:ff")->is_group());
    CHECK(Mac::parse("01:00:5e:00:00:01")->is_group());
    CHECK_FALSE(Mac::parse("01:00:5e:00:00:01")->is_broadcast());
    CHECK(Mac().is_zero());
    CHECK_FALSE(Mac::parse("00:00:00:00:00:01")->is_zero());
}

TEST_CASE("MAC map keys round-trip and carry the VLAN (0 = untagged)")
{
    const Mac m = *Mac::parse("52:54:00:12:34:56");
    const vepa_mac_key k = m.key();
    CHECK(k.vid == VEPA_VID_UNTAGGED);
    CHECK(Mac::from_key(k) == m);
    CHECK(m.key(10).vid == 10);
    CHECK(Mac::from_key(m.key(VEPA_VID_ANY)) == m);
    static_assert(sizeof(vepa_mac_key) == 8, "no padding the kernel would hash");
}
