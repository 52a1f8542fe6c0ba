// vepactl trace's pure parts: the hops and verdict (daemon/trace.cpp) from
// made-up explain results, FRAME parsing (cli/frame_spec.cpp), the text output
// (cli/trace_format.cpp) and the request.  The explain programs themselves are
// checked against the real programs and the model in golden-rules/-random.
#include <catch2/catch.hpp>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "cli/frame_spec.hpp"
#include "lib/hex.hpp"
#include "cli/trace_format.hpp"
#include "daemon/command_error.hpp"
#include "daemon/requests.hpp"
#include "daemon/trace.hpp"

using namespace vepad;
using nlohmann::json;
using vepa::Explanation;
using vepa::Mac;
using vepa::Program;
using Bytes = std::vector<uint8_t>;

namespace {

const Mac kC1 = *Mac::parse("02:00:00:00:00:01"), kC2 = *Mac::parse("02:00:00:00:00:02");
const Mac kUp = *Mac::parse("02:00:00:00:00:fe"), kExt = *Mac::parse("02:00:00:00:99:99");
constexpr int kUplink = 10, kC1If = 11, kC2If = 12;

TraceHost host(const std::string& reflection = "reflecting")
{
    TraceHost h;
    h.uplink = "up0";
    h.uplink_dev = {kUplink, true};
    h.local_macs = {kUp, kC1, kC2};
    h.ports["c1"] = {kC1If, false};
    h.ports["c2"] = {kC2If, false};
    h.names = {{1, {"c1", {kC1}}}, {2, {"c2", {kC2}}}};
    h.reflection = reflection;
    if (reflection != "unknown")
        h.reflection_by = "probe";
    return h;
}

Bytes frame(const Mac& dst, const Mac& src, size_t len = 60)
{
    Bytes f(len, 0);
    std::memcpy(f.data(), dst.bytes().data(), 6);
    std::memcpy(f.data() + 6, src.bytes().data(), 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    return f;
}

vepa_event event(uint8_t prog, uint8_t rule, uint8_t action, uint16_t slot, uint16_t egress, uint8_t reason = 0)
{
    vepa_event e{};
    e.prog = prog;
    e.rule = rule;
    e.action = action;
    e.slot = slot;
    e.egress = egress;
    e.reason = reason;
    return e;
}

// An explain function from a script: what each program decides, and the calls made.
struct Script {
    std::map<Program, Explanation> by_program;
    std::vector<std::pair<Program, int>> calls;
    std::vector<Bytes> frames;

    ExplainFn fn()
    {
        return [this](Program p, int ifindex, const Bytes& f) {
            calls.emplace_back(p, ifindex);
            frames.push_back(f);
            Explanation e = by_program.at(p);
            if (e.out.empty())
                e.out = f;
            return e;
        };
    }
    void decide(Program p, int verdict, std::vector<vepa_event> ds, std::vector<uint16_t> copies = {})
    {
        Explanation e;
        e.xdp = p == Program::UplinkXdp || p == Program::PortXdp;
        e.verdict = verdict;
        e.decisions = std::move(ds);
        e.copies = std::move(copies);
        by_program[p] = e;
    }
    // c1 -> uplink by TC (T1); the uplink's XDP passes; its TC redirects to c2 (R1).
    void unicast_c1_to_c2()
    {
        decide(Program::PortTc, TC_ACT_REDIRECT,
               {event(VEPA_PROG_PORT_TC, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK)});
        decide(Program::UplinkXdp, XDP_PASS, {});
        decide(Program::UplinkTc, TC_ACT_REDIRECT,
               {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R1, VEPA_ACT_REDIRECT_PEER, 0, 2)});
    }
};

} // namespace

TEST_CASE("trace: a unicast frame through a reflecting switch reaches the other port", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    const json t = trace(host(), "c1", frame(kC2, kC1), s.fn());
    REQUIRE(t["hops"].size() == 4);
    CHECK(t["hops"][0]["program"] == "port_tc");
    CHECK(t["hops"][0]["decisions"][0]["rule"] == "T1");
    CHECK(t["hops"][0]["decisions"][0]["to"] == "uplink");
    CHECK(t["hops"][1]["at"] == "switch");
    CHECK(t["hops"][1]["action"] == "reflect");
    CHECK(t["hops"][2]["program"] == "uplink_xdp");
    CHECK(t["hops"][2]["verdict"] == "pass");
    CHECK(t["hops"][3]["decisions"][0]["to"] == "c2");
    CHECK(t["result"]["outcome"] == "delivered");
    CHECK(t["result"]["ports"] == json::array({"c2"}));
    CHECK(t["result"]["conditional"] == false);
    CHECK(t["result"]["summary"] == "delivered to c2 (via the switch)");
    // The programs of the devices the frame meets, on the ifindexes it meets them.
    CHECK(s.calls == std::vector<std::pair<Program, int>>{
                         {Program::PortTc, kC1If}, {Program::UplinkXdp, kUplink}, {Program::UplinkTc, kUplink}});
    CHECK(vepactl::trace_status(t) == 0);
}

TEST_CASE("trace: without reflection the switch drops a frame for a local port", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    const json t = trace(host("not-reflecting"), "c1", frame(kC2, kC1), s.fn());
    REQUIRE(t["hops"].size() == 2);
    CHECK(t["hops"][1]["action"] == "drop");
    CHECK(t["result"]["outcome"] == "dropped");
    CHECK(t["result"]["dropped_by"] == "switch");
    CHECK(t["result"]["drop"]["reason"] == "not-reflecting");
    CHECK(s.calls.size() == 1); // the uplink never sees it again
    CHECK(vepactl::trace_status(t) == 1);
}

TEST_CASE("trace: an unknown reflection state makes the delivery conditional", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    const json t = trace(host("unknown"), "c1", frame(kC2, kC1), s.fn());
    CHECK(t["result"]["ports"] == json::array({"c2"}));
    CHECK(t["result"]["conditional"] == true);
    CHECK(t["hops"][1]["by"].is_null());
    CHECK(t["result"]["summary"] == "delivered to c2 (via the switch) if the switch reflects (its reflection is unknown)");
    // What does not depend on the switch is said without the caveat.
    Script g;
    g.decide(Program::PortTc, TC_ACT_REDIRECT,
             {event(VEPA_PROG_PORT_TC, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK)});
    g.decide(Program::UplinkXdp, XDP_PASS, {});
    vepa_event fan = event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R4, VEPA_ACT_FANOUT, 0, 1);
    fan.flags = VEPA_EV_F_HOST;
    g.decide(Program::UplinkTc, TC_ACT_OK, {fan}, {2});
    CHECK(trace(host("unknown"), "c1", frame(*Mac::parse("ff:ff:ff:ff:ff:ff"), kC1), g.fn())["result"]["summary"] ==
          "delivered to the network beyond the switch, and to c2 (via the switch) and the host stack if the switch "
          "reflects (its reflection is unknown)");
}

TEST_CASE("trace: a frame for a host beyond the switch goes to the network", "[trace]")
{
    for (const char* refl : {"reflecting", "not-reflecting"}) {
        Script s;
        s.unicast_c1_to_c2();
        const json t = trace(host(refl), "c1", frame(kExt, kC1), s.fn());
        CHECK(t["hops"].size() == 2);
        CHECK(t["hops"][1]["action"] == "forward");
        CHECK(t["result"]["network"] == true);
        CHECK(t["result"]["outcome"] == "delivered");
        CHECK(t["result"]["summary"] == "delivered to the network beyond the switch");
    }
}

TEST_CASE("trace: an 802.1 link-local frame stops at the switch", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    const json t = trace(host(), "c1", frame(*Mac::parse("01:80:c2:00:00:0e"), kC1), s.fn());
    CHECK(t["hops"].size() == 2);
    CHECK(t["hops"][1]["action"] == "consume");
    CHECK(t["result"]["switch"] == true);
    CHECK(t["result"]["network"] == false);
    CHECK(t["result"]["outcome"] == "delivered");
    CHECK(t["result"]["summary"] == "delivered to the switch itself (an IEEE 802.1 link-local frame, never forwarded)");
    // 01:80:c2:00:00:10 and above are ordinary group addresses.
    CHECK(trace(host(), "c1", frame(*Mac::parse("01:80:c2:00:00:10"), kC1), s.fn())["hops"][1]["action"] ==
          "flood-and-reflect");
}

TEST_CASE("trace: with the uplink down a frame never reaches the switch", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    TraceHost h = host();
    h.uplink_up = false;
    const json t = trace(h, "c1", frame(kC2, kC1), s.fn());
    CHECK(t["hops"].size() == 2);
    CHECK(t["hops"][1]["action"] == "unreachable");
    CHECK(t["result"]["outcome"] == "dropped");
    CHECK(t["result"]["dropped_by"] == "uplink");
    CHECK(t["result"]["summary"] == "lost: the uplink up0 is down: the frame never reaches the switch");
    CHECK(vepactl::trace_status(t) == 1);
}

TEST_CASE("trace: a frame the kernel's test run refuses is a refusal, not a failure", "[trace]")
{
    const ExplainFn einval = [](Program, int, const Bytes&) -> Explanation {
        throw std::system_error(EINVAL, std::generic_category(), "TC test run");
    };
    try {
        trace(host(), "c1", frame(kC2, kC1), einval);
        FAIL("no refusal");
    } catch (const CommandError& e) {
        CHECK(e.code() == "invalid-argument");
        CHECK(std::string(e.what()).find("test run of port_tc refused this 60-byte frame") != std::string::npos);
    }
    const ExplainFn eperm = [](Program, int, const Bytes&) -> Explanation {
        throw std::system_error(EPERM, std::generic_category(), "TC test run");
    };
    CHECK_THROWS_AS(trace(host(), "c1", frame(kC2, kC1), eperm), std::system_error);
}

TEST_CASE("trace: a frame for the host's own MAC comes back to the host stack", "[trace]")
{
    Script s;
    s.decide(Program::PortTc, TC_ACT_REDIRECT,
             {event(VEPA_PROG_PORT_TC, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK)});
    s.decide(Program::UplinkXdp, XDP_PASS, {});
    s.decide(Program::UplinkTc, TC_ACT_OK, {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R2, VEPA_ACT_HOST, 0, 0)});
    const json t = trace(host(), "c1", frame(kUp, kC1), s.fn());
    CHECK(t["hops"][1]["action"] == "reflect");
    CHECK(t["result"]["host"] == true);
    CHECK(t["result"]["summary"] == "delivered to the host stack");
}

TEST_CASE("trace: a group frame is flooded, reflected, and fanned out to the others", "[trace]")
{
    Script s;
    s.decide(Program::PortTc, TC_ACT_REDIRECT,
             {event(VEPA_PROG_PORT_TC, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK)});
    s.decide(Program::UplinkXdp, XDP_PASS, {});
    vepa_event fan = event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R4, VEPA_ACT_FANOUT, 0, 1);
    fan.flags = VEPA_EV_F_HOST | VEPA_EV_F_REFLECTED;
    s.decide(Program::UplinkTc, TC_ACT_OK, {fan}, {2});
    const json t = trace(host(), "c1", frame(*Mac::parse("ff:ff:ff:ff:ff:ff"), kC1), s.fn());
    CHECK(t["hops"][1]["action"] == "flood-and-reflect");
    CHECK(t["hops"][3]["copies"] == json::array({"c2"}));
    CHECK(t["result"]["ports"] == json::array({"c2"}));
    CHECK(t["result"]["host"] == true);
    CHECK(t["result"]["network"] == true);
    CHECK(t["result"]["summary"] == "delivered to c2 (via the switch), the host stack and the network beyond the switch");
    // Without reflection: the network only.
    Script s2 = s;
    s2.calls.clear();
    const json t2 = trace(host("not-reflecting"), "c1", frame(*Mac::parse("ff:ff:ff:ff:ff:ff"), kC1), s2.fn());
    CHECK(t2["hops"][1]["action"] == "flood");
    CHECK(t2["result"]["outcome"] == "delivered");
    CHECK(t2["result"]["ports"].empty());
    CHECK(t2["result"]["network"] == true);
}

TEST_CASE("trace: a drop at the port ends the trace there, with rule and reason", "[trace]")
{
    Script s;
    s.decide(Program::PortTc, TC_ACT_SHOT,
             {event(VEPA_PROG_PORT_TC, VEPA_RULE_T5, VEPA_ACT_DROP, 1, 1, VEPA_DROP_SPOOFED)});
    const json t = trace(host(), "c1", frame(kExt, kC2), s.fn());
    CHECK(t["hops"].size() == 1);
    CHECK(t["hops"][0]["verdict"] == "shot");
    CHECK(t["result"]["dropped_by"] == "vepad");
    CHECK(t["result"]["drop"] == json{{"at", "c1"}, {"program", "port_tc"}, {"rule", "T5"}, {"reason", "spoofed"}});
    CHECK(t["result"]["summary"] == "dropped by vepad at c1 (port_tc): T5 spoofed");
}

TEST_CASE("trace: XDP first where vepad attached it, TC only when XDP passes", "[trace]")
{
    TraceHost h = host();
    h.ports["c1"].xdp = true;
    Script s;
    s.decide(Program::PortXdp, XDP_REDIRECT,
             {event(VEPA_PROG_PORT_XDP, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK)});
    s.decide(Program::UplinkXdp, XDP_REDIRECT, {event(VEPA_PROG_UPLINK_XDP, VEPA_RULE_R1, VEPA_ACT_REDIRECT, 0, 2)});
    const json t = trace(h, "c1", frame(kC2, kC1), s.fn());
    CHECK(s.calls == std::vector<std::pair<Program, int>>{{Program::PortXdp, kC1If}, {Program::UplinkXdp, kUplink}});
    CHECK(t["result"]["ports"] == json::array({"c2"}));
    // The uplink without our XDP: TC alone.
    h.uplink_dev.xdp = false;
    s.decide(Program::UplinkTc, TC_ACT_REDIRECT, {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R1, VEPA_ACT_REDIRECT, 0, 2)});
    s.calls.clear();
    trace(h, "c1", frame(kC2, kC1), s.fn());
    CHECK(s.calls.back() == std::pair<Program, int>{Program::UplinkTc, kUplink});
}

TEST_CASE("trace: a bridge port's local delivery never meets the switch", "[trace]")
{
    Script s;
    s.decide(Program::PortTc, TC_ACT_REDIRECT, {event(VEPA_PROG_PORT_TC, VEPA_RULE_T2, VEPA_ACT_REDIRECT_PEER, 1, 2)});
    const json t = trace(host(), "c1", frame(kC2, kC1), s.fn());
    CHECK(t["hops"].size() == 1);
    CHECK(t["result"]["local_ports"] == json::array({"c2"}));
    CHECK(t["result"]["ports"].empty());
    CHECK(t["result"]["summary"] == "delivered to c2 (locally, bridge mode)");
}

TEST_CASE("trace: frames from the uplink start at the uplink's programs", "[trace]")
{
    Script s;
    s.decide(Program::UplinkXdp, XDP_PASS, {});
    s.decide(Program::UplinkTc, TC_ACT_OK, {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R2, VEPA_ACT_HOST, 0, 0)});
    const json t = trace(host(), "uplink", frame(kUp, kExt), s.fn());
    CHECK(t["hops"].size() == 2);
    CHECK(t["hops"][0]["at"] == "uplink");
    CHECK(t["result"]["summary"] == "delivered to the host stack");
    s.decide(Program::UplinkTc, TC_ACT_SHOT, {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_NONE, VEPA_ACT_PROBE, 0, 0)});
    CHECK(trace(host(), "uplink", frame(kUp, kExt), s.fn())["result"]["probe"] == true);
}

TEST_CASE("trace: the frame on the wire carries the VLAN tag TC keeps as metadata", "[trace]")
{
    Script s;
    vepa_event out = event(VEPA_PROG_PORT_TC, VEPA_RULE_T1, VEPA_ACT_REDIRECT, 1, VEPA_SLOT_UPLINK);
    out.vid = 10;
    s.decide(Program::PortTc, TC_ACT_REDIRECT, {out});
    s.decide(Program::UplinkXdp, XDP_PASS, {});
    s.decide(Program::UplinkTc, TC_ACT_REDIRECT, {event(VEPA_PROG_UPLINK_TC, VEPA_RULE_R1, VEPA_ACT_REDIRECT, 0, 2)});
    const Bytes f = frame(kC2, kC1);
    const json t = trace(host(), "c1", f, s.fn());
    CHECK(t["hops"][1]["frame"]["vlan"] == 10);
    REQUIRE(s.frames.size() == 3);
    CHECK(s.frames[1] == wire_frame(f, 10));
    CHECK(s.frames[1].size() == f.size() + 4);
    CHECK(s.frames[1][12] == 0x81);
    CHECK(s.frames[1][15] == 10);
    CHECK(wire_frame(s.frames[1], 20) == s.frames[1]); // already tagged: as it is
    CHECK(wire_frame(f, 0) == f);
}

TEST_CASE("trace: refusals", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    auto code = [&](const TraceHost& h, const std::string& from, const Bytes& f) -> std::string {
        try {
            trace(h, from, f, s.fn());
        } catch (const CommandError& e) {
            return e.code();
        }
        return "ok";
    };
    CHECK(code(host(), "c9", frame(kC2, kC1)) == "not-found");
    TraceHost no_uplink = host();
    no_uplink.uplink_dev = {};
    CHECK(code(no_uplink, "uplink", frame(kC2, kExt)) == "not-found");
    CHECK(code(host(), "c1", Bytes(14, 0)) == "invalid-argument");
    Bytes short_ip = frame(kC2, kC1, 30);
    short_ip[12] = 0x08;
    short_ip[13] = 0x00;
    CHECK(code(host(), "c1", short_ip) == "invalid-argument");
    CHECK(code(host(), "c1", frame(kC2, kC1, 15)) == "ok");
}

TEST_CASE("trace: FRAME as hex or fields", "[trace]")
{
    using vepactl::parse_frame_spec;
    const Bytes hex = parse_frame_spec("ffffffffffff 02:00:00:00:00:01 88b5 00");
    CHECK(hex.size() == 15);
    CHECK(hex[6] == 0x02);
    CHECK(hex[13] == 0xb5);
    const Bytes f = parse_frame_spec("dst=02:00:00:00:00:02,src=02:00:00:00:00:01");
    REQUIRE(f.size() == 60);
    CHECK(Mac(f.data()) == kC2);
    CHECK(Mac(f.data() + 6) == kC1);
    CHECK((f[12] << 8 | f[13]) == 0x0800);
    CHECK(f[14] == 0x45);                     // a real IPv4 header
    CHECK((f[16] << 8 | f[17]) == 60 - 14);   // its total length
    uint32_t sum = 0;                          // and its checksum
    for (int i = 0; i < 20; i += 2)
        sum += static_cast<uint32_t>(f[14 + i] << 8 | f[15 + i]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);
    const Bytes v = parse_frame_spec("dst=02:00:00:00:00:02,src=02:00:00:00:00:01,type=arp,vlan=10,vlan=20,prio=5,len=64");
    REQUIRE(v.size() == 64);
    CHECK((v[12] << 8 | v[13]) == 0x8100);
    CHECK((v[14] << 8 | v[15]) == (5 << 13 | 10));
    CHECK((v[16] << 8 | v[17]) == 0x8100);
    CHECK((v[18] << 8 | v[19]) == (5 << 13 | 20));
    CHECK((v[20] << 8 | v[21]) == 0x0806);
    CHECK(parse_frame_spec("dst=02:00:00:00:00:02,src=02:00:00:00:00:01,type=0x88b5,len=15").size() == 15);
    CHECK(vepa::to_hex({0x00, 0xab, 0xff}) == "00abff");
    for (const char* bad :
         {"fff", "ffxx", "dst=02:00:00:00:00:02", "dst=zz,src=02:00:00:00:00:01",
          "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,vlan=4096",
          "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,len=14", "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,color=red",
          "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,len=99999", "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,len=-1",
          "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,len=3713", "dst=02:00:00:00:00:02,src=02:00:00:00:00:01,prio=3",
          "ffffffffffff0200000000018"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_frame_spec(bad), vepactl::FrameSpecError);
    }
}

TEST_CASE("trace: the text output, one line per hop and the verdict", "[trace]")
{
    Script s;
    s.unicast_c1_to_c2();
    const std::string text = vepactl::format_trace(trace(host(), "c1", frame(kC2, kC1), s.fn()));
    INFO(text);
    CHECK(text.find("trace from c1: 02:00:00:00:00:01 > 02:00:00:00:00:02 0x88b5 60B\n") == 0);
    CHECK(text.find("port_tc    redirect          T1 redirect -> uplink\n") != std::string::npos);
    CHECK(text.find("switch") != std::string::npos);
    CHECK(text.find("[reflection reflecting by probe]") != std::string::npos);
    CHECK(text.find("uplink_xdp pass              pass to TC\n") != std::string::npos);
    CHECK(text.find("R1 redirect-peer -> c2\n") != std::string::npos);
    CHECK(text.substr(text.rfind('\n', text.size() - 2) + 1) == "delivered to c2 (via the switch)\n");
    CHECK(std::count(text.begin(), text.end(), '\n') == 6);

    Script d;
    d.decide(Program::PortTc, TC_ACT_SHOT,
             {event(VEPA_PROG_PORT_TC, VEPA_RULE_T5, VEPA_ACT_DROP, 1, 1, VEPA_DROP_SPOOFED)});
    const std::string drop = vepactl::format_trace(trace(host(), "c1", frame(kExt, kC2), d.fn()));
    CHECK(drop.find("T5 DROP spoofed (c1 has 02:00:00:00:00:01)") != std::string::npos);
}

TEST_CASE("trace: the request", "[trace]")
{
    const auto t = std::get<Trace>(
        parse_request(R"({"cmd": "trace", "args": {"from": "c1", "frame": "FFffffffffff02000000000188b500"}})").cmd);
    CHECK(t.from == "c1");
    CHECK(t.frame.size() == 15);
    CHECK(t.frame[0] == 0xff);
    CHECK(std::get<Trace>(parse_request(R"({"cmd": "trace", "args": {"from": "uplink", "frame": ")" +
                                        std::string(120, 'a') + R"("}})")
                              .cmd)
              .from == "uplink");
    auto code = [](const std::string& line) -> std::string {
        try {
            parse_request(line);
        } catch (const CommandError& e) {
            return e.code();
        }
        return "ok";
    };
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1"}})") == "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"frame": "ffffffffffffffffffffffffffffff"}})") == "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": "fffffffffffffffffffffffffffff"}})") ==
          "invalid-argument"); // odd
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": "ffffffffffffffffffffffffffff"}})") ==
          "invalid-argument"); // 14 bytes
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": "ffffffffffffffffffffffffffffzz"}})") ==
          "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"from": "bad/name", "frame": "ffffffffffffffffffffffffffffff"}})") ==
          "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": "ffffffffffffffffffffffffffffff", "x": 1}})") ==
          "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": ")" + std::string(2 * 16385, 'a') + R"("}})") ==
          "invalid-argument");
    CHECK(code(R"({"cmd": "trace", "args": {"from": "c1", "frame": ")" + std::string(2 * 3713, 'a') + R"("}})") ==
          "invalid-argument");
}
