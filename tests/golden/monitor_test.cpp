// Decision records (vepactl monitor) under BPF_PROG_TEST_RUN: with monitoring
// on, a drop writes exactly its record; with it off, nothing is written.  The
// payload (VEPA_MON_F_PAYLOAD): the frame's first 64 bytes as it came, XDP and
// TC, short frames whole, VLAN tags pushed or popped undone.  The reflected
// flag of unicast from the uplink.
#include <catch2/catch.hpp>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cstring>
#include <optional>
#include <vector>

#include "tests/support/testbed.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

const Mac v1 = mac("02:00:00:00:01:01"), v2 = mac("02:00:00:00:02:01"), ext = mac("02:00:00:00:99:99");

struct Record {
    vepa_event e{};
    size_t size = 0;
    std::optional<Bytes> payload; // when the record has one: its len bytes
    uint16_t payload_len = 0;
};

// Every record in the ring buffer now.
std::vector<Record> drain_records(int ringbuf_fd)
{
    std::vector<Record> out;
    auto cb = [](void* ctx, void* data, size_t size) -> int {
        Record r;
        r.size = size;
        std::memcpy(&r.e, data, std::min(size, sizeof(r.e)));
        if (size >= sizeof(vepa_event_with_payload)) {
            vepa_event_with_payload w{};
            std::memcpy(&w, data, sizeof(w));
            r.payload_len = w.payload.len;
            r.payload = Bytes(w.payload.data, w.payload.data + std::min<size_t>(w.payload.len, VEPA_PAYLOAD_BYTES));
        }
        static_cast<std::vector<Record>*>(ctx)->push_back(std::move(r));
        return 0;
    };
    ring_buffer* rb = ring_buffer__new(ringbuf_fd, cb, &out, nullptr);
    REQUIRE(rb);
    ring_buffer__consume(rb);
    ring_buffer__free(rb);
    return out;
}

std::vector<vepa_event> drain(int ringbuf_fd)
{
    std::vector<vepa_event> out;
    for (const Record& r : drain_records(ringbuf_fd))
        out.push_back(r.e);
    return out;
}

// The one record a run wrote.
Record only_record(Testbed& tb)
{
    auto recs = drain_records(tb.dp->events_fd());
    REQUIRE(recs.size() == 1);
    return recs[0];
}

Bytes head(const Bytes& frame) { return Bytes(frame.begin(), frame.begin() + std::min<size_t>(frame.size(), 64)); }

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

TEST_CASE("decision records: the payload, the frame's first 64 bytes as it came", "[golden]")
{
    const Mac t1 = mac("02:00:00:00:06:01"), x10 = mac("02:00:00:10:00:02"), a10 = mac("02:00:00:10:00:01");
    Testbed tb({{"v1", false, VEPA_MODE_VEPA, {v1}},
                {"v2", false, VEPA_MODE_VEPA, {v2}},
                {"t1", true, VEPA_MODE_VEPA, {t1}},
                {"x10", true, VEPA_MODE_VEPA, {x10}, std::nullopt, true, false, port_vlans(10)},
                {"a10", false, VEPA_MODE_VEPA, {a10}, std::nullopt, true, false, port_vlans(10)}});
    const int v1_if = tb.port("v1").ifindex, t1_if = tb.port("t1").ifindex;
    const Bytes lng = eth_frame(ext, t1, kEthIpv4, 200), shrt = eth_frame(ext, v2, kEthIpv4, 20);
    REQUIRE(shrt.size() < 64);
    drain(tb.dp->events_fd());

    SECTION("without the flag: records of struct vepa_event's size, no payload")
    {
        set_monitor(tb, VEPA_MON_F_DROPS);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, shrt).verdict == TC_ACT_SHOT);
        const Record r = only_record(tb);
        CHECK(r.size == sizeof(vepa_event));
        CHECK_FALSE(r.payload);
    }
    SECTION("XDP: a long frame's first 64 bytes; a short frame whole, with its length")
    {
        set_monitor(tb, VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD | VEPA_MON_F_PAYLOAD, 1);
        CHECK(tb.xdp(tb.dp->port_xdp_fd(), t1_if, lng).verdict == XDP_REDIRECT);
        Record r = only_record(tb);
        CHECK(r.size == sizeof(vepa_event_with_payload));
        CHECK(r.e.rule == VEPA_RULE_T1);
        CHECK(r.payload_len == 64);
        CHECK(r.payload == head(lng));
        const Bytes spoofed = eth_frame(ext, v2, kEthIpv4, 20);
        CHECK(tb.xdp(tb.dp->port_xdp_fd(), t1_if, spoofed).verdict == XDP_DROP);
        r = only_record(tb);
        CHECK(r.e.rule == VEPA_RULE_T5);
        CHECK(r.payload_len == spoofed.size());
        CHECK(r.payload == spoofed);
    }
    SECTION("TC: a long frame's first 64 bytes; a short frame whole")
    {
        set_monitor(tb, VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD | VEPA_MON_F_PAYLOAD, 1);
        const Bytes fwd = eth_frame(ext, v1, kEthIpv4, 200);
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, fwd).verdict == TC_ACT_REDIRECT);
        Record r = only_record(tb);
        CHECK(r.e.rule == VEPA_RULE_T1);
        CHECK(r.payload_len == 64);
        CHECK(r.payload == head(fwd));
        CHECK(tb.tc(tb.dp->port_tc_fd(), v1_if, shrt).verdict == TC_ACT_SHOT);
        r = only_record(tb);
        CHECK(r.e.rule == VEPA_RULE_T5);
        CHECK(r.payload_len == shrt.size());
        CHECK(r.payload == shrt);
    }
    SECTION("a tag the program pushed (V1) or popped (V3) is undone: the frame as it came")
    {
        set_monitor(tb, VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD | VEPA_MON_F_PAYLOAD, 1);
        const Bytes from_a10 = eth_frame(ext, a10, kEthIpv4, 100); // TC pushes 10 (into skb metadata)
        CHECK(tb.tc(tb.dp->port_tc_fd(), tb.port("a10").ifindex, from_a10).verdict == TC_ACT_REDIRECT);
        Record r = only_record(tb);
        CHECK(r.e.rule == VEPA_RULE_T1);
        CHECK(r.payload == head(from_a10));
        const Bytes from_x10 = eth_frame(ext, x10, kEthIpv4, 100); // XDP pushes 10 into the data
        CHECK(tb.xdp(tb.dp->port_xdp_fd(), tb.port("x10").ifindex, from_x10).verdict == XDP_REDIRECT);
        r = only_record(tb);
        CHECK(r.e.vid == 10);
        CHECK(r.payload == head(from_x10));
        const Bytes to_a10 = push_tag(eth_frame(a10, ext, kEthIpv4, 100), 10); // TC pops it
        CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, to_a10).verdict == TC_ACT_REDIRECT);
        r = only_record(tb);
        CHECK(r.e.rule == VEPA_RULE_R1);
        CHECK(r.payload == head(to_a10));
        const Bytes short_to_a10 = push_tag(eth_frame(a10, ext, kEthIpv4, 20), 10);
        CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, short_to_a10).verdict == TC_ACT_REDIRECT);
        r = only_record(tb);
        CHECK(r.payload_len == short_to_a10.size());
        CHECK(r.payload == short_to_a10);
        // XDP pops only when the uplink's tags are its to see (the flag cleared by hand).
        vepa_config cfg = tb.dp->config().lookup(0).value();
        cfg.flags &= ~VEPA_CFG_F_VLANS;
        tb.dp->config().update(0, cfg);
        const Bytes to_x10 = push_tag(eth_frame(x10, ext, kEthIpv4, 100), 10);
        CHECK(tb.xdp(tb.dp->uplink_xdp_fd(), tb.uplink, to_x10).verdict == XDP_REDIRECT);
        r = only_record(tb);
        CHECK(r.e.prog == VEPA_PROG_UPLINK_XDP);
        CHECK(r.payload == head(to_x10));
    }
    set_monitor(tb, 0);
}

TEST_CASE("decision records: unicast from the uplink with a local port's source is reflected", "[golden]")
{
    const Mac t1 = mac("02:00:00:00:06:01"), p1 = mac("02:00:00:00:05:01");
    Testbed tb({{"v1", false, VEPA_MODE_VEPA, {v1}},
                {"v2", false, VEPA_MODE_VEPA, {v2}},
                {"t1", true, VEPA_MODE_VEPA, {t1}},
                {"p1", false, VEPA_MODE_PRIVATE, {p1}}});
    drain(tb.dp->events_fd());
    set_monitor(tb, VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD, 1);
    struct Case {
        const char* what;
        bool xdp;
        Bytes frame;
        int verdict;
        uint8_t rule;
        bool reflected;
    };
    const Mac nobody = mac("02:00:00:00:88:88");
    const std::vector<Case> cases = {
        {"R1 from v2 to v1 (TC)", false, eth_frame(v1, v2, kEthIpv4, 50), TC_ACT_REDIRECT, VEPA_RULE_R1, true},
        {"R1 from outside to v1 (TC)", false, eth_frame(v1, ext, kEthIpv4, 50), TC_ACT_REDIRECT, VEPA_RULE_R1, false},
        {"R1 from v2 to the tap (XDP)", true, eth_frame(t1, v2, kEthIpv4, 50), XDP_REDIRECT, VEPA_RULE_R1, true},
        {"R1 from outside to the tap (XDP)", true, eth_frame(t1, ext, kEthIpv4, 50), XDP_REDIRECT, VEPA_RULE_R1, false},
        {"R7 from private p1 to the tap (XDP drop)", true, eth_frame(t1, p1, kEthIpv4, 50), XDP_DROP, VEPA_RULE_R7,
         true},
        {"R7 from v2 to private p1 (TC drop)", false, eth_frame(p1, v2, kEthIpv4, 50), TC_ACT_SHOT, VEPA_RULE_R7, true},
        {"R2 from v2 to nobody (host)", false, eth_frame(nobody, v2, kEthIpv4, 50), TC_ACT_OK, VEPA_RULE_R2, true},
        {"R2 from outside to nobody (host)", false, eth_frame(nobody, ext, kEthIpv4, 50), TC_ACT_OK, VEPA_RULE_R2,
         false},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        const RunResult run = c.xdp ? tb.xdp(tb.dp->uplink_xdp_fd(), tb.uplink, c.frame)
                                    : tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, c.frame);
        CHECK(run.verdict == c.verdict);
        const Record r = only_record(tb);
        CHECK(r.e.rule == c.rule);
        CHECK(((r.e.flags & VEPA_EV_F_REFLECTED) != 0) == c.reflected);
        CHECK_FALSE(r.e.flags & VEPA_EV_F_GROUP);
    }
    set_monitor(tb, 0);
}
