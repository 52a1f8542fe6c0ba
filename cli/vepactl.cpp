// vepactl - control vepad: ports, counters, status.  Speaks the protocol of
// vepa/control.hpp and knows nothing else of the daemon.

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/frame_spec.hpp"
#include "lib/hex.hpp"
#include "cli/monitor.hpp"
#include "cli/trace_format.hpp"
#include "lib/port_vlans.hpp"
#include "vepa/abi.h"
#include "vepa/control.hpp"
#include "vepa/control_client.hpp"
#include "vepa/port_owner.hpp"
#include "vepa/vlan_list.hpp"

using nlohmann::json;
namespace proto = vepa::proto;

namespace {

constexpr int kExitRefused = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotReflecting = 3; // vepactl probe: the switch does not reflect
constexpr int kExitUnknown = 4;       // vepactl probe: no answer (uplink absent or down)
constexpr int kExitTraceFailed = 5;   // vepactl trace: refused or failed (1 is "dropped")

using proto::call;
using proto::ClientError;

// The options before or after any command.
struct GlobalOptions {
    std::string socket = proto::socket_path();
    bool as_json = false;
    int timeout = 60; // seconds
};

// Every command's options as CLI11 fills them in; each command uses its own few.
struct Options {
    std::string name;                      // IFNAME: add-port, set-port, del-port
    std::vector<std::string> macs;         // --mac: add-port, set-port
    std::string mode;                      // --mode: add-port, set-port
    bool no_src_check = false;             // add-port --no-src-check
    std::string type;                      // add-port --type
    unsigned queues = 0;                   // add-port --queues
    std::string src_check;                 // set-port --src-check on|off
    std::optional<std::string> vlan;       // --vlan VID (set-port: or none): add-port, set-port
    std::optional<std::string> trunk;      // --trunk VIDS|all (set-port: or none): add-port, set-port
    std::optional<std::string> owner;      // --owner TOOL[:NAME[:ID[:IFNAME]]] (set-port: or none)
    std::optional<std::string> stats_name; // stats [IFNAME]
    bool detach = false;                   // shutdown --detach
    struct {                               // monitor's filters
        std::optional<std::string> port, mac, rule;
        std::optional<unsigned> vlan, sample, rate;
        bool drops = false, payload = false;
    } mon;
    std::string batch_file; // batch FILE
    struct { // trace
        std::string from;
        std::vector<std::string> frame; // FRAME, possibly split by the shell (hex with spaces)
    } trace;
};

// A command line that makes no request (vepactl: COMMAND: what, exit 2), found after CLI11's checks.
class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// ---- human output ---------------------------------------------------------

class TextTable {
public:
    explicit TextTable(std::vector<std::string> head) { rows_.push_back(std::move(head)); }
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

std::string fixed(double v, int digits)
{
    char b[32];
    std::snprintf(b, sizeof(b), "%.*f", digits, v);
    return b;
}

std::string join_macs(const json& macs)
{
    std::string out;
    for (const auto& m : macs)
        out += (out.empty() ? "" : ",") + s(m);
    return out.empty() ? "-" : out;
}

// A port's VLANs as PortVlans::str() writes them ("10", "10 +20,30", "+all"); "-" when none or not reported.
std::string vlans_text(const json& p)
{
    vepa::PortVlans v;
    const json vlan = p.value("vlan", json()), trunk = p.value("trunk", json());
    if (vlan.is_number_unsigned())
        v.untagged = vlan.get<uint16_t>();
    if (trunk == "all")
        v.all_tagged = true;
    else if (trunk.is_array())
        for (const auto& vid : trunk)
            if (vid.is_number_unsigned())
                v.tagged.insert(vid.get<uint16_t>());
    return or_dash(v.str());
}

// list's note on an xsk port: where its AF_XDP sockets bind and how many are attached.
std::string xsk_note(const json& p)
{
    const json& x = p["xsk"];
    const uint64_t first = x["first_slot"], queues = x["queues"];
    return s(p["name"]) + ": AF_XDP sockets bind to " + s(x["device"]) + " queues 0-" + std::to_string(queues - 1) +
           ", XSKMAP " + or_dash(s(x["map"])) + " slots " + std::to_string(first) + "-" +
           std::to_string(first + queues - 1) + "; " + std::to_string(x["sockets"].size()) + " of " +
           std::to_string(queues) + " attached (vepa side " + s(x["peer"]) + ")";
}

// The port's owner as "tool:name:id:ifname" (id shortened), or "-".
std::string owner_text(const json& p)
{
    std::string why;
    const auto o = p.contains("owner") ? vepa::parse_port_owner(p["owner"], &why) : std::nullopt;
    return o ? o->str() : "-";
}

void print_ports(const Options&, const json& r)
{
    TextTable t({"NAME", "IFINDEX", "STATE", "KIND", "MODE", "MACS", "VLANS", "DELIVERY", "ATTACH", "SLOT", "OWNER"});
    std::vector<std::string> notes;
    for (const auto& p : r["ports"]) {
        std::string macs = join_macs(p["macs"]);
        if (p["mac_source"] == "guest")
            macs += " (guest)";
        t.add({s(p["name"]), p["ifindex"] == 0 ? "-" : s(p["ifindex"]), s(p["state"]), or_dash(s(p["kind"])),
               s(p["mode"]) + (p["src_check"] == false ? " (no src check)" : ""), macs, vlans_text(p),
               or_dash(s(p["delivery"])), or_dash(s(p["attach"])), s(p["slot"]), owner_text(p)});
        if (p.contains("reason"))
            notes.push_back(s(p["name"]) + ": " + s(p["reason"]));
        if (p.contains("xsk") && p["xsk"].is_object())
            notes.push_back(xsk_note(p));
    }
    t.print(std::cout);
    if (r["ports"].empty())
        std::cout << "(no ports)\n";
    for (const auto& n : notes)
        std::cout << "note: " << n << "\n";
}

// add-port, set-port: the port as it is now.
void print_port(const Options&, const json& p)
{
    std::cout << s(p["name"]) << ": " << s(p["state"]);
    if (p["ifindex"] != 0)
        std::cout << ", ifindex " << s(p["ifindex"]) << ", " << s(p["kind"]) << ", delivery "
                  << or_dash(s(p["delivery"])) << ", attach " << or_dash(s(p["attach"]));
    std::cout << ", mode " << s(p["mode"]) << ", MACs " << join_macs(p["macs"]);
    if (const std::string v = vlans_text(p); v != "-")
        std::cout << ", VLANs " << v;
    std::cout << "\n";
    if (p.contains("reason"))
        std::cout << "note: " << s(p["reason"]) << "\n";
}

void print_port_deleted(const Options& o, const json&) { std::cout << "port " << o.name << " deleted\n"; }

uint64_t drop_total(const json& c)
{
    uint64_t n = 0;
    for (const auto& [k, v] : c["drops"].items())
        n += v.get<uint64_t>();
    return n;
}

void print_counters(const json& r, bool one_port)
{
    TextTable t({"PORT", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "HOST_PACKETS", "DROPS"});
    auto row = [&](const std::string& name, const json& c, bool host) {
        t.add({name, s(c["rx_packets"]), s(c["rx_bytes"]), s(c["tx_packets"]), s(c["tx_bytes"]),
               host ? s(c["host_packets"]) : "-", std::to_string(drop_total(c))});
    };
    if (!one_port)
        row(s(r["uplink"]["name"]) + " (uplink)", r["uplink"]["counters"], true);
    for (const auto& p : r["ports"])
        row(s(p["name"]), p["counters"], false);
    t.print(std::cout);
}

// Every reason for a single port; the non-zero ones otherwise.
void print_drop_reasons(const json& r, bool one_port)
{
    TextTable d({"PORT", "DROP_REASON", "PACKETS"});
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

void print_stats(const Options& o, const json& r)
{
    print_counters(r, o.stats_name.has_value());
    std::cout << "\n";
    print_drop_reasons(r, o.stats_name.has_value());
}

void print_probe(const json& pr)
{
    std::cout << "  probe: " << s(pr["state"]) << ": " << s(pr["reason"]);
    if (pr["checked"].is_string())
        std::cout << "; checked " << s(pr["checked"]) << " (" << fixed(pr["age_s"].get<double>(), 1) << " s ago)";
    if (pr.contains("rtt_ms"))
        std::cout << ", back within " << fixed(pr["rtt_ms"].get<double>(), 1) << " ms";
    std::cout << "\n         "
              << (pr["interval_s"] == 0 ? std::string("no periodic probes") : "every " + s(pr["interval_s"]) + " s")
              << "; probe MACs " << s(pr["src"]) << " -> " << s(pr["dst"]) << "\n";
}

void print_lldp(const json& ll)
{
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

// Whether the switch reflects: the verdict, then the probe's and LLDP's view.
void print_relay(const json& rr)
{
    std::cout << "reflective relay: " << s(rr["verdict"]);
    if (!rr["by"].is_null())
        std::cout << " (by " << s(rr["by"]) << ")";
    std::cout << "\n";
    print_probe(rr["probe"]);
    print_lldp(rr["lldp"]);
}

// "rx filter:   auto, 7 MACs (+1 someone else's), allmulti"
void print_rx_filter(const json& rx)
{
    if (!rx.is_object()) // an older vepad
        return;
    std::cout << "rx filter:   " << s(rx["mode"]) << ", " << s(rx["entries"]) << " MAC"
              << (rx["entries"] == 1 ? "" : "s");
    if (rx["foreign"] != 0)
        std::cout << " (+" << s(rx["foreign"]) << " accepted by someone else's entry)";
    if (rx["allmulti"] == true)
        std::cout << ", allmulti";
    if (rx["promisc"] == true)
        std::cout << ", promisc";
    if (rx["error"].is_string())
        std::cout << "; failed: " << s(rx["error"]);
    std::cout << "\n";
}

void print_uplink(const json& up)
{
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
    std::cout << "uplink TC:   "
              << (up["tc"].is_object() ? "program " + s(up["tc"]["prog_id"]) + " at " + s(up["tc"]["hook"]) : "not attached")
              << "\n";
    print_rx_filter(up["rx_filter"]);
}

void print_status(const Options&, const json& r)
{
    std::cout << "vepad " << s(r["version"]) << " (map layout v" << s(r["layout_version"]) << ")\n";
    print_uplink(r["uplink"]);
    const json& p = r["programs"];
    std::cout << "programs:    uplink_xdp " << s(p["uplink_xdp"]) << ", uplink_tc " << s(p["uplink_tc"])
              << ", port_xdp " << s(p["port_xdp"]) << ", port_tc " << s(p["port_tc"]);
    if (p.contains("xsk_xdp")) // the xsk ports' program; a vepad that does not report it leaves it out
        std::cout << ", xsk_xdp " << s(p["xsk_xdp"]);
    std::cout << "\n";
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

void print_stopping(const Options&, const json& r)
{
    std::cout << "vepad stopping" << (r.value("detach", false) ? "; dataplane removed" : "; dataplane stays attached")
              << "\n";
}

void print_metrics(const Options&, const json& r) { std::cout << r.value("text", ""); }

// ---- the commands: options, request, result -------------------------------

// What a command's print step sees: --json, the command's options, and --socket and --timeout for one that asks
// vepad again (probe).
struct Invocation {
    const GlobalOptions& global;
    const Options& opts;
};
// A command's print step, given vepad's result: print it and return the exit status.
using PrintResult = int (*)(const Invocation&, const json& result);

// The print step of most commands: the result as it came (--json) or as text by print_text; exit 0.
template <void (*print_text)(const Options&, const json&)>
int print_json_or_text(const Invocation& inv, const json& result)
{
    if (inv.global.as_json)
        std::cout << result.dump(2) << "\n";
    else
        print_text(inv.opts, result);
    return 0;
}

// The probe runs in vepad's loop: poll status until its probe is the one asked for (seq) and done.
json await_probe(const GlobalOptions& g, uint64_t seq)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(g.timeout);
    const json status_req = {{"id", 2}, {"cmd", proto::kStatus}};
    for (;;) {
        const json st = call(g.socket, status_req, g.timeout * 1000);
        json rr = st.value("result", json::object()).value("reflective_relay", json::object());
        const json& pr = rr.value("probe", json::object());
        if (pr.value("seq", uint64_t{0}) >= seq && pr.value("running", false) == false)
            return rr;
        if (std::chrono::steady_clock::now() > deadline)
            throw ClientError("the probe did not finish within " + std::to_string(g.timeout) + " s");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// probe: print the reflective relay once the probe is done; exit 0 reflecting, 3 not, 4 unknown.
int print_probe_outcome(const Invocation& inv, const json& result)
{
    json rr = await_probe(inv.global, result.value("seq", uint64_t{0}));
    if (inv.global.as_json)
        std::cout << rr.dump(2) << "\n";
    else
        print_relay(rr);
    const std::string st = rr["probe"].value("state", std::string("unknown"));
    return st == "reflecting" ? 0 : st == "not-reflecting" ? kExitNotReflecting : kExitUnknown;
}

void no_options(CLI::App&, Options&) {}

// An option whose absence matters (set-port: unchanged).
CLI::Option* optional_option(CLI::App& cmd, const std::string& name, std::optional<std::string>& to,
                             const std::string& help)
{
    return cmd.add_option_function<std::string>(
        name, [&to](const std::string& v) { to = v; }, help);
}

void add_port_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("IFNAME", o.name, "interface name")->required();
    cmd.add_option("--mac", o.macs, "a MAC of the guest (repeatable)")->type_name("MAC");
    cmd.add_option("--mode", o.mode, "vepa (default), private or bridge")->type_name("MODE");
    cmd.add_flag("--no-src-check", o.no_src_check, "do not drop frames with a source MAC not the port's");
    cmd.add_option("--type", o.type, "kernel (default: an existing veth or tap) or xsk (AF_XDP sockets)")
        ->type_name("TYPE")
        ->check(CLI::IsMember({"kernel", "xsk"}));
    cmd.add_option("--queues", o.queues, "xsk: queues, one socket each (default 1)")
        ->type_name("N")
        ->check(CLI::Range(1, VEPA_MAX_XSK_QUEUES));
    // --mac may repeat: collect every occurrence.
    cmd.get_option("--mac")->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    optional_option(cmd, "--vlan", o.vlan,
                    "the port's untagged VLAN (1-4094): the guest's untagged frames are in this VLAN on the uplink, "
                    "and this VLAN's frames reach the guest untagged")
        ->type_name("VID");
    optional_option(cmd, "--trunk", o.trunk,
                    "tagged VLANs the guest may use, their frames passing with their tag (e.g. 20,30-39); all: any "
                    "VLAN.  Without --vlan and --trunk the port takes untagged frames only")
        ->type_name("VIDS|all");
    optional_option(cmd, "--owner", o.owner,
                    "who the port belongs to, shown by list (the CNI plugin and the libvirt hook set it)")
        ->type_name("TOOL[:NAME[:ID[:IFNAME]]]");
}

void set_port_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("IFNAME", o.name, "port name")->required();
    cmd.add_option("--mac", o.macs, "the guest's MACs, replacing the list ('guest': learn it)")
        ->type_name("MAC")
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd.add_option("--mode", o.mode, "vepa, private or bridge")->type_name("MODE");
    cmd.add_option("--src-check", o.src_check, "anti-spoofing on or off")
        ->type_name("on|off")
        ->check(CLI::IsMember({"on", "off"}));
    optional_option(cmd, "--vlan", o.vlan, "the untagged VLAN, replacing it (none: untagged frames stay untagged)")
        ->type_name("VID|none");
    optional_option(cmd, "--trunk", o.trunk, "the tagged VLANs, replacing them (all: any VLAN; none: no tagged frames)")
        ->type_name("VIDS|none|all");
    optional_option(cmd, "--owner", o.owner, "who the port belongs to, replacing it (none: nobody)")
        ->type_name("TOOL[:NAME[:ID[:IFNAME]]]|none");
}

void del_port_options(CLI::App& cmd, Options& o) { cmd.add_option("IFNAME", o.name, "port name")->required(); }

void stats_options(CLI::App& cmd, Options& o)
{
    cmd.add_option_function<std::string>(
        "IFNAME", [&o](const std::string& v) { o.stats_name = v; }, "one port only");
}

void monitor_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("--port", o.mon.port, "events of this port only (sender or receiver; uplink too)")
        ->type_name("NAME");
    cmd.add_option("--mac", o.mon.mac, "events with this source or destination MAC only")->type_name("MAC");
    cmd.add_flag("--drops", o.mon.drops, "drops only (the default unless --sample)");
    cmd.add_option("--rule", o.mon.rule, "events of this rule only (T1-T6, R1-R7, M1-M5, V1-V7)")->type_name("ID");
    cmd.add_option("--vlan", o.mon.vlan, "events of this VLAN only (0: untagged)")
        ->type_name("VID")
        ->check(CLI::Range(0, 4095));
    cmd.add_option("--sample", o.mon.sample, "forwarding decisions too: one in N")
        ->type_name("N")
        ->check(CLI::Range(1, 1000000));
    cmd.add_option("--rate", o.mon.rate, "at most N records per second per CPU (default 10000)")
        ->type_name("N")
        ->check(CLI::Range(1, 1000000));
    cmd.add_flag("--payload", o.mon.payload, "the frame's first 64 bytes too, as a hex dump under each event");
}

void shutdown_options(CLI::App& cmd, Options& o)
{
    cmd.add_flag("--detach", o.detach, "also remove vepad's programs and maps");
}

void no_args(const Options&, json&) {}

// --mac list; "guest" (set-port: learn the guest's MAC again) leaves it empty.
json mac_list(const std::vector<std::string>& macs)
{
    json a = json::array();
    for (const auto& m : macs)
        if (m != "guest")
            a.push_back(m);
    return a;
}

// --vlan VID as the request's "vlan"; `none` (where allowed) as null.
json vlan_arg(const std::string& v, bool none_ok)
{
    if (none_ok && v == "none")
        return nullptr;
    const auto vid = vepa::parse_vid(v);
    if (!vid)
        throw UsageError("--vlan " + v + ": not a VLAN id (1 to 4094" + (none_ok ? ", or none)" : ")"));
    return *vid;
}

// --trunk VIDS|all as the request's "trunk"; `none` (where allowed) as null.
json trunk_arg(const std::string& v, bool none_ok)
{
    if (v == "all")
        return "all";
    if (none_ok && v == "none")
        return nullptr;
    const auto vids = vepa::parse_vid_list(v);
    if (!vids)
        throw UsageError("--trunk " + v + ": not a VLAN list (VID[,VID|VID-VID]..., each 1 to 4094)" +
                         (none_ok ? ", all or none" : " or all"));
    return *vids;
}

json checked_owner(const json& o, const std::string& arg)
{
    std::string why;
    if (!vepa::parse_port_owner(o, &why))
        throw UsageError("--owner " + arg + ": " + why);
    return o;
}

// --vlan and --trunk into args, each checked as vepad checks it.
void vlan_args(const Options& o, json& args, bool none_ok)
{
    if (o.vlan)
        args["vlan"] = vlan_arg(*o.vlan, none_ok);
    if (o.trunk)
        args["trunk"] = trunk_arg(*o.trunk, none_ok);
    if (o.vlan && o.trunk && args["vlan"].is_number() && args["trunk"].is_array())
        for (const auto& vid : args["trunk"])
            if (vid == args["vlan"])
                throw UsageError("VLAN " + vid.dump() + " cannot be both untagged (--vlan) and tagged (--trunk)");
}

// --owner TOOL[:NAME[:ID[:IFNAME]]] as the request's "owner", checked as vepad checks it;
// `none` (where allowed) as null.
json owner_arg(const std::optional<std::string>& v, bool none_ok)
{
    if (none_ok && v == "none")
        return nullptr;
    json o = {{"tool", ""}, {"name", ""}, {"id", ""}, {"ifname", ""}};
    size_t start = 0;
    for (const char* key : {"tool", "name", "id"}) {
        const size_t colon = v->find(':', start);
        o[key] = v->substr(start, colon - start);
        if (colon == std::string::npos)
            return checked_owner(o, *v);
        start = colon + 1;
    }
    o["ifname"] = v->substr(start);
    return checked_owner(o, *v);
}

void add_port_args(const Options& o, json& args)
{
    args["name"] = o.name;
    if (!o.macs.empty())
        args["macs"] = mac_list(o.macs);
    if (!o.mode.empty())
        args["mode"] = o.mode;
    if (o.no_src_check)
        args["src_check"] = false;
    vlan_args(o, args, false);
    if (o.owner)
        args["owner"] = owner_arg(o.owner, false);
    if (!o.type.empty())
        args["type"] = o.type;
    if (o.queues) {
        if (o.type != "xsk")
            throw UsageError("--queues is for --type xsk");
        args["queues"] = o.queues;
    }
}

void set_port_args(const Options& o, json& args)
{
    args["name"] = o.name;
    if (!o.macs.empty())
        args["macs"] = mac_list(o.macs);
    if (!o.mode.empty())
        args["mode"] = o.mode;
    if (!o.src_check.empty())
        args["src_check"] = o.src_check == "on";
    vlan_args(o, args, true);
    if (o.owner)
        args["owner"] = owner_arg(o.owner, true);
    if (args.size() == 1)
        throw UsageError("nothing to change (give --mac, --mode, --src-check, --vlan, --trunk or --owner)");
}

void port_name_args(const Options& o, json& args) { args["name"] = o.name; }

void stats_args(const Options& o, json& args)
{
    if (o.stats_name)
        args["name"] = *o.stats_name;
}

void shutdown_args(const Options& o, json& args) { args["detach"] = o.detach; }

void trace_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("--from", o.trace.from, "the port the frame comes from, or uplink (from the switch)")
        ->type_name("PORT|uplink")
        ->required();
    cmd.add_option("FRAME", o.trace.frame, "hex bytes, or fields dst=MAC,src=MAC[,type=T][,vlan=VID][,prio=P][,len=N]")
        ->required();
}

void trace_args(const Options& o, json& args)
{
    std::string spec;
    for (const auto& part : o.trace.frame)
        spec += (spec.empty() ? "" : " ") + part;
    args["from"] = o.trace.from;
    try {
        args["frame"] = vepa::to_hex(vepactl::parse_frame_spec(spec));
    } catch (const vepactl::FrameSpecError& e) {
        throw UsageError(std::string("FRAME: ") + e.what());
    }
}

// trace: the hops and the verdict; exit 0 delivered, 1 dropped.
int print_trace(const Invocation& inv, const json& result)
{
    if (inv.global.as_json)
        std::cout << result.dump(2) << "\n";
    else
        std::cout << vepactl::format_trace(result);
    return vepactl::trace_status(result);
}

void monitor_args(const Options& o, json& args)
{
    if (o.mon.port)
        args["port"] = *o.mon.port;
    if (o.mon.mac)
        args["mac"] = *o.mon.mac;
    if (o.mon.drops)
        args["drops"] = true;
    if (o.mon.rule)
        args["rule"] = *o.mon.rule;
    if (o.mon.vlan)
        args["vlan"] = *o.mon.vlan;
    if (o.mon.sample)
        args["sample"] = *o.mon.sample;
    if (o.mon.rate)
        args["rate"] = *o.mon.rate;
    if (o.mon.payload)
        args["payload"] = true;
    if (o.mon.drops && o.mon.sample)
        throw UsageError("--drops and --sample exclude each other (--sample adds forwarding decisions)");
}

int run_monitor_command(const GlobalOptions& g, const json& args) { return vepactl::run_monitor(g.socket, args, g.as_json); }

void batch_options(CLI::App& cmd, Options& o)
{
    cmd.add_option("FILE", o.batch_file, "one add-port, set-port or del-port command line a line ('-': stdin)")
        ->required();
}

void batch_args(const Options& o, json& args);
int run_batch(const GlobalOptions& g, const json& args);

struct Command {
    const char* name;                                    // the subcommand and the protocol's command
    const char* help;                                    // one line, for --help
    void (*add_options)(CLI::App& cmd, Options& opts);   // the command's CLI11 options, into opts
    void (*build_args)(const Options& opts, json& args); // the request's args; may throw UsageError
    PrintResult print_result;
    int refused_status = kExitRefused; // exit status when vepad refuses or cannot be reached
    // A command that is not one request and one reply (monitor: a stream; batch: as many requests as it needs).
    int (*runner)(const GlobalOptions&, const json& args) = nullptr;
};

// Every command, in --help's order.  A new command is an entry here, with its print function (and its
// paragraph in kDescription).
const Command kCommands[] = {
    {proto::kAddPort, "attach an interface as a port", add_port_options, add_port_args, print_json_or_text<print_port>},
    {proto::kSetPort, "change a port", set_port_options, set_port_args, print_json_or_text<print_port>},
    {proto::kDelPort, "detach and forget a port", del_port_options, port_name_args,
     print_json_or_text<print_port_deleted>},
    {proto::kList, "list ports", no_options, no_args, print_json_or_text<print_ports>},
    {proto::kStats, "counters and drop reasons", stats_options, stats_args, print_json_or_text<print_stats>},
    {proto::kStatus, "uplink, programs, pin directory", no_options, no_args, print_json_or_text<print_status>},
    {proto::kProbe, "check now whether the switch reflects (hairpin)", no_options, no_args, print_probe_outcome},
    {proto::kMetrics, "Prometheus metrics (text exposition format)", no_options, no_args,
     print_json_or_text<print_metrics>},
    {proto::kMonitor, "live decision events (drops; forwarding with --sample)", monitor_options, monitor_args,
     nullptr, kExitRefused, run_monitor_command},
    {proto::kBatch, "add, change and delete ports from a file, all or none", batch_options, batch_args, nullptr,
     kExitRefused, run_batch},
    {proto::kTrace, "what would happen to a frame (nothing is sent or counted)", trace_options, trace_args,
     print_trace, kExitTraceFailed},
    {proto::kShutdown, "stop vepad", shutdown_options, shutdown_args, print_json_or_text<print_stopping>},
};

const char* kDescription = R"(vepactl - control vepad, the eBPF VEPA for VM and container ports

Commands:
  add-port IFNAME [--mac MAC]... [--mode vepa|private|bridge] [--no-src-check]
           [--vlan VID] [--trunk VIDS|all] [--owner TOOL[:NAME[:ID[:IFNAME]]]]
      Attach a veth (container) or tap (VM) interface.  The interface need not
      exist yet: the port is then listed as absent and attached when it appears.
      --mac gives the guest's MAC address(es) (up to 256); required for a tap.
      Without --mac a veth port uses its guest end's MAC, followed as it changes.
      --vlan and --trunk put the port in VLANs (see VLANs below).  --owner
      records whom the port belongs to (TOOL: a-z, 0-9, _ and -; the rest
      printable, without spaces); the CNI plugin records
      cni:NETWORK:CONTAINERID:IFNAME, the libvirt hook libvirt:DOMAIN:UUID.
  add-port NAME --type xsk --mac MAC [--queues N] [--mode MODE] [--no-src-check]
           [--vlan VID] [--trunk VIDS|all]
      An AF_XDP port: vepad creates the veth pair NAME / vx-NAME (NAME at most
      12 characters).  AF_XDP sockets bind to NAME, one per queue (N, default
      1, at most 64), and reach vepad either by SCM_RIGHTS (libvepa-xsk,
      vepa-xsk --attach) or through the pinned XSKMAP that `list` shows, at
      the slots it shows (QEMU: -netdev af-xdp,ifname=NAME,queues=N,
      inhibit=on,map-path=MAP,map-start-index=FIRST).  The port is up while
      every queue has its socket; frames it sends are checked like any port's.
  set-port IFNAME [--mac MAC]... [--mode MODE] [--src-check on|off]
           [--vlan VID|none] [--trunk VIDS|none|all] [--owner OWNER|none]
      Change a port; --mac replaces the MAC list (--mac guest: learn it again),
      --vlan the untagged VLAN and --trunk the tagged ones, --owner the owner
      (none: remove them); what is not given stays as it was.
  del-port IFNAME
      Detach and forget a port.
  list            Ports: state (up, down, absent, unsupported), MACs, mode,
                  VLANs, delivery path (xdp, tc-peer, tc), attach hook and
                  owner (its container id shortened to 12 characters).
  stats [IFNAME]  Per-port rx/tx packets and bytes, and drops by reason.
  status          Uplink, programs and their attach modes, pin directory, and
                  whether the switch reflects (hairpins): by vepad's reflection
                  probe and by what the bridge says over LLDP (802.1Qbg EVB).
  probe           Check now whether the switch reflects, and print the result
                  (exit 0 reflecting, 3 not reflecting, 4 unknown).
  metrics         The Prometheus text exposition (format 0.0.4) vepad serves
                  at GET /metrics when metrics_listen is set: per-port and
                  uplink counters, drops by reason, port states, reflective
                  relay, reconciles, control requests (README, Metrics).
  monitor [--port NAME] [--mac MAC] [--drops] [--rule ID] [--vlan VID]
          [--sample N] [--rate N] [--payload]
      Live decisions of the dataplane, one line per event, until Ctrl-C, which
      prints a summary (events, records lost, events by rule) on stderr.  Every
      drop is an event; with --sample N also one in N forwarding decisions
      (unicast redirects, group fan-outs, frames for the host).  A line:
        10:21:03.512 port_tc   c2      -> DROP     T5 spoofed  src 02:00:0a:14:00:0b
                     (c2 has 02:00:0a:14:00:0c) ipv4 98B
      time, program (uplink_xdp, uplink_tc, port_xdp, port_tc, xsk_xdp), the
      sending port (uplink for frames from the switch), where the frame went
      (DROP, a port, host, N ports[+host] for a group fan-out), the rule of
      docs/VEPA-SEMANTICS.md that decided (T1-T6, R1-R7, M1-M5 malformed,
      V2; - for none), the drop reason or how it was sent (redirect,
      redirect-peer), the addresses, ethertype, VLAN, length, and reflected
      (from the switch with a local port's source MAC: a local port's frame
      sent back) or gso.  --payload: the frame's first 64 bytes too, as it
      came (before vepad pushed or popped its VLAN tag), in a hex dump under
      the line, 16 bytes a line with the offset and the bytes as ASCII:
        0000  02 00 0a 14 00 64 02 00  0a 14 00 0c 08 00 45 00  .....d........E.
      (only this monitor gets them; the dataplane captures them while any
      monitor asks; in --json the event's "payload", hex).  Filters combine:
      --port (sender or receiver), --mac (source or destination), --rule,
      --vlan.  The dataplane records only while a monitor runs, at most --rate
      records per second per CPU (default 10000; the smallest any monitor
      asked for); records over it, or that find the ring buffer full, are
      counted lost and reported.  --json prints vepad's stream as it comes:
      one JSON object per line, {"type": "event", ...} or {"type": "lost",
      "lost": N} (the fields: README, Debugging).  Exit status 0 after
      Ctrl-C, 1 when vepad refuses or closes the stream.
  trace --from PORT|uplink FRAME
      What would happen to FRAME sent by PORT (or arriving from the switch:
      uplink), without sending or counting anything: vepad runs it through
      explain programs (the dataplane's own rules, recording instead of
      forwarding) on the live maps, follows a frame sent to the uplink
      through the switch by what vepad knows of its reflection (reflecting,
      not, unknown), and through the uplink's programs when the switch sends
      it back.  One line per hop (the device, program, verdict, the rule that
      decided and what it did), then the verdict: delivered to ports (via the
      switch, or locally for bridge mode), the host stack, the network beyond
      the switch or the switch itself (802.1 link-local frames), or dropped
      (by vepad with rule and reason, by a switch that does not reflect, or
      on an uplink that is down).  FRAME is hex bytes (spaces or colons
      allowed) or fields: dst=MAC,src=MAC[,type=T][,vlan=VID][,prio=P][,len=N]
      (type a number or ipv4, ipv6, arp, lldp, default ipv4; vlan repeats for
      stacked tags, outer first, prio their priority; len the whole frame,
      15 to 3712 bytes, default 60), e.g.
        vepactl trace --from c2 dst=02:00:0a:14:00:0d,src=02:00:0a:14:00:0c
      Exit status 0 delivered, 1 dropped, 5 refused (no such port, a frame
      the kernel cannot test-run) or vepad unreachable.  --json: the trace
      object (README, Debugging).
  batch FILE
      Add, change and delete ports from FILE ('-': stdin): one add-port,
      set-port or del-port command line per line, as on vepactl's command
      line (blank lines and lines starting with # are skipped), e.g.
        add-port c1
        add-port tap1 --mac 52:54:00:14:00:0d --vlan 10
        del-port c9
      vepad applies them in order, all or none, with one state-file write and
      one reconcile: much faster than one command at a time for many ports.
      A FILE longer than one request (64 KiB) goes as several batches, each
      all or none; on a refusal vepactl stops, says which commands were done,
      and exits 1.  Prints each port as add-port does (--json: {"results":
      [port object, or {} for a deleted port...]}).
  shutdown [--detach]
                  Stop vepad; with --detach also remove its programs and maps
                  (without, the dataplane keeps forwarding).

VLANs (IEEE 802.1Q): a port has an untagged VLAN and a set of tagged VLANs.
  --vlan VID      The untagged (access) VLAN, 1 to 4094: the guest sends and
                  receives untagged frames, which are in VLAN VID on the
                  uplink (vepad adds the tag going out and removes it coming in).
  --trunk VIDS    Tagged VLANs: frames the guest tags with one of these VIDs
                  pass with their tag, and the uplink's frames of these VLANs
                  reach the guest tagged.  VIDS is a list of VIDs and ranges,
                  e.g. 20,30-39.  The untagged VLAN cannot also be tagged.
  --trunk all     Any VLAN: the opt-out for a guest that does its own VLANs;
                  every tagged frame passes.
  A port with neither takes untagged frames only: the guest's tagged frames
  are dropped (counted as drop reason vlan), and it receives the uplink's
  untagged frames only.  A MAC address belongs to one port within a VLAN: two
  ports may have the same MAC only when their VLANs do not overlap (ports
  without --vlan all take the uplink's untagged frames; --trunk all overlaps
  every port in a VLAN).  list shows VLANs as 10 (untagged 10), 10 +20,30
  (untagged 10, tagged 20 and 30), +all (every VLAN tagged), - (none).

Modes: vepa (every frame to the switch), private (vepa, and no frame to or
from another local port even through the switch), bridge (vepa, plus direct
delivery to other bridge ports).

Output: aligned tables; --json prints the reply's result object as documented
in README (stable).  Exit status: 0 done, 1 refused or failed (the reason on
stderr), 2 usage error; for probe also 3 not reflecting, 4 unknown; trace
exits 0 delivered, 1 dropped, 5 refused or failed.  The socket is $VEPAD_SOCKET or /run/vepad/vepad.sock.)";

void add_global_options(CLI::App& app, GlobalOptions& g)
{
    app.require_subcommand(1, 1);
    app.fallthrough(); // --json, --socket, --timeout may follow the command too
    app.get_formatter()->column_width(30);
    app.add_option("--socket", g.socket, "vepad's control socket")->type_name("PATH");
    app.add_flag("--json", g.as_json, "print the result as JSON");
    app.add_option("--timeout", g.timeout, "seconds to wait for vepad's reply (default 60)")
        ->check(CLI::PositiveNumber);
    app.set_version_flag("--version", std::string("vepactl ") + VEPAD_VERSION);
}

// The command CLI11 parsed (require_subcommand(1, 1): exactly one).
const Command& parsed_command(const CLI::App& app)
{
    const std::string name = app.get_subcommands().front()->get_name();
    for (const Command& c : kCommands)
        if (name == c.name)
            return c;
    throw std::logic_error("vepactl: no entry for command " + name);
}

// Why vepad did not do it (a refusal or a reply not of the protocol), or nothing when it did.
std::optional<std::string> refusal(const json& reply)
{
    if (!reply.is_object() || !reply.contains("ok"))
        return "vepad sent an unexpected reply: " + reply.dump();
    if (reply["ok"] == true)
        return std::nullopt;
    const json& e = reply.value("error", json::object());
    return e.value("message", std::string("refused")) + " [" + e.value("code", std::string("?")) + "]";
}

// Build the command's request, send it, print the result; returns the exit status.
int run(const Command& cmd, const GlobalOptions& global, const Options& opts)
{
    json req = {{"id", 1}, {"cmd", cmd.name}, {"args", json::object()}};
    try {
        cmd.build_args(opts, req["args"]);
    } catch (const UsageError& e) {
        std::cerr << "vepactl: " << cmd.name << ": " << e.what() << "\n";
        return kExitUsage;
    }
    if (cmd.runner)
        return cmd.runner(global, req["args"]);
    try {
        json reply = call(global.socket, req, global.timeout * 1000);
        if (const auto why = refusal(reply)) {
            std::cerr << "vepactl: " << *why << "\n";
            return cmd.refused_status;
        }
        return cmd.print_result({global, opts}, reply["result"]);
    } catch (const ClientError& e) {
        std::cerr << "vepactl: " << e.what() << "\n";
        return cmd.refused_status;
    }
}

// ---- batch ------------------------------------------------------------------

// One line of a batch FILE as the request it stands for: parsed by the command's own options.
json batch_line(const std::string& line)
{
    CLI::App app{"batch line"};
    app.require_subcommand(1, 1);
    Options o;
    for (const Command& c : kCommands)
        if (c.name == std::string(proto::kAddPort) || c.name == std::string(proto::kSetPort) ||
            c.name == std::string(proto::kDelPort))
            c.add_options(*app.add_subcommand(c.name, c.help), o);
    try {
        app.parse(line, false);
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.get_name() == "RequiredError" || e.get_name() == "ExtrasError" ||
                                 e.get_name() == "RequiresError" || e.get_name() == "ValidationError"
                             ? std::string(e.what())
                             : std::string(e.what()) + " (a line is an add-port, set-port or del-port command)");
    }
    const Command& cmd = parsed_command(app);
    json request = {{"cmd", cmd.name}, {"args", json::object()}};
    cmd.build_args(o, request["args"]);
    return request;
}

void batch_args(const Options& o, json& args)
{
    std::ifstream file;
    std::istream* in = &std::cin;
    if (o.batch_file != "-") {
        file.open(o.batch_file);
        if (!file)
            throw UsageError("cannot read " + o.batch_file + ": " + std::strerror(errno));
        in = &file;
    }
    json commands = json::array();
    std::string line;
    for (int n = 1; std::getline(*in, line); n++) {
        const auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos || line[first] == '#')
            continue;
        try {
            commands.push_back(batch_line(line.substr(first)));
        } catch (const UsageError& e) {
            throw UsageError(o.batch_file + " line " + std::to_string(n) + ": " + e.what());
        }
    }
    if (commands.empty())
        throw UsageError(o.batch_file + " holds no command");
    args["commands"] = std::move(commands);
}

// The commands in as few batches as the protocol's line length allows (each all or none).
int run_batch(const GlobalOptions& g, const json& args)
{
    const json& all = args["commands"];
    const size_t room = proto::kMaxLine - 256; // the request's own keys
    json results = json::array();
    size_t done = 0;
    while (done < all.size()) {
        json chunk = json::array();
        size_t bytes = 0;
        for (size_t i = done; i < all.size() && chunk.size() < proto::kMaxBatch; i++) {
            const size_t n = all[i].dump().size() + 1;
            if (bytes + n > room && !chunk.empty())
                break;
            chunk.push_back(all[i]);
            bytes += n;
        }
        const json req = {{"id", 1}, {"cmd", proto::kBatch}, {"args", {{"commands", chunk}}}};
        try {
            const json reply = call(g.socket, req, g.timeout * 1000);
            if (const auto why = refusal(reply)) {
                std::cerr << "vepactl: " << *why << "\n";
                if (done)
                    std::cerr << "vepactl: the first " << done << " of " << all.size()
                              << " commands were done (earlier batches); commands " << done + 1 << "-"
                              << done + chunk.size() << " changed nothing, the rest were not sent\n";
                return kExitRefused;
            }
            for (const json& r : reply["result"]["results"])
                results.push_back(r);
        } catch (const ClientError& e) {
            std::cerr << "vepactl: " << e.what() << "\n";
            return kExitRefused;
        }
        done += chunk.size();
    }
    if (g.as_json) {
        std::cout << json{{"results", results}}.dump(2) << "\n";
        return 0;
    }
    for (size_t i = 0; i < results.size(); i++) {
        if (results[i].empty())
            std::cout << "port " << all[i]["args"].value("name", std::string("?")) << " deleted\n";
        else
            print_port(Options{}, results[i]);
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{kDescription, "vepactl"};
    GlobalOptions global;
    Options opts;
    add_global_options(app, global);
    for (const Command& c : kCommands)
        c.add_options(*app.add_subcommand(c.name, c.help), opts);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }
    return run(parsed_command(app), global, opts);
}
