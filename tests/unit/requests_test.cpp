#include <catch2/catch.hpp>

#include "daemon/command_error.hpp"
#include "daemon/requests.hpp"

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
