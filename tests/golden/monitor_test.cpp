// Decision records (vepactl monitor) under BPF_PROG_TEST_RUN: with monitoring
// on, a drop writes exactly its record; with it off, nothing is written.
#include <catch2/catch.hpp>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <vector>

#include "tests/support/testbed.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

const Mac v1 = mac("02:00:00:00:01:01"), v2 = mac("02:00:00:00:02:01"), ext = mac("02:00:00:00:99:99");

// Every record in the ring buffer now.
std::vector<vepa_event> drain(int ringbuf_fd)
{
    std::vector<vepa_event> out;
    auto cb = [](void* ctx, void* data, size_t size) -> int {
        vepa_event e{};
        std::memcpy(&e, data, std::min(size, sizeof(e)));
        static_cast<std::vector<vepa_event>*>(ctx)->push_back(e);
        return 0;
    };
    ring_buffer* rb = ring_buffer__new(ringbuf_fd, cb, &out, nullptr);
    REQUIRE(rb);
    ring_buffer__consume(rb);
    ring_buffer__free(rb);
    return out;
}

void set_monitor(Testbed& tb, uint32_t flags, uint32_t sample = 0)
{
    vepa_monitor m{};
    m.flags = flags;
    m.sample = sample;
    tb.dp->monitor().update(0, m);
}

} // namespace

TEST_CASE("decision records: a drop's record, and none with monitoring off", "[golden]")
{
    Testbed tb({{"v1", false, VEPA_MODE_VEPA, {v1}}, {"v2", false, VEPA_MODE_VEPA, {v2}}});
    const int v1_if = tb.port("v1").ifindex;
    const Bytes spoofed = eth_frame(ext, v2, kEthIpv4, 50);
    drain(tb.dp->events_fd());

    SECTION("off: no record")
    {
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, spoofed).verdict == TC_ACT_SHOT);
        CHECK(tb.xdp(tb.dp->port_xdp_fd(), v1_if, spoofed).verdict == XDP_DROP);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, eth_frame(ext, v1, kEthIpv4, 50)).verdict == TC_ACT_REDIRECT);
        CHECK(drain(tb.dp->events_fd()).empty());
    }
    SECTION("drops on: T5 recorded exactly, forwarding not")
    {
        set_monitor(tb, VEPA_MON_F_DROPS);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, spoofed).verdict == TC_ACT_SHOT);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, eth_frame(ext, v1, kEthIpv4, 50)).verdict == TC_ACT_REDIRECT);
        const auto ev = drain(tb.dp->events_fd());
        REQUIRE(ev.size() == 1);
        const vepa_event& e = ev[0];
        CHECK(e.prog == VEPA_PROG_PORT_TC);
        CHECK(e.rule == VEPA_RULE_T5);
        CHECK(e.action == VEPA_ACT_DROP);
        CHECK(e.reason == VEPA_DROP_SPOOFED);
        CHECK(e.slot == tb.port("v1").slot);
        CHECK(e.egress == tb.port("v1").slot);
        CHECK(e.ifindex == static_cast<uint32_t>(v1_if));
        CHECK(Mac(e.dst) == ext);
        CHECK(Mac(e.src) == v2);
        CHECK(e.proto == 0x0800);
        CHECK(e.len == spoofed.size());
        CHECK(e.vid == 0);
        CHECK(e.flags == 0);
        CHECK(e.time_ns > 0);
    }
    SECTION("malformed from the uplink (XDP): M1, charged to the uplink")
    {
        set_monitor(tb, VEPA_MON_F_DROPS);
        CHECK(tb.xdp(tb.dp->uplink_xdp_fd(), tb.uplink, eth_frame(v1, ext, kEthIpv4, 0)).verdict == XDP_DROP);
        const auto ev = drain(tb.dp->events_fd());
        REQUIRE(ev.size() == 1);
        CHECK(ev[0].prog == VEPA_PROG_UPLINK_XDP);
        CHECK(ev[0].rule == VEPA_RULE_M1);
        CHECK(ev[0].reason == VEPA_DROP_NO_PAYLOAD);
        CHECK(ev[0].slot == VEPA_SLOT_UPLINK);
        CHECK(Mac(ev[0].src) == ext);
    }
    SECTION("forwarding sampled 1 in 1: T1 to the uplink, R1 to v1")
    {
        set_monitor(tb, VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD, 1);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, eth_frame(ext, v1, kEthIpv4, 50)).verdict == TC_ACT_REDIRECT);
        CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, eth_frame(v1, ext, kEthIpv4, 50)).verdict == TC_ACT_REDIRECT);
        const auto ev = drain(tb.dp->events_fd());
        REQUIRE(ev.size() == 2);
        CHECK(ev[0].rule == VEPA_RULE_T1);
        CHECK(ev[0].action == VEPA_ACT_REDIRECT);
        CHECK(ev[0].egress == VEPA_SLOT_UPLINK);
        CHECK(ev[1].rule == VEPA_RULE_R1);
        CHECK(ev[1].prog == VEPA_PROG_UPLINK_TC);
        CHECK(ev[1].egress == tb.port("v1").slot);
    }
    set_monitor(tb, 0);
}
