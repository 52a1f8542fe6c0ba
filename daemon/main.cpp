// vepad - IEEE 802.1Qbg VEPA for VM and container ports, in eBPF.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "daemon/config.hpp"
#include "daemon/daemon.hpp"
#include "lib/attach.hpp"

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

Settings come from the config file (`key = value` lines; the keys are the
options below without their dashes, '_' for '-'); command-line options win.

vepad checks whether the adjacent switch reflects (hairpins) same-port traffic,
the most common silent VEPA failure: by an active probe out of the uplink and by
LLDP with the 802.1Qbg EVB TLV. `vepactl status` shows both; vepad warns when
the switch does not reflect while two or more ports are in vepa or private mode.

Exit status: 0 after a clean stop, 1 when it cannot start (bad configuration,
corrupt state file, another vepad on the same uplink, BPF load failure);
--check-config: 0 when the configuration is valid, 1 when not.)";

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepad"};
    app.get_formatter()->column_width(32);
    vepad::ConfigOverrides o;
    std::string config_file = VEPAD_CONFIG_FILE;
    bool config_given = false;
    app.add_option_function<std::string>(
           "--config",
           [&](const std::string& v) {
               config_file = v;
               config_given = true;
           },
           std::string("config file (default ") + VEPAD_CONFIG_FILE + "; an absent default file is fine)")
        ->type_name("FILE");
    for (const vepad::Setting& s : vepad::settings()) {
        const std::string key = s.key;
        if (!s.value_name) {
            app.add_flag_callback(
                s.option(), [&o, key] { o[key] = "yes"; }, s.help);
            continue;
        }
        app.add_option_function<std::string>(
               s.option(), [&o, key](const std::string& v) { o[key] = v; }, s.help)
            ->type_name(s.value_name);
    }
    bool check_only = false;
    app.add_flag("--check-config", check_only,
                 "read the config file and the options, report the first error (exit 1) or that they are valid "
                 "(exit 0), and exit without starting; needs no privileges");
    app.set_version_flag("--version", std::string("vepad ") + VEPAD_VERSION);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return e.get_exit_code() == 0 ? 0 : (rc == 0 ? 0 : 2);
    }

    auto logger = spdlog::stderr_color_mt("vepad");
    if (std::getenv("JOURNAL_STREAM"))
        logger->set_pattern("%l: %v"); // the journal adds time and unit
    else
        logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);

    try {
        vepad::Config cfg;
        vepad::load_config_file(config_file, cfg, config_given);
        vepad::finish_config(cfg, o);
        if (check_only) {
            std::cout << "vepad: configuration valid: uplink " << cfg.uplink << ", config file " << config_file
                      << (config_given ? "" : " (default)") << "\n";
            return 0;
        }
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
