// The libvirt hook's pure parts (libvirt/): domain XML -> wanted ports, and what it
// asks vepad and how it reads vepad's port objects.
#include <catch2/catch.hpp>

#include "libvirt/hook_error.hpp"
#include "libvirt/port_requests.hpp"
#include "libvirt/wanted_ports.hpp"

using namespace vepa::libvirt;
using nlohmann::json;

namespace {

const std::string kNs = "https://github.com/vepad/xmlns/libvirt/1";

// A domain with three interfaces: tapvm1 (named), one libvirt names itself, a bridge one.
std::string domain(const std::string& metadata, const std::string& extra_devices = "")
{
    return "<domain type='qemu'><name>vm1</name><uuid>7c4f793b-bc9b-4c65-8563-7296e0e7f8dd</uuid>"
           "<metadata>" +
           metadata +
           "</metadata><devices>"
           "<interface type='ethernet'><mac address='52:54:00:aa:00:01'/><target dev='tapvm1'/></interface>"
           "<interface type='ethernet'><mac address='52:54:00:AA:00:02'/><model type='virtio'/></interface>"
           "<interface type='bridge'><mac address='52:54:00:aa:00:03'/><source bridge='br0'/></interface>" +
           extra_devices + "</devices></domain>";
}

std::string ports(const std::string& inner, const std::string& attrs = "")
{
    return "<vepad:ports xmlns:vepad='" + kNs + "'" + attrs + ">" + inner + "</vepad:ports>";
}

// The MetadataError's message, "" when parsing succeeds.
std::string error_of(const std::string& xml, Match m = Match::Strict)
{
    try {
        parse_domain(xml, m);
    } catch (const MetadataError& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("libvirt hook: a domain without vepad metadata is not marked")
{
    const auto d = parse_domain(domain("<other:x xmlns:other='urn:x'><other:port dev='tapvm1'/></other:x>"));
    CHECK(d.name == "vm1");
    CHECK(d.uuid == "7c4f793b-bc9b-4c65-8563-7296e0e7f8dd");
    CHECK_FALSE(d.marked);
    CHECK(d.ports.empty());
    CHECK_FALSE(parse_domain("<domain><name>x</name></domain>").marked);
    CHECK_FALSE(mentions_vepad(domain("")));
    CHECK(mentions_vepad(domain(ports(""))));
}

TEST_CASE("libvirt hook: ports by target dev and by MAC, with their settings")
{
    const auto d = parse_domain(domain(ports("<vepad:port dev='tapvm1' mode='private' vlan='10' trunk='20,30-32' "
                                             "src-check='no'/><vepad:port mac='52:54:00:aa:00:02'/>")));
    REQUIRE(d.marked);
    REQUIRE(d.ports.size() == 2);
    const auto& a = d.ports[0];
    CHECK(a.dev == "tapvm1");
    CHECK(a.mac.str() == "52:54:00:aa:00:01");
    CHECK(a.mode == "private");
    CHECK(a.vlan == 10);
    CHECK(a.trunk == std::set<uint16_t>{20, 30, 31, 32});
    CHECK_FALSE(a.trunk_all);
    CHECK_FALSE(a.src_check);
    CHECK(a.required);
    CHECK(a.socket.empty());
    const auto& b = d.ports[1];
    CHECK(b.dev.empty()); // libvirt names it at start
    CHECK(b.mac.str() == "52:54:00:aa:00:02");
    CHECK_FALSE(b.mode);
    CHECK_FALSE(b.vlan);
    CHECK(b.trunk.empty());
    CHECK(b.src_check);
    CHECK(b.match == "mac=\"52:54:00:aa:00:02\"");
    REQUIRE(d.named().size() == 1);
    CHECK(d.named()[0].dev == "tapvm1");
}

TEST_CASE("libvirt hook: the MAC match takes the tap name the XML has at start")
{
    const auto xml = domain(ports("<vepad:port mac='52:54:00:aa:00:02'/>"));
    std::string started = xml;
    started.replace(started.find("<model type='virtio'/>"), 0, "<target dev='vnet7'/>");
    const auto d = parse_domain(started);
    REQUIRE(d.ports.size() == 1);
    CHECK(d.ports[0].dev == "vnet7");
    CHECK(d.named().size() == 1);
}

TEST_CASE("libvirt hook: socket and required default from <vepad:ports>, a port overrides them")
{
    const auto d = parse_domain(domain(
        ports("<vepad:port dev='tapvm1'/><vepad:port mac='52:54:00:aa:00:02' socket='/run/b.sock' required='yes'/>",
              " socket='/run/a.sock' required='no'")));
    REQUIRE(d.ports.size() == 2);
    CHECK(d.ports[0].socket == "/run/a.sock");
    CHECK_FALSE(d.ports[0].required);
    CHECK(d.ports[1].socket == "/run/b.sock");
    CHECK(d.ports[1].required);
    CHECK(d.sockets() == std::vector<std::string>{"/run/a.sock", "/run/b.sock"});
}

TEST_CASE("libvirt hook: the namespace URI counts, not the prefix")
{
    const auto other_prefix =
        parse_domain(domain("<v:ports xmlns:v='" + kNs + "'><v:port dev='tapvm1' trunk='all'/></v:ports>"));
    REQUIRE(other_prefix.ports.size() == 1);
    CHECK(other_prefix.ports[0].trunk_all);
    const auto default_ns = parse_domain(domain("<ports xmlns='" + kNs + "'><port dev='tapvm1'/></ports>"));
    CHECK(default_ns.ports.size() == 1);
    // The vepad prefix bound to another namespace is not vepad's.
    CHECK_FALSE(
        parse_domain(domain("<vepad:ports xmlns:vepad='urn:other'><vepad:port dev='x'/></vepad:ports>")).marked);
}

TEST_CASE("libvirt hook: both dev and mac must name the same interface")
{
    CHECK(parse_domain(domain(ports("<vepad:port dev='tapvm1' mac='52:54:00:aa:00:01'/>"))).ports.size() == 1);
    CHECK_THAT(error_of(domain(ports("<vepad:port dev='tapvm1' mac='52:54:00:aa:00:02'/>"))),
               Catch::Contains("dev and mac name different interfaces"));
}

TEST_CASE("libvirt hook: bad metadata is refused with what is wrong")
{
    using Catch::Contains;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"<vepad:port dev='tapvm1' src_check='no'/>", "unknown attribute 'src_check'"},
        {"<vepad:port dev='tapvm1' mode='vepx'/>", "mode must be vepa, private or bridge"},
        {"<vepad:port dev='tapvm1' vlan='4095'/>", "vlan must be a VLAN id 1..4094"},
        {"<vepad:port dev='tapvm1' vlan=''/>", "vlan must be a VLAN id"},
        {"<vepad:port dev='tapvm1' trunk='20,,30'/>", "trunk must be VLAN ids"},
        {"<vepad:port dev='tapvm1' trunk='30-20'/>", "trunk must be VLAN ids"},
        {"<vepad:port dev='tapvm1' src-check='true'/>", "src-check must be yes or no"},
        {"<vepad:port dev='tapvm1' required='maybe'/>", "required must be yes or no"},
        {"<vepad:port dev='tapvm1' socket='run/vepad.sock'/>", "socket must be an absolute path"},
        {"<vepad:port mode='vepa'/>", "name the interface: dev"},
        {"<vepad:port dev='a/b'/>", "dev must be an interface name"},
        {"<vepad:port dev='abcdefghijklmnop'/>", "dev must be an interface name"},
        {"<vepad:port mac='01:00:5e:00:00:01'/>", "mac must be a unicast MAC"},
        {"<vepad:port mac='52:54:00:aa:00'/>", "mac must be a unicast MAC"},
        {"<vepad:port dev='tapvm9'/>", "no <interface> has <target dev='tapvm9'/>"},
        {"<vepad:port mac='52:54:00:aa:00:09'/>", "no <interface> has <mac address='52:54:00:aa:00:09'/>"},
        {"<vepad:port mac='52:54:00:aa:00:03'/>", "a vepad port must be an <interface type='ethernet'>"},
        {"<vepad:port dev='tapvm1'/><vepad:port mac='52:54:00:aa:00:01'/>", "is named by two <vepad:port>"},
        {"<vepad:prot dev='tapvm1'/>", "its elements are <vepad:port>"},
        {"<port dev='tapvm1'/>", "its elements are <vepad:port>"},
    };
    for (const auto& [inner, why] : cases) {
        INFO(inner);
        CHECK_THAT(error_of(domain(ports(inner))), Contains(why));
    }
    CHECK_THAT(error_of(domain(ports("", " sokket='/x'"))), Contains("unknown attribute 'sokket'"));
    CHECK_THAT(error_of(domain(ports("") + ports(""))), Contains("two <vepad:ports> elements"));
    CHECK_THAT(error_of(domain("<vepad:port xmlns:vepad='" + kNs + "' dev='tapvm1'/>")),
               Contains("the metadata's element is <vepad:ports>"));
    CHECK_THAT(error_of("<domain><metadata>"), Contains("does not parse"));
    CHECK_THAT(error_of("<network/>"), Contains("not a libvirt domain"));
}

TEST_CASE("libvirt hook: an interface without a MAC, two interfaces with one MAC")
{
    const auto no_mac =
        domain(ports("<vepad:port dev='tapx'/>"), "<interface type='ethernet'><target dev='tapx'/></interface>");
    CHECK_THAT(error_of(no_mac), Catch::Contains("has no <mac address>"));
    const auto twice = domain(ports("<vepad:port mac='52:54:00:aa:00:01'/>"),
                              "<interface type='ethernet'><mac address='52:54:00:aa:00:01'/></interface>");
    CHECK_THAT(error_of(twice), Catch::Contains("matches two interfaces"));
}

TEST_CASE("libvirt hook: at release a tap name libvirt dropped is taken from the metadata")
{
    // The release XML of a domain whose tapvm1 libvirt made: no <target dev> any more.
    std::string released = domain(ports("<vepad:port dev='tapvm1'/><vepad:port mac='52:54:00:aa:00:02'/>"));
    released.erase(released.find("<target dev='tapvm1'/>"), std::string("<target dev='tapvm1'/>").size());
    CHECK_THAT(error_of(released), Catch::Contains("no <interface> has <target dev='tapvm1'/>"));
    const auto d = parse_domain(released, Match::Lenient);
    REQUIRE(d.ports.size() == 2);
    CHECK(d.ports[0].dev == "tapvm1");
    CHECK(d.ports[0].mac.is_zero());
    CHECK(d.ports[1].dev.empty());
    CHECK(d.ports[1].mac.str() == "52:54:00:aa:00:02");
    // Lenient is about names only: a bad value is still an error.
    CHECK_THAT(error_of(domain(ports("<vepad:port dev='tapvm1' mode='x'/>")), Match::Lenient), Catch::Contains("mode"));
}

// ---- requests and vepad's port objects ------------------------------------------

namespace {
const vepa::PortOwner kOwner{"libvirt", "vm1", "7c4f793b-bc9b-4c65-8563-7296e0e7f8dd", ""};

WantedPort wanted()
{
    WantedPort w;
    w.dev = "tapvm1";
    w.mac = *vepa::Mac::parse("52:54:00:aa:00:01");
    return w;
}

// A port object as vepad's list gives it, owned by the domain (or as given).
json vepad_port(const std::string& name, const std::string& mac, const json& owner = kOwner.json())
{
    return {{"name", name},    {"state", "up"},          {"macs", {mac}},     {"mode", "vepa"},
            {"vlan", nullptr}, {"trunk", json::array()}, {"src_check", true}, {"owner", owner}};
}
} // namespace

TEST_CASE("libvirt hook: the owner is the domain's name and UUID")
{
    DomainPorts d;
    d.name = "vm1";
    d.uuid = "7c4f793b-bc9b-4c65-8563-7296e0e7f8dd";
    CHECK(domain_owner(d) == kOwner);
    d.name = "my vm\t\xc3\xa9" + std::string(300, 'x');
    const auto o = domain_owner(d);
    CHECK(o.name.size() == 255);
    CHECK(o.name.rfind("my_vm___xx", 0) == 0);
    std::string why;
    CHECK(vepa::parse_port_owner(o.json(), &why)); // vepad takes it
}

TEST_CASE("libvirt hook: add-port arguments carry every setting and the owner")
{
    WantedPort w = wanted();
    CHECK(port_args(w, kOwner) == json{{"name", "tapvm1"},
                                       {"macs", {"52:54:00:aa:00:01"}},
                                       {"src_check", true},
                                       {"vlan", nullptr},
                                       {"trunk", nullptr},
                                       {"owner", kOwner.json()}});
    w.mode = "bridge";
    w.vlan = 10;
    w.trunk = {20, 30};
    w.src_check = false;
    const auto a = port_args(w, kOwner);
    CHECK(a["mode"] == "bridge");
    CHECK(a["vlan"] == 10);
    CHECK(a["trunk"] == json::array({20, 30}));
    CHECK(a["src_check"] == false);
    w.trunk_all = true;
    CHECK(port_args(w, kOwner)["trunk"] == "all");
}

TEST_CASE("libvirt hook: a port as wanted needs no set-port; any difference does")
{
    WantedPort w = wanted();
    json p = vepad_port("tapvm1", "52:54:00:aa:00:01");
    CHECK(same_settings(p, w, kOwner)); // mode not given: vepad's, whatever it is
    w.mode = "vepa";
    CHECK(same_settings(p, w, kOwner));
    w.mode = "private";
    CHECK_FALSE(same_settings(p, w, kOwner));
    w.mode.reset();
    w.vlan = 10;
    CHECK_FALSE(same_settings(p, w, kOwner));
    p["vlan"] = 10;
    CHECK(same_settings(p, w, kOwner));
    w.trunk = {20};
    CHECK_FALSE(same_settings(p, w, kOwner));
    p["trunk"] = {20};
    CHECK(same_settings(p, w, kOwner));
    w.trunk_all = true;
    CHECK_FALSE(same_settings(p, w, kOwner));
    p["trunk"] = "all";
    CHECK(same_settings(p, w, kOwner));
    w.src_check = false;
    CHECK_FALSE(same_settings(p, w, kOwner));
    p["src_check"] = false;
    CHECK(same_settings(p, w, kOwner));
    p["owner"] = nullptr;
    CHECK_FALSE(same_settings(p, w, kOwner));
    p["owner"] = kOwner.json();
    p["macs"] = {"52:54:00:aa:00:01", "52:54:00:aa:00:09"};
    CHECK_FALSE(same_settings(p, w, kOwner));
}

TEST_CASE("libvirt hook: a port of that name is taken when it is the domain's or ownerless with its MAC")
{
    const WantedPort w = wanted();
    CHECK(may_take(vepad_port("tapvm1", "52:54:00:aa:00:01"), w, kOwner));
    CHECK(may_take(vepad_port("tapvm1", "52:54:00:aa:00:09"), w, kOwner)); // the domain's, its MAC changed
    CHECK(may_take(vepad_port("tapvm1", "52:54:00:aa:00:01", nullptr), w, kOwner));
    CHECK_FALSE(may_take(vepad_port("tapvm1", "52:54:00:aa:00:09", nullptr), w, kOwner));
    const json other_domain = {{"tool", "libvirt"}, {"name", "vm2"}, {"id", "0c5e..."}, {"ifname", ""}};
    CHECK_FALSE(may_take(vepad_port("tapvm1", "52:54:00:aa:00:01", other_domain), w, kOwner));
    const json cni = {{"tool", "cni"}, {"name", "net"}, {"id", kOwner.id}, {"ifname", "eth0"}};
    CHECK_FALSE(may_take(vepad_port("tapvm1", "52:54:00:aa:00:01", cni), w, kOwner));
}

TEST_CASE("libvirt hook: release takes the ports whose owner is the domain's UUID, only those")
{
    CHECK(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01"), kOwner));
    CHECK(is_domains(vepad_port("vnet3", "52:54:00:aa:00:02"), kOwner));
    json renamed = kOwner.json();
    renamed["name"] = "vm1-renamed"; // the UUID counts
    CHECK(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01", renamed), kOwner));
    CHECK_FALSE(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01", nullptr), kOwner));
    json other = kOwner.json();
    other["id"] = "0c5e0000-0000-0000-0000-000000000000";
    CHECK_FALSE(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01", other), kOwner));
    json cni = kOwner.json();
    cni["tool"] = "cni";
    CHECK_FALSE(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01", cni), kOwner));
    vepa::PortOwner no_uuid = kOwner;
    no_uuid.id.clear();
    json empty_id = kOwner.json();
    empty_id["id"] = "";
    CHECK_FALSE(is_domains(vepad_port("tapvm1", "52:54:00:aa:00:01", empty_id), no_uuid));
}
