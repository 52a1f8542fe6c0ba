#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "daemon/config.hpp"
#include "lib/error.hpp"

using namespace vepad;

namespace {
std::string write_temp(const std::string& text)
{
    char path[] = "/tmp/vepad-conf-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << text;
    return path;
}
} // namespace

TEST_CASE("config: key = value lines, comments, flags win")
{
    const auto path = write_temp("# comment\nuplink = eth0   # trailing\n\ndefault_mode = bridge\nxdp_mode=generic\n"
                                 "detach_on_exit = yes\n");
    Config c;
    load_config_file(path, c, true);
    CHECK(c.uplink == "eth0");
    CHECK(c.default_mode == VEPA_MODE_BRIDGE);
    CHECK(c.xdp_mode == vepa::XdpMode::Generic);
    CHECK(c.detach_on_exit);
    ConfigOverrides o;
    o["uplink"] = "eth1";
    finish_config(c, o);
    CHECK(c.uplink == "eth1");
    CHECK(c.effective_pin_dir() == "/sys/fs/bpf/vepad/eth1");
    CHECK(c.state_file() == "/var/lib/vepad/ports-eth1.json");
    std::remove(path.c_str());
}

TEST_CASE("config: tc_hook auto, tcx, clsact; the last one given wins")
{
    const auto path = write_temp("uplink = eth0\ntc_hook = clsact\n");
    Config c;
    load_config_file(path, c, true);
    CHECK(c.tc_hook == vepa::TcHook::Clsact);
    ConfigOverrides o;
    o["tc_hook"] = "tcx";
    finish_config(c, o);
    CHECK(c.tc_hook == vepa::TcHook::Tcx);
    o["tc_hook"] = "auto";
    finish_config(c, o);
    CHECK_FALSE(c.tc_hook);
    std::remove(path.c_str());
}

TEST_CASE("config: errors name the file and line")
{
    for (const char* text :
         {"uplink\n", "bogus = 1\n", "default_mode = hub\n", "xdp_mode = fast\n", "detach_on_exit = maybe\n", "tc_hook = ingress\n"}) {
        const auto path = write_temp(std::string("uplink = eth0\n") + text);
        Config c;
        CHECK_THROWS_WITH(load_config_file(path, c, true), Catch::Contains(path + ":2:"));
        std::remove(path.c_str());
    }
}

TEST_CASE("config: an absent default file is fine, an absent given one is not; an uplink is required")
{
    Config c;
    CHECK_NOTHROW(load_config_file("/nonexistent/vepad.conf", c, false));
    CHECK_THROWS(load_config_file("/nonexistent/vepad.conf", c, true));
    CHECK_THROWS_WITH(finish_config(c, {}), Catch::Contains("no uplink"));
    ConfigOverrides bad;
    bad["uplink"] = "a/b";
    CHECK_THROWS_WITH(finish_config(c, bad), Catch::Contains("not a valid interface name"));
    ConfigOverrides lvl;
    lvl["uplink"] = "eth0";
    lvl["log_level"] = "loud";
    CHECK_THROWS_WITH(finish_config(c, lvl), Catch::Contains("log level"));
}

TEST_CASE("config: probe and LLDP intervals, from the file and the flags")
{
    const auto path = write_temp("uplink = eth0\nprobe_interval = 0\nlldp_interval = 120\n");
    Config c;
    CHECK(c.probe_interval == 30);
    CHECK(c.lldp_interval == 30);
    load_config_file(path, c, true);
    CHECK(c.probe_interval == 0);
    CHECK(c.lldp_interval == 120);
    ConfigOverrides o;
    o["probe_interval"] = "5";
    finish_config(c, o);
    CHECK(c.probe_interval == 5);
    CHECK(c.lldp_interval == 120);
    std::remove(path.c_str());
    for (const char* bad : {"probe_interval = -1\n", "probe_interval = 86401\n", "lldp_interval = 1.5\n",
                            "lldp_interval = \n", "probe_interval = 30s\n"}) {
        const auto p = write_temp(std::string("uplink = eth0\n") + bad);
        Config d;
        CHECK_THROWS_WITH(load_config_file(p, d, true), Catch::Contains(p + ":2:") && Catch::Contains("seconds"));
        std::remove(p.c_str());
    }
    ConfigOverrides neg;
    neg["lldp_interval"] = "-3";
    CHECK_THROWS_WITH(finish_config(c, neg), Catch::Contains("--lldp-interval"));
}
