#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <fstream>

#include "error.hpp"

namespace vepad {

using vepa::Error;

std::optional<vepa_mode> parse_mode(const std::string& s)
{
    if (s == "vepa")
        return VEPA_MODE_VEPA;
    if (s == "private")
        return VEPA_MODE_PRIVATE;
    if (s == "bridge")
        return VEPA_MODE_BRIDGE;
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

static std::string trim(const std::string& s)
{
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    const auto e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

static bool parse_bool(const std::string& v, bool& out)
{
    if (v == "yes" || v == "true" || v == "1" || v == "on")
        out = true;
    else if (v == "no" || v == "false" || v == "0" || v == "off")
        out = false;
    else
        return false;
    return true;
}

// Whole seconds, 0 to one day.
static bool parse_seconds(const std::string& v, int& out)
{
    if (v.empty() || v.size() > 5 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
        return false;
    const int n = std::stoi(v);
    if (n > 86400)
        return false;
    out = n;
    return true;
}

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
        const auto hash = line.find('#');
        if (hash != std::string::npos)
            line.resize(hash);
        line = trim(line);
        if (line.empty())
            continue;
        const auto eq = line.find('=');
        const std::string where = path + ":" + std::to_string(n) + ": ";
        if (eq == std::string::npos)
            throw Error(where + "expected 'key = value', got '" + line + "'");
        const std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
        if (key == "uplink")
            cfg.uplink = value;
        else if (key == "state_dir")
            cfg.state_dir = value;
        else if (key == "socket")
            cfg.socket = value;
        else if (key == "pin_dir")
            cfg.pin_dir = value;
        else if (key == "socket_group")
            cfg.socket_group = value;
        else if (key == "log_level")
            cfg.log_level = value;
        else if (key == "default_mode") {
            auto m = parse_mode(value);
            if (!m)
                throw Error(where + "default_mode must be vepa, private or bridge, not '" + value + "'");
            cfg.default_mode = *m;
        } else if (key == "xdp_mode") {
            auto m = vepa::parse_xdp_mode(value);
            if (!m)
                throw Error(where + "xdp_mode must be auto, native or generic, not '" + value + "'");
            cfg.xdp_mode = *m;
        } else if (key == "detach_on_exit") {
            if (!parse_bool(value, cfg.detach_on_exit))
                throw Error(where + "detach_on_exit must be yes or no, not '" + value + "'");
        } else if (key == "probe_interval" || key == "lldp_interval") {
            int& target = key == "probe_interval" ? cfg.probe_interval : cfg.lldp_interval;
            if (!parse_seconds(value, target))
                throw Error(where + key + " must be a number of seconds from 0 to 86400, not '" + value + "'");
        } else
            throw Error(where + "unknown key '" + key +
                        "' (known: uplink, state_dir, socket, pin_dir, socket_group, default_mode, xdp_mode, "
                        "log_level, detach_on_exit, probe_interval, lldp_interval)");
    }
}

void finish_config(Config& cfg, const ConfigOverrides& o)
{
    if (o.uplink)
        cfg.uplink = *o.uplink;
    if (o.state_dir)
        cfg.state_dir = *o.state_dir;
    if (o.socket)
        cfg.socket = *o.socket;
    if (o.pin_dir)
        cfg.pin_dir = *o.pin_dir;
    if (o.log_level)
        cfg.log_level = *o.log_level;
    if (o.detach_on_exit)
        cfg.detach_on_exit = true;
    if (o.netlink_rcvbuf) {
        if (*o.netlink_rcvbuf < 4096)
            throw Error("--netlink-rcvbuf must be at least 4096 bytes");
        cfg.netlink_rcvbuf = *o.netlink_rcvbuf;
    }
    for (auto [given, target, flag] : {std::tuple{&o.probe_interval, &cfg.probe_interval, "--probe-interval"},
                                       std::tuple{&o.lldp_interval, &cfg.lldp_interval, "--lldp-interval"}}) {
        if (!*given)
            continue;
        if (**given < 0 || **given > 86400)
            throw Error(std::string(flag) + " must be a number of seconds from 0 to 86400");
        *target = **given;
    }
    if (o.default_mode) {
        auto m = parse_mode(*o.default_mode);
        if (!m)
            throw Error("--default-mode must be vepa, private or bridge, not '" + *o.default_mode + "'");
        cfg.default_mode = *m;
    }
    if (o.xdp_mode) {
        auto m = vepa::parse_xdp_mode(*o.xdp_mode);
        if (!m)
            throw Error("--xdp-mode must be auto, native or generic, not '" + *o.xdp_mode + "'");
        cfg.xdp_mode = *m;
    }
    if (cfg.uplink.empty())
        throw Error("no uplink: give --uplink IFNAME or 'uplink = IFNAME' in " + cfg.config_file);
    if (!valid_ifname(cfg.uplink))
        throw Error("uplink '" + cfg.uplink + "' is not a valid interface name");
    static const char* levels[] = {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"};
    bool ok = false;
    for (auto l : levels)
        ok |= cfg.log_level == l;
    if (!ok)
        throw Error("log level must be one of trace, debug, info, warn, error, critical, off; not '" +
                    cfg.log_level + "'");
}

} // namespace vepad
