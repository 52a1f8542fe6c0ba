#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "daemon/metrics.hpp"

using namespace vepad;
using nlohmann::json;

namespace {

json counters(uint64_t rx, uint64_t spoofed = 0)
{
    return {{"rx_packets", rx}, {"rx_bytes", rx * 100},  {"tx_packets", 7},  {"tx_bytes", 700},
            {"host_packets", 3}, {"host_bytes", 300},    {"probe_packets", 2},
            {"drops", {{"spoofed", spoofed}, {"vlan", 0}}}};
}

MetricsSources sources(const RequestCounts* req)
{
    MetricsSources s;
    s.list = {{"ports", {{{"name", "c1"}, {"state", "up"}}, {{"name", "tap\"1"}, {"state", "absent"}}}}};
    s.stats = {{"uplink", {{"name", "up0"}, {"counters", counters(1152921504606846977ull)}}},
               {"ports", {{{"name", "c1"}, {"counters", counters(5, 2)}}, {{"name", "tap\"1"}, {"counters", counters(0)}}}}};
    s.status = {{"version", "0.1.0"},
                {"layout_version", 3},
                {"uplink", {{"name", "up0"}, {"state", "up"}}},
                {"monitor", {{"clients", 2}, {"events", 40}, {"lost", 3}, {"dropped_clients", 1}}},
                {"reflective_relay",
                 {{"verdict", "reflecting"},
                  {"probe", {{"state", "reflecting"}, {"rtt_ms", 0.25}, {"age_s", 4}}},
                  {"lldp", {{"bridge_evb", {{"rr_enabled", false}}}}}}}};
    s.requests = req;
    s.reconcile_runs = 9;
    s.reconcile_failures = 1;
    s.reconcile_last_seconds = 0.125;
    s.reconcile_seconds = 2;
    return s;
}

// sample line (name{labels}) -> value, and every family's HELP/TYPE count.
struct Parsed {
    std::map<std::string, std::string> samples;
    std::map<std::string, int> help, type;
};

Parsed parse(const std::string& text)
{
    Parsed p;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0)
            ++p.help[line.substr(7, line.find(' ', 7) - 7)];
        else if (line.rfind("# TYPE ", 0) == 0)
            ++p.type[line.substr(7, line.find(' ', 7) - 7)];
        else
            p.samples[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
    }
    return p;
}

} // namespace

TEST_CASE("metrics: counters, states and requests from the protocol's objects")
{
    RequestCounts req;
    req.count("add-port", "ok", 0.5);
    req.count("add-port", "ok", 0.25);
    req.count("add-port", "invalid-argument", 0.125);
    req.count("", "bad-request");
    const auto text = render_metrics(sources(&req));
    const Parsed p = parse(text);
    CHECK(text.back() == '\n');
    for (const auto& [name, n] : p.help) {
        INFO(name);
        CHECK(n == 1);
        CHECK(p.type.at(name) == 1);
        CHECK(name.rfind("vepad_", 0) == 0);
    }
    auto at = [&](const std::string& k) {
        INFO(k);
        REQUIRE(p.samples.count(k));
        return p.samples.at(k);
    };
    CHECK(at(R"(vepad_build_info{uplink="up0",version="0.1.0",layout_version="3"})") == "1");
    CHECK(at(R"(vepad_uplink_up{uplink="up0"})") == "1");
    // counters are exact integers, even beyond a double's 53 bits
    CHECK(at(R"(vepad_uplink_received_packets_total{uplink="up0"})") == "1152921504606846977");
    CHECK(at(R"(vepad_uplink_host_packets_total{uplink="up0"})") == "3");
    CHECK(at(R"(vepad_uplink_probe_packets_total{uplink="up0"})") == "2");
    CHECK(at(R"(vepad_port_received_packets_total{uplink="up0",port="c1"})") == "5");
    CHECK(at(R"(vepad_port_received_bytes_total{uplink="up0",port="c1"})") == "500");
    CHECK(at(R"(vepad_port_transmitted_packets_total{uplink="up0",port="c1"})") == "7");
    CHECK(at(R"(vepad_port_drops_total{uplink="up0",port="c1",reason="spoofed"})") == "2");
    // every reason, zeros included, for every port
    CHECK(at(R"(vepad_port_drops_total{uplink="up0",port="c1",reason="clone_failed"})") == "0");
    CHECK(at(R"(vepad_uplink_drops_total{uplink="up0",reason="vlan"})") == "0");
    // label values are escaped
    CHECK(at(R"(vepad_port_up{uplink="up0",port="tap\"1"})") == "0");
    CHECK(at(R"(vepad_port_up{uplink="up0",port="c1"})") == "1");
    CHECK(at(R"(vepad_ports{uplink="up0",state="up"})") == "1");
    CHECK(at(R"(vepad_ports{uplink="up0",state="absent"})") == "1");
    CHECK(at(R"(vepad_ports{uplink="up0",state="down"})") == "0");
    CHECK(at(R"(vepad_reflective_relay{uplink="up0",source="verdict",state="reflecting"})") == "1");
    CHECK(at(R"(vepad_reflective_relay{uplink="up0",source="verdict",state="unknown"})") == "0");
    CHECK(at(R"(vepad_reflective_relay{uplink="up0",source="lldp",state="not-reflecting"})") == "1");
    CHECK(at(R"(vepad_probe_rtt_seconds{uplink="up0"})") == "0.00025000000000000001");
    CHECK(at(R"(vepad_probe_age_seconds{uplink="up0"})") == "4");
    CHECK(at(R"(vepad_reconcile_runs_total{uplink="up0"})") == "9");
    CHECK(at(R"(vepad_monitor_events_total{uplink="up0"})") == "40");
    CHECK(at(R"(vepad_monitor_lost_total{uplink="up0"})") == "3");
    CHECK(at(R"(vepad_monitor_clients{uplink="up0"})") == "2");
    CHECK(at(R"(vepad_monitor_dropped_clients_total{uplink="up0"})") == "1");
    CHECK(at(R"(vepad_reconcile_failures_total{uplink="up0"})") == "1");
    CHECK(at(R"(vepad_reconcile_failing{uplink="up0"})") == "0");
    CHECK(at(R"(vepad_reconcile_last_duration_seconds{uplink="up0"})") == "0.125");
    CHECK(at(R"(vepad_reconcile_duration_seconds_total{uplink="up0"})") == "2");
    CHECK(at(R"(vepad_control_request_last_duration_seconds{uplink="up0",command="add-port"})") == "0.125");
    CHECK(at(R"(vepad_control_requests_total{uplink="up0",command="add-port",result="ok"})") == "2");
    CHECK(at(R"(vepad_control_requests_total{uplink="up0",command="add-port",result="invalid-argument"})") == "1");
    CHECK(at(R"(vepad_control_requests_total{uplink="up0",command="unknown",result="bad-request"})") == "1");
}

TEST_CASE("metrics: a probe that never came back has no round trip; an unknown LLDP state")
{
    MetricsSources s = sources(nullptr);
    s.status["reflective_relay"] = {{"verdict", "unknown"}, {"probe", {{"state", "unknown"}, {"rtt_ms", nullptr}}}};
    const Parsed p = parse(render_metrics(s));
    CHECK(p.help.count("vepad_probe_rtt_seconds") == 1);
    for (const auto& [k, v] : p.samples)
        CHECK(k.rfind("vepad_probe_rtt_seconds", 0) != 0);
    CHECK(p.samples.at(R"(vepad_reflective_relay{uplink="up0",source="lldp",state="unknown"})") == "1");
    CHECK(p.samples.at(R"(vepad_reflective_relay{uplink="up0",source="probe",state="unknown"})") == "1");
}
