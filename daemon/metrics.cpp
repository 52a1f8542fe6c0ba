#include "daemon/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value with \, " and newline escaped, as the format requires.
std::string escape(const std::string& v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out;
}

// Writes families one at a time: HELP and TYPE once, then each sample.
class Exposition {
public:
    Exposition& family(const std::string& name, const char* type, const char* help)
    {
        name_ = name;
        out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
        return *this;
    }
    // Counters are exact integers; gauges may be fractions (printed with full precision).
    Exposition& sample(const Labels& labels, uint64_t value) { return line(labels, std::to_string(value)); }
    Exposition& sample(const Labels& labels, bool value) { return line(labels, value ? "1" : "0"); }
    Exposition& sample(const Labels& labels, double value)
    {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", value);
        return line(labels, buf);
    }
    std::string str() const { return out_.str(); }

private:
    Exposition& line(const Labels& labels, const std::string& value)
    {
        out_ << name_;
        if (!labels.empty()) {
            out_ << "{";
            for (size_t i = 0; i < labels.size(); ++i)
                out_ << (i ? "," : "") << labels[i].first << "=\"" << escape(labels[i].second) << "\"";
            out_ << "}";
        }
        out_ << " " << value << "\n";
        return *this;
    }

    std::ostringstream out_;
    std::string name_;
};

uint64_t num(const json& j, const char* key)
{
    if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer())
        return 0;
    return j[key].is_number_unsigned() ? j[key].get<uint64_t>() : static_cast<uint64_t>(std::max<int64_t>(0, j[key]));
}

// One family per counter field, samples for the uplink or every port.
struct CounterField {
    const char* field;
    const char* name; // after vepad_port_ / vepad_uplink_
    const char* help;
};
constexpr CounterField kPortCounters[] = {
    {"rx_packets", "received_packets_total", "Frames the port's guest sent that vepad accepted"},
    {"rx_bytes", "received_bytes_total", "Bytes of the frames the port's guest sent that vepad accepted"},
    {"tx_packets", "transmitted_packets_total", "Frames vepad delivered into the port"},
    {"tx_bytes", "transmitted_bytes_total", "Bytes of the frames vepad delivered into the port"},
};
constexpr CounterField kUplinkCounters[] = {
    {"rx_packets", "received_packets_total", "Frames from the switch that vepad accepted on the uplink"},
    {"rx_bytes", "received_bytes_total", "Bytes of the frames from the switch that vepad accepted on the uplink"},
    {"tx_packets", "transmitted_packets_total", "Frames vepad sent out of the uplink"},
    {"tx_bytes", "transmitted_bytes_total", "Bytes of the frames vepad sent out of the uplink"},
    {"host_packets", "host_packets_total", "Frames from the uplink handed to the host's own stack"},
    {"host_bytes", "host_bytes_total", "Bytes of the frames from the uplink handed to the host's own stack"},
    {"probe_packets", "probe_packets_total", "Reflection probes that came back from the switch"},
};

void build_info(Exposition& e, const std::string& uplink, const json& status)
{
    e.family("vepad_build_info", "gauge", "Always 1; the version of vepad and of its BPF map layout as labels")
        .sample({{"uplink", uplink},
                 {"version", status.value("version", "")},
                 {"layout_version", std::to_string(status.value("layout_version", 0))}},
                true);
}

void port_counters(Exposition& e, const std::string& uplink, const json& stats)
{
    const json ports = stats.value("ports", json::array());
    for (const auto& f : kPortCounters) {
        e.family(std::string("vepad_port_") + f.name, "counter", f.help);
        for (const auto& p : ports)
            e.sample({{"uplink", uplink}, {"port", p.value("name", "")}}, num(p["counters"], f.field));
    }
    e.family("vepad_port_drops_total", "counter", "Frames vepad dropped that the port's guest sent, by reason");
    for (const auto& p : ports)
        for (const auto& reason : proto::kDropReasons)
            e.sample({{"uplink", uplink}, {"port", p.value("name", "")}, {"reason", std::string(reason)}},
                     num(p["counters"]["drops"], std::string(reason).c_str()));
}

void uplink_counters(Exposition& e, const std::string& uplink, const json& stats)
{
    const json c = stats.value("uplink", json::object()).value("counters", json::object());
    for (const auto& f : kUplinkCounters)
        e.family(std::string("vepad_uplink_") + f.name, "counter", f.help).sample({{"uplink", uplink}}, num(c, f.field));
    e.family("vepad_uplink_drops_total", "counter", "Frames from the switch that vepad dropped, by reason");
    for (const auto& reason : proto::kDropReasons)
        e.sample({{"uplink", uplink}, {"reason", std::string(reason)}},
                 num(c.value("drops", json::object()), std::string(reason).c_str()));
}

void port_states(Exposition& e, const std::string& uplink, const json& list)
{
    static const char* states[] = {"up", "down", "absent", "unsupported"};
    e.family("vepad_ports", "gauge", "Configured ports by state");
    for (const char* st : states) {
        uint64_t n = 0;
        for (const auto& p : list.value("ports", json::array()))
            n += p.value("state", "") == st;
        e.sample({{"uplink", uplink}, {"state", st}}, n);
    }
    e.family("vepad_port_up", "gauge", "1 when the port forwards (state up), else 0");
    for (const auto& p : list.value("ports", json::array()))
        e.sample({{"uplink", uplink}, {"port", p.value("name", "")}}, p.value("state", "") == "up");
}

// The reflective-relay state as an enum gauge: one sample per state, 1 for the current one.
void relay_state(Exposition& e, const std::string& uplink, const std::string& source, const std::string& state)
{
    for (const char* st : {"reflecting", "not-reflecting", "unknown"})
        e.sample({{"uplink", uplink}, {"source", source}, {"state", st}}, state == std::string(st));
}

void reflective_relay(Exposition& e, const std::string& uplink, const json& status)
{
    const json rr = status.value("reflective_relay", json::object());
    const json probe = rr.value("probe", json::object());
    const json evb = rr.value("lldp", json::object()).value("bridge_evb", json());
    const std::string lldp = !evb.is_object() ? "unknown" : evb.value("rr_enabled", false) ? "reflecting"
                                                                                           : "not-reflecting";
    e.family("vepad_reflective_relay", "gauge",
             "Whether the switch reflects (hairpins) the uplink's traffic: 1 for the current state, by source "
             "(verdict: what vepad concludes; probe; lldp: the bridge's 802.1Qbg EVB TLV)");
    relay_state(e, uplink, "verdict", rr.value("verdict", "unknown"));
    relay_state(e, uplink, "probe", probe.value("state", "unknown"));
    relay_state(e, uplink, "lldp", lldp);
    e.family("vepad_probe_rtt_seconds", "gauge", "Round trip of the last reflection probe that came back");
    if (probe.contains("rtt_ms") && probe["rtt_ms"].is_number())
        e.sample({{"uplink", uplink}}, probe["rtt_ms"].get<double>() / 1000);
    e.family("vepad_probe_age_seconds", "gauge", "Seconds since the last reflection probe finished");
    if (probe.contains("age_s") && probe["age_s"].is_number())
        e.sample({{"uplink", uplink}}, probe["age_s"].get<double>());
}

void uplink_state(Exposition& e, const std::string& uplink, const json& status)
{
    const json u = status.value("uplink", json::object());
    e.family("vepad_uplink_up", "gauge", "1 when the uplink exists and is up, else 0")
        .sample({{"uplink", uplink}}, u.value("state", "") == "up");
}

void monitor_counters(Exposition& e, const std::string& uplink, const json& status)
{
    const json m = status.value("monitor", json::object());
    e.family("vepad_monitor_events_total", "counter", "Decision events sent to vepactl monitor clients")
        .sample({{"uplink", uplink}}, num(m, "events"));
    e.family("vepad_monitor_lost_total", "counter",
             "Decision records the dataplane could not write (rate cap, ring buffer full), since its maps were made")
        .sample({{"uplink", uplink}}, num(m, "lost"));
    e.family("vepad_monitor_clients", "gauge", "vepactl monitor clients connected")
        .sample({{"uplink", uplink}}, num(m, "clients"));
    e.family("vepad_monitor_dropped_clients_total", "counter", "Monitor clients disconnected for not reading")
        .sample({{"uplink", uplink}}, num(m, "dropped_clients"));
}

void daemon_counters(Exposition& e, const std::string& uplink, const MetricsSources& s)
{
    e.family("vepad_reconcile_runs_total", "counter", "Reconciles of the kernel with the port table, failed ones included")
        .sample({{"uplink", uplink}}, s.reconcile_runs);
    e.family("vepad_reconcile_failures_total", "counter", "Reconciles that failed (retried with a back-off)")
        .sample({{"uplink", uplink}}, s.reconcile_failures);
    e.family("vepad_reconcile_failing", "gauge", "1 while the last reconcile failed, else 0")
        .sample({{"uplink", uplink}}, s.reconcile_failing);
    e.family("vepad_reconcile_last_duration_seconds", "gauge", "How long the last reconcile took")
        .sample({{"uplink", uplink}}, s.reconcile_last_seconds);
    e.family("vepad_reconcile_duration_seconds_total", "counter", "Time spent reconciling, every run")
        .sample({{"uplink", uplink}}, s.reconcile_seconds);
    e.family("vepad_control_requests_total", "counter",
             "Control requests answered, by command (unknown when unreadable) and result (ok or the error code)");
    if (s.requests)
        for (const auto& [k, n] : s.requests->all())
            e.sample({{"uplink", uplink}, {"command", k.first.empty() ? "unknown" : k.first}, {"result", k.second}},
                     n);
    e.family("vepad_control_request_last_duration_seconds", "gauge",
             "How long the last control request of each command took to answer (a port command: its state-file "
             "write and reconcile)");
    if (s.requests)
        for (const auto& [cmd, secs] : s.requests->last_seconds())
            e.sample({{"uplink", uplink}, {"command", cmd.empty() ? "unknown" : cmd}}, secs);
}

} // namespace

std::string render_metrics(const MetricsSources& s)
{
    const std::string uplink = s.status.value("uplink", json::object()).value("name", "");
    Exposition e;
    build_info(e, uplink, s.status);
    uplink_state(e, uplink, s.status);
    uplink_counters(e, uplink, s.stats);
    port_states(e, uplink, s.list);
    port_counters(e, uplink, s.stats);
    reflective_relay(e, uplink, s.status);
    monitor_counters(e, uplink, s.status);
    daemon_counters(e, uplink, s);
    return e.str();
}

} // namespace vepad
