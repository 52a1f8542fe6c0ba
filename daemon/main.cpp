// vepad - IEEE 802.1Qbg VEPA for VM and container ports, in eBPF.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "attach.hpp"
#include "config.hpp"
#include "daemon.hpp"

static const char* kDescription = R"(vepad - Virtual Ethernet Port Aggregator (IEEE 802.1Qbg VEPA) in eBPF

vepad makes the VM (tap) and container (veth) ports attached to it send every
frame out through the uplink to the adjacent switch, never directly to another
local port; the switch's reflective relay (hairpin) brings same-host traffic
back. Frames from the uplink reach the port owning their destination MAC; group
frames reach every eligible port but their sender. Ports are managed with
vepactl(8) over the control socket; the port table is kept in the state
directory and restored at start. One vepad runs per uplink.

On SIGTERM vepad exits and leaves the dataplane attached and forwarding (a later
vepad takes it over without a frame lost); `vepactl shutdown --detach` or
--detach-on-exit removes it instead.

Settings come from the config file (key = value: uplink, state_dir, socket,
pin_dir, socket_group, default_mode, xdp_mode, log_level, detach_on_exit,
probe_interval, lldp_interval); command-line options win.

vepad checks whether the adjacent switch reflects (hairpins) same-port traffic,
the most common silent VEPA failure: by an active probe out of the uplink and by
LLDP with the 802.1Qbg EVB TLV. `vepactl status` shows both; vepad warns when
the switch does not reflect while two or more ports are in vepa or private mode.

Exit status: 0 after a clean stop, 1 when it cannot start (bad configuration,
corrupt state file, another vepad on the same uplink, BPF load failure).)";

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepad"};
    app.get_formatter()->column_width(32);
    vepad::ConfigOverrides o;
    std::string config_file = VEPAD_CONFIG_FILE;
    bool config_given = false;
    auto opt = [&](const char* name, std::optional<std::string>& target, const char* help) {
        return app.add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help);
    };
    opt("--uplink", o.uplink, "the uplink interface toward the adjacent switch (required here or in the config)")
        ->type_name("IFNAME");
    app.add_option_function<std::string>(
           "--config", [&](const std::string& v) { config_file = v; config_given = true; },
           std::string("config file (default ") + VEPAD_CONFIG_FILE + "; an absent default file is fine)")
        ->type_name("FILE");
    opt("--state-dir", o.state_dir, "where the port table is kept (default /var/lib/vepad)")->type_name("DIR");
    opt("--socket", o.socket, "control socket (default /run/vepad/vepad.sock)")->type_name("PATH");
    opt("--pin-dir", o.pin_dir, "where the BPF maps are pinned (default /sys/fs/bpf/vepad/UPLINK)")->type_name("DIR");
    opt("--default-mode", o.default_mode, "mode of ports added without --mode: vepa (default), private or bridge")
        ->type_name("MODE");
    opt("--xdp-mode", o.xdp_mode, "XDP mode on the uplink: auto (native, else generic; default), native, generic")
        ->type_name("MODE");
    opt("--log-level", o.log_level, "trace, debug, info (default), warn, error, critical or off")->type_name("LEVEL");
    app.add_flag("--detach-on-exit", o.detach_on_exit, "remove the dataplane when vepad stops on a signal");
    app.add_option_function<int>(
           "--netlink-rcvbuf", [&](int v) { o.netlink_rcvbuf = v; },
           "rtnetlink event buffer in bytes (default 8 MiB); events lost to an overrun trigger a full re-read")
        ->type_name("BYTES");
    app.add_option_function<int>(
           "--probe-interval", [&](int v) { o.probe_interval = v; },
           "seconds between reflection probes (does the switch hairpin?); 0: probe only at start, when the uplink "
           "comes up and on `vepactl probe` (default 30)")
        ->type_name("SECONDS");
    app.add_option_function<int>(
           "--lldp-interval", [&](int v) { o.lldp_interval = v; },
           "seconds between LLDPDUs sent on the uplink as an 802.1Qbg EVB station requesting reflective relay; "
           "0: no LLDP (default 30)")
        ->type_name("SECONDS");
    app.set_version_flag("--version", std::string("vepad ") + VEPAD_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 2);
    }

    auto logger = spdlog::stderr_color_mt("vepad");
    if (std::getenv("JOURNAL_STREAM"))
        logger->set_pattern("%l: %v");   // the journal adds time and unit
    else
        logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);

    try {
        vepad::Config cfg;
        vepad::load_config_file(config_file, cfg, config_given);
        vepad::finish_config(cfg, o);
        spdlog::set_level(spdlog::level::from_str(cfg.log_level == "warning" ? "warn" : cfg.log_level));
        // While loading, libbpf's warnings (a verifier log, say) matter; once vepad
        // runs, its expected refusals (libxdp's dispatcher on kernels that refuse
        // freplace, netlink queries of absent hooks) are debug detail: failures
        // that matter reach the log through vepad's own errors.
        vepa::set_bpf_log([](int level, const char* msg) {
            if (level == 0 && std::strstr(msg, "Kernel error message") == nullptr)
                spdlog::warn("bpf: {}", msg);
            else
                spdlog::debug("bpf: {}", msg);
        });
        vepad::Daemon d(cfg);
        return d.run();
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}
