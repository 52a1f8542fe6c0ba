#include "daemon/trace.hpp"

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <system_error>

#include "daemon/command_error.hpp"
#include "vepa/control.hpp"

namespace vepad {

using nlohmann::json;
using Bytes = std::vector<uint8_t>;
namespace proto = vepa::proto;

namespace {

constexpr size_t kEthHeader = 14;
constexpr uint16_t kEthVlan = 0x8100, kEthQinQ = 0x88a8;

uint16_t be16(const Bytes& f, size_t at) { return static_cast<uint16_t>(f[at] << 8 | f[at + 1]); }

bool is_tag(uint16_t ethertype) { return ethertype == kEthVlan || ethertype == kEthQinQ; }

// 01:80:c2:00:00:00-0f: for the link's other end only; an 802.1Q bridge forwards none of them.
bool is_link_local(const vepa::Mac& m)
{
    const auto& b = m.bytes();
    return b[0] == 0x01 && b[1] == 0x80 && b[2] == 0xc2 && b[3] == 0 && b[4] == 0 && (b[5] & 0xf0) == 0;
}

vepa::Mac mac_at(const Bytes& f, size_t at) { return vepa::Mac(f.data() + at); }

// The frame as the trace reports it: addresses, innermost ethertype, outer VLAN.
json frame_json(const Bytes& f)
{
    size_t at = 12;
    std::optional<uint16_t> vlan;
    while (at + 2 <= f.size() && is_tag(be16(f, at)) && at + 6 <= f.size()) {
        if (!vlan)
            vlan = be16(f, at + 2) & 0x0fff;
        at += 4;
    }
    return {{"len", f.size()},
            {"dst", mac_at(f, 0).str()},
            {"src", mac_at(f, 6).str()},
            {"ethertype", at + 2 <= f.size() ? json(be16(f, at)) : json(nullptr)},
            {"vlan", vlan ? json(*vlan) : json(nullptr)}};
}

const char* verdict_name(bool xdp, int v)
{
    if (xdp)
        switch (v) {
        case XDP_ABORTED: return "aborted";
        case XDP_DROP: return "drop";
        case XDP_PASS: return "pass";
        case XDP_TX: return "tx";
        case XDP_REDIRECT: return "redirect";
        }
    else
        switch (v) {
        case TC_ACT_OK: return "ok";
        case TC_ACT_SHOT: return "shot";
        case TC_ACT_REDIRECT: return "redirect";
        }
    return "other";
}

std::string slot_port(uint16_t slot, const PortsBySlot& names)
{
    if (slot == VEPA_SLOT_UPLINK)
        return "uplink";
    auto it = names.find(slot);
    return it == names.end() ? "slot " + std::to_string(slot) : it->second.name;
}

// "c3", "c3 and c4", "c3, c4 and the host".
std::string join(const std::vector<std::string>& parts)
{
    std::string s;
    for (size_t i = 0; i < parts.size(); i++)
        s += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
    return s;
}

// Where the frame has gone so far.
struct Fate {
    std::set<std::string> local;       // ports delivered on this host, not through the switch (T2, T4)
    std::set<std::string> via_switch;  // ports delivered after the switch sent the frame back
    bool host = false, network = false, probe = false;
    bool host_via_switch = false;          // the host's copy came back through the switch
    bool switch_itself = false;            // an 802.1 link-local frame the switch keeps
    std::optional<std::string> dropped_by; // "vepad", "switch", "uplink"
    json drop = nullptr;                   // {"at", "program", "rule", "reason"} or the switch's why
    bool conditional = false;              // depends on a switch whose reflection is unknown
};

class Tracer {
public:
    Tracer(const TraceHost& host, const ExplainFn& explain) : host_(host), explain_(explain) {}

    // The programs of one device on frame: XDP first where vepad has it there, TC
    // when XDP passes.  *out: the frame as it leaves (to the uplink: as on the wire).
    vepa::Decided device(const std::string& at, const TraceDevice& dev, bool uplink, const Bytes& frame, Bytes* out,
                         Fate& fate, bool via_switch);
    // The switch on a frame the host sent: returns whether it comes back.
    bool switch_hop(const Bytes& wire, Fate& fate);

    json hops = json::array();

private:
    vepa::Explanation program(const std::string& at, vepa::Program p, int ifindex, const Bytes& frame);

    const TraceHost& host_;
    const ExplainFn& explain_;
};

vepa::Explanation Tracer::program(const std::string& at, vepa::Program p, int ifindex, const Bytes& frame)
{
    vepa::Explanation e;
    try {
        e = explain_(p, ifindex, frame);
    } catch (const std::system_error& err) {
        if (err.code().value() != EINVAL)
            throw;
        throw CommandError(proto::kErrInvalid, "the kernel's test run of " + std::string(vepa::to_string(p)) +
                                                   " refused this " + std::to_string(frame.size()) +
                                                   "-byte frame (EINVAL): " + err.what());
    }
    json decisions = json::array();
    for (const vepa_event& ev : e.decisions) {
        json d = event_json(ev, host_.names, 0);
        for (const char* k : {"type", "time", "time_ns", "cpu"})
            d.erase(k);
        decisions.push_back(std::move(d));
    }
    json copies = json::array();
    for (uint16_t s : e.copies)
        copies.push_back(slot_port(s, host_.names));
    hops.push_back({{"hop", hops.size() + 1},
                    {"at", at},
                    {"program", vepa::to_string(p)},
                    {"verdict", verdict_name(e.xdp, e.verdict)},
                    {"decisions", std::move(decisions)},
                    {"unrecorded", e.unkept},
                    {"copies", std::move(copies)}});
    return e;
}

vepa::Decided Tracer::device(const std::string& at, const TraceDevice& dev, bool uplink, const Bytes& frame,
                             Bytes* out, Fate& fate, bool via_switch)
{
    using vepa::Program;
    vepa::Explanation e;
    vepa::Decided d;
    if (dev.xdp) {
        e = program(at, uplink ? Program::UplinkXdp : Program::PortXdp, dev.ifindex, frame);
        d = vepa::decided(e);
    }
    if (!dev.xdp || d.passed) {
        e = program(at, uplink ? Program::UplinkTc : Program::PortTc, dev.ifindex, frame);
        d = vepa::decided(e);
    }
    uint16_t vid = 0;
    for (const vepa_event& ev : e.decisions)
        vid = ev.vid;
    *out = e.xdp ? e.out : wire_frame(e.out, vid);

    for (uint16_t s : d.ports)
        (via_switch ? fate.via_switch : fate.local).insert(slot_port(s, host_.names));
    fate.host |= d.host;
    fate.probe |= d.probe;
    if (d.drop) {
        fate.dropped_by = "vepad";
        const json& last = hops.back();
        const json* ev = nullptr;
        for (const json& x : last["decisions"])
            if (x["action"] == "drop")
                ev = &x;
        fate.drop = {{"at", at},
                     {"program", last["program"]},
                     {"rule", ev ? (*ev)["rule"] : json(nullptr)},
                     {"reason", ev ? (*ev)["reason"] : json(nullptr)}};
    }
    return d;
}

bool Tracer::switch_hop(const Bytes& wire, Fate& fate)
{
    const vepa::Mac dst = mac_at(wire, 0);
    const bool group = dst.is_group();
    const bool local =
        !group && std::find(host_.local_macs.begin(), host_.local_macs.end(), dst) != host_.local_macs.end();
    const bool reflects = host_.reflection != "not-reflecting";
    json hop = {{"hop", hops.size() + 1},
                {"at", "switch"},
                {"reflection", host_.reflection},
                {"by", host_.reflection_by ? json(*host_.reflection_by) : json(nullptr)},
                {"frame", frame_json(wire)}};
    std::string action, why;
    if (!host_.uplink_up) {
        action = "unreachable";
        why = "the uplink " + host_.uplink + " is down: the frame never reaches the switch";
        fate.dropped_by = "uplink";
        fate.drop = {{"at", "uplink"}, {"reason", "uplink-down"}, {"why", why}};
    } else if (is_link_local(dst)) {
        fate.switch_itself = true;
        action = "consume";
        why = "an IEEE 802.1 link-local frame (01:80:c2:00:00:00-0f): the switch keeps it and forwards it nowhere";
    } else if (group) {
        fate.network = true;
        action = reflects ? "flood-and-reflect" : "flood";
        why = reflects ? "a group frame: to the network, and back to this host (reflective relay)"
                       : "a group frame: to the network only; the switch does not send it back to this host";
    } else if (local) {
        action = reflects ? "reflect" : "drop";
        why = "dst " + dst.str() + " is on this host: the switch " +
              (reflects ? "sends the frame back (reflective relay)" : "does not send frames back (no hairpin)");
        if (!reflects) {
            fate.dropped_by = "switch";
            fate.drop = {{"at", "switch"}, {"reason", "not-reflecting"}, {"why", why}};
        }
    } else {
        fate.network = true;
        action = "forward";
        why = "dst " + dst.str() + " is not on this host: to the network beyond the switch";
    }
    const bool back = host_.uplink_up && !fate.switch_itself && reflects && (group || local);
    fate.conditional |= back && host_.reflection == "unknown";
    hop["action"] = action;
    hop["why"] = why;
    hops.push_back(std::move(hop));
    return back;
}

// A frame the kernel's test run can take: it builds no skb of a bare header or
// of an IP frame shorter than its IP header (the real stack would pass them on).
void check_traceable(const Bytes& f)
{
    const std::string n = std::to_string(f.size());
    if (f.size() < proto::kTraceMinFrame)
        throw CommandError(proto::kErrInvalid, "a frame of " + n + " bytes: a frame to trace has an Ethernet "
                                               "header and at least one byte more");
    const uint16_t et = be16(f, 12);
    if (et == 0x0800 && f.size() < kEthHeader + 20)
        throw CommandError(proto::kErrInvalid, "an IPv4 frame of " + n + " bytes: the kernel's test run needs "
                                               "its 20-byte IP header (34 bytes at least)");
    if (et == 0x86dd && f.size() < kEthHeader + 40)
        throw CommandError(proto::kErrInvalid, "an IPv6 frame of " + n + " bytes: the kernel's test run needs "
                                               "its 40-byte IP header (54 bytes at least)");
}

// The one-line verdict.  What depends on a switch whose reflection is unknown is said last.
std::string summary(const Fate& f)
{
    if (f.dropped_by == "switch")
        return "dropped by the switch: it does not reflect frames back to this host (hairpin off)";
    if (f.dropped_by == "uplink")
        return "lost: " + f.drop.value("why", std::string());
    if (f.dropped_by)
        return "dropped by vepad at " + f.drop.value("at", std::string()) + " (" +
               f.drop.value("program", std::string()) + "): " +
               (f.drop["rule"].is_string() ? f.drop["rule"].get<std::string>() + " " : "") +
               (f.drop["reason"].is_string() ? f.drop["reason"].get<std::string>() : "?");
    if (f.probe)
        return "consumed by vepad: its own reflection probe, come back";
    std::vector<std::string> sure, maybe;
    std::vector<std::string> local(f.local.begin(), f.local.end()), via(f.via_switch.begin(), f.via_switch.end());
    if (!local.empty())
        sure.push_back(join(local) + " (locally, bridge mode)");
    if (!via.empty())
        (f.conditional ? maybe : sure).push_back(join(via) + " (via the switch)");
    if (f.host)
        (f.conditional && f.host_via_switch ? maybe : sure).push_back("the host stack");
    if (f.network)
        sure.push_back("the network beyond the switch");
    if (f.switch_itself)
        sure.push_back("the switch itself (an IEEE 802.1 link-local frame, never forwarded)");
    const std::string caveat = " if the switch reflects (its reflection is unknown)";
    if (sure.empty() && maybe.empty())
        return "delivered nowhere: no port takes it";
    if (sure.empty())
        return "delivered to " + join(maybe) + caveat;
    return "delivered to " + join(sure) + (maybe.empty() ? "" : ", and to " + join(maybe) + caveat);
}

json fate_json(const Fate& f)
{
    const bool dropped = f.dropped_by.has_value();
    return {{"outcome", dropped ? "dropped" : "delivered"},
            {"ports", std::vector<std::string>(f.via_switch.begin(), f.via_switch.end())},
            {"local_ports", std::vector<std::string>(f.local.begin(), f.local.end())},
            {"host", f.host},
            {"network", f.network},
            {"probe", f.probe},
            {"switch", f.switch_itself},
            {"dropped_by", dropped ? json(*f.dropped_by) : json(nullptr)},
            {"drop", f.drop},
            {"conditional", f.conditional},
            {"summary", summary(f)}};
}

} // namespace

Bytes wire_frame(Bytes out, uint16_t vid)
{
    if (vid == VEPA_VID_UNTAGGED || vid > VEPA_VID_MAX || out.size() < kEthHeader || is_tag(be16(out, 12)))
        return out;
    const uint8_t tag[4] = {kEthVlan >> 8, kEthVlan & 0xff, static_cast<uint8_t>(vid >> 8),
                            static_cast<uint8_t>(vid & 0xff)};
    out.insert(out.begin() + 12, std::begin(tag), std::end(tag));
    return out;
}

json trace(const TraceHost& host, const std::string& from, const Bytes& frame, const ExplainFn& explain)
{
    check_traceable(frame);
    const bool from_uplink = from == "uplink";
    const TraceDevice* dev = &host.uplink_dev;
    if (!from_uplink) {
        auto it = host.ports.find(from);
        if (it == host.ports.end())
            throw CommandError(proto::kErrNotFound, "no present port " + from + " (vepactl list shows the ports)");
        dev = &it->second;
    } else if (!host.uplink_dev.ifindex) {
        throw CommandError(proto::kErrNotFound, "the uplink " + host.uplink + " is absent");
    }
    Tracer t(host, explain);
    Fate fate;
    Bytes out;
    const vepa::Decided first =
        t.device(from_uplink ? "uplink" : from, *dev, from_uplink, frame, &out, fate, from_uplink);
    if (!first.drop && first.uplink && t.switch_hop(out, fate)) {
        Bytes again;
        fate.host_via_switch = t.device("uplink", host.uplink_dev, true, out, &again, fate, true).host;
    }
    return {{"from", from},
            {"frame", frame_json(frame)},
                    {"reflection", {{"verdict", host.reflection}, {"by", host.reflection_by ? json(*host.reflection_by) : json(nullptr)}}},
            {"hops", std::move(t.hops)},
            {"result", fate_json(fate)}};
}

} // namespace vepad
