// vepactl - control vepad: ports, counters, status.  Speaks the protocol of
// vepa/control.hpp and knows nothing else of the daemon.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vepa/abi.h"
#include "vepa/control.hpp"
#include "vepa/control_client.hpp"

using nlohmann::json;
namespace proto = vepa::proto;

namespace {

constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotReflecting = 3;  // vepactl probe: the switch does not reflect
constexpr int kExitUnknown = 4;        // vepactl probe: no answer (uplink absent or down)

using proto::call;
using proto::ClientError;

// ---- human output ---------------------------------------------------------

class Table {
public:
    explicit Table(std::vector<std::string> head) { rows_.push_back(std::move(head)); }
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    void print(std::ostream& os) const
    {
        std::vector<size_t> w;
        for (const auto& r : rows_)
            for (size_t i = 0; i < r.size(); i++) {
                if (w.size() <= i)
                    w.push_back(0);
                w[i] = std::max(w[i], r[i].size());
            }
        for (const auto& r : rows_) {
            std::string line;
            for (size_t i = 0; i < r.size(); i++) {
                line += r[i];
                if (i + 1 < r.size())
                    line += std::string(w[i] - r[i].size() + 2, ' ');
            }
            while (!line.empty() && line.back() == ' ')
                line.pop_back();
            os << line << "\n";
        }
    }

private:
    std::vector<std::vector<std::string>> rows_;
};

std::string s(const json& j)
{
    if (j.is_string())
        return j.get<std::string>();
    if (j.is_null())
        return "-";
    return j.dump();
}

std::string or_dash(const std::string& v) { return v.empty() ? "-" : v; }

std::string join_macs(const json& macs)
{
    std::string out;
    for (const auto& m : macs)
        out += (out.empty() ? "" : ",") + s(m);
    return out.empty() ? "-" : out;
}

void print_list(const json& r)
{
    Table t({"NAME", "IFINDEX", "STATE", "KIND", "MODE", "MACS", "DELIVERY", "ATTACH", "SLOT"});
    std::vector<std::string> notes;
    for (const auto& p : r["ports"]) {
        std::string macs = join_macs(p["macs"]);
        if (p["mac_source"] == "guest")
            macs += " (guest)";
        t.add({s(p["name"]), p["ifindex"] == 0 ? "-" : s(p["ifindex"]), s(p["state"]), or_dash(s(p["kind"])),
               s(p["mode"]) + (p["src_check"] == false ? " (no src check)" : ""), macs, or_dash(s(p["delivery"])),
               or_dash(s(p["attach"])), s(p["slot"])});
        if (p.contains("reason"))
            notes.push_back(s(p["name"]) + ": " + s(p["reason"]));
        if (p.contains("xsk") && p["xsk"].is_object()) {
            const json& x = p["xsk"];
            const uint64_t first = x["first_slot"], queues = x["queues"];
            notes.push_back(s(p["name"]) + ": AF_XDP sockets bind to " + s(x["device"]) + " queues 0-" +
                            std::to_string(queues - 1) + ", XSKMAP " + or_dash(s(x["map"])) + " slots " +
                            std::to_string(first) + "-" + std::to_string(first + queues - 1) + "; " +
                            std::to_string(x["sockets"].size()) + " of " + std::to_string(queues) +
                            " attached (vepa side " + s(x["peer"]) + ")");
        }
    }
    t.print(std::cout);
    if (r["ports"].empty())
        std::cout << "(no ports)\n";
    for (const auto& n : notes)
        std::cout << "note: " << n << "\n";
}

void print_port_result(const json& p)
{
    std::cout << s(p["name"]) << ": " << s(p["state"]);
    if (p["ifindex"] != 0)
        std::cout << ", ifindex " << s(p["ifindex"]) << ", " << s(p["kind"]) << ", delivery "
                  << or_dash(s(p["delivery"])) << ", attach " << or_dash(s(p["attach"]));
    std::cout << ", mode " << s(p["mode"]) << ", MACs " << join_macs(p["macs"]) << "\n";
    if (p.contains("reason"))
        std::cout << "note: " << s(p["reason"]) << "\n";
}

uint64_t drop_total(const json& c)
{
    uint64_t n = 0;
    for (const auto& [k, v] : c["drops"].items())
        n += v.get<uint64_t>();
    return n;
}

void print_stats(const json& r, bool one_port)
{
    Table t({"PORT", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "HOST_PACKETS", "DROPS"});
    auto row = [&](const std::string& name, const json& c, bool host) {
        t.add({name, s(c["rx_packets"]), s(c["rx_bytes"]), s(c["tx_packets"]), s(c["tx_bytes"]),
               host ? s(c["host_packets"]) : "-", std::to_string(drop_total(c))});
    };
    if (!one_port)
        row(s(r["uplink"]["name"]) + " (uplink)", r["uplink"]["counters"], true);
    for (const auto& p : r["ports"])
        row(s(p["name"]), p["counters"], false);
    t.print(std::cout);
    // Drop reasons: every reason for a single port; the non-zero ones otherwise.
    std::cout << "\n";
    Table d({"PORT", "DROP_REASON", "PACKETS"});
    bool any = false;
    auto reasons = [&](const std::string& name, const json& c) {
        for (auto reason : proto::kDropReasons) {
            const uint64_t n = c["drops"].value(std::string(reason), uint64_t{0});
            if (n || one_port) {
                d.add({name, std::string(reason), std::to_string(n)});
                any = true;
            }
        }
    };
    if (!one_port)
        reasons(s(r["uplink"]["name"]) + " (uplink)", r["uplink"]["counters"]);
    for (const auto& p : r["ports"])
        reasons(s(p["name"]), p["counters"]);
    if (any)
        d.print(std::cout);
    else
        std::cout << "no drops\n";
}

void print_relay(const json& rr);

void print_status(const json& r)
{
    const json& up = r["uplink"];
    std::cout << "vepad " << s(r["version"]) << " (map layout v" << s(r["layout_version"]) << ")\n";
    std::cout << "uplink:      " << s(up["name"]) << ", " << s(up["state"]);
    if (up["ifindex"] != 0)
        std::cout << ", ifindex " << s(up["ifindex"]) << ", "
                  << (up["takes_xdp"] == true ? "takes XDP frames" : "takes no XDP frames (taps send by TC)");
    std::cout << "\n";
    if (up["xdp"].is_object())
        std::cout << "uplink XDP:  program " << s(up["xdp"]["prog_id"]) << ", " << s(up["xdp"]["mode"]) << ", "
                  << (up["xdp"]["multiprog"] == true ? "under libxdp's dispatcher" : "alone (no dispatcher)") << "\n";
    else
        std::cout << "uplink XDP:  not attached\n";
    std::cout << "uplink TC:   " << (up["tc"].is_object() ? "program " + s(up["tc"]["prog_id"]) : "not attached")
              << "\n";
    const json& p = r["programs"];
    std::cout << "programs:    uplink_xdp " << s(p["uplink_xdp"]) << ", uplink_tc " << s(p["uplink_tc"])
              << ", port_xdp " << s(p["port_xdp"]) << ", port_tc " << s(p["port_tc"]) << "\n";
    std::cout << "ports:       " << s(r["ports"]["configured"]) << " configured, " << s(r["ports"]["present"])
              << " present, " << s(r["ports"]["up"]) << " up\n";
    const json& m = r["maps"];
    std::cout << "map entries: " << s(m["macs"]) << " MACs, " << s(m["ports"]) << " port records, " << s(m["devs"])
              << " XDP targets, " << s(m["flood"]) << " in the flood list\n";
    std::cout << "pin dir:     " << s(r["pin_dir"]) << "\n";
    std::cout << "state file:  " << s(r["state_file"]) << "\n";
    std::cout << "socket:      " << s(r["socket"]) << "\n";
    if (r.contains("reflective_relay"))
        print_relay(r["reflective_relay"]);
}

std::string fixed(double v, int digits)
{
    char b[32];
    std::snprintf(b, sizeof(b), "%.*f", digits, v);
    return b;
}

void print_relay(const json& rr)
{
    const json& pr = rr["probe"];
    const json& ll = rr["lldp"];
    std::cout << "reflective relay: " << s(rr["verdict"]);
    if (!rr["by"].is_null())
        std::cout << " (by " << s(rr["by"]) << ")";
    std::cout << "\n  probe: " << s(pr["state"]) << ": " << s(pr["reason"]);
    if (pr["checked"].is_string())
        std::cout << "; checked " << s(pr["checked"]) << " (" << fixed(pr["age_s"].get<double>(), 1) << " s ago)";
    if (pr.contains("rtt_ms"))
        std::cout << ", back within " << fixed(pr["rtt_ms"].get<double>(), 1) << " ms";
    std::cout << "\n         " << (pr["interval_s"] == 0 ? std::string("no periodic probes")
                                                          : "every " + s(pr["interval_s"]) + " s")
              << "; probe MACs " << s(pr["src"]) << " -> " << s(pr["dst"]) << "\n";
    if (ll["enabled"] != true) {
        std::cout << "  LLDP:  off\n";
        return;
    }
    std::cout << "  LLDP:  " << s(ll["sent"]) << " LLDPDUs sent, " << s(ll["received"]) << " received";
    if (ll["invalid"] != 0)
        std::cout << ", " << s(ll["invalid"]) << " invalid";
    if (ll["own_reflected"] != 0)
        std::cout << ", " << s(ll["own_reflected"]) << " of ours reflected back";
    std::cout << "; we request reflective relay, our status: " << s(ll["advertising"]["rrstat"]) << "\n";
    const json& evb = ll["bridge_evb"];
    if (evb.is_object())
        std::cout << "         the bridge's EVB TLV (" << s(evb["form"]) << "): reflective relay "
                  << (evb["rr_capable"] == true ? "capable" : "not capable") << ", "
                  << (evb["rr_enabled"] == true ? "enabled for us" : "not enabled") << "\n";
    else
        std::cout << "         no EVB TLV from the bridge\n";
    for (const auto& n : ll["neighbours"]) {
        std::cout << "         neighbour " << (n["system_name"] == "" ? s(n["chassis_id"]) : s(n["system_name"]))
                  << ": chassis " << s(n["chassis_id"]) << ", port " << s(n["port_id"]) << " (" << s(n["group"])
                  << ", TTL " << s(n["ttl"]) << " s)" << (n["evb"].is_object() ? ", EVB" : "") << "\n";
    }
}

const char* kDescription = R"(vepactl - control vepad, the eBPF VEPA for VM and container ports

Commands:
  add-port IFNAME [--mac MAC]... [--mode vepa|private|bridge] [--no-src-check]
      Attach a veth (container) or tap (VM) interface.  The interface need not
      exist yet: the port is then listed as absent and attached when it appears.
      --mac gives the guest's MAC address(es) (up to 256); required for a tap.
      Without --mac a veth port uses its guest end's MAC, followed as it changes.
  add-port NAME --type xsk --mac MAC [--queues N] [--mode MODE] [--no-src-check]
      An AF_XDP port: vepad creates the veth pair NAME / vx-NAME (NAME at most
      12 characters).  AF_XDP sockets bind to NAME, one per queue (N, default
      1, at most 64), and reach vepad either by SCM_RIGHTS (libvepa-xsk,
      vepa-xsk --attach) or through the pinned XSKMAP that `list` shows, at
      the slots it shows (QEMU: -netdev af-xdp,ifname=NAME,queues=N,
      inhibit=on,map-path=MAP,map-start-index=FIRST).  The port is up while
      every queue has its socket; frames it sends are checked like any port's.
  set-port IFNAME [--mac MAC]... [--mode MODE] [--src-check on|off]
      Change a port; --mac replaces the MAC list (--mac guest: learn it again).
  del-port IFNAME
      Detach and forget a port.
  list            Ports: state (up, down, absent, unsupported), MACs, mode,
                  delivery path (xdp, tc-peer, tc) and attach hook.
  stats [IFNAME]  Per-port rx/tx packets and bytes, and drops by reason.
  status          Uplink, programs and their attach modes, pin directory, and
                  whether the switch reflects (hairpins): by vepad's reflection
                  probe and by what the bridge says over LLDP (802.1Qbg EVB).
  probe           Check now whether the switch reflects, and print the result
                  (exit 0 reflecting, 3 not reflecting, 4 unknown).
  shutdown [--detach]
                  Stop vepad; with --detach also remove its programs and maps
                  (without, the dataplane keeps forwarding).

Modes: vepa (every frame to the switch), private (vepa, and no frame to or
from another local port even through the switch), bridge (vepa, plus direct
delivery to other bridge ports).

Output: aligned tables; --json prints the reply's result object as documented
in README (stable).  Exit status: 0 done, 1 refused or failed (the reason on
stderr), 2 usage error; for probe also 3 not reflecting, 4 unknown.  The socket is $VEPAD_SOCKET or /run/vepad/vepad.sock.)";

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepactl"};
    app.require_subcommand(1, 1);
    app.fallthrough();   // --json, --socket may follow the command too
    app.get_formatter()->column_width(30);
    std::string socket = proto::socket_path();
    bool as_json = false;
    int timeout = 60;
    app.add_option("--socket", socket, "vepad's control socket")->type_name("PATH");
    app.add_flag("--json", as_json, "print the result as JSON");
    app.add_option("--timeout", timeout, "seconds to wait for vepad's reply (default 60)")->check(CLI::PositiveNumber);
    app.set_version_flag("--version", std::string("vepactl ") + VEPAD_VERSION);

    std::string name;
    std::vector<std::string> macs;
    std::string mode, src_check;
    bool no_src_check = false, detach = false;
    std::optional<std::string> stats_name;
    std::string type;
    unsigned queues = 0;

    auto* add = app.add_subcommand("add-port", "attach an interface as a port");
    add->add_option("IFNAME", name, "interface name")->required();
    add->add_option("--mac", macs, "a MAC of the guest (repeatable)")->type_name("MAC");
    add->add_option("--mode", mode, "vepa (default), private or bridge")->type_name("MODE");
    add->add_flag("--no-src-check", no_src_check, "do not drop frames with a source MAC not the port's");
    add->add_option("--type", type, "kernel (default: an existing veth or tap) or xsk (AF_XDP sockets)")
        ->type_name("TYPE")
        ->check(CLI::IsMember({"kernel", "xsk"}));
    add->add_option("--queues", queues, "xsk: queues, one socket each (default 1)")
        ->type_name("N")
        ->check(CLI::Range(1, VEPA_MAX_XSK_QUEUES));
    // --mac may repeat: collect every occurrence.
    add->get_option("--mac")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);

    auto* set = app.add_subcommand("set-port", "change a port");
    set->add_option("IFNAME", name, "port name")->required();
    set->add_option("--mac", macs, "the guest's MACs, replacing the list ('guest': learn it)")
        ->type_name("MAC")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    set->add_option("--mode", mode, "vepa, private or bridge")->type_name("MODE");
    set->add_option("--src-check", src_check, "anti-spoofing on or off")->type_name("on|off")->check(
        CLI::IsMember({"on", "off"}));

    auto* del = app.add_subcommand("del-port", "detach and forget a port");
    del->add_option("IFNAME", name, "port name")->required();
    auto* list = app.add_subcommand("list", "list ports");
    auto* stats = app.add_subcommand("stats", "counters and drop reasons");
    stats->add_option_function<std::string>("IFNAME", [&](const std::string& v) { stats_name = v; }, "one port only");
    auto* status = app.add_subcommand("status", "uplink, programs, pin directory");
    auto* probe = app.add_subcommand("probe", "check now whether the switch reflects (hairpin)");
    auto* shut = app.add_subcommand("shutdown", "stop vepad");
    shut->add_flag("--detach", detach, "also remove vepad's programs and maps");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }

    json req = {{"id", 1}, {"args", json::object()}};
    json& args = req["args"];
    auto mac_list = [&]() {
        json a = json::array();
        for (const auto& m : macs)
            if (m != "guest")
                a.push_back(m);
        return a;
    };
    if (*add) {
        req["cmd"] = proto::kAddPort;
        args["name"] = name;
        if (!macs.empty())
            args["macs"] = mac_list();
        if (!mode.empty())
            args["mode"] = mode;
        if (no_src_check)
            args["src_check"] = false;
        if (!type.empty())
            args["type"] = type;
        if (queues) {
            if (type != "xsk") {
                std::cerr << "vepactl: add-port: --queues is for --type xsk\n";
                return kExitUsage;
            }
            args["queues"] = queues;
        }
    } else if (*set) {
        req["cmd"] = proto::kSetPort;
        args["name"] = name;
        if (!macs.empty())
            args["macs"] = mac_list();
        if (!mode.empty())
            args["mode"] = mode;
        if (!src_check.empty())
            args["src_check"] = src_check == "on";
        if (args.size() == 1) {
            std::cerr << "vepactl: set-port: nothing to change (give --mac, --mode or --src-check)\n";
            return kExitUsage;
        }
    } else if (*del) {
        req["cmd"] = proto::kDelPort;
        args["name"] = name;
    } else if (*list) {
        req["cmd"] = proto::kList;
    } else if (*stats) {
        req["cmd"] = proto::kStats;
        if (stats_name)
            args["name"] = *stats_name;
    } else if (*status) {
        req["cmd"] = proto::kStatus;
    } else if (*probe) {
        req["cmd"] = proto::kProbe;
    } else if (*shut) {
        req["cmd"] = proto::kShutdown;
        args["detach"] = detach;
    }

    json resp;
    try {
        resp = call(socket, req, timeout * 1000);
    } catch (const ClientError& e) {
        std::cerr << "vepactl: " << e.what() << "\n";
        return kExitRefused;
    }
    if (!resp.is_object() || !resp.contains("ok")) {
        std::cerr << "vepactl: vepad sent an unexpected reply: " << resp.dump() << "\n";
        return kExitRefused;
    }
    if (resp["ok"] != true) {
        const json& e = resp.value("error", json::object());
        std::cerr << "vepactl: " << e.value("message", std::string("refused")) << " ["
                  << e.value("code", std::string("?")) << "]\n";
        return kExitRefused;
    }
    if (*probe) {
        // The probe runs in vepad's loop; wait until its result is the one asked for.
        const uint64_t want = resp["result"].value("seq", uint64_t{0});
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout);
        json status_req = {{"id", 2}, {"cmd", proto::kStatus}};
        json rr;
        for (;;) {
            try {
                const json st = call(socket, status_req, timeout * 1000);
                rr = st.value("result", json::object()).value("reflective_relay", json::object());
            } catch (const ClientError& e) {
                std::cerr << "vepactl: " << e.what() << "\n";
                return kExitRefused;
            }
            const json& pr = rr.value("probe", json::object());
            if (pr.value("seq", uint64_t{0}) >= want && pr.value("running", false) == false)
                break;
            if (std::chrono::steady_clock::now() > deadline) {
                std::cerr << "vepactl: the probe did not finish within " << timeout << " s\n";
                return kExitRefused;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (as_json)
            std::cout << rr.dump(2) << "\n";
        else
            print_relay(rr);
        const std::string st = rr["probe"].value("state", std::string("unknown"));
        return st == "reflecting" ? 0 : st == "not-reflecting" ? kExitNotReflecting : kExitUnknown;
    }
    const json& r = resp["result"];
    if (as_json) {
        std::cout << r.dump(2) << "\n";
        return 0;
    }
    if (*add || *set)
        print_port_result(r);
    else if (*del)
        std::cout << "port " << name << " deleted\n";
    else if (*list)
        print_list(r);
    else if (*stats)
        print_stats(r, stats_name.has_value());
    else if (*status)
        print_status(r);
    else if (*shut)
        std::cout << "vepad stopping" << (r.value("detach", false) ? "; dataplane removed" : "; dataplane stays attached")
                  << "\n";
    return 0;
}
