// vepad's settings: defaults, then the config file, then command-line flags.
#pragma once

#include <optional>
#include <string>

#include "attach.hpp"
#include "vepa/abi.h"

namespace vepad {

struct Config {
    std::string uplink;
    std::string config_file = VEPAD_CONFIG_FILE;
    std::string state_dir = "/var/lib/vepad";
    std::string socket = "/run/vepad/vepad.sock";
    std::string pin_dir;                          // default /sys/fs/bpf/vepad/UPLINK
    vepa_mode default_mode = VEPA_MODE_VEPA;
    vepa::XdpMode xdp_mode = vepa::XdpMode::Auto; // for the uplink; ports are native
    std::string log_level = "info";
    std::string socket_group = "vepad";           // who besides root may use the socket
    bool detach_on_exit = false;
    int netlink_rcvbuf = 8 << 20;                 // rtnetlink event buffer; overruns trigger a full re-read
    int probe_interval = 30;                      // seconds between reflection probes; 0: only on start, uplink up, request
    int lldp_interval = 30;                       // seconds between LLDPDUs (EVB station); 0: no LLDP agent

    std::string effective_pin_dir() const { return pin_dir.empty() ? "/sys/fs/bpf/vepad/" + uplink : pin_dir; }
    std::string state_file() const { return state_dir + "/ports-" + uplink + ".json"; }
};

// Values given on the command line (override the file).
struct ConfigOverrides {
    std::optional<std::string> uplink, state_dir, socket, pin_dir, default_mode, xdp_mode, log_level;
    bool detach_on_exit = false;
    std::optional<int> netlink_rcvbuf, probe_interval, lldp_interval;
};

// Read `key = value` lines ('#' comments, blank lines).  A missing file is
// fine; an unreadable one, an unknown key or a bad value is an error naming
// the file and line.
void load_config_file(const std::string& path, Config& cfg, bool must_exist);

// Apply overrides and check the result (uplink set, values valid).
void finish_config(Config& cfg, const ConfigOverrides& o);

std::optional<vepa_mode> parse_mode(const std::string& s);
const char* mode_name(vepa_mode m);

// A valid Linux interface name (1-15 bytes, no '/', ':', whitespace, not "." or "..").
bool valid_ifname(const std::string& s);

} // namespace vepad
