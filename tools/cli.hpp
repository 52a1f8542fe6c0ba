// The command lines of the lab tools and the benchmark's vepa-bench (CLI11):
// one parse step with the exit statuses they share, and checks for the values
// they take (MAC addresses, interface names).
#pragma once

#include <net/if.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>

#include "lib/mac.hpp"

namespace vepa::tools {

// Exit status of a command line the tool cannot run: a bad or missing option.
inline constexpr int kExitUsage = 2;

// Parses argv into app.  --help prints the help and exits 0; anything wrong
// prints what (and where to read more) on stderr and exits kExitUsage.
inline void parse_or_exit(CLI::App& app, int argc, char** argv)
{
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        std::exit(e.get_exit_code() == 0 ? 0 : kExitUsage);
    }
}

// A help layout wide enough for "--option VALUE" columns.
inline void use_wide_help(CLI::App& app) { app.get_formatter()->column_width(32); }

// "02:00:0a:14:00:0b" (or with '-'), as vepa::Mac::parse takes it.  The
// checks add nothing to the help: each option names its value (type_name).
inline const CLI::Validator kMac(
    [](std::string& s) { return Mac::parse(s) ? std::string() : "not a MAC address: " + s; }, "", "MAC");

// An interface name the kernel can take: 1 to IFNAMSIZ-1 characters.
inline const CLI::Validator kIfname(
    [](std::string& s) {
        return !s.empty() && s.size() < IFNAMSIZ ? std::string() : "not an interface name (1 to 15 characters): " + s;
    },
    "", "IFNAME");

// A number above 0 (rates, durations); kNonNegative: 0 or more.
inline const CLI::Validator kPositive(
    [](std::string& s) {
        double v = 0;
        return CLI::detail::lexical_cast(s, v) && v > 0 ? std::string() : "must be a number above 0, not " + s;
    },
    "", "POSITIVE");
inline const CLI::Validator kNonNegative(
    [](std::string& s) {
        double v = 0;
        return CLI::detail::lexical_cast(s, v) && v >= 0 ? std::string() : "must be a number, 0 or more, not " + s;
    },
    "", "NONNEGATIVE");

// The MAC a validated option holds (kMac has checked it).
inline Mac mac_of(const std::string& s) { return *Mac::parse(s); }

} // namespace vepa::tools
