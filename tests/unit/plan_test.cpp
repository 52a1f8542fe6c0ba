// plan(): every policy decision of the reconciler, on hand-made snapshots of
// the kernel (no root, no devices).
#include <catch2/catch.hpp>
#include <linux/if.h>

#include "daemon/plan.hpp"
#include "lib/netlink.hpp"

using namespace vepad;
using vepa::LinkInfo;
using vepa::Mac;
using vepa::Program;

namespace {

constexpr int kUplink = 2;
const Mac kUplinkMac = *Mac::parse("52:54:00:00:00:02");
const Mac kProbe = *Mac::parse("0a:76:65:00:00:01");

Mac mac(const char* s) { return *Mac::parse(s); }

// A kernel snapshot built device by device.
class Kernel {
public:
    Kernel()
    {
        snap.programs = {{Program::UplinkXdp, 101},
                         {Program::UplinkTc, 102},
                         {Program::PortXdp, 103},
                         {Program::PortTc, 104},
                         {Program::XskXdp, 105}};
        uplink();
    }
    Device& add(int ifindex, const std::string& name, const std::string& kind, std::optional<Mac> m = {})
    {
        Device& d = snap.devices[ifindex];
        d.link.ifindex = ifindex;
        d.link.name = name;
        d.link.kind = kind;
        d.link.mac = m ? m : std::optional(Mac({0x02, 0, 0, 0, 0xff, static_cast<uint8_t>(ifindex)}));
        d.link.flags = IFF_UP | IFF_RUNNING;
        d.link.mtu = 1500;
        d.managed = true;
        d.xdp_features = 0;
        return d;
    }
    Device& uplink(uint32_t mtu = 1500, bool takes_xdp = true)
    {
        Device& d = add(kUplink, "eth0", "", kUplinkMac);
        d.link.mtu = mtu;
        d.xdp_features = takes_xdp ? uint64_t(vepa::kXdpActNdoXmit) : 0;
        return d;
    }
    // A container's veth end: its peer in namespace 1; with NAPI on the peer it takes XDP frames.
    Device& container(int ifindex, const std::string& name, std::optional<Mac> guest = {}, bool napi = false)
    {
        Device& d = add(ifindex, name, "veth");
        d.link.link = 7;
        d.link.link_netnsid = 1;
        d.xdp_features = napi ? uint64_t(vepa::kXdpActNdoXmit) : 0;
        d.peer_mac = guest;
        return d;
    }
    Device& tap(int ifindex, const std::string& name)
    {
        Device& d = add(ifindex, name, "tun");
        d.xdp_features = vepa::kXdpActNdoXmit;
        return d;
    }
    // vepad's veth pair for xsk port `name`: `name` (sockets) and vx-name (vepa side).
    void xsk_pair(int ifindex, const std::string& name, bool program = true)
    {
        Device& dev = add(ifindex, name, "veth");
        Device& peer = add(ifindex + 1, xsk_peer_name(name), "veth");
        dev.link.link = ifindex + 1;
        peer.link.link = ifindex;
        peer.link.alias = xsk_alias(name, "eth0");
        peer.xdp_features = program ? uint64_t(vepa::kXdpActNdoXmit) : 0;
        if (program)
            dev.xdp = vepa::XdpAttachment{105, vepa::XdpMode::Native, true};
    }
    Snapshot snap;
};

PortConfig port(const std::string& name, std::vector<const char*> macs = {}, vepa_mode mode = VEPA_MODE_VEPA)
{
    PortConfig p;
    p.name = name;
    p.mode = mode;
    for (auto m : macs)
        p.macs.push_back(mac(m));
    return p;
}

PortConfig xsk(const std::string& name, const char* m, uint16_t queues = 1)
{
    PortConfig p = port(name, {m});
    p.type = PortType::Xsk;
    p.queues = queues;
    return p;
}

const PlanSettings kSettings{"eth0", vepa::XdpMode::Auto, kProbe};

Plan plan_of(const std::vector<PortConfig>& ports, const Kernel& k)
{
    PortTable t;
    for (const auto& p : ports)
        t.add(p);
    return plan(t, k.snap, kSettings);
}

} // namespace

TEST_CASE("plan: delivery into each kind of port")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"));       // container, no NAPI
    k.container(11, "c2", mac("02:00:00:00:00:02"), true); // container, GRO on its guest end
    k.tap(12, "t1");
    k.add(13, "h1", "veth").link.link = 14; // both ends here
    const Plan p = plan_of({port("c1"), port("c2"), port("t1", {"02:00:00:00:00:03"}), port("h1")}, k);
    CHECK(p.ports.at("c1").delivery == VEPA_DELIVER_TC_PEER);
    CHECK(p.ports.at("c2").delivery == VEPA_DELIVER_XDP);
    CHECK(p.ports.at("t1").delivery == VEPA_DELIVER_XDP);
    CHECK(p.ports.at("h1").delivery == VEPA_DELIVER_TC);
    for (const char* n : {"c1", "c2", "t1", "h1"})
        CHECK(p.ports.at(n).state == PortState::Up);
    // The devmap holds the XDP-delivered ports and the uplink.
    CHECK(p.maps.devs.size() == 3);
    CHECK(p.maps.devs.count(11));
    CHECK(p.maps.devs.count(12));
    CHECK(p.maps.devs.count(kUplink));
}

TEST_CASE("plan: a kernel that cannot say what a device takes: taps by XDP, veths by TC")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01")).xdp_features.reset();
    k.tap(12, "t1").xdp_features.reset();
    const Plan p = plan_of({port("c1"), port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.ports.at("c1").delivery == VEPA_DELIVER_TC_PEER);
    CHECK(p.ports.at("t1").delivery == VEPA_DELIVER_XDP);
}

TEST_CASE("plan: XDP on the uplink only while some port is delivered by XDP")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"));
    Plan p = plan_of({port("c1")}, k);
    CHECK(p.hooks.at(kUplink) == Hooks{Program::UplinkTc, std::nullopt, vepa::XdpMode::Auto});
    k.tap(12, "t1");
    p = plan_of({port("c1"), port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.hooks.at(kUplink) == Hooks{Program::UplinkTc, Program::UplinkXdp, vepa::XdpMode::Auto});
    // A tap that is down takes no frames: no XDP on the uplink for it.
    k.snap.devices[12].link.flags = IFF_UP;
    p = plan_of({port("c1"), port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.ports.at("t1").state == PortState::Down);
    CHECK_FALSE(p.hooks.at(kUplink).xdp);
}

TEST_CASE("plan: XDP on a port only for a tap, and only while the uplink takes XDP frames")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"), true);
    k.tap(12, "t1");
    Plan p = plan_of({port("c1"), port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.hooks.at(12) == Hooks{Program::PortTc, Program::PortXdp, vepa::XdpMode::Native});
    CHECK(p.hooks.at(10) == Hooks{Program::PortTc, std::nullopt, vepa::XdpMode::Native});
    k.uplink(1500, false);
    p = plan_of({port("c1"), port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK_FALSE(p.uplink.takes_xdp);
    CHECK(p.hooks.at(12) == Hooks{Program::PortTc, std::nullopt, vepa::XdpMode::Native});
    CHECK_FALSE(p.maps.devs.count(kUplink));
}

TEST_CASE("plan: learned guest MACs, and who keeps one two ports claim")
{
    Kernel k;
    const Mac g = mac("02:00:00:00:00:aa");
    k.container(10, "c1", g);
    k.container(11, "c2", g);                        // the same guest MAC
    k.container(12, "c3", mac("02:00:00:00:00:0c")); // configured on c4
    k.container(13, "c4");                           // guest end unreadable
    k.tap(14, "t1");
    const Plan p =
        plan_of({port("c1"), port("c2"), port("c3"), port("c5", {"02:00:00:00:00:0c"}), port("c4"), port("t1")}, k);
    CHECK(p.ports.at("c1").macs == std::vector<Mac>{g}); // lower slot keeps it
    CHECK(p.ports.at("c1").learned);
    CHECK(p.ports.at("c2").macs.empty());
    CHECK_THAT(p.ports.at("c2").reason, Catch::Contains("already another port's"));
    CHECK(p.ports.at("c3").macs.empty()); // a configured MAC wins over a learned one
    CHECK_THAT(p.ports.at("c3").reason, Catch::Contains("already another port's"));
    CHECK_THAT(p.ports.at("c4").reason, Catch::Contains("cannot be read"));
    CHECK_THAT(p.ports.at("t1").reason, Catch::Contains("give the guest's MAC with --mac"));
    CHECK(vepa::build_contents(p.state).macs.size() == 1); // c5 is absent: nothing of it in the maps
    CHECK(vepa::build_contents(p.state).macs.at({VEPA_VID_UNTAGGED, g}).ifindex == 10);
    // A port without a MAC still gets its record (frames from it are spoofed until it has one).
    CHECK(p.maps.ports.count(11));
    CHECK(p.maps.ports.at(11).n_macs == 0);
}

TEST_CASE("plan: absent, down and unsupported ports")
{
    Kernel k;
    k.container(10, "down1", mac("02:00:00:00:00:01")).link.flags = IFF_UP; // no carrier
    k.add(11, "br0", "bridge");
    const Plan p = plan_of(
        {port("gone"), port("down1"), port("br0", {"02:00:00:00:00:02"}), port("eth0", {"02:00:00:00:00:03"})}, k);
    CHECK(p.ports.at("gone").state == PortState::Absent);
    CHECK(p.ports.at("gone").ifindex == 0);
    CHECK(p.ports.at("down1").state == PortState::Down);
    CHECK(p.ports.at("down1").delivery == VEPA_DELIVER_DOWN);
    CHECK(p.maps.ports.count(10)); // in the maps: its drops are counted
    CHECK(p.maps.flood.empty());   // but it gets no copies
    CHECK(p.hooks.count(10));      // and its frames still meet our programs
    CHECK(p.ports.at("br0").state == PortState::Unsupported);
    CHECK_THAT(p.ports.at("br0").reason, Catch::Contains("not a veth or tap (kind 'bridge')"));
    CHECK(p.ports.at("eth0").state == PortState::Unsupported);
    CHECK(p.ports.at("eth0").reason == "it is the uplink");
    CHECK_FALSE(p.hooks.count(11));
    CHECK(p.maps.ports.size() == 1);
}

TEST_CASE("plan: the uplink absent or down")
{
    Kernel k;
    k.snap.devices.erase(kUplink);
    k.tap(12, "t1");
    Plan p = plan_of({port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.uplink.state == LinkState::Absent);
    CHECK(p.maps.config.uplink_ifindex == 0);
    CHECK_FALSE(p.hooks.count(kUplink));
    CHECK(p.hooks.at(12) == Hooks{Program::PortTc, std::nullopt, vepa::XdpMode::Native}); // no XDP egress
    CHECK(p.ports.at("t1").state == PortState::Up);
    k.uplink().link.flags = IFF_UP;
    p = plan_of({port("t1", {"02:00:00:00:00:03"})}, k);
    CHECK(p.uplink.state == LinkState::Down);
    CHECK(p.maps.config.uplink_ifindex == kUplink);
}

TEST_CASE("plan: a private port turns R7's source lookup on; modes and src_check reach the records")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"));
    PortConfig nocheck = port("c1", {}, VEPA_MODE_BRIDGE);
    nocheck.src_check = false;
    Plan p = plan_of({nocheck}, k);
    CHECK_FALSE(p.maps.config.flags & VEPA_CFG_F_HAVE_PRIVATE);
    CHECK(p.maps.ports.at(10).ref.mode == VEPA_MODE_BRIDGE);
    CHECK(p.maps.ports.at(10).flags & VEPA_PORT_F_NO_SRC_CHECK);
    p = plan_of({port("c1", {}, VEPA_MODE_PRIVATE)}, k);
    CHECK(p.maps.config.flags & VEPA_CFG_F_HAVE_PRIVATE);
}

TEST_CASE("plan: the longest frame follows the uplink's MTU; the probe MAC reaches the config")
{
    Kernel k;
    k.uplink(9000);
    Plan p = plan_of({}, k);
    CHECK(p.maps.config.max_frame_len == 9000 + 14 + 8);
    CHECK(Mac::from_key(p.maps.config.probe_dst) == kProbe);
    k.snap.devices.erase(kUplink);
    p = plan_of({}, k);
    CHECK(p.maps.config.max_frame_len == 1518);
}

TEST_CASE("plan: xsk ports' pairs are made, mended, kept or refused")
{
    Kernel k;
    SECTION("no pair: made, with its slots")
    {
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01", 2)}, k);
        REQUIRE(p.devices.create.size() == 1);
        CHECK(p.devices.create[0].port == "nf0");
        CHECK(p.devices.create[0].queues == 2);
        CHECK(p.devices.create[0].mac == mac("02:00:00:00:00:01"));
        CHECK(p.devices.remove.empty());
        CHECK(p.ports.at("nf0").state == PortState::Absent);
    }
    SECTION("half a pair (its socket end moved away): removed and made anew")
    {
        k.add(21, "vx-nf0", "veth").link.alias = xsk_alias("nf0", "eth0");
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01")}, k);
        REQUIRE(p.devices.remove.size() == 1);
        CHECK(p.devices.remove[0].ifindex == 21);
        CHECK(p.devices.create.size() == 1);
    }
    SECTION("a veth of that name that is not a pair of ours: refused")
    {
        k.add(20, "nf0", "veth");
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01")}, k);
        CHECK(p.devices.empty());
        CHECK(p.ports.at("nf0").state == PortState::Unsupported);
    }
    SECTION("a foreign device of that name: refused, left alone")
    {
        k.add(20, "nf0", "bridge");
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01")}, k);
        CHECK(p.devices.empty());
        CHECK(p.ports.at("nf0").state == PortState::Unsupported);
        CHECK_THAT(p.ports.at("nf0").reason, Catch::Contains("is not this xsk port's veth pair"));
    }
    SECTION("our pair without its program: the program first")
    {
        k.xsk_pair(20, "nf0", false);
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01")}, k);
        CHECK(p.devices.xsk_program == std::vector<int>{20});
        CHECK(p.devices.create.empty());
    }
    SECTION("our pair, every queue with its socket: up, delivered by XDP, in the xsk map")
    {
        k.xsk_pair(20, "nf0");
        k.snap.xsk_sockets["nf0"] = {0, 1};
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01", 2)}, k);
        CHECK(p.devices.empty());
        const PortStatus& ps = p.ports.at("nf0");
        CHECK(ps.state == PortState::Up);
        CHECK(ps.kind == "xsk");
        CHECK(ps.ifindex == 21);
        CHECK(ps.xsk_ifindex == 20);
        CHECK(ps.delivery == VEPA_DELIVER_XDP);
        CHECK(p.maps.xskports.at(20).queues == 2);
        CHECK(p.hooks.at(20) == Hooks{std::nullopt, Program::XskXdp, vepa::XdpMode::Native});
        CHECK(p.hooks.at(21) == Hooks{Program::PortTc, std::nullopt, vepa::XdpMode::Native});
    }
    SECTION("a queue without its socket: down, and why")
    {
        k.xsk_pair(20, "nf0");
        k.snap.xsk_sockets["nf0"] = {0};
        const Plan p = plan_of({xsk("nf0", "02:00:00:00:00:01", 2)}, k);
        CHECK(p.ports.at("nf0").state == PortState::Down);
        CHECK(p.ports.at("nf0").reason == "1 of 2 queues have no AF_XDP socket");
        CHECK(p.ports.at("nf0").delivery == VEPA_DELIVER_DOWN);
    }
    SECTION("the pair of a port no longer configured: removed")
    {
        k.xsk_pair(20, "old");
        const Plan p = plan_of({}, k);
        REQUIRE(p.devices.remove.size() == 1);
        CHECK(p.devices.remove[0].ifindex == 21); // the vepa side carries the alias
    }
}

TEST_CASE("plan: programs come off devices that no longer serve")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"));
    k.container(11, "c2", mac("02:00:00:00:00:02"));
    k.add(30, "eth9", ""); // the previous uplink
    k.snap.maps.ports[10] = vepa_port{};
    k.snap.maps.ports[11] = vepa_port{};
    k.snap.maps.ports[12] = vepa_port{}; // its device is gone: nothing to take off
    k.snap.maps.config.uplink_ifindex = 30;
    const Plan p = plan_of({port("c1")}, k);
    CHECK(p.unhook == std::vector<int>{11, 30});
}

TEST_CASE("plan_teardown: everything of ours off, maps empty, our pairs deleted")
{
    Kernel k;
    k.container(10, "c1", mac("02:00:00:00:00:01"));
    k.xsk_pair(20, "nf0");
    k.snap.maps.ports[10] = vepa_port{};
    k.snap.maps.ports[21] = vepa_port{};
    k.snap.maps.xskports[20] = vepa_xsk_port{};
    k.snap.maps.config.uplink_ifindex = kUplink;
    k.snap.maps.macs[{VEPA_VID_UNTAGGED, mac("02:00:00:00:00:01")}] = vepa_port_ref{10, 1, 0, 0, 0, 0};
    const Plan p = plan_teardown(k.snap, kSettings);
    CHECK(p.unhook == std::vector<int>{kUplink, 10, 20, 21});
    CHECK(p.hooks.empty());
    CHECK(p.maps.ports.empty());
    CHECK(p.macs.put.empty());
    CHECK(p.macs.remove.size() == 1); // every MAC entry goes
    REQUIRE(p.devices.remove.size() == 1);
    CHECK(p.devices.remove[0].ifindex == 21);
}

namespace {
PortConfig in_vlans(PortConfig p, uint16_t untagged, std::set<uint16_t> tagged = {}, bool all = false)
{
    p.vlans = vepa::PortVlans{untagged, std::move(tagged), all};
    return p;
}
} // namespace

TEST_CASE("plan: a learned guest MAC is taken only by ports in a VLAN of the learner's")
{
    const Mac g = mac("02:00:00:00:00:aa");
    Kernel k;
    k.container(10, "c1", g);
    // "other" (absent) has g configured: it owns g in its VLANs whether present or not.
    auto learned_by_c1 = [&](const PortConfig& c1, const PortConfig& other) {
        const Plan p = plan_of({other, c1}, k);
        return p.ports.at("c1").macs == std::vector<Mac>{g};
    };
    const PortConfig c1 = port("c1"), other = port("other", {"02:00:00:00:00:aa"});
    CHECK_FALSE(learned_by_c1(c1, other));                       // both untagged only
    CHECK(learned_by_c1(c1, in_vlans(other, 10)));               // untagged vs VLAN 10
    CHECK(learned_by_c1(in_vlans(c1, 20), in_vlans(other, 10))); // disjoint access VLANs
    CHECK(learned_by_c1(in_vlans(c1, 0, {20, 21}), in_vlans(other, 10, {30})));
    CHECK_FALSE(learned_by_c1(in_vlans(c1, 0, {10}), in_vlans(other, 10)));       // 10 both ways
    CHECK_FALSE(learned_by_c1(in_vlans(c1, 20, {30}), in_vlans(other, 0, {30}))); // tagged 30 both
    CHECK_FALSE(learned_by_c1(in_vlans(c1, 0, {}, true), in_vlans(other, 5)));    // trunk all meets any VLAN
    CHECK_FALSE(learned_by_c1(c1, in_vlans(other, 0, {7}))); // a trunk without --vlan takes untagged frames too
    CHECK(learned_by_c1(in_vlans(c1, 8), in_vlans(other, 0, {7})));
    // The reason says why when it is taken.
    const Plan p = plan_of({in_vlans(other, 10), in_vlans(c1, 10)}, k);
    CHECK(p.ports.at("c1").reason == "guest MAC 02:00:00:00:00:aa is already another port's in a VLAN of this port's");
}

TEST_CASE("plan: two present ports learn the same guest MAC in disjoint VLANs")
{
    const Mac g = mac("02:00:00:00:00:aa");
    Kernel k;
    k.container(10, "c1", g);
    k.container(11, "c2", g);
    k.container(12, "c3", g);
    const Plan p = plan_of({in_vlans(port("c1"), 10), in_vlans(port("c2"), 20), in_vlans(port("c3"), 0, {20})}, k);
    CHECK(p.ports.at("c1").macs == std::vector<Mac>{g});
    CHECK(p.ports.at("c2").macs == std::vector<Mac>{g});
    CHECK(p.ports.at("c3").macs.empty()); // VLAN 20 is c2's, the lower slot
}

namespace {
// What apply leaves in a snapshot: the maps as the plan wants them, the filter with its changes.
void applied(Snapshot& s, const Plan& p)
{
    s.maps.macs = vepa::build_contents(p.state).macs;
    static_cast<vepa::MapRecords&>(s.maps) = p.maps;
    s.state = p.state;
    for (const auto& [dev, m] : p.rx.remove) {
        s.rx.entries.erase(m);
        s.rx.ours.erase(m);
    }
    for (const auto& m : p.rx.forget)
        s.rx.ours.erase(m);
    for (const auto& m : p.rx.add) {
        s.rx.entries.insert(m);
        s.rx.ours[m] = kUplink;
    }
    s.rx.applied = p.rx_basis;
}

template <typename T> std::set<T> as_set(const std::vector<T>& v) { return {v.begin(), v.end()}; }
} // namespace

TEST_CASE("plan: after a run, a change is planned for what changed only, and alike the whole plan")
{
    Kernel k;
    k.snap.rx.uplink = kUplink;
    k.snap.rx.devices = {kUplink};
    k.snap.rx.entries = {mac("02:00:00:00:00:09")}; // someone else's entry, for a MAC of c3's
    k.container(10, "c1", mac("02:00:00:00:00:05")); // learns its guest's MAC
    k.container(11, "c2");
    k.container(12, "c3");
    k.container(13, "c4");
    PortTable t;
    t.add(port("c1"));
    t.add(port("c2", {"02:00:00:00:00:01", "02:00:00:00:00:02"}));
    t.add(port("c3", {"02:00:00:00:00:03", "02:00:00:00:00:09"}));
    const Plan first = plan(t, k.snap, kSettings);
    CHECK_FALSE(first.rx_want.only); // nothing known of a last run: the whole filter
    applied(k.snap, first);

    // c2 goes, c4 comes with one of c2's MACs, c3 changes mode; c1 (learned) stays.
    t.remove("c2");
    t.add(port("c4", {"02:00:00:00:00:02", "02:00:00:00:00:04"}));
    PortConfig c3 = *t.find("c3");
    c3.mode = VEPA_MODE_PRIVATE;
    t.replace(c3);
    const Plan delta = plan(t, k.snap, kSettings);
    Snapshot unknown = k.snap; // the same kernel, read anew
    unknown.state.reset();
    unknown.rx.applied.reset();
    const Plan whole = plan(t, unknown, kSettings);

    REQUIRE(delta.rx_want.only);
    CHECK_FALSE(whole.rx_want.only);
    CHECK(as_set(delta.rx.add) == as_set(whole.rx.add));
    CHECK(as_set(delta.rx.remove) == as_set(whole.rx.remove));
    CHECK(as_set(delta.rx.forget) == as_set(whole.rx.forget));
    CHECK(as_set(delta.rx.add) == std::set<Mac>{mac("02:00:00:00:00:04")});
    CHECK(delta.rx.remove.size() == 1); // 02:..:01 (02:..:02 is c4's now)
    // The MAC table: the same writes either way, the unchanged learned port's not among them.
    CHECK(delta.macs.put.size() == whole.macs.put.size());
    CHECK(as_set(delta.macs.remove) == as_set(whole.macs.remove));
    CHECK(delta.macs.put.size() == 4); // c3's two (its mode), c4's two
    CHECK_FALSE(delta.macs.put.count({VEPA_VID_UNTAGGED, mac("02:00:00:00:00:05")}));
    // The receive filter's basis changes (another probe destination): the whole filter again.
    PlanSettings other = kSettings;
    other.probe_dst = mac("0a:76:65:00:00:02");
    CHECK_FALSE(plan(t, k.snap, other).rx_want.only);
}
