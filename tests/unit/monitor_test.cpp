// vepactl monitor's pure parts: records named (event_json), filters, the text
// line and the summary.
#include <catch2/catch.hpp>

#include <cstring>

#include "cli/monitor_format.hpp"
#include "daemon/command_error.hpp"
#include "daemon/monitor_event.hpp"
#include "daemon/requests.hpp"
#include "daemon/stream_sink.hpp"

using namespace vepad;
using nlohmann::json;

namespace {

vepa_event spoofed_event()
{
    vepa_event e{};
    e.time_ns = 1000;
    e.ifindex = 7;
    e.len = 98;
    e.cpu = 1;
    e.slot = 2;
    e.egress = 2;
    e.prog = VEPA_PROG_PORT_TC;
    e.rule = VEPA_RULE_T5;
    e.action = VEPA_ACT_DROP;
    e.reason = VEPA_DROP_SPOOFED;
    e.proto = 0x0800;
    const uint8_t dst[6] = {0x02, 0, 0x0a, 0x14, 0, 0x64}, src[6] = {0x02, 0, 0x0a, 0x14, 0, 0x0b};
    std::memcpy(e.dst, dst, 6);
    std::memcpy(e.src, src, 6);
    return e;
}

PortsBySlot ports()
{
    return {{2, {"c2", {*vepa::Mac::parse("02:00:0a:14:00:0c")}}}, {3, {"c3", {}}}};
}

// 10:21:03.512 UTC on some day, in ns, minus the event's 1000 ns.
constexpr int64_t kOffset = (int64_t{1764670863} * 1000000000 + 512000000) - 1000;

} // namespace

TEST_CASE("monitor: a drop record named", "[monitor]")
{
    const json j = event_json(spoofed_event(), ports(), kOffset);
    CHECK(j["type"] == "event");
    CHECK(j["program"] == "port_tc");
    CHECK(j["port"] == "c2");
    CHECK(j["rule"] == "T5");
    CHECK(j["action"] == "drop");
    CHECK(j["reason"] == "spoofed");
    CHECK(j["to"] == "c2");
    CHECK(j["copies"].is_null());
    CHECK(j["src"] == "02:00:0a:14:00:0b");
    CHECK(j["port_macs"] == json::array({"02:00:0a:14:00:0c"}));
    CHECK(j["ethertype"] == 0x0800);
    CHECK(j["time"] == "2025-12-02T10:21:03.512000Z");
    CHECK(j["flags"]["group"] == false);
}

TEST_CASE("monitor: uplink senders, fan-out, unknown slots", "[monitor]")
{
    vepa_event e = spoofed_event();
    e.prog = VEPA_PROG_UPLINK_TC;
    e.slot = 0;
    e.action = VEPA_ACT_FANOUT;
    e.rule = VEPA_RULE_R4;
    e.egress = 3;
    e.flags = VEPA_EV_F_GROUP | VEPA_EV_F_HOST | VEPA_EV_F_REFLECTED;
    json j = event_json(e, ports(), 0);
    CHECK(j["port"] == "uplink");
    CHECK(j["copies"] == 3);
    CHECK(j["to"].is_null());
    CHECK(j["reason"].is_null());
    CHECK(!j.contains("port_macs"));
    CHECK(j["flags"]["reflected"] == true);

    e = spoofed_event();
    e.slot = 9; // no such port
    e.reason = VEPA_DROP_NOT_A_PORT;
    e.rule = VEPA_RULE_NONE;
    j = event_json(e, ports(), 0);
    CHECK(j["port"].is_null());
    CHECK(j["rule"].is_null());
}

TEST_CASE("monitor: rules parse", "[monitor]")
{
    CHECK(parse_rule("T5") == VEPA_RULE_T5);
    CHECK(parse_rule("r7") == VEPA_RULE_R7);
    CHECK(parse_rule("M1") == VEPA_RULE_M1);
    CHECK(parse_rule("V7") == VEPA_RULE_V7);
    CHECK(!parse_rule("T7"));
    CHECK(!parse_rule(""));
    for (uint8_t r = 1; r < VEPA_RULE__MAX; r++)
        CHECK(parse_rule(rule_name(r)) == r);
}

TEST_CASE("monitor: filters", "[monitor]")
{
    const json drop = event_json(spoofed_event(), ports(), 0);
    vepa_event fe = spoofed_event();
    fe.action = VEPA_ACT_REDIRECT;
    fe.rule = VEPA_RULE_T1;
    fe.egress = 0;
    const json fwd = event_json(fe, ports(), 0);

    MonitorFilter f;
    CHECK(filter_matches(f, drop));
    CHECK_FALSE(filter_matches(f, fwd)); // no sample: drops only
    f.sample = 10;
    CHECK(filter_matches(f, fwd));
    f.drops = true;
    CHECK_FALSE(filter_matches(f, fwd));

    f = {};
    f.port = "c2";
    CHECK(filter_matches(f, drop));
    f.port = "c3";
    CHECK_FALSE(filter_matches(f, drop));
    f.port = "uplink";
    f.sample = 1;
    CHECK(filter_matches(f, fwd)); // to the uplink

    f = {};
    f.mac = vepa::Mac::parse("02:00:0a:14:00:64");
    CHECK(filter_matches(f, drop));
    f.mac = vepa::Mac::parse("02:00:0a:14:00:65");
    CHECK_FALSE(filter_matches(f, drop));

    f = {};
    f.rule = VEPA_RULE_T5;
    CHECK(filter_matches(f, drop));
    f.rule = VEPA_RULE_T6;
    CHECK_FALSE(filter_matches(f, drop));

    f = {};
    f.vlan = 0;
    CHECK(filter_matches(f, drop));
    f.vlan = 10;
    CHECK_FALSE(filter_matches(f, drop));
}

TEST_CASE("monitor: the text line", "[monitor]")
{
    const json drop = event_json(spoofed_event(), ports(), kOffset);
    CHECK(vepactl::format_event(drop, false) ==
          "10:21:03.512 port_tc   c2      -> DROP     T5 spoofed  src 02:00:0a:14:00:0b (c2 has 02:00:0a:14:00:0c) "
          "ipv4 98B");

    vepa_event e = spoofed_event();
    e.prog = VEPA_PROG_UPLINK_TC;
    e.slot = 0;
    e.action = VEPA_ACT_REDIRECT_PEER;
    e.rule = VEPA_RULE_R1;
    e.vid = 10;
    e.flags = VEPA_EV_F_GSO;
    CHECK(vepactl::format_event(event_json(e, ports(), kOffset), false) ==
          "10:21:03.512 uplink_tc uplink  -> c2       R1 redirect-peer  dst 02:00:0a:14:00:64 src 02:00:0a:14:00:0b "
          "ipv4 vlan 10 98B gso");

    e.action = VEPA_ACT_FANOUT;
    e.rule = VEPA_RULE_R3;
    e.egress = 4;
    e.flags = VEPA_EV_F_HOST;
    e.proto = 0x88b5;
    e.vid = 0;
    CHECK(vepactl::format_event(event_json(e, ports(), kOffset), false) ==
          "10:21:03.512 uplink_tc uplink  -> 4 ports+host R3 dst 02:00:0a:14:00:64 src 02:00:0a:14:00:0b 0x88b5 98B");
}

TEST_CASE("monitor: the payload as hex, and as a dump under the line", "[monitor]")
{
    vepa_event_payload p{};
    for (int i = 0; i < VEPA_PAYLOAD_BYTES; i++)
        p.data[i] = static_cast<uint8_t>(0x30 + i); // '0', '1', ... printable, then '[' ... 'o'
    p.len = 3;
    CHECK(payload_hex(p) == "303132");
    p.len = 0;
    CHECK(payload_hex(p) == "");
    p.len = 1000; // never past the data
    CHECK(payload_hex(p).size() == 2 * VEPA_PAYLOAD_BYTES);

    json ev = event_json(spoofed_event(), ports(), 0);
    CHECK(vepactl::format_payload(ev) == ""); // none asked for
    ev["payload"] = "020000000101020000009999080045000102ff";
    CHECK(vepactl::format_payload(ev) ==
          "      0000  02 00 00 00 01 01 02 00  00 00 99 99 08 00 45 00  ..............E.\n"
          "      0010  01 02 ff                                          ...");
    p.len = 32;
    ev["payload"] = payload_hex(p);
    CHECK(vepactl::format_payload(ev) ==
          "      0000  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  0123456789:;<=>?\n"
          "      0010  40 41 42 43 44 45 46 47  48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO");
    ev["payload"] = "zz";
    CHECK(vepactl::format_payload(ev) == ""); // not hex: nothing rather than garbage
}

TEST_CASE("monitor: the summary", "[monitor]")
{
    vepactl::MonitorSummary s;
    CHECK(s.str() == "0 events, 0 lost");
    s.add(event_json(spoofed_event(), ports(), 0));
    s.add(event_json(spoofed_event(), ports(), 0));
    s.add({{"type", "lost"}, {"lost", 7}});
    vepa_event e = spoofed_event();
    e.rule = VEPA_RULE_NONE;
    s.add(event_json(e, ports(), 0));
    CHECK(s.str() == "3 events, 7 lost; by rule: - 1, T5 2");
}

TEST_CASE("monitor: the request's args", "[monitor]")
{
    const Request r = parse_request(
        R"({"cmd":"monitor","args":{"port":"c1","mac":"02:00:00:00:00:01","drops":true,"rule":"t5","vlan":10,)"
        R"("sample":4,"rate":100,"payload":true}})");
    const auto& m = std::get<Monitor>(r.cmd);
    CHECK(m.filter.port == "c1");
    CHECK(m.filter.mac == vepa::Mac::parse("02:00:00:00:00:01"));
    CHECK(m.filter.drops);
    CHECK(m.filter.rule == VEPA_RULE_T5);
    CHECK(m.filter.vlan == 10);
    CHECK(m.filter.sample == 4);
    CHECK(m.filter.rate == 100);
    CHECK(m.filter.payload);
    CHECK_FALSE(std::get<Monitor>(parse_request(R"({"cmd":"monitor","args":{}})").cmd).filter.payload);
    CHECK_FALSE(m.filter.wants_forwarding()); // drops only
    CHECK(std::get<Monitor>(parse_request(R"({"cmd":"monitor","args":{"port":"uplink"}})").cmd).filter.port ==
          "uplink");
    for (const char* bad : {R"({"cmd":"monitor","args":{"rule":"T9"}})", R"({"cmd":"monitor","args":{"sample":0}})",
                            R"({"cmd":"monitor","args":{"mac":"nope"}})", R"({"cmd":"monitor","args":{"vlan":4096}})",
                            R"({"cmd":"monitor","args":{"port":"a/b"}})", R"({"cmd":"monitor","args":{"x":1}})",
                            R"({"cmd":"monitor","args":{"payload":"yes"}})"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_request(bad), CommandError);
    }
}

TEST_CASE("monitor: a stream's queue is bounded; overflow closes it once", "[monitor]")
{
    StreamSink sink(100);
    int closed = 0, ready = 0;
    sink.on_close = [&] { closed++; };
    sink.on_ready = [&] { ready++; };
    CHECK(sink.push(std::string(40, 'a')));
    CHECK(sink.push(std::string(40, 'b')));
    CHECK(sink.take() == std::string(40, 'a') + "\n" + std::string(40, 'b') + "\n");
    CHECK(sink.push(std::string(60, 'c'))); // room again once taken
    CHECK_FALSE(sink.push(std::string(60, 'd')));
    CHECK(sink.closed());
    CHECK(sink.overflowed());
    CHECK(sink.empty());
    CHECK_FALSE(sink.push("e"));
    sink.close();
    CHECK(closed == 1);
    CHECK(ready == 4); // three lines, then the close
}
