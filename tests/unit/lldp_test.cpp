// The LLDP codec (lib/lldp) and the reflection probe's MACs.
#include <catch2/catch.hpp>

#include "lib/lldp.hpp"
#include "daemon/reflection_probe.hpp"

using namespace vepa;
using Bytes = std::vector<uint8_t>;

namespace {

// An LLDPDU as a bridge running lldpad in EVB bridge role sends it to the nearest
// customer bridge group: chassis ID (MAC), port ID (ifname), TTL 120, the
// ratified EVB TLV with RRCAP and RRCTR set, the station status echoed (RRREQ,
// RRSTAT unknown), 7 retries, RTE 20, mode bridge, RWD 20, RKA 20; End.
const Bytes kBridgeLldpdu = {
    0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc,
    0x88, 0xcc, 0x02, 0x07, 0x04, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, // chassis ID, MAC
    0x04, 0x09, 0x05, 's',  'w',  'p',  '-',  'h',  'o',  's',  't',  // port ID, ifname
    0x06, 0x02, 0x00, 0x78,                                           // TTL 120
    0x0a, 0x03, 's',  'w',  '1',                                      // system name
    0xfe, 0x09, 0x00, 0x80, 0xc2, 0x0d, 0x03, 0x07, 0xf4, 0x54, 0x14, // EVB (ratified)
    0x00, 0x00,                                                       // End
};

// The bridge's LLDPDU up to its system name, then tlv, then End.
Bytes bridge_lldpdu_with(const Bytes& tlv)
{
    Bytes f(kBridgeLldpdu.begin(), kBridgeLldpdu.begin() + 43);
    for (uint8_t b : tlv) // (not insert(): GCC 12 warns falsely about the bounds)
        f.push_back(b);
    f.push_back(0);
    f.push_back(0);
    return f;
}

} // namespace

TEST_CASE("lldp: a bridge's LLDPDU with the ratified EVB TLV")
{
    std::string why;
    auto nb = lldp::parse(kBridgeLldpdu, &why);
    REQUIRE(nb);
    CHECK(nb->dst == lldp::kNearestCustomerBridge);
    CHECK(nb->src.str() == "52:54:00:aa:bb:cc");
    CHECK(nb->chassis_id == "52:54:00:aa:bb:cc");
    CHECK(nb->port_id == "swp-host");
    CHECK(nb->ttl == 120);
    CHECK(nb->system_name == "sw1");
    REQUIRE(nb->evb);
    const auto& e = *nb->evb;
    CHECK(e.form == lldp::Evb::Form::Ratified);
    CHECK(e.rrcap);
    CHECK(e.rrctr);
    CHECK_FALSE(e.bgid);
    CHECK(e.rrreq);
    CHECK(e.rrstat == 3);
    CHECK(e.retries == 7);
    CHECK(e.rte == 20);
    CHECK(e.mode == 1);
    CHECK(e.rwd == 20);
    CHECK(e.rka == 20);
    CHECK(e.rr_capable());
    CHECK(e.rr_enabled());
    CHECK(lldp::station_rrstat(nb->evb) == 1);
}

TEST_CASE("lldp: the draft 0.2 EVB TLV")
{
    // OUI 00-1B-3F subtype 0: supported modes standard+RR, caps RTE|ECP|VDP,
    // configured mode RR, caps VDP, 3295 VSIs supported, 10 configured, RTE 15.
    const Bytes draft = {0xfe, 0x0d, 0x00, 0x1b, 0x3f, 0x00, 0xc0, 0x07, 0x40, 0x01, 0x0c, 0xdf, 0x00, 0x0a, 0x0f};
    auto nb = lldp::parse(bridge_lldpdu_with(draft));
    REQUIRE(nb);
    REQUIRE(nb->evb);
    CHECK(nb->evb->form == lldp::Evb::Form::Draft02);
    CHECK(nb->evb->rr_capable());
    CHECK(nb->evb->rr_enabled());
    CHECK(nb->evb->svsi == 3295);
    CHECK(nb->evb->cvsi == 10);
    CHECK(nb->evb->rte02 == 15);
    // Configured for standard forwarding only: capable, not enabled.
    Bytes std_only = draft;
    std_only[8] = 0x80;
    nb = lldp::parse(bridge_lldpdu_with(std_only));
    REQUIRE(nb);
    CHECK(nb->evb->rr_capable());
    CHECK_FALSE(nb->evb->rr_enabled());
    CHECK(lldp::station_rrstat(nb->evb) == 0);
}

TEST_CASE("lldp: what vepad sends parses back as an EVB station requesting reflective relay")
{
    lldp::Station st;
    st.mac = *Mac::parse("02:00:00:00:00:01");
    st.port = "eth0";
    st.system_name = "host1";
    st.rrstat = 1;
    const Bytes f = lldp::build(st, lldp::kNearestCustomerBridge, true);
    CHECK(f.size() >= 60);
    CHECK(Mac(f.data()) == lldp::kNearestCustomerBridge);
    auto nb = lldp::parse(f);
    REQUIRE(nb);
    CHECK(nb->src == st.mac);
    CHECK(nb->chassis_subtype == 4);
    CHECK(nb->chassis_id == "02:00:00:00:00:01");
    CHECK(nb->port_subtype == 5);
    CHECK(nb->port_id == "eth0");
    CHECK(nb->ttl == 120);
    CHECK(nb->system_name == "host1");
    REQUIRE(nb->evb);
    CHECK(nb->evb->form == lldp::Evb::Form::Ratified);
    CHECK(nb->evb->mode == 2); // station
    CHECK(nb->evb->rrreq);
    CHECK(nb->evb->rrstat == 1);
    CHECK_FALSE(nb->evb->rrcap);
    CHECK_FALSE(nb->evb->rrctr);
    CHECK(nb->unknown_tlvs == 0);
    // The plain LLDPDU for the nearest bridge group: the same, without EVB.
    auto plain = lldp::parse(lldp::build(st, lldp::kNearestBridge, false));
    REQUIRE(plain);
    CHECK(plain->dst == lldp::kNearestBridge);
    CHECK(plain->chassis_id == "02:00:00:00:00:01");
    CHECK_FALSE(plain->evb);
}

TEST_CASE("lldp: the station's RR status follows the bridge")
{
    CHECK(lldp::station_rrstat(std::nullopt) == 3);
    lldp::Evb e;
    e.rrcap = true;
    CHECK(lldp::station_rrstat(e) == 0);
    e.rrctr = true;
    CHECK(lldp::station_rrstat(e) == 1);
}

TEST_CASE("lldp: malformed LLDPDUs are refused with a reason")
{
    std::string why;
    CHECK_FALSE(lldp::parse(Bytes(10, 0), &why));
    CHECK(why == "shorter than an Ethernet header");
    Bytes other = kBridgeLldpdu;
    other[13] = 0xcd;
    CHECK_FALSE(lldp::parse(other, &why));
    CHECK(why == "not ethertype 0x88cc");
    // Every cut before the TTL TLV's end runs a TLV past the end, or lacks the mandatory three.
    for (size_t n = 14; n < 38; n++) {
        INFO("cut at " << n);
        CHECK_FALSE(lldp::parse(Bytes(kBridgeLldpdu.begin(), kBridgeLldpdu.begin() + static_cast<long>(n))));
    }
    // A length that runs past the frame.
    Bytes longlen = kBridgeLldpdu;
    longlen[15] = 0xff;
    CHECK_FALSE(lldp::parse(longlen, &why));
    CHECK(why == "a TLV runs past the end of the frame");
    // Port ID before chassis ID.
    Bytes swapped = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e, 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc, 0x88, 0xcc,
                     0x04, 0x02, 0x05, 'x',  0x02, 0x02, 0x07, 'y',  0x06, 0x02, 0x00, 0x78, 0x00, 0x00};
    CHECK_FALSE(lldp::parse(swapped, &why));
    CHECK(why == "the first TLVs are not chassis ID, port ID and TTL");
    // A short EVB TLV is another organisation's TLV, not an EVB TLV.
    auto nb = lldp::parse(bridge_lldpdu_with({0xfe, 0x05, 0x00, 0x80, 0xc2, 0x0d, 0x03}));
    REQUIRE(nb);
    CHECK_FALSE(nb->evb);
    CHECK(nb->unknown_tlvs == 1);
    // Trailing padding after End is fine; so is an LLDPDU that ends without End.
    Bytes padded = kBridgeLldpdu;
    padded.resize(80, 0);
    CHECK(lldp::parse(padded));
    CHECK(lldp::parse(Bytes(kBridgeLldpdu.begin(), kBridgeLldpdu.end() - 2)));
}

TEST_CASE("reflection probe MACs: locally administered unicast, stable, distinct per host and uplink")
{
    const auto a = vepad::probe_macs("0123456789abcdef0123456789abcdef", "eth0");
    CHECK(a.src.is_locally_administered());
    CHECK_FALSE(a.src.is_group());
    CHECK(a.dst.is_locally_administered());
    CHECK_FALSE(a.dst.is_group());
    CHECK(a.src != a.dst);
    CHECK(a.src.str().rfind("0a:76:65:", 0) == 0);
    const auto again = vepad::probe_macs("0123456789abcdef0123456789abcdef", "eth0");
    CHECK(again.src == a.src);
    CHECK(again.dst == a.dst);
    CHECK(vepad::probe_macs("0123456789abcdef0123456789abcdef", "eth1").dst != a.dst);
    CHECK(vepad::probe_macs("fedcba9876543210fedcba9876543210", "eth0").dst != a.dst);
}
