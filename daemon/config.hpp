// vepad's settings: defaults, then the config file, then command-line options.
// Every setting is one row of settings(): its file key, its option (the key
// with '-' for '_'), its help and its parser, so the file parser, its errors
// and `vepad --help` cannot disagree.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>

#include "daemon/rx_filter.hpp"
#include "lib/attach.hpp"
#include "lib/xdp_mode.hpp"
#include "vepa/abi.h"

namespace vepad {

// "127.0.0.1:9477" or "[::1]:9477": a numeric address (v4 or v6) and a port.
struct ListenAddress {
    std::string address;
    uint16_t port = 0;
    std::string str() const { return (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port); }
};
std::optional<ListenAddress> parse_listen_address(const std::string& s);

struct Config {
    std::string uplink;
    std::string config_file = VEPAD_CONFIG_FILE;
    std::string state_dir = "/var/lib/vepad";
    std::string socket = "/run/vepad/vepad.sock";
    std::string pin_dir; // default /sys/fs/bpf/vepad/UPLINK
    vepa_mode default_mode = VEPA_MODE_VEPA;
    vepa::XdpMode xdp_mode = vepa::XdpMode::Auto; // for the uplink; ports are native
    std::optional<vepa::TcHook> tc_hook;          // nullopt: auto (tcx where the kernel has it)
    std::string log_level = "info";
    std::string socket_group = "vepad"; // who besides root may use the socket
    bool detach_on_exit = false;
    int netlink_rcvbuf = 8 << 20; // rtnetlink event buffer; overruns trigger a full re-read
    int probe_interval = 30;      // seconds between reflection probes; 0: only on start, uplink up, request
    int lldp_interval = 30;       // seconds between LLDPDUs (EVB station); 0: no LLDP agent
    RxFilterMode rx_filter = RxFilterMode::Auto; // how the uplink is made to accept the ports' frames
    std::optional<ListenAddress> metrics_listen;  // where GET /metrics is served; none: nowhere

    std::string effective_pin_dir() const { return pin_dir.empty() ? "/sys/fs/bpf/vepad/" + uplink : pin_dir; }
    std::string state_file() const { return state_dir + "/ports-" + uplink + ".json"; }
};

struct Setting {
    const char* key;        // in the config file
    const char* value_name; // on the command line; nullptr: a switch (yes/no in the file)
    const char* help;
    // Throws vepa::Error("must be ...") on a bad value.
    void (*set)(Config& cfg, const std::string& value);

    std::string option() const; // "--state-dir"
};

std::span<const Setting> settings();

// Settings given on the command line: key -> value ("yes" for a switch).
using ConfigOverrides = std::map<std::string, std::string>;

// Read `key = value` lines ('#' comments, blank lines).  A missing file is
// fine unless must_exist; an unreadable one, an unknown key or a bad value is
// an error naming the file and line.
void load_config_file(const std::string& path, Config& cfg, bool must_exist);

// Apply command-line settings (errors name the option) and check the result.
void finish_config(Config& cfg, const ConfigOverrides& o);

std::optional<vepa_mode> parse_mode(const std::string& s);
const char* mode_name(vepa_mode m);

// A valid Linux interface name (1-15 bytes, no '/', ':', whitespace, not "." or "..").
bool valid_ifname(const std::string& s);

} // namespace vepad
