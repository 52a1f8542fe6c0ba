#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <set>
#include <sys/stat.h>

#include "daemon/command_error.hpp"
#include "lib/error.hpp"
#include "daemon/port_table.hpp"

using namespace vepad;
using vepa::Mac;

namespace {
PortConfig port(const char* name, std::vector<const char*> macs = {}, vepa_mode mode = VEPA_MODE_VEPA)
{
    PortConfig p;
    p.name = name;
    p.mode = mode;
    for (auto m : macs)
        p.macs.push_back(*Mac::parse(m));
    return p;
}
std::string code(const std::function<void()>& f)
{
    try {
        f();
    } catch (const CommandError& e) {
        return e.code();
    }
    return "ok";
}
} // namespace

TEST_CASE("port table: slots are the lowest free, and stable")
{
    PortTable t;
    CHECK(t.add(port("a")).slot == 1);
    CHECK(t.add(port("b")).slot == 2);
    CHECK(t.add(port("c")).slot == 3);
    t.remove("b");
    CHECK(t.add(port("d")).slot == 2);
    t.replace(port("a", {"02:00:00:00:00:01"}, VEPA_MODE_PRIVATE));
    CHECK(t.find("a")->slot == 1);
    CHECK(t.find("a")->mode == VEPA_MODE_PRIVATE);
}

TEST_CASE("port table: refusals")
{
    PortTable t;
    t.add(port("a", {"02:00:00:00:00:01"}));
    CHECK(code([&] { t.add(port("a")); }) == "exists");
    CHECK(code([&] { t.add(port("b", {"02:00:00:00:00:01"})); }) == "mac-in-use");
    CHECK(code([&] { t.add(port("b", {"01:00:5e:00:00:01"})); }) == "invalid-argument");
    CHECK(code([&] { t.add(port("b", {"00:00:00:00:00:00"})); }) == "invalid-argument");
    CHECK(code([&] { t.add(port("b", {"02:00:00:00:00:02", "02:00:00:00:00:02"})); }) == "invalid-argument");
    CHECK(code([&] { t.add(port("with space")); }) == "invalid-argument");
    CHECK(code([&] { t.remove("zz"); }) == "not-found");
    CHECK(code([&] { t.replace(port("zz")); }) == "not-found");
    PortConfig many = port("c");
    for (int i = 0; i <= VEPA_MAX_PORT_MACS; i++)
        many.macs.push_back(Mac({0x02, 0x00, 0x00, 0x01, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)}));
    CHECK(code([&] { t.add(many); }) == "limit");
    many.macs.pop_back();
    CHECK(t.add(many).macs.size() == VEPA_MAX_PORT_MACS);
    CHECK(t.size() == 2);
}

TEST_CASE("port table: JSON round trip, and malformed files refused by name")
{
    PortTable t;
    t.add(port("tap1", {"52:54:00:00:00:01", "52:54:00:00:00:02"}, VEPA_MODE_BRIDGE));
    PortConfig owned = port("c1");
    owned.owner = vepa::PortOwner{"cni", "vepanet", "0123456789abcdef", "eth0"};
    t.add(owned);
    const auto j = t.to_json("eth0");
    const PortTable back = PortTable::from_json(j, "x.json");
    CHECK(back.ports() == t.ports());
    for (const char* bad :
         {R"([])", R"({"format": 2, "ports": []})", R"({"format": 1})", R"({"format": 1, "ports": [{"name": "a"}]})",
          R"({"format": 1, "ports": [{"name": "a", "slot": 0}]})",
          R"({"format": 1, "ports": [{"name": "a", "slot": 1}, {"name": "b", "slot": 1}]})",
          R"({"format": 1, "ports": [{"name": "a", "slot": 1, "macs": ["zz"]}]})",
          R"({"format": 1, "ports": [{"name": "a", "slot": 1, "mode": "hub"}]})",
          R"({"format": 1, "ports": [{"name": "a", "slot": 1, "owner": {"tool": ""}}]})"})
        CHECK_THROWS_WITH(PortTable::from_json(nlohmann::json::parse(bad), "state.json"),
                          Catch::StartsWith("state.json: "));
}

namespace {
PortConfig xsk_port(const char* name, uint16_t queues, const char* mac)
{
    PortConfig p = port(name, {mac});
    p.type = PortType::Xsk;
    p.queues = queues;
    return p;
}
} // namespace

TEST_CASE("port table: xsk ports get consecutive XSKMAP slots, first fit, stable")
{
    PortTable t;
    CHECK(t.add(xsk_port("x1", 2, "02:00:00:00:00:01")).xsk_first == 0);
    CHECK(t.add(xsk_port("x2", 4, "02:00:00:00:00:02")).xsk_first == 2);
    CHECK(t.add(xsk_port("x3", 1, "02:00:00:00:00:03")).xsk_first == 6);
    t.remove("x2");
    // A hole of 4: a 1-queue port takes its start, a 4-queue one does not fit in what is left.
    CHECK(t.add(xsk_port("x4", 1, "02:00:00:00:00:04")).xsk_first == 2);
    CHECK(t.add(xsk_port("x5", 4, "02:00:00:00:00:05")).xsk_first == 7);
    CHECK(t.add(xsk_port("x6", 3, "02:00:00:00:00:06")).xsk_first == 3);
    // set-port keeps the slots and refuses a change of queues.
    PortConfig c = *t.find("x1");
    c.mode = VEPA_MODE_PRIVATE;
    t.replace(c);
    CHECK(t.find("x1")->xsk_first == 0);
    c.queues = 3;
    CHECK(code([&] { t.replace(c); }) == "invalid-argument");
    // A round trip through the state file keeps type, queues and slots.
    const PortTable back = PortTable::from_json(t.to_json("up0"), "test");
    CHECK(back.ports() == t.ports());
}

TEST_CASE("port table: xsk ports are refused without MACs, with long names, too many queues or no room")
{
    PortTable t;
    CHECK(code([&] { t.add(xsk_port("abcdefghijklm", 1, "02:00:00:00:00:01")); }) == "invalid-argument");
    CHECK(code([&] { t.add(xsk_port("abcdefghijkl", 1, "02:00:00:00:00:01")); }) == "ok");
    CHECK(code([&] { t.add(xsk_port("q0", 0, "02:00:00:00:00:02")); }) == "invalid-argument");
    CHECK(code([&] { t.add(xsk_port("q65", VEPA_MAX_XSK_QUEUES + 1, "02:00:00:00:00:02")); }) == "invalid-argument");
    PortConfig nomac = xsk_port("nomac", 1, "02:00:00:00:00:03");
    nomac.macs.clear();
    CHECK(code([&] { t.add(nomac); }) == "invalid-argument");
    // The vepa-side device's name is reserved both ways.
    t.add(xsk_port("nf", 1, "02:00:00:00:00:04"));
    CHECK(code([&] { t.add(port("vx-nf")); }) == "exists");
    PortTable u;
    u.add(port("vx-nf"));
    CHECK(code([&] { u.add(xsk_port("nf", 1, "02:00:00:00:00:04")); }) == "exists");
    // Slots run out.
    PortTable full;
    int i = 0;
    for (; i < VEPA_MAX_XSK_SLOTS / VEPA_MAX_XSK_QUEUES; i++) {
        char mac[18];
        std::snprintf(mac, sizeof(mac), "02:00:00:01:%02x:%02x", i / 256, i % 256);
        full.add(xsk_port(("f" + std::to_string(i)).c_str(), VEPA_MAX_XSK_QUEUES, mac));
    }
    CHECK(code([&] { full.add(xsk_port("one-more", 1, "02:00:00:02:00:00")); }) == "limit");
}

TEST_CASE("port table: a state file with overlapping or out-of-range xsk slots is refused")
{
    auto j = nlohmann::json::parse(R"({"format": 1, "uplink": "up0", "ports": [
        {"name": "a", "slot": 1, "macs": ["02:00:00:00:00:01"], "type": "xsk", "queues": 2, "xsk_first_slot": 0},
        {"name": "b", "slot": 2, "macs": ["02:00:00:00:00:02"], "type": "xsk", "queues": 1, "xsk_first_slot": 1}]})");
    CHECK_THROWS_WITH(PortTable::from_json(j, "state"), Catch::Contains("share XSKMAP slots"));
    j["ports"][1]["xsk_first_slot"] = static_cast<unsigned>(VEPA_MAX_XSK_SLOTS);
    CHECK_THROWS_WITH(PortTable::from_json(j, "state"), Catch::Contains("out-of-range"));
    j["ports"][1]["type"] = "tun";
    CHECK_THROWS_WITH(PortTable::from_json(j, "state"), Catch::Contains("unknown type"));
    j["ports"][1].erase("type");
    CHECK_NOTHROW(PortTable::from_json(j, "state")); // a kernel port ignores xsk fields it does not have
}

TEST_CASE("port table: an xsk pair's alias names its port and uplink, and only ours is read back")
{
    CHECK(xsk_alias_port(xsk_alias("nf0", "eth0"), "eth0") == "nf0");
    CHECK(xsk_alias_port(xsk_alias("a on b", "eth0"), "eth0") == "a on b");
    CHECK(!xsk_alias_port(xsk_alias("nf0", "eth1"), "eth0")); // another vepad's pair
    CHECK(!xsk_alias_port("", "eth0"));
    CHECK(!xsk_alias_port("vepad xsk port  on eth0", "eth0")); // no port name
    CHECK(!xsk_alias_port("my veth", "eth0"));
}

namespace {
PortConfig vlan_port(const char* name, std::vector<const char*> macs, uint16_t untagged, std::set<uint16_t> tagged = {},
                     bool all = false)
{
    PortConfig p = port(name, macs);
    p.vlans = vepa::PortVlans{untagged, tagged, all};
    return p;
}
std::string message(const std::function<void()>& f)
{
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "ok";
}
} // namespace

TEST_CASE("port table: a MAC is one port's within a VLAN; ports in disjoint VLANs may share it")
{
    const char* m = "02:00:00:00:00:01";
    PortTable t;
    t.add(port("plain", {m})); // untagged only
    CHECK(code([&] { t.add(vlan_port("v10", {m}, 10)); }) == "ok");
    CHECK(code([&] { t.add(vlan_port("v20", {m}, 20, {30, 31})); }) == "ok");
    // Overlaps: VLAN 10 again (as untagged or tagged), untagged frames, trunk all.
    CHECK(code([&] { t.add(vlan_port("x", {m}, 10)); }) == "mac-in-use");
    CHECK(code([&] { t.add(vlan_port("x", {m}, 0, {10})); }) == "mac-in-use");
    CHECK(code([&] { t.add(vlan_port("x", {m}, 0, {31})); }) == "mac-in-use");
    CHECK(code([&] { t.add(vlan_port("x", {m}, 0, {}, true)); }) == "mac-in-use");
    CHECK(code([&] { t.add(port("x", {m})); }) == "mac-in-use");
    CHECK(code([&] { t.add(vlan_port("x", {m}, 40, {41})); }) == "ok");
    // The refusal names the owner and both ports' VLANs.
    CHECK(message([&] {
              t.add(vlan_port("y", {m}, 25, {20, 21}));
          }) == "MAC 02:00:00:00:00:01 belongs to port v20, whose VLANs (20 +30,31) overlap these (25 +20,21)");
    // A trunk without --vlan takes untagged frames too: it meets the untagged-only port.
    CHECK(message([&] { t.add(vlan_port("y", {m}, 0, {60})); }) ==
          "MAC 02:00:00:00:00:01 belongs to port plain, whose VLANs (untagged only) overlap these (+60)");
    // Untagged-only ports keep the message they always had.
    CHECK(message([&] { t.add(port("y", {m})); }) == "MAC 02:00:00:00:00:01 belongs to port plain");
    // set-port: moving a port's VLANs onto another owner's is refused, and nothing changes.
    PortConfig moved = *t.find("v10");
    moved.vlans.untagged = 20;
    CHECK(code([&] { t.replace(moved); }) == "mac-in-use");
    CHECK(t.find("v10")->vlans.untagged == 10);
    moved.vlans.untagged = 50;
    CHECK(code([&] { t.replace(moved); }) == "ok");
}

TEST_CASE("port table: VLANs are checked: 1 to 4094, the untagged one not also tagged")
{
    PortTable t;
    CHECK(code([&] { t.add(vlan_port("a", {}, 4095)); }) == "invalid-argument");
    CHECK(code([&] { t.add(vlan_port("a", {}, 0, {0})); }) == "invalid-argument");
    CHECK(code([&] { t.add(vlan_port("a", {}, 0, {4095})); }) == "invalid-argument");
    CHECK(code([&] { t.add(vlan_port("a", {}, 0, {10}, true)); }) == "invalid-argument");
    CHECK(message([&] {
              t.add(vlan_port("a", {}, 10, {10, 20}));
          }) == "port a: VLAN 10 cannot be both untagged (vlan) and tagged (trunk)");
    CHECK(code([&] { t.add(vlan_port("a", {}, 10, {20})); }) == "ok");
    CHECK(code([&] { t.add(vlan_port("b", {}, 10, {}, true)); }) == "ok"); // a native VLAN and every other tagged
    PortConfig a = *t.find("a");
    a.vlans.tagged.insert(10);
    CHECK(code([&] { t.replace(a); }) == "invalid-argument");
    CHECK(t.size() == 2);
}

TEST_CASE("port table: VLANs survive the state file; a file without them is ports without VLANs")
{
    PortTable t;
    t.add(vlan_port("access", {"02:00:00:00:00:01"}, 10));
    t.add(vlan_port("trunk", {"02:00:00:00:00:01"}, 0, {20, 21, 22, 30}));
    t.add(vlan_port("hybrid", {}, 5, {6}));
    t.add(vlan_port("any", {}, 0, {}, true));
    t.add(port("none"));
    const auto j = t.to_json("eth0");
    const auto entry = [&](const char* n) {
        for (const auto& e : j["ports"])
            if (e["name"] == n)
                return e;
        return nlohmann::json();
    };
    CHECK(entry("access")["vlan"] == 10);
    CHECK_FALSE(entry("access").contains("trunk"));
    CHECK(entry("trunk")["trunk"] == nlohmann::json({20, 21, 22, 30}));
    CHECK(entry("any")["trunk"] == "all");
    CHECK_FALSE(entry("none").contains("vlan"));
    CHECK_FALSE(entry("none").contains("trunk"));
    CHECK(PortTable::from_json(j, "x.json").ports() == t.ports());

    // A file of a vepad before VLANs, and one with explicit nulls and empty lists.
    const auto old = nlohmann::json::parse(R"({"format": 1, "uplink": "eth0", "ports": [
        {"name": "c1", "slot": 1, "macs": [], "mode": "vepa", "src_check": true},
        {"name": "c2", "slot": 2, "vlan": null, "trunk": null},
        {"name": "c3", "slot": 3, "trunk": []}]})");
    const PortTable back = PortTable::from_json(old, "old.json");
    for (const char* n : {"c1", "c2", "c3"})
        CHECK(back.find(n)->vlans.empty());

    for (const char* bad : {R"({"name": "a", "slot": 1, "vlan": 0})", R"({"name": "a", "slot": 1, "vlan": 4095})",
                            R"({"name": "a", "slot": 1, "vlan": "10"})", R"({"name": "a", "slot": 1, "trunk": "some"})",
                            R"({"name": "a", "slot": 1, "trunk": [10, 5000]})",
                            R"({"name": "a", "slot": 1, "vlan": 10, "trunk": [10]})"}) {
        nlohmann::json f = {{"format", 1}, {"ports", {nlohmann::json::parse(bad)}}};
        CHECK_THROWS_WITH(PortTable::from_json(f, "state.json"), Catch::StartsWith("state.json: port a"));
    }
    // Two ports sharing a MAC in overlapping VLANs: a file no vepad wrote.
    const auto clash = nlohmann::json::parse(R"({"format": 1, "ports": [
        {"name": "a", "slot": 1, "macs": ["02:00:00:00:00:01"], "vlan": 10},
        {"name": "b", "slot": 2, "macs": ["02:00:00:00:00:01"], "trunk": [10]}]})");
    CHECK_THROWS_WITH(PortTable::from_json(clash, "state.json"), Catch::Contains("belongs to port a"));
}

TEST_CASE("port table: the MAC index follows add, replace, remove and put_back")
{
    const Mac m1 = *Mac::parse("02:00:00:00:00:01"), m2 = *Mac::parse("02:00:00:00:00:02");
    PortTable t;
    t.add(port("a", {"02:00:00:00:00:01"}));
    t.add(vlan_port("b", {"02:00:00:00:00:01"}, 10));
    const vepa::PortVlans untagged, v10{10, {}, false};
    CHECK(t.mac_owner(m1, untagged)->name == "a");
    CHECK(t.mac_owner(m1, v10)->name == "b");
    CHECK(t.mac_owner(m1, untagged, "a") == nullptr); // the port itself is not in its way
    CHECK(t.mac_owners(m1).size() == 2);
    CHECK(t.mac_owner(m2, untagged) == nullptr);

    // replace: the old MAC leaves the index, the new one enters it
    const PortConfig was = *t.find("a");
    PortConfig changed = was;
    changed.macs = {m2};
    t.replace(changed);
    CHECK(t.mac_owner(m1, untagged) == nullptr);
    CHECK(t.mac_owner(m2, untagged)->name == "a");
    CHECK(code([&] { t.add(port("c", {"02:00:00:00:00:02"})); }) == "mac-in-use");

    // put_back undoes it, slot included
    t.put_back("a", was);
    CHECK(*t.find("a") == was);
    CHECK(t.mac_owner(m1, untagged)->name == "a");
    CHECK(t.mac_owner(m2, untagged) == nullptr);

    // remove, then put_back as it was; add, then put_back as absent
    t.remove("a");
    CHECK(t.mac_owner(m1, untagged) == nullptr);
    CHECK(t.mac_owners(m1).size() == 1);
    t.put_back("a", was);
    CHECK(t.mac_owner(m1, untagged)->name == "a");
    t.add(port("c", {"02:00:00:00:00:02"}));
    t.put_back("c", std::nullopt);
    CHECK(t.find("c") == nullptr);
    CHECK(t.mac_owner(m2, untagged) == nullptr);
    CHECK(t.size() == 2);

    // a table read back from its JSON has the index too
    const PortTable r = PortTable::from_json(t.to_json("up0"), "test");
    CHECK(r.mac_owner(m1, v10)->name == "b");
    CHECK(r.mac_owners(m1).size() == 2);
}
