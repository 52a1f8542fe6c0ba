// One golden fixture or more per rule of docs/VEPA-SEMANTICS.md (T1-T6, R1-R7)
// and per malformation: the frame in, the verdict each program must return,
// where the frame must go (checked through the per-port counters), and the
// frame out, which vepad never modifies.  Each fixture runs twice: through
// XDP then TC as on an XDP-attached device, and through TC alone.
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "lib/netlink.hpp"
#include "tests/support/testbed.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

const Mac kV1 = mac("02:00:00:00:01:01"), kV1b = mac("02:00:00:00:01:02");
const Mac kV2 = mac("02:00:00:00:02:01");
const Mac kB1 = mac("02:00:00:00:03:01");
const Mac kB2 = mac("02:00:00:00:04:01");
const Mac kP1 = mac("02:00:00:00:05:01");
const Mac kT1 = mac("02:00:00:00:06:01");
const Mac kN1 = mac("02:00:00:00:07:01"); // port without anti-spoofing
// A port with more MACs than its record holds: anti-spoofing by MAC table lookup.
std::vector<Mac> many_macs()
{
    std::vector<Mac> m;
    for (int i = 1; i <= 6; i++)
        m.push_back(mac(("02:00:00:00:0a:0" + std::to_string(i)).c_str()));
    return m;
}
const Mac kExt = mac("02:00:00:00:99:99"); // a host beyond the switch
const Mac kUnknown = mac("02:00:00:00:88:88");
const Mac kMcast = mac("01:00:5e:00:00:fb");
const Mac kLldp = mac("01:80:c2:00:00:0e");
const Mac kPauseDst = mac("01:80:c2:00:00:01");
const Mac kProbeSrc = mac("0a:76:65:00:00:00");

std::vector<PortSpec> topology()
{
    return {
        {"v1", false, VEPA_MODE_VEPA, {kV1, kV1b}},
        {"v2", false, VEPA_MODE_VEPA, {kV2}},
        {"b1", false, VEPA_MODE_BRIDGE, {kB1}},
        {"b2", true, VEPA_MODE_BRIDGE, {kB2}},
        {"p1", false, VEPA_MODE_PRIVATE, {kP1}},
        {"t1", true, VEPA_MODE_VEPA, {kT1}},
        {"n1", false, VEPA_MODE_VEPA, {kN1}, std::nullopt, false},
        {"m1", false, VEPA_MODE_VEPA, many_macs()},
    };
}

struct Expected {
    std::optional<vepa_drop_reason> drop;
    std::string charged = "uplink"; // port a drop counts on
    std::vector<std::string> ports; // ports that get a copy
    bool uplink = false;
    bool host = false;
    bool probe = false;
    std::map<std::string, Bytes> frames; // what a port receives, when not the frame sent (V rules)
    std::optional<Bytes> uplink_frame;   // what the switch receives, when not the frame sent
    std::optional<Bytes> tc_out;         // what BPF_PROG_TEST_RUN shows after TC, when not the frame sent

    Expected with(std::string port, Bytes f) &&
    {
        frames[std::move(port)] = std::move(f);
        return std::move(*this);
    }
    Expected to_switch(Bytes f) &&
    {
        uplink_frame = std::move(f);
        return std::move(*this);
    }
    Expected tc_shows(Bytes f) &&
    {
        tc_out = std::move(f);
        return std::move(*this);
    }
};

Expected dropped(vepa_drop_reason r, std::string on = "uplink") { return {r, std::move(on)}; }
Expected to_ports(std::vector<std::string> p, bool host = false)
{
    return {std::nullopt, "", std::move(p), false, host};
}
Expected to_uplink(std::vector<std::string> copies = {}) { return {std::nullopt, "", std::move(copies), true, false}; }
Expected to_host() { return {std::nullopt, "", {}, false, true}; }
Expected probe_counted() { return {std::nullopt, "", {}, false, false, true}; }

struct Golden {
    const char* id;
    const char* what;
    std::string from; // "uplink" or a port name
    Bytes frame;
    int xdp; // verdict of the XDP program
    int tc;  // verdict of the TC program
    Expected want;
    uint32_t gso_size = 0;
};

Bytes cut(Bytes b, size_t n)
{
    b.resize(n);
    return b;
}

uint16_t slot_of(Testbed& tb, const std::string& name)
{
    return name == "uplink" ? VEPA_SLOT_UPLINK : tb.port(name).slot;
}

Outcome outcome_of(Testbed& tb, const Expected& e)
{
    Outcome o;
    o.drop = e.drop;
    if (e.drop)
        o.charged = slot_of(tb, e.charged);
    for (const auto& p : e.ports)
        o.ports.insert(tb.port(p).slot);
    for (const auto& [p, f] : e.frames)
        o.frames[tb.port(p).slot] = f;
    if (e.uplink_frame)
        o.uplink_frame = *e.uplink_frame;
    o.uplink = e.uplink;
    o.host = e.host;
    o.probe = e.probe;
    return o;
}

// The frame XDP redirects: to its one target, as that target takes it.
Bytes xdp_out(const Golden& g)
{
    if (g.want.uplink_frame)
        return *g.want.uplink_frame;
    if (g.want.ports.size() == 1 && g.want.frames.count(g.want.ports[0]))
        return g.want.frames.at(g.want.ports[0]);
    return g.frame;
}

void check(Testbed& tb, const Golden& g, bool with_xdp)
{
    const bool from_uplink = g.from == "uplink";
    const int ifindex = from_uplink ? tb.uplink : tb.port(g.from).ifindex;
    const Bytes tc_out = g.want.tc_out.value_or(g.frame);
    const auto before = tb.counters();
    int tc_verdict = -1;
    if (with_xdp) {
        const RunResult x = tb.xdp(from_uplink ? tb.dp->uplink_xdp_fd() : tb.dp->port_xdp_fd(), ifindex, g.frame);
        INFO("XDP verdict");
        CHECK(x.verdict == g.xdp);
        CHECK(hex(x.out, 80) == hex(x.verdict == XDP_REDIRECT ? xdp_out(g) : g.frame, 80));
        if (x.verdict == XDP_PASS) {
            const RunResult t =
                tb.tc(from_uplink ? tb.dp->uplink_tc_fd() : tb.dp->port_tc_fd(), ifindex, g.frame, g.gso_size);
            tc_verdict = t.verdict;
            CHECK(hex(t.out, 80) == hex(tc_out, 80));
        }
    } else {
        const RunResult t =
            tb.tc(from_uplink ? tb.dp->uplink_tc_fd() : tb.dp->port_tc_fd(), ifindex, g.frame, g.gso_size);
        tc_verdict = t.verdict;
        CHECK(hex(t.out, 80) == hex(tc_out, 80));
    }
    if (tc_verdict != -1) {
        INFO("TC verdict");
        CHECK(tc_verdict == g.tc);
    }
    const auto got = counter_delta(before, tb.counters());
    const auto want = counter_delta({}, [&] {
        std::map<uint16_t, vepa_counters> full;
        for (auto& [s, c] : expected_counters(slot_of(tb, g.from), outcome_of(tb, g.want), g.frame.size()))
            full[s] = c;
        return full;
    }());
    // The model agrees with the fixture: receivers, frames and what TC leaves.
    const Outcome model = expect(tb.model(), slot_of(tb, g.from), g.frame, g.gso_size);
    const auto model_counters = counter_delta({}, expected_counters(slot_of(tb, g.from), model, g.frame.size()));
    INFO("model: " << describe(model) << ", counters " << describe(model_counters));
    CHECK(describe(model_counters) == describe(want));
    // The explain programs (vepactl trace) agree with both: one table, three implementations.
    const Explained ex = explain_frame(tb, ifindex, g.frame, with_xdp, g.gso_size);
    INFO("explain programs: " << describe(ex.fate));
    if (with_xdp)
        CHECK(ex.xdp_verdict == g.xdp);
    if (ex.tc_verdict != -1)
        CHECK(ex.tc_verdict == g.tc);
    CHECK(ex.unkept == 0);
    CHECK(describe(ex.fate) == describe(explainable(model)));
    if (!model.drop)
        CHECK(hex(tc_data_out(g.frame, model), 80) == hex(tc_out, 80));
    INFO("counters moved: " << describe(got));
    INFO("counters expected: " << describe(want));
    CHECK(got.size() == want.size());
    for (const auto& [slot, c] : want) {
        auto it = got.find(slot);
        REQUIRE(it != got.end());
        CHECK(counters_equal(it->second, c));
    }
}

std::vector<Golden> fixtures(Testbed& tb)
{
    const Mac host = *NetlinkRequester().link("up0")->mac;
    auto f = [](const Mac& d, const Mac& s, uint16_t et = kEthIpv4, size_t len = 46, std::vector<uint16_t> tags = {}) {
        return eth_frame(d, s, et, len, tags, 0x600df00d);
    };
    return {
        // Sending (frames a port transmits)
        {"T1", "vepa port unicast to another local port goes to the uplink", "v1", f(kV2, kV1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T1", "vepa port group frame goes to the uplink only", "v1", f(kBroadcast, kV1), XDP_REDIRECT, TC_ACT_REDIRECT,
         to_uplink()},
        {"T1", "private port unicast to a bridge port goes to the uplink", "p1", f(kB1, kP1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T1", "private port broadcast goes to the uplink only", "p1", f(kBroadcast, kP1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T2", "bridge port unicast to a bridge tap is delivered locally by XDP", "b1", f(kB2, kB1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_ports({"b2"})},
        {"T2", "bridge tap unicast to a bridge veth is delivered locally by TC", "b2", f(kB1, kB2), XDP_PASS,
         TC_ACT_REDIRECT, to_ports({"b1"})},
        {"T3", "bridge port unicast to a vepa port goes to the uplink", "b1", f(kV1, kB1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T3", "bridge port unicast to an unknown MAC goes to the uplink", "b1", f(kUnknown, kB1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T3", "bridge port unicast to itself goes to the uplink", "b1", f(kB1, kB1), XDP_REDIRECT, TC_ACT_REDIRECT,
         to_uplink()},
        {"T4", "bridge port broadcast: copy to the other bridge port and to the uplink", "b1", f(kBroadcast, kB1),
         XDP_PASS, TC_ACT_REDIRECT, to_uplink({"b2"})},
        {"T4", "bridge port multicast: copy to the other bridge port and to the uplink", "b2", f(kMcast, kB2), XDP_PASS,
         TC_ACT_REDIRECT, to_uplink({"b1"})},
        {"T4", "bridge port link-local frame is not copied locally", "b1", f(kLldp, kB1, 0x88cc), XDP_PASS,
         TC_ACT_REDIRECT, to_uplink()},
        {"T5", "source MAC of another port is dropped as spoofed", "v1", f(kExt, kV2), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_SPOOFED, "v1")},
        {"T5", "source MAC of the switch side is dropped as spoofed", "t1", f(kExt, kExt), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_SPOOFED, "t1")},
        {"T5", "a port's second MAC is its own", "v1", f(kExt, kV1b), XDP_REDIRECT, TC_ACT_REDIRECT, to_uplink()},
        {"T5", "a port without anti-spoofing may send any unicast source", "n1", f(kExt, kUnknown), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"T5", "a port with six MACs may send from its sixth (MAC table lookup)", "m1", f(kExt, many_macs()[5]),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_uplink()},
        {"T5", "a port with six MACs may not send from another port's", "m1", f(kExt, kV1), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_SPOOFED, "m1")},
        {"T5", "a port with six MACs may not send from an unknown MAC", "m1", f(kExt, kUnknown), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_SPOOFED, "m1")},
        {"T6", "PAUSE from a port is never forwarded", "v1", f(kPauseDst, kV1, kEthPause), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_PAUSE, "v1")},
        {"T6", "PAUSE from a bridge port is not copied locally", "b1", f(kPauseDst, kB1, kEthPause), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_PAUSE, "b1")},
        {"T6", "PAUSE from the uplink is never forwarded", "uplink", f(kPauseDst, kExt, kEthPause), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_PAUSE)},
        // vepad's reflection probe (not a rule of the semantics: vepad's own frames)
        {"PROBE", "vepad's reflection probe coming back is counted and consumed", "uplink",
         f(tb.probe_dst, kProbeSrc, VEPA_PROBE_ETHERTYPE), XDP_PASS, TC_ACT_SHOT, probe_counted()},
        {"PROBE", "another ethertype to the probe MAC is unknown unicast for the host (R2)", "uplink",
         f(tb.probe_dst, kExt), XDP_PASS, TC_ACT_OK, to_host()},
        {"PROBE", "the probe ethertype to another unknown MAC is for the host (R2)", "uplink",
         f(kUnknown, kExt, VEPA_PROBE_ETHERTYPE), XDP_PASS, TC_ACT_OK, to_host()},
        {"PROBE", "a port sending to the probe MAC sends to the uplink (T1)", "v1",
         f(tb.probe_dst, kV1, VEPA_PROBE_ETHERTYPE), XDP_REDIRECT, TC_ACT_REDIRECT, to_uplink()},
        // Receiving from the uplink
        {"R1", "unicast to a tap port is redirected by XDP", "uplink", f(kT1, kExt), XDP_REDIRECT, TC_ACT_REDIRECT,
         to_ports({"t1"})},
        {"R1", "unicast to a container port is redirected by TC", "uplink", f(kV1, kExt), XDP_PASS, TC_ACT_REDIRECT,
         to_ports({"v1"})},
        {"R1", "unicast to a port's second MAC", "uplink", f(kV1b, kExt), XDP_PASS, TC_ACT_REDIRECT, to_ports({"v1"})},
        {"R1", "reflected unicast between two vepa ports is delivered", "uplink", f(kT1, kV1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_ports({"t1"})},
        {"R2", "unicast to an unknown MAC goes to the host only", "uplink", f(kUnknown, kExt), XDP_PASS, TC_ACT_OK,
         to_host()},
        {"R2", "unicast to the host's MAC goes to the host only", "uplink", f(host, kExt), XDP_PASS, TC_ACT_OK,
         to_host()},
        {"R3", "external broadcast goes to every port and the host", "uplink", f(kBroadcast, kExt), XDP_PASS, TC_ACT_OK,
         to_ports({"v1", "v2", "b1", "b2", "p1", "t1", "n1", "m1"}, true)},
        {"R3", "external multicast goes to every port and the host", "uplink", f(kMcast, kExt), XDP_PASS, TC_ACT_OK,
         to_ports({"v1", "v2", "b1", "b2", "p1", "t1", "n1", "m1"}, true)},
        {"R3", "link-local group frames (LLDP) go to the host only", "uplink", f(kLldp, kExt, 0x88cc), XDP_PASS,
         TC_ACT_OK, to_host()},
        {"R4", "reflected broadcast of a vepa port: vepa and bridge ports but the sender, and the host", "uplink",
         f(kBroadcast, kV1), XDP_PASS, TC_ACT_OK, to_ports({"v2", "b1", "b2", "t1", "n1", "m1"}, true)},
        {"R4", "reflected broadcast sent from a vepa port's second MAC excludes that port", "uplink",
         f(kBroadcast, kV1b), XDP_PASS, TC_ACT_OK, to_ports({"v2", "b1", "b2", "t1", "n1", "m1"}, true)},
        {"R5", "reflected broadcast of a bridge port: vepa ports only, and the host", "uplink", f(kBroadcast, kB1),
         XDP_PASS, TC_ACT_OK, to_ports({"v1", "v2", "t1", "n1", "m1"}, true)},
        {"R6", "reflected broadcast of a private port: no port, the host only", "uplink", f(kBroadcast, kP1), XDP_PASS,
         TC_ACT_OK, to_host()},
        {"R7", "reflected unicast from a vepa port to a private port is dropped", "uplink", f(kP1, kV1), XDP_PASS,
         TC_ACT_SHOT, dropped(VEPA_DROP_PRIVATE, "p1")},
        {"R7", "reflected unicast from a private port to a vepa tap is dropped", "uplink", f(kT1, kP1), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_PRIVATE, "t1")},
        {"R7", "reflected unicast from a private port to a bridge port is dropped", "uplink", f(kB1, kP1), XDP_PASS,
         TC_ACT_SHOT, dropped(VEPA_DROP_PRIVATE, "b1")},
        {"R7", "external unicast to a private port is delivered", "uplink", f(kP1, kExt), XDP_PASS, TC_ACT_REDIRECT,
         to_ports({"p1"})},
        {"R7", "reflected unicast from a private port to itself is delivered", "uplink", f(kP1, kP1), XDP_PASS,
         TC_ACT_REDIRECT, to_ports({"p1"})},
        // Malformed frames
        {"M1", "VLAN tag and no payload, from the uplink", "uplink", f(kT1, kExt, kEthIpv4, 0, {kEthVlan}), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_NO_PAYLOAD)},
        {"M1", "VLAN tag and no payload, from a port", "t1", f(kExt, kT1, kEthIpv4, 0, {kEthVlan}), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_NO_PAYLOAD, "t1")},
        {"M1", "Ethernet header and no payload", "uplink", f(kT1, kExt, kEthIpv4, 0), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_NO_PAYLOAD)},
        {"M2", "VLAN tag cut short", "uplink", cut(f(kT1, kExt, kEthIpv4, 0, {kEthVlan}), 16), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_TRUNCATED)},
        {"M3", "three stacked VLAN tags", "uplink", f(kT1, kExt, kEthIpv4, 46, {kEthQinq, kEthVlan, kEthVlan}),
         XDP_DROP, TC_ACT_SHOT, dropped(VEPA_DROP_VLAN_DEPTH)},
        {"M3", "two stacked VLAN tags (QinQ) are the S-VLAN's: for the host when no trunk-all port owns the MAC",
         "uplink", f(kT1, kExt, kEthIpv4, 46, {kEthQinq, kEthVlan}), XDP_PASS, TC_ACT_OK, to_host()},
        {"M4", "frame longer than the uplink MTU, not GSO", "v1", f(kExt, kV1, kEthIpv4, 1600), XDP_PASS, TC_ACT_SHOT,
         dropped(VEPA_DROP_OVERSIZE, "v1")},
        {"M4", "frame longer than the uplink MTU from the uplink", "uplink", f(kT1, kExt, kEthIpv4, 1600), XDP_PASS,
         TC_ACT_SHOT, dropped(VEPA_DROP_OVERSIZE)},
        {"M4", "GSO super-frame from a port is forwarded", "v1", f(kExt, kV1, kEthIpv4, 1600), XDP_PASS,
         TC_ACT_REDIRECT, to_uplink(), 1448},
        {"M5", "group source MAC", "uplink", f(kT1, kMcast), XDP_DROP, TC_ACT_SHOT, dropped(VEPA_DROP_BAD_SRC)},
        {"M5", "all-zero source MAC from a port", "n1", f(kExt, Mac()), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_BAD_SRC, "n1")},
    };
}

} // namespace

TEST_CASE("golden frames: every rule, through XDP then TC and through TC alone", "[golden]")
{
    // Catch re-enters the test case once per section: build the testbed once.
    static Testbed tb(topology());
    static const std::vector<Golden> all = fixtures(tb);
    for (const Golden& g : all) {
        for (bool with_xdp : {true, false}) {
            // A GSO frame only exists as an skb: XDP never sees one as such.
            if (with_xdp && g.gso_size)
                continue;
            // Frames the harness cannot make an skb of are XDP's only.
            if (!with_xdp && !tc_test_run_accepts(g.frame))
                continue;
            DYNAMIC_SECTION(g.id << ": " << g.what << (with_xdp ? " [xdp+tc]" : " [tc]")) { check(tb, g, with_xdp); }
        }
    }
}

TEST_CASE("golden frames: frames on a device with no port record are dropped", "[golden]")
{
    Testbed tb(topology());
    sh("ip link add stray type veth peer name strayg && ip link set stray up");
    const int stray = ifindex_of("stray");
    const Bytes frame = eth_frame(kExt, kV1, kEthIpv4, 46);
    const auto before = tb.counters();
    CHECK(tb.xdp(tb.dp->port_xdp_fd(), stray, frame).verdict == XDP_DROP);
    CHECK(tb.tc(tb.dp->port_tc_fd(), stray, frame).verdict == TC_ACT_SHOT);
    const auto d = counter_delta(before, tb.counters());
    REQUIRE(d.count(VEPA_SLOT_UPLINK));
    CHECK(d.at(VEPA_SLOT_UPLINK).drops[VEPA_DROP_NOT_A_PORT] == 2);
    const Explained ex = explain_frame(tb, stray, frame, true);
    CHECK(ex.xdp_verdict == XDP_DROP);
    CHECK(ex.fate.drop == VEPA_DROP_NOT_A_PORT);
    sh("ip link del stray");
}

TEST_CASE("golden frames: with the uplink absent, ports' frames are dropped and counted", "[golden]")
{
    Testbed tb(topology());
    tb.uplink_present = false;
    tb.sync();
    const Bytes frame = eth_frame(kExt, kV1, kEthIpv4, 46);
    const auto before = tb.counters();
    // XDP finds no uplink in the devmap and leaves the frame to TC, which drops it.
    CHECK(tb.xdp(tb.dp->port_xdp_fd(), tb.port("v1").ifindex, frame).verdict == XDP_PASS);
    CHECK(tb.tc(tb.dp->port_tc_fd(), tb.port("v1").ifindex, frame).verdict == TC_ACT_SHOT);
    const auto d = counter_delta(before, tb.counters());
    REQUIRE(d.count(tb.port("v1").slot));
    CHECK(d.at(tb.port("v1").slot).drops[VEPA_DROP_NO_UPLINK] == 1);
    // The explain programs say so too.
    const Explained ex = explain_frame(tb, tb.port("v1").ifindex, frame, true);
    CHECK(ex.xdp_verdict == XDP_PASS);
    CHECK(ex.tc_verdict == TC_ACT_SHOT);
    CHECK(ex.fate.drop == VEPA_DROP_NO_UPLINK);
    CHECK(ex.fate.charged == tb.port("v1").slot);
}

TEST_CASE("golden frames: a port whose link is down gets no frames, and the drops are counted", "[golden]")
{
    Testbed tb(topology());
    tb.port("v1").delivery = VEPA_DELIVER_DOWN;
    tb.port("t1").delivery = VEPA_DELIVER_DOWN;
    tb.sync();
    const uint16_t v1 = tb.port("v1").slot, t1 = tb.port("t1").slot;
    auto before = tb.counters();
    // Unicast: XDP leaves it to TC, which drops it as port_down.
    CHECK(tb.xdp(tb.dp->uplink_xdp_fd(), tb.uplink, eth_frame(kT1, kExt, kEthIpv4, 46)).verdict == XDP_PASS);
    CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, eth_frame(kT1, kExt, kEthIpv4, 46)).verdict == TC_ACT_SHOT);
    CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, eth_frame(kV1, kExt, kEthIpv4, 46)).verdict == TC_ACT_SHOT);
    auto d = counter_delta(before, tb.counters());
    CHECK(d[t1].drops[VEPA_DROP_PORT_DOWN] == 1);
    CHECK(d[v1].drops[VEPA_DROP_PORT_DOWN] == 1);
    for (const auto& [to, slot] : {std::pair{kT1, t1}, std::pair{kV1, v1}}) {
        const Explained ex = explain_frame(tb, tb.uplink, eth_frame(to, kExt, kEthIpv4, 46), true);
        CHECK(ex.fate.drop == VEPA_DROP_PORT_DOWN);
        CHECK(ex.fate.charged == slot);
    }
    // The explain programs leave the port out of a group frame's copies, as the real ones do.
    const Explained group = explain_frame(tb, tb.uplink, eth_frame(kBroadcast, kExt, kEthIpv4, 46), false);
    CHECK_FALSE(group.fate.ports.count(v1));
    CHECK_FALSE(group.fate.ports.count(t1));
    CHECK(group.fate.ports.count(tb.port("v2").slot));
    // Group frames skip it.
    before = tb.counters();
    CHECK(tb.tc(tb.dp->uplink_tc_fd(), tb.uplink, eth_frame(kBroadcast, kExt, kEthIpv4, 46)).verdict == TC_ACT_OK);
    d = counter_delta(before, tb.counters());
    CHECK_FALSE(d.count(v1));
    CHECK_FALSE(d.count(t1));
    CHECK(d[tb.port("v2").slot].tx_packets == 1);
    // T2 to a bridge port that is down.
    tb.port("b2").delivery = VEPA_DELIVER_DOWN;
    tb.sync();
    before = tb.counters();
    CHECK(tb.tc(tb.dp->port_tc_fd(), tb.port("b1").ifindex, eth_frame(kB2, kB1, kEthIpv4, 46)).verdict == TC_ACT_SHOT);
    d = counter_delta(before, tb.counters());
    CHECK(d[tb.port("b2").slot].drops[VEPA_DROP_PORT_DOWN] == 1);
}

// ---- VLANs (V1-V7) ------------------------------------------------------------

namespace {

const Mac kA10 = mac("02:00:00:10:00:01"); // veth, untagged VLAN 10
const Mac kX10 = mac("02:00:00:10:00:02"); // tap, untagged VLAN 10
const Mac kA20 = mac("02:00:00:20:00:01"); // veth, untagged VLAN 20
const Mac kTr = mac("02:00:00:30:00:01");  // tap, untagged 20, tagged 30
const Mac kAll = mac("02:00:00:40:00:01"); // veth, every VLAN tagged, untagged frames as they are
const Mac kU0 = mac("02:00:00:50:00:01");  // tap, no VLAN settings
const Mac kBr1 = mac("02:00:00:60:00:01"); // bridge veth, untagged 10
const Mac kBr2 = mac("02:00:00:60:00:02"); // bridge tap, tagged 10
const Mac kBr3 = mac("02:00:00:60:00:03"); // bridge veth, untagged 20
const Mac kPv = mac("02:00:00:70:00:01");  // private veth, untagged 10
std::vector<Mac> vlan_many_macs()
{
    std::vector<Mac> m;
    for (int i = 1; i <= 6; i++)
        m.push_back(mac(("02:00:00:80:00:0" + std::to_string(i)).c_str()));
    return m;
}

std::vector<PortSpec> vlan_topology()
{
    return {
        {"a10", false, VEPA_MODE_VEPA, {kA10}, std::nullopt, true, false, port_vlans(10)},
        {"x10", true, VEPA_MODE_VEPA, {kX10}, std::nullopt, true, false, port_vlans(10)},
        {"a20", false, VEPA_MODE_VEPA, {kA20}, std::nullopt, true, false, port_vlans(20)},
        {"tr", true, VEPA_MODE_VEPA, {kTr}, std::nullopt, true, false, port_vlans(20, {30})},
        {"ta", false, VEPA_MODE_VEPA, {kAll}, std::nullopt, true, false, port_vlans(0, {}, true)},
        {"u0", true, VEPA_MODE_VEPA, {kU0}},
        {"br1", false, VEPA_MODE_BRIDGE, {kBr1}, std::nullopt, true, false, port_vlans(10)},
        {"br2", true, VEPA_MODE_BRIDGE, {kBr2}, std::nullopt, true, false, port_vlans(0, {10})},
        {"br3", false, VEPA_MODE_BRIDGE, {kBr3}, std::nullopt, true, false, port_vlans(20)},
        {"pv", false, VEPA_MODE_PRIVATE, {kPv}, std::nullopt, true, false, port_vlans(10)},
        {"mm", false, VEPA_MODE_VEPA, vlan_many_macs(), std::nullopt, true, false, port_vlans(10)},
    };
}

Bytes tag(const Bytes& f, uint16_t tci) { return push_tag(f, tci); }
Bytes stag(const Bytes& f, uint16_t tci) { return push_tag(f, tci, kEthQinq); }

std::vector<Golden> vlan_fixtures()
{
    auto f = [](const Mac& d, const Mac& s, size_t len = 46) { return eth_frame(d, s, kEthIpv4, len, {}, 0x7a9d0001); };
    const Bytes x10_out = f(kExt, kX10), prio = tag(f(kExt, kX10), 5 << 13);
    return {
        // V1: a port's untagged frame leaves tagged with its untagged VLAN
        {"V1", "tap in VLAN 10: untagged unicast leaves tagged 10 (XDP pushes)", "x10", x10_out, XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink().to_switch(tag(x10_out, 10))},
        {"V1", "veth in VLAN 10: broadcast leaves tagged 10", "a10", f(kBroadcast, kA10), XDP_REDIRECT, TC_ACT_REDIRECT,
         to_uplink().to_switch(tag(f(kBroadcast, kA10), 10))},
        {"V1", "a port without VLANs sends untagged frames as they are", "u0", f(kExt, kU0), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"V1", "a priority-tagged frame counts as untagged: VLAN 10's tag goes outside it", "x10", prio, XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink().to_switch(tag(prio, 10))},
        {"V1", "a trunk port's untagged frame takes its untagged VLAN 20", "tr", f(kExt, kTr), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink().to_switch(tag(f(kExt, kTr), 20))},
        {"V1", "a trunk-all port without an untagged VLAN sends untagged frames as they are", "ta", f(kExt, kAll),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_uplink()},
        // V2: a port's tagged frame passes only in one of its tagged VLANs
        {"V2", "tagged 30 from a trunk port in 30 leaves unchanged", "tr", tag(f(kExt, kTr), 30), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"V2", "tagged 40 from a trunk port not in 40 is dropped", "tr", tag(f(kExt, kTr), 40), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_VLAN, "tr")},
        {"V2", "tagged with its own untagged VLAN is not a tagged member: dropped", "x10", tag(f(kExt, kX10), 10),
         XDP_DROP, TC_ACT_SHOT, dropped(VEPA_DROP_VLAN, "x10")},
        {"V2", "a port without VLANs may not send tagged (no VLAN hopping)", "u0", tag(f(kExt, kU0), 10), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_VLAN, "u0")},
        {"V2", "an S-tag from a trunk port is dropped", "tr", stag(f(kExt, kTr), 30), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_VLAN, "tr")},
        {"V2", "an S-tag from a trunk-all port leaves unchanged", "ta", stag(f(kExt, kAll), 30), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"V2", "any VLAN tagged from a trunk-all port leaves unchanged", "ta", tag(f(kExt, kAll), 777), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink()},
        {"V2", "the VLAN check comes before anti-spoofing", "u0", tag(f(kExt, kExt), 10), XDP_DROP, TC_ACT_SHOT,
         dropped(VEPA_DROP_VLAN, "u0")},
        // V3: unicast from the uplink by (wire VLAN, destination)
        {"V3", "tagged 10 to a tap in VLAN 10: delivered untagged (XDP pops)", "uplink", tag(f(kX10, kExt), 10),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_ports({"x10"}).with("x10", f(kX10, kExt)).tc_shows(f(kX10, kExt))},
        {"V3", "tagged 10 to a veth in VLAN 10: delivered untagged (TC pops)", "uplink", tag(f(kA10, kExt), 10),
         XDP_PASS, TC_ACT_REDIRECT, to_ports({"a10"}).with("a10", f(kA10, kExt)).tc_shows(f(kA10, kExt))},
        {"V3", "untagged to a port in VLAN 10: not its VLAN, the host's (R2)", "uplink", f(kA10, kExt), XDP_PASS,
         TC_ACT_OK, to_host()},
        {"V3", "tagged 20 to a port in VLAN 10: the host's (R2)", "uplink", tag(f(kX10, kExt), 20), XDP_PASS, TC_ACT_OK,
         to_host()},
        {"V3", "tagged 30 to a trunk port in 30 keeps its tag", "uplink", tag(f(kTr, kExt), 30), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_ports({"tr"}).with("tr", tag(f(kTr, kExt), 30))},
        {"V3", "tagged 20 to a trunk port with untagged VLAN 20 is popped", "uplink", tag(f(kTr, kExt), 20),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_ports({"tr"}).with("tr", f(kTr, kExt)).tc_shows(f(kTr, kExt))},
        {"V3", "any VLAN to a trunk-all port keeps its tag (VEPA_VID_ANY)", "uplink", tag(f(kAll, kExt), 777), XDP_PASS,
         TC_ACT_REDIRECT, to_ports({"ta"}).with("ta", tag(f(kAll, kExt), 777))},
        {"V3", "an S-tagged frame to a trunk-all port keeps its tag", "uplink", stag(f(kAll, kExt), 30), XDP_PASS,
         TC_ACT_REDIRECT, to_ports({"ta"}).with("ta", stag(f(kAll, kExt), 30))},
        {"V3", "an S-tagged frame to a trunk port: the host's", "uplink", stag(f(kTr, kExt), 30), XDP_PASS, TC_ACT_OK,
         to_host()},
        {"V3", "untagged to a trunk-all port without an untagged VLAN is delivered", "uplink", f(kAll, kExt), XDP_PASS,
         TC_ACT_REDIRECT, to_ports({"ta"})},
        {"V3", "priority-tagged counts as untagged: to a port without VLANs, as it came", "uplink",
         tag(f(kU0, kExt), 3 << 13), XDP_REDIRECT, TC_ACT_REDIRECT, to_ports({"u0"})},
        {"V3", "tagged 10 over an inner tag: the outer one popped", "uplink", tag(tag(f(kX10, kExt), 5), 10),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_ports({"x10"}).with("x10", tag(f(kX10, kExt), 5)).tc_shows(f(kX10, kExt))},
        // V4: group frames from the uplink reach the members of their VLAN, the host as they came
        {"V4", "broadcast tagged 10: VLAN 10's ports, popped for untagged members, kept for tagged ones", "uplink",
         tag(f(kBroadcast, kExt), 10), XDP_PASS, TC_ACT_OK,
         to_ports({"a10", "x10", "br1", "br2", "pv", "mm", "ta"}, true)
             .with("a10", f(kBroadcast, kExt))
             .with("x10", f(kBroadcast, kExt))
             .with("br1", f(kBroadcast, kExt))
             .with("pv", f(kBroadcast, kExt))
             .with("mm", f(kBroadcast, kExt))
             .tc_shows(f(kBroadcast, kExt))},
        {"V4", "untagged broadcast: ports without an untagged VLAN only (a tagged-only trunk too)", "uplink",
         f(kBroadcast, kExt), XDP_PASS, TC_ACT_OK, to_ports({"ta", "u0", "br2"}, true)},
        {"V4", "broadcast tagged 30: its tagged members keep the tag, nothing popped", "uplink",
         tag(f(kBroadcast, kExt), 30), XDP_PASS, TC_ACT_OK, to_ports({"tr", "ta"}, true)},
        {"V4", "broadcast tagged 20", "uplink", tag(f(kBroadcast, kExt), 20), XDP_PASS, TC_ACT_OK,
         to_ports({"a20", "tr", "br3", "ta"}, true)
             .with("a20", f(kBroadcast, kExt))
             .with("tr", f(kBroadcast, kExt))
             .with("br3", f(kBroadcast, kExt))
             .tc_shows(f(kBroadcast, kExt))},
        {"V4", "S-tagged broadcast: trunk-all ports only", "uplink", stag(f(kBroadcast, kExt), 10), XDP_PASS, TC_ACT_OK,
         to_ports({"ta"}, true)},
        {"V4", "reflected broadcast of a VLAN 10 port excludes it (R4 by (10, source))", "uplink",
         tag(f(kBroadcast, kA10), 10), XDP_PASS, TC_ACT_OK,
         to_ports({"x10", "br1", "br2", "mm", "ta"}, true)
             .with("x10", f(kBroadcast, kA10))
             .with("br1", f(kBroadcast, kA10))
             .with("mm", f(kBroadcast, kA10))
             .tc_shows(f(kBroadcast, kA10))},
        {"V4", "a port's MAC seen in a VLAN the port is not in is an external sender (R3)", "uplink",
         tag(f(kBroadcast, kTr), 10), XDP_PASS, TC_ACT_OK,
         to_ports({"a10", "x10", "br1", "br2", "pv", "mm", "ta"}, true)
             .with("a10", f(kBroadcast, kTr))
             .with("x10", f(kBroadcast, kTr))
             .with("br1", f(kBroadcast, kTr))
             .with("pv", f(kBroadcast, kTr))
             .with("mm", f(kBroadcast, kTr))
             .tc_shows(f(kBroadcast, kTr))},
        {"V4", "reflected broadcast of a trunk port in VLAN 30 excludes it", "uplink", tag(f(kBroadcast, kTr), 30),
         XDP_PASS, TC_ACT_OK, to_ports({"ta"}, true)},
        // V5: modes within a VLAN
        {"V5", "bridge broadcast in VLAN 10: local copy to VLAN 10's bridge ports, tagged for a tagged member", "br1",
         f(kBroadcast, kBr1), XDP_PASS, TC_ACT_REDIRECT,
         to_uplink({"br2"}).with("br2", tag(f(kBroadcast, kBr1), 10)).to_switch(tag(f(kBroadcast, kBr1), 10))},
        {"V5", "bridge broadcast tagged 10 from a tagged member: popped for an untagged member", "br2",
         tag(f(kBroadcast, kBr2), 10), XDP_PASS, TC_ACT_REDIRECT,
         to_uplink({"br1"}).with("br1", f(kBroadcast, kBr2)).tc_shows(f(kBroadcast, kBr2))},
        {"V5", "bridge unicast within VLAN 10 to a tagged member: delivered locally, tag pushed", "br1", f(kBr2, kBr1),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_ports({"br2"}).with("br2", tag(f(kBr2, kBr1), 10))},
        {"V5", "bridge unicast to a bridge port of another VLAN goes to the uplink", "br1", f(kBr3, kBr1), XDP_REDIRECT,
         TC_ACT_REDIRECT, to_uplink().to_switch(tag(f(kBr3, kBr1), 10))},
        {"V5", "R7 within VLAN 10: reflected private -> veth dropped", "uplink", tag(f(kA10, kPv), 10), XDP_PASS,
         TC_ACT_SHOT, dropped(VEPA_DROP_PRIVATE, "a10")},
        {"V5", "R7 within VLAN 10: reflected private -> tap dropped by XDP", "uplink", tag(f(kX10, kPv), 10), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_PRIVATE, "x10")},
        {"V5", "the private port's MAC in VLAN 20 is no local port's: delivered", "uplink", tag(f(kA20, kPv), 20),
         XDP_PASS, TC_ACT_REDIRECT, to_ports({"a20"}).with("a20", f(kA20, kPv)).tc_shows(f(kA20, kPv))},
        // V6: anti-spoofing within the VLAN
        {"V6", "a port with six MACs sends from its sixth (lookup by (10, MAC))", "mm", f(kExt, vlan_many_macs()[5]),
         XDP_REDIRECT, TC_ACT_REDIRECT, to_uplink().to_switch(tag(f(kExt, vlan_many_macs()[5]), 10))},
        {"V6", "a port with six MACs may not send from a VLAN 10 neighbour's", "mm", f(kExt, kA10), XDP_DROP,
         TC_ACT_SHOT, dropped(VEPA_DROP_SPOOFED, "mm")},
        // V7: a pushed tag counts against the frame length
        {"V7", "an untagged frame that fits only without the tag is oversize once tagged", "x10", f(kExt, kX10, 1505),
         XDP_PASS, TC_ACT_SHOT, dropped(VEPA_DROP_OVERSIZE, "x10")},
        {"V7", "the same frame from a port without VLANs fits", "u0", f(kExt, kU0, 1505), XDP_REDIRECT, TC_ACT_REDIRECT,
         to_uplink()},
    };
}

} // namespace

TEST_CASE("golden frames: VLANs (V1-V7), through XDP then TC and through TC alone", "[golden]")
{
    static Testbed tb(vlan_topology());
    static const std::vector<Golden> all = vlan_fixtures();
    // With a port in a VLAN, the uplink's XDP program leaves every frame to TC
    // (VEPA_CFG_F_VLANS: XDP cannot see a tag kept as skb metadata).  The XDP
    // verdicts of the fixtures are those of an uplink whose tags XDP can see
    // (no rx VLAN offload): the flag cleared by hand.
    const vepa_config cfg = tb.dp->config().lookup(0).value();
    REQUIRE(cfg.flags & VEPA_CFG_F_VLANS);
    for (const bool vlan_safe : {true, false}) {
        vepa_config c = cfg;
        if (!vlan_safe)
            c.flags &= ~VEPA_CFG_F_VLANS;
        tb.dp->config().update(0, c);
        for (Golden g : all) {
            if (vlan_safe && g.from == "uplink")
                g.xdp = XDP_PASS;
            for (bool with_xdp : {true, false}) {
                if (!vlan_safe && (!with_xdp || g.from != "uplink"))
                    continue;
                DYNAMIC_SECTION(g.id << ": " << g.what << (with_xdp ? " [xdp+tc]" : " [tc]")
                                     << (vlan_safe ? "" : " [xdp sees tags]"))
                {
                    check(tb, g, with_xdp);
                }
            }
        }
    }
    tb.dp->config().update(0, cfg);
}

TEST_CASE("map sync: a trunk port's tagged set at its slot, zeroed when it is a trunk no more", "[golden]")
{
    Testbed tb({{"tr", true, VEPA_MODE_VEPA, {kTr}, std::nullopt, true, false, port_vlans(20, {30, 4094})},
                {"u0", true, VEPA_MODE_VEPA, {kU0}}});
    const uint32_t slot = tb.port("tr").slot;
    auto set = tb.dp->vlans().lookup(slot);
    REQUIRE(set);
    CHECK(set->bits[0] == 1ull << 30);
    CHECK(set->bits[63] == 1ull << 62);
    CHECK(tb.dp->macs().lookup(kTr.key(30)));
    CHECK_FALSE(tb.dp->macs().lookup(kTr.key(0)));
    // Tagged 30 passes; once the port is an access port of VLAN 20 only, it is dropped.
    const Bytes f = push_tag(eth_frame(kExt, kTr, kEthIpv4, 46), 30);
    CHECK(tb.tc(tb.dp->port_tc_fd(), tb.port("tr").ifindex, f).verdict == TC_ACT_REDIRECT);
    tb.port("tr").vlans = port_vlans(20);
    tb.sync();
    CHECK(tb.dp->vlans().lookup(slot)->bits[0] == 0);
    CHECK_FALSE(tb.dp->macs().lookup(kTr.key(30)));
    CHECK(tb.dp->macs().lookup(kTr.key(20))->vflags == 0);
    CHECK(tb.tc(tb.dp->port_tc_fd(), tb.port("tr").ifindex, f).verdict == TC_ACT_SHOT);
    // No port with VLANs left: the uplink's XDP fast path is back.
    CHECK(tb.dp->config().lookup(0)->flags & VEPA_CFG_F_VLANS);
    tb.port("tr").vlans = PortVlans{};
    tb.sync();
    CHECK_FALSE(tb.dp->config().lookup(0)->flags & VEPA_CFG_F_VLANS);
}
