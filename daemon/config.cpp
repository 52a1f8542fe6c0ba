#include "daemon/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "lib/error.hpp"

namespace vepad {

using vepa::Error;

std::optional<vepa_mode> parse_mode(const std::string& s)
{
    for (vepa_mode m : {VEPA_MODE_VEPA, VEPA_MODE_PRIVATE, VEPA_MODE_BRIDGE})
        if (s == mode_name(m))
            return m;
    return std::nullopt;
}

const char* mode_name(vepa_mode m)
{
    switch (m) {
    case VEPA_MODE_VEPA:
        return "vepa";
    case VEPA_MODE_PRIVATE:
        return "private";
    case VEPA_MODE_BRIDGE:
        return "bridge";
    default:
        return "?";
    }
}

bool valid_ifname(const std::string& s)
{
    if (s.empty() || s.size() > 15 || s == "." || s == "..")
        return false;
    for (unsigned char c : s)
        if (c == '/' || c == ':' || std::isspace(c) || !std::isprint(c))
            return false;
    return true;
}

namespace {

std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

bool digits(const std::string& v, size_t max_len)
{
    return !v.empty() && v.size() <= max_len &&
           std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); });
}

// ---- parsers: each says what is valid when the value is not ----------------

void set_bool(bool& out, const std::string& v)
{
    if (v == "yes" || v == "true" || v == "1" || v == "on")
        out = true;
    else if (v == "no" || v == "false" || v == "0" || v == "off")
        out = false;
    else
        throw Error("must be yes or no, not '" + v + "'");
}

// Whole seconds, 0 to one day.
void set_seconds(int& out, const std::string& v)
{
    if (!digits(v, 5) || std::stoi(v) > 86400)
        throw Error("must be a number of seconds from 0 to 86400, not '" + v + "'");
    out = std::stoi(v);
}

void set_ifname(std::string& out, const std::string& v)
{
    if (!valid_ifname(v))
        throw Error("'" + v + "' is not a valid interface name");
    out = v;
}

void set_mode(Config& c, const std::string& v)
{
    const auto m = parse_mode(v);
    if (!m)
        throw Error("must be vepa, private or bridge, not '" + v + "'");
    c.default_mode = *m;
}

void set_xdp_mode(Config& c, const std::string& v)
{
    const auto m = vepa::parse_xdp_mode(v);
    if (!m)
        throw Error("must be auto, native or generic, not '" + v + "'");
    c.xdp_mode = *m;
}

void set_tc_hook(Config& c, const std::string& v)
{
    if (v == "auto")
        c.tc_hook.reset();
    else if (v == "tcx")
        c.tc_hook = vepa::TcHook::Tcx;
    else if (v == "clsact")
        c.tc_hook = vepa::TcHook::Clsact;
    else
        throw Error("must be auto, tcx or clsact, not '" + v + "'");
}

void set_log_level(Config& c, const std::string& v)
{
    static const char* levels[] = {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"};
    if (std::none_of(std::begin(levels), std::end(levels), [&](const char* l) { return v == l; }))
        throw Error("must be a log level: trace, debug, info, warn, error, critical or off; not '" + v + "'");
    c.log_level = v;
}

void set_rcvbuf(Config& c, const std::string& v)
{
    if (!digits(v, 10) || std::stoll(v) < 4096 || std::stoll(v) > (1ll << 30))
        throw Error("must be a number of bytes from 4096 to 1073741824, not '" + v + "'");
    c.netlink_rcvbuf = static_cast<int>(std::stoll(v));
}

void set_rx_filter(Config& c, const std::string& v)
{
    const auto m = parse_rx_filter_mode(v);
    if (!m)
        throw Error("must be auto, fdb, promisc or none, not '" + v + "'");
    c.rx_filter = *m;
}

void set_metrics_listen(Config& c, const std::string& v)
{
    if (v.empty() || v == "none") {
        c.metrics_listen.reset();
        return;
    }
    c.metrics_listen = parse_listen_address(v);
    if (!c.metrics_listen)
        throw Error("must be ADDRESS:PORT (a numeric IPv4 address, or an IPv6 one in brackets, and a port from 1 "
                    "to 65535) or none, not '" + v + "'");
}

const Setting kSettings[] = {
    {"uplink", "IFNAME", "the uplink interface toward the adjacent switch (required here or in the config)",
     [](Config& c, const std::string& v) { set_ifname(c.uplink, v); }},
    {"state_dir", "DIR", "where the port table is kept (default /var/lib/vepad)",
     [](Config& c, const std::string& v) { c.state_dir = v; }},
    {"socket", "PATH", "control socket (default /run/vepad/vepad.sock)",
     [](Config& c, const std::string& v) { c.socket = v; }},
    {"socket_group", "GROUP", "besides root, members of this group may use the control socket (default vepad)",
     [](Config& c, const std::string& v) { c.socket_group = v; }},
    {"pin_dir", "DIR", "where the BPF maps are pinned (default /sys/fs/bpf/vepad/UPLINK)",
     [](Config& c, const std::string& v) { c.pin_dir = v; }},
    {"default_mode", "MODE", "mode of ports added without --mode: vepa (default), private or bridge", set_mode},
    {"xdp_mode", "MODE", "XDP mode on the uplink: auto (native, else generic; default), native, generic", set_xdp_mode},
    {"tc_hook", "HOOK",
     "where the TC programs attach on the uplink and the ports: auto (tcx where the kernel has it, Linux 6.6 and "
     "later, else clsact; default), tcx (the device's BPF program array: no qdisc or classifier on the way) or "
     "clsact (a cls_bpf filter on the clsact qdisc)",
     set_tc_hook},
    {"log_level", "LEVEL", "trace, debug, info (default), warn, error, critical or off", set_log_level},
    {"detach_on_exit", nullptr, "remove the dataplane when vepad stops on a signal",
     [](Config& c, const std::string& v) { set_bool(c.detach_on_exit, v); }},
    {"netlink_rcvbuf", "BYTES",
     "rtnetlink event buffer in bytes (default 8 MiB); events lost to an overrun trigger a full re-read", set_rcvbuf},
    {"probe_interval", "SECONDS",
     "seconds between reflection probes (does the switch hairpin?); 0: probe only at start, when the uplink "
     "comes up and on `vepactl probe` (default 30)",
     [](Config& c, const std::string& v) { set_seconds(c.probe_interval, v); }},
    {"lldp_interval", "SECONDS",
     "seconds between LLDPDUs sent on the uplink as an 802.1Qbg EVB station requesting reflective relay; "
     "0: no LLDP (default 30)",
     [](Config& c, const std::string& v) { set_seconds(c.lldp_interval, v); }},
    {"rx_filter", "MODE",
     "how the uplink is made to accept frames for the ports' MACs: auto (FDB self entries, the NIC's unicast "
     "filter, for every port MAC and the probe's destination, plus all-multicast; default), fdb (the entries "
     "only), promisc (promiscuous mode) or none (leave the uplink's filter alone)",
     set_rx_filter},
    {"metrics_listen", "ADDRESS:PORT",
     "serve Prometheus metrics over HTTP at GET /metrics on this address, e.g. 127.0.0.1:9477 or [::1]:9477 "
     "(default none: only `vepactl metrics`)",
     set_metrics_listen},
};

const Setting* find_setting(const std::string& key)
{
    for (const Setting& s : kSettings)
        if (key == s.key)
            return &s;
    return nullptr;
}

std::string known_keys()
{
    std::string out;
    for (const Setting& s : kSettings)
        out += (out.empty() ? "" : ", ") + std::string(s.key);
    return out;
}

} // namespace

std::optional<ListenAddress> parse_listen_address(const std::string& s)
{
    const size_t colon = s.rfind(':');
    if (colon == std::string::npos || colon + 1 == s.size())
        return std::nullopt;
    std::string addr = s.substr(0, colon);
    const std::string port = s.substr(colon + 1);
    const bool v6 = addr.size() > 2 && addr.front() == '[' && addr.back() == ']';
    if (v6)
        addr = addr.substr(1, addr.size() - 2);
    unsigned char buf[16];
    if (::inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1 || !digits(port, 5) || std::stoul(port) < 1 ||
        std::stoul(port) > 65535)
        return std::nullopt;
    return ListenAddress{addr, static_cast<uint16_t>(std::stoul(port))};
}

std::string Setting::option() const
{
    std::string o = std::string("--") + key;
    std::replace(o.begin(), o.end(), '_', '-');
    return o;
}

std::span<const Setting> settings() { return kSettings; }

void load_config_file(const std::string& path, Config& cfg, bool must_exist)
{
    cfg.config_file = path;
    std::ifstream in(path);
    if (!in) {
        if (errno == ENOENT && !must_exist)
            return;
        throw vepa::SysError(errno, "config file " + path);
    }
    std::string line;
    for (int n = 1; std::getline(in, line); n++) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty())
            continue;
        const auto eq = line.find('=');
        const std::string where = path + ":" + std::to_string(n) + ": ";
        if (eq == std::string::npos)
            throw Error(where + "expected 'key = value', got '" + line + "'");
        const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        const Setting* s = find_setting(key);
        if (!s)
            throw Error(where + "unknown key '" + key + "' (known: " + known_keys() + ")");
        try {
            s->set(cfg, value);
        } catch (const Error& e) {
            throw Error(where + key + " " + e.what());
        }
    }
}

void finish_config(Config& cfg, const ConfigOverrides& o)
{
    for (const auto& [key, value] : o) {
        const Setting* s = find_setting(key);
        if (!s)
            throw Error("unknown setting '" + key + "'");
        try {
            s->set(cfg, value);
        } catch (const Error& e) {
            throw Error(s->option() + " " + e.what());
        }
    }
    if (cfg.uplink.empty())
        throw Error("no uplink: give --uplink IFNAME or 'uplink = IFNAME' in " + cfg.config_file);
}

} // namespace vepad
