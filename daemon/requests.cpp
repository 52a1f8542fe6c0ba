#include "daemon/requests.hpp"

#include "lib/hex.hpp"

#include "daemon/command_error.hpp"
#include "daemon/config.hpp"
#include "vepa/control.hpp"

namespace vepad {

namespace proto = vepa::proto;
using nlohmann::json;

vepa::PortVlans PortArgs::vlans(vepa::PortVlans v) const
{
    if (vlan)
        v.untagged = *vlan;
    if (trunk) {
        v.tagged = trunk->vids;
        v.all_tagged = trunk->all;
    }
    return v;
}

namespace {

struct TooDeep {};

// Typed access to "args", refusing unknown keys and wrong types.
class Args {
public:
    Args(const json& args, std::initializer_list<const char*> known) : a_(args)
    {
        for (auto it = a_.begin(); it != a_.end(); ++it) {
            bool k = false;
            for (auto n : known)
                k |= it.key() == n;
            if (!k)
                throw CommandError(proto::kErrInvalid, "unknown argument '" + it.key() + "'");
        }
    }
    bool has(const char* k) const { return a_.contains(k) && !a_[k].is_null(); }
    bool given(const char* k) const { return a_.contains(k); } // null too: set-port's "remove it"
    std::string str(const char* k) const
    {
        if (!a_.contains(k) || !a_[k].is_string())
            throw CommandError(proto::kErrInvalid, std::string("argument '") + k + "' must be a string");
        return a_[k];
    }
    std::string name() const
    {
        std::string n = str("name");
        if (!valid_ifname(n))
            throw CommandError(proto::kErrInvalid, "'" + n + "' is not a valid interface name");
        return n;
    }
    bool boolean(const char* k) const
    {
        if (!a_[k].is_boolean())
            throw CommandError(proto::kErrInvalid, std::string("argument '") + k + "' must be true or false");
        return a_[k];
    }
    std::vector<vepa::Mac> macs(const char* k) const
    {
        if (!a_[k].is_array())
            throw CommandError(proto::kErrInvalid, std::string("argument '") + k + "' must be an array of MACs");
        std::vector<vepa::Mac> out;
        for (const auto& m : a_[k]) {
            auto mac = m.is_string() ? vepa::Mac::parse(m.get<std::string>()) : std::nullopt;
            if (!mac)
                throw CommandError(proto::kErrInvalid, "invalid MAC address " +
                                                           m.dump(-1, ' ', false, json::error_handler_t::replace) +
                                                           " (expected six hex bytes, e.g. 52:54:00:12:34:56)");
            out.push_back(*mac);
        }
        return out;
    }
    uint64_t number(const char* k, uint64_t min, uint64_t max) const
    {
        if (!a_.contains(k) || !a_[k].is_number_unsigned() || a_[k].get<uint64_t>() < min ||
            a_[k].get<uint64_t>() > max)
            throw CommandError(proto::kErrInvalid, std::string("argument '") + k + "' must be an integer from " +
                                                       std::to_string(min) + " to " + std::to_string(max));
        return a_[k];
    }
    uint16_t vlan(const char* k) const { return vlan_json_arg(k, vlan_from_json); }
    Trunk trunk(const char* k) const { return vlan_json_arg(k, trunk_from_json); }
    std::optional<vepa::PortOwner> owner(const char* k) const
    {
        if (a_[k].is_null())
            return std::nullopt;
        std::string why;
        auto o = vepa::parse_port_owner(a_[k], &why);
        if (!o)
            throw CommandError(proto::kErrInvalid, "argument " + why);
        return o;
    }
    vepa_mode mode(const char* k) const
    {
        const std::string s = str(k);
        auto m = parse_mode(s);
        if (!m)
            throw CommandError(proto::kErrInvalid, "mode must be vepa, private or bridge, not '" + s + "'");
        return *m;
    }

private:
    template <typename R> R vlan_json_arg(const char* k, R (*parse)(const json&, const char*)) const
    {
        try {
            return parse(a_[k], k);
        } catch (const VlanJsonError& e) {
            throw CommandError(proto::kErrInvalid, std::string("argument ") + e.what());
        }
    }
    const json& a_;
};

template <typename T = PortArgs> T port_args(const Args& args)
{
    T p;
    p.name = args.name();
    if (args.has("macs"))
        p.macs = args.macs("macs");
    if (args.has("mode"))
        p.mode = args.mode("mode");
    if (args.has("src_check"))
        p.src_check = args.boolean("src_check");
    if (args.given("vlan"))
        p.vlan = args.vlan("vlan");
    if (args.given("trunk"))
        p.trunk = args.trunk("trunk");
    if (args.given("owner"))
        p.owner = args.owner("owner");
    return p;
}

} // namespace

namespace {

Command parse_add_port(const json& args)
{
    Args a(args, {"name", "macs", "mode", "src_check", "vlan", "trunk", "owner", "type", "queues"});
    AddPort p = port_args<AddPort>(a);
    if (a.has("type")) {
        const std::string t = a.str("type");
        if (t != "xsk" && t != "kernel")
            throw CommandError(proto::kErrInvalid, "type must be kernel or xsk, not '" + t + "'");
        p.xsk = t == "xsk";
    }
    if (a.has("queues")) {
        if (!p.xsk)
            throw CommandError(proto::kErrInvalid, "queues is for xsk ports (type xsk)");
        p.queues = static_cast<uint16_t>(a.number("queues", 1, VEPA_MAX_XSK_QUEUES));
    }
    return p;
}

Command parse_set_port(const json& args)
{
    return port_args<SetPort>(Args(args, {"name", "macs", "mode", "src_check", "vlan", "trunk", "owner"}));
}

Command parse_del_port(const json& args) { return DelPort{Args(args, {"name"}).name()}; }

Command parse_stats(const json& args)
{
    Args a(args, {"name"});
    Stats s;
    if (a.has("name"))
        s.name = a.name();
    return s;
}

Command parse_attach_xsk(const json& args)
{
    Args a(args, {"name", "queue"});
    AttachXsk x;
    x.port = a.name();
    x.queue = static_cast<uint32_t>(a.number("queue", 0, VEPA_MAX_XSK_QUEUES - 1));
    return x;
}

Command parse_shutdown(const json& args)
{
    Args a(args, {"detach"});
    Shutdown s;
    if (a.has("detach"))
        s.detach = a.boolean("detach");
    return s;
}

Command parse_monitor(const json& args)
{
    Args a(args, {"port", "mac", "drops", "rule", "vlan", "sample", "rate", "payload"});
    Monitor m;
    if (a.has("port")) {
        const std::string p = a.str("port");
        if (p != "uplink" && !valid_ifname(p))
            throw CommandError(proto::kErrInvalid, "'" + p + "' is not a valid port name");
        m.filter.port = p;
    }
    if (a.has("mac")) {
        const std::string s = a.str("mac");
        m.filter.mac = vepa::Mac::parse(s);
        if (!m.filter.mac)
            throw CommandError(proto::kErrInvalid, "invalid MAC address '" + s + "'");
    }
    if (a.has("drops"))
        m.filter.drops = a.boolean("drops");
    if (a.has("rule")) {
        const std::string r = a.str("rule");
        m.filter.rule = parse_rule(r);
        if (!m.filter.rule)
            throw CommandError(proto::kErrInvalid, "rule must be T1-T6, R1-R7, M1-M5 or V1-V7, not '" + r + "'");
    }
    if (a.has("vlan"))
        m.filter.vlan = static_cast<uint16_t>(a.number("vlan", 0, VEPA_VID_ANY));
    if (a.has("sample"))
        m.filter.sample = static_cast<uint32_t>(a.number("sample", 1, 1000000));
    if (a.has("rate"))
        m.filter.rate = static_cast<uint32_t>(a.number("rate", 1, 1000000));
    if (a.has("payload"))
        m.filter.payload = a.boolean("payload");
    return m;
}

// Hex digits, two per byte.
std::vector<uint8_t> parse_hex_frame(const std::string& hex)
{
    if (hex.size() % 2)
        throw CommandError(proto::kErrInvalid, "frame: an odd number of hex digits");
    if (hex.size() / 2 < proto::kTraceMinFrame || hex.size() / 2 > proto::kTraceMaxFrame)
        throw CommandError(proto::kErrInvalid, "frame: " + std::to_string(hex.size() / 2) + " bytes; a frame has " +
                                                   std::to_string(proto::kTraceMinFrame) + " to " +
                                                   std::to_string(proto::kTraceMaxFrame));
    std::vector<uint8_t> out(hex.size() / 2);
    for (size_t i = 0; i < out.size(); i++) {
        const int hi = vepa::hex_value(hex[2 * i]), lo = vepa::hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            throw CommandError(proto::kErrInvalid, "frame: not a hex digit at position " +
                                                       std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
        out[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    return out;
}

Command parse_trace(const json& args)
{
    Args a(args, {"from", "frame"});
    Trace t;
    t.from = a.str("from");
    if (t.from != "uplink" && !valid_ifname(t.from))
        throw CommandError(proto::kErrInvalid, "'" + t.from + "' is not a valid port name");
    t.frame = parse_hex_frame(a.str("frame"));
    return t;
}

Command parse_batch(const json& args);

// A command without arguments: any argument is refused.
template <typename C> Command no_args(const json& args)
{
    (void)Args(args, {}); // refuses any argument
    return C{};
}

struct CommandParser {
    const char* name;
    Command (*parse)(const json& args);
};

const CommandParser kCommands[] = {
    {proto::kAddPort, parse_add_port},    {proto::kSetPort, parse_set_port},     {proto::kDelPort, parse_del_port},
    {proto::kList, no_args<List>},        {proto::kStats, parse_stats},          {proto::kStatus, no_args<Status>},
    {proto::kProbe, no_args<ProbeRelay>}, {proto::kAttachXsk, parse_attach_xsk}, {proto::kShutdown, parse_shutdown},
    {proto::kMetrics, no_args<Metrics>},  {proto::kMonitor, parse_monitor},        {proto::kTrace, parse_trace},
    {proto::kBatch, parse_batch},
};

// A batch's commands: add-port, set-port and del-port requests without ids, each as {"cmd", "args"}.
Command parse_batch(const json& args)
{
    Args a(args, {"commands"});
    if (!a.has("commands") || !args["commands"].is_array())
        throw CommandError(proto::kErrInvalid, "argument 'commands' must be an array of port commands");
    const json& list = args["commands"];
    if (list.empty() || list.size() > proto::kMaxBatch)
        throw CommandError(proto::kErrInvalid, "a batch has 1 to " + std::to_string(proto::kMaxBatch) +
                                                   " commands, not " + std::to_string(list.size()));
    Batch b;
    for (size_t i = 0; i < list.size(); i++) {
        const json& c = list[i];
        const std::string where = "command " + std::to_string(i + 1) + ": ";
        if (!c.is_object() || !c.contains("cmd") || !c["cmd"].is_string() ||
            (c.contains("args") && !c["args"].is_object()) || c.size() > (c.contains("args") ? 2u : 1u))
            throw CommandError(proto::kErrInvalid, where + "each is {\"cmd\": ..., \"args\": {...}}");
        const json cargs = c.value("args", json::object());
        const std::string cmd = c["cmd"];
        try {
            if (cmd == proto::kAddPort)
                b.commands.emplace_back(std::get<AddPort>(parse_add_port(cargs)));
            else if (cmd == proto::kSetPort)
                b.commands.emplace_back(std::get<SetPort>(parse_set_port(cargs)));
            else if (cmd == proto::kDelPort)
                b.commands.emplace_back(std::get<DelPort>(parse_del_port(cargs)));
            else
                throw CommandError(proto::kErrInvalid, "a batch holds add-port, set-port and del-port only, not '" +
                                                           json(cmd).dump(-1, ' ', false, json::error_handler_t::replace) +
                                                           "'");
        } catch (const CommandError& e) {
            throw CommandError(e.code(), where + e.what());
        }
    }
    return b;
}

// The request's JSON object; throws bad-request.
json parse_json(std::string_view line)
{
    // nlohmann's lexer takes a NUL byte for the end of input, so `{...}\0garbage` would parse; JSON text has
    // no NUL outside strings (and inside them only as \u0000), so refuse it before the parser sees it.
    if (line.find('\0') != std::string_view::npos)
        throw CommandError(proto::kErrBadRequest, "not JSON: request contains a NUL byte");
    json req;
    try {
        req = json::parse(line, [](int depth, json::parse_event_t, json&) {
            if (depth > kMaxRequestDepth)
                throw TooDeep{};
            return true;
        });
    } catch (const TooDeep&) {
        throw CommandError(proto::kErrBadRequest,
                           "request nested deeper than " + std::to_string(kMaxRequestDepth) + " levels");
    } catch (const json::exception& e) {
        throw CommandError(proto::kErrBadRequest, std::string("not JSON: ") + e.what());
    }
    if (!req.is_object())
        throw CommandError(proto::kErrBadRequest, "a request is a JSON object");
    return req;
}

} // namespace

Request parse_request(std::string_view line, json* id_out, const char** cmd_out)
{
    const json req = parse_json(line);
    Request r;
    if (req.contains("id"))
        r.id = req["id"];
    if (id_out)
        *id_out = r.id;
    if (!req.contains("cmd") || !req["cmd"].is_string())
        throw CommandError(proto::kErrBadRequest, "a request needs \"cmd\" (a string)");
    if (req.contains("args") && !req["args"].is_object())
        throw CommandError(proto::kErrBadRequest, "\"args\" must be an object");
    const json args = req.contains("args") ? req["args"] : json::object();
    const std::string cmd = req["cmd"];
    for (const CommandParser& c : kCommands)
        if (cmd == c.name) {
            if (cmd_out)
                *cmd_out = c.name;
            r.cmd = c.parse(args);
            return r;
        }
    throw CommandError(proto::kErrUnknownCommand,
                       "unknown command '" + json(cmd).dump(-1, ' ', false, json::error_handler_t::replace) + "'");
}

} // namespace vepad
