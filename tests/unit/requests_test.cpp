#include <catch2/catch.hpp>

#include "daemon/command_error.hpp"
#include "daemon/requests.hpp"

#include <set>

using namespace vepad;

namespace {
std::string code_of(const std::string& line)
{
    try {
        parse_request(line);
    } catch (const CommandError& e) {
        return e.code();
    }
    return "ok";
}
} // namespace

TEST_CASE("requests: well-formed commands parse into typed commands")
{
    auto r = parse_request(R"({"id": 7, "cmd": "add-port", "args": {"name": "tap1", "macs": ["52:54:00:00:00:01"],
                               "mode": "private", "src_check": false}})");
    CHECK(r.id == 7);
    const auto& a = std::get<AddPort>(r.cmd);
    CHECK(a.name == "tap1");
    REQUIRE(a.macs);
    CHECK(a.macs->at(0).str() == "52:54:00:00:00:01");
    CHECK(a.mode == VEPA_MODE_PRIVATE);
    CHECK(a.src_check == false);
    CHECK(std::holds_alternative<List>(parse_request(R"({"cmd": "list"})").cmd));
    CHECK(std::get<Stats>(parse_request(R"({"cmd": "stats", "args": {"name": "c1"}})").cmd).name == "c1");
    CHECK(std::get<Shutdown>(parse_request(R"({"cmd": "shutdown", "args": {"detach": true}})").cmd).detach == true);
    CHECK(parse_request(R"({"cmd": "status"})").id.is_null());
    // null arguments mean "not given"
    CHECK_FALSE(
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "x", "mode": null}})").cmd).mode);
}

TEST_CASE("requests: malformed lines are bad requests")
{
    for (const char* line : {"", "{", "[]", "42", "\"list\"", "{\"cmd\": 5}", "{\"args\": {}}",
                             "{\"cmd\": \"list\", \"args\": []}", "\xff\xfe", "{\"cmd\": \"list\"} trailing"})
        CHECK(code_of(line) == "bad-request");
    // nlohmann's lexer stops at a NUL byte: a valid request followed by NUL and anything must still be refused
    // (the socket fuzzer found `{"cmd": "shutdown", ...}\0` being obeyed)
    using namespace std::string_literals;
    CHECK(code_of("{\"cmd\": \"shutdown\", \"args\": {\"detach\": true}}\0"s) == "bad-request");
    CHECK(code_of("{\"cmd\": \"list\"}\0garbage"s) == "bad-request");
    CHECK(code_of("{\"cmd\": \"list\", \"id\": \"a\\u0000b\"}"s) == "ok");
    std::string deep(100, '[');
    deep += std::string(100, ']');
    CHECK(code_of(deep) == "bad-request");
}

TEST_CASE("requests: wrong arguments are invalid, unknown commands unknown")
{
    CHECK(code_of(R"({"cmd": "frobnicate"})") == "unknown-command");
    for (const char* line : {
             R"({"cmd": "add-port"})",
             R"({"cmd": "add-port", "args": {"name": 5}})",
             R"({"cmd": "add-port", "args": {"name": "a/b"}})",
             R"({"cmd": "add-port", "args": {"name": "0123456789abcdef"}})",
             R"({"cmd": "add-port", "args": {"name": "x", "macs": "52:54:00:00:00:01"}})",
             R"({"cmd": "add-port", "args": {"name": "x", "macs": [1]}})",
             R"({"cmd": "add-port", "args": {"name": "x", "mode": "hub"}})",
             R"({"cmd": "add-port", "args": {"name": "x", "src_check": "yes"}})",
             R"({"cmd": "add-port", "args": {"name": "x", "typo": 1}})",
             R"({"cmd": "list", "args": {"verbose": true}})",
             R"({"cmd": "shutdown", "args": {"detach": 1}})",
             R"({"cmd": "del-port", "args": {}})",
         })
        CHECK(code_of(line) == "invalid-argument");
}

TEST_CASE("requests: the id of a refused request is still reported")
{
    nlohmann::json id;
    try {
        parse_request(R"({"id": "abc", "cmd": "nope"})", &id);
    } catch (const CommandError&) {}
    CHECK(id == "abc");
}

TEST_CASE("requests: xsk ports and attach-xsk")
{
    auto r = parse_request(R"({"cmd": "add-port", "args": {"name": "nf0", "type": "xsk", "queues": 4,
                               "macs": ["02:00:00:00:00:01"]}})");
    const auto& a = std::get<AddPort>(r.cmd);
    CHECK(a.xsk);
    CHECK(a.queues == 4);
    CHECK(!std::get<AddPort>(parse_request(R"({"cmd": "add-port", "args": {"name": "c1"}})").cmd).xsk);
    CHECK(code_of(R"({"cmd": "add-port", "args": {"name": "nf0", "type": "xsk", "queues": 0}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "add-port", "args": {"name": "nf0", "type": "xsk", "queues": 65}})") ==
          "invalid-argument");
    CHECK(code_of(R"({"cmd": "add-port", "args": {"name": "nf0", "type": "xsk", "queues": "2"}})") ==
          "invalid-argument");
    CHECK(code_of(R"({"cmd": "add-port", "args": {"name": "nf0", "queues": 2}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "add-port", "args": {"name": "nf0", "type": "dpdk"}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "set-port", "args": {"name": "nf0", "type": "xsk"}})") == "invalid-argument");

    auto x = parse_request(R"({"cmd": "attach-xsk", "args": {"name": "nf0", "queue": 3}})");
    const auto& at = std::get<AttachXsk>(x.cmd);
    CHECK(at.port == "nf0");
    CHECK(at.queue == 3);
    CHECK(!at.fd); // the server attaches the descriptor, never the JSON
    CHECK(code_of(R"({"cmd": "attach-xsk", "args": {"name": "nf0"}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "attach-xsk", "args": {"name": "nf0", "queue": -1}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "attach-xsk", "args": {"name": "nf0", "queue": 64}})") == "invalid-argument");
    CHECK(code_of(R"({"cmd": "attach-xsk", "args": {"name": "nf0", "queue": 0, "fd": 3}})") == "invalid-argument");
}

namespace {
std::string message_of(const std::string& line)
{
    try {
        parse_request(line);
    } catch (const CommandError& e) {
        return e.what();
    }
    return "ok";
}
} // namespace

TEST_CASE("requests: add-port and set-port take an untagged VLAN and a trunk")
{
    using S = std::set<uint16_t>;
    const auto add = std::get<AddPort>(
        parse_request(R"({"cmd": "add-port", "args": {"name": "c1", "vlan": 10, "trunk": [20, 30, 20]}})").cmd);
    CHECK(add.vlan == 10);
    REQUIRE(add.trunk);
    CHECK(add.trunk->vids == S{20, 30});
    CHECK_FALSE(add.trunk->all);
    CHECK(add.vlans() == vepa::PortVlans{10, {20, 30}, false});
    const auto all =
        std::get<AddPort>(parse_request(R"({"cmd": "add-port", "args": {"name": "c1", "trunk": "all"}})").cmd);
    CHECK(all.trunk == Trunk{{}, true});
    CHECK(all.vlans() == vepa::PortVlans{0, {}, true});
    const auto none = std::get<AddPort>(
        parse_request(R"({"cmd": "add-port", "args": {"name": "c1", "vlan": null, "trunk": []}})").cmd);
    CHECK(none.vlans().empty());

    // set-port: an absent key leaves the VLANs as they are; null (and an empty trunk) removes them.
    const vepa::PortVlans cur{10, {20}, false};
    const auto keep = std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "c1"}})").cmd);
    CHECK_FALSE(keep.vlan);
    CHECK_FALSE(keep.trunk);
    CHECK(keep.vlans(cur) == cur);
    const auto drop_vlan =
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "c1", "vlan": null}})").cmd);
    CHECK(drop_vlan.vlan == 0);
    CHECK(drop_vlan.vlans(cur) == vepa::PortVlans{0, {20}, false});
    const auto drop_trunk =
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "c1", "trunk": null}})").cmd);
    CHECK(drop_trunk.vlans(cur) == vepa::PortVlans{10, {}, false});
    const auto to_all =
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "c1", "trunk": "all"}})").cmd);
    CHECK(to_all.vlans(cur) == vepa::PortVlans{10, {}, true});
    const auto to_list =
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "c1", "vlan": 7, "trunk": [8]}})").cmd);
    CHECK(to_list.vlans(vepa::PortVlans{0, {}, true}) == vepa::PortVlans{7, {8}, false});
}

TEST_CASE("requests: bad VLANs are invalid arguments naming the key and the value")
{
    for (const char* cmd : {"add-port", "set-port"}) {
        const std::string pre = std::string(R"({"cmd": ")") + cmd + R"(", "args": {"name": "c1", )";
        CHECK(message_of(pre + R"("vlan": 0}})") == "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not 0");
        CHECK(message_of(pre + R"("vlan": 4095}})") ==
              "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not 4095");
        CHECK(message_of(pre + R"("vlan": -1}})") ==
              "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not -1");
        CHECK(message_of(pre + R"("vlan": "10"}})") ==
              "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not \"10\"");
        CHECK(message_of(pre + R"("vlan": 10.5}})") ==
              "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not 10.5");
        CHECK(message_of(pre + R"("vlan": [10]}})") ==
              "argument 'vlan' must be a VLAN id from 1 to 4094 or null, not [10]");
        CHECK(message_of(pre + R"("trunk": "some"}})") ==
              "argument 'trunk' must be an array of VLAN ids (1 to 4094), \"all\" or null, not \"some\"");
        CHECK(message_of(pre + R"("trunk": "10,20"}})") ==
              "argument 'trunk' must be an array of VLAN ids (1 to 4094), \"all\" or null, not \"10,20\"");
        CHECK(message_of(pre + R"("trunk": 10}})") ==
              "argument 'trunk' must be an array of VLAN ids (1 to 4094), \"all\" or null, not 10");
        CHECK(message_of(pre + R"("trunk": [10, 4095]}})") ==
              "argument 'trunk' holds 4095, not a VLAN id from 1 to 4094");
        CHECK(message_of(pre + R"("trunk": [10, "all"]}})") ==
              "argument 'trunk' holds \"all\", not a VLAN id from 1 to 4094");
        CHECK(code_of(pre + R"("trunk": [[10]]}})") == "invalid-argument");
        CHECK(code_of(pre + R"("trunk": {"all": true}}})") == "invalid-argument");
    }
    // A long value is cut short in the message.
    std::string big = R"({"cmd": "add-port", "args": {"name": "c1", "vlan": ")" + std::string(1000, 'x') + R"("}})";
    CHECK(message_of(big).size() < 120);
}

TEST_CASE("requests: add-port and set-port take an owner; set-port's null removes it")
{
    const auto a = std::get<AddPort>(
        parse_request(R"({"cmd": "add-port", "args": {"name": "vp1", "owner": {"tool": "cni", "name": "vepanet",
                         "id": "0123456789abcdef", "ifname": "eth0"}}})")
            .cmd);
    REQUIRE(a.owner);
    REQUIRE(*a.owner);
    CHECK(**a.owner == vepa::PortOwner{"cni", "vepanet", "0123456789abcdef", "eth0"});
    CHECK((*a.owner)->str() == "cni:vepanet:0123456789ab:eth0");
    CHECK_FALSE(std::get<AddPort>(parse_request(R"({"cmd": "add-port", "args": {"name": "vp1"}})").cmd).owner);
    const auto s =
        std::get<SetPort>(parse_request(R"({"cmd": "set-port", "args": {"name": "vp1", "owner": null}})").cmd);
    REQUIRE(s.owner);
    CHECK_FALSE(*s.owner);
    // only the tool is required; empty parts are left out of the text form, inner ones kept
    const auto t = std::get<AddPort>(
        parse_request(R"({"cmd": "add-port", "args": {"name": "t", "owner": {"tool": "libvirt", "id": "u"}}})").cmd);
    CHECK((*t.owner)->str() == "libvirt::u");
}

TEST_CASE("requests: a bad owner is an invalid argument saying what is wrong")
{
    auto message = [](const std::string& owner) {
        try {
            parse_request(R"({"cmd": "add-port", "args": {"name": "p", "owner": )" + owner + "}}");
        } catch (const CommandError& e) {
            return e.code() + ": " + e.what();
        }
        return std::string("ok");
    };
    CHECK(message(R"("cni")") == "invalid-argument: argument owner must be an object {\"tool\", \"name\", \"id\", \"ifname\"}");
    CHECK(message(R"({"name": "n"})") == "invalid-argument: argument owner.tool must be 1 to 32 of a-z, 0-9, '_' and '-'");
    CHECK(message(R"({"tool": "CNI"})") == "invalid-argument: argument owner.tool must be 1 to 32 of a-z, 0-9, '_' and '-'");
    CHECK(message(R"({"tool": "cni", "pod": "x"})") ==
          "invalid-argument: argument owner has an unknown key 'pod' (tool, name, id, ifname)");
    CHECK(message(R"({"tool": "cni", "id": 5})") == "invalid-argument: argument owner.id must be a string");
    CHECK(message(R"({"tool": "cni", "name": "a b"})") ==
          "invalid-argument: argument owner.name must be at most 255 printable characters without spaces");
    CHECK(message(R"({"tool": "cni", "id": ")" + std::string(256, 'a') + "\"}") ==
          "invalid-argument: argument owner.id must be at most 255 printable characters without spaces");
    CHECK(message(R"({"tool": "cni", "id": ")" + std::string(255, 'a') + "\"}") == "ok");
}

TEST_CASE("requests: batch holds port commands, parsed as each alone")
{
    const auto b = std::get<Batch>(parse_request(R"({"cmd": "batch", "args": {"commands": [
        {"cmd": "add-port", "args": {"name": "c1", "mode": "bridge"}},
        {"cmd": "set-port", "args": {"name": "c1", "vlan": 10}},
        {"cmd": "del-port", "args": {"name": "c2"}}]}})")
                               .cmd);
    REQUIRE(b.commands.size() == 3);
    CHECK(std::get<AddPort>(b.commands[0]).mode == VEPA_MODE_BRIDGE);
    CHECK(std::get<SetPort>(b.commands[1]).vlan == 10);
    CHECK(std::get<DelPort>(b.commands[2]).name == "c2");

    auto refusal = [](const std::string& line) -> std::string {
        try {
            parse_request(line);
        } catch (const CommandError& e) {
            return e.code() + ": " + e.what();
        }
        return "ok";
    };
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": []}})").find("1 to 4096") != std::string::npos);
    CHECK(refusal(R"({"cmd": "batch"})").find("'commands' must be an array") != std::string::npos);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": {}}})").find("must be an array") != std::string::npos);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "list"}]}})")
              .find("command 1: a batch holds add-port, set-port and del-port only") != std::string::npos);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "batch", "args": {"commands": []}}]}})")
              .find("invalid-argument: command 1:") == 0);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "del-port", "args": {"name": "c1"}, "id": 1}]}})")
              .find("command 1: each is") != std::string::npos);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "del-port", "args": {"name": "c1"}}, 7]}})")
              .find("command 2: each is") != std::string::npos);
    // A command's own refusal, its code kept, the command named.
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "del-port", "args": {"name": "c1"}},
                      {"cmd": "add-port", "args": {"name": "c2", "mode": "fast"}}]}})")
              .find("invalid-argument: command 2: mode must be") == 0);
    CHECK(refusal(R"({"cmd": "batch", "args": {"commands": [{"cmd": "del-port"}]}})").find("command 1: ") !=
          std::string::npos);
    std::string big = R"({"cmd": "batch", "args": {"commands": [)";
    for (int i = 0; i < 4097; i++)
        big += std::string(i ? "," : "") + R"({"cmd": "del-port", "args": {"name": "c1"}})";
    CHECK(refusal(big + "]}}").find("not 4097") != std::string::npos);
}
