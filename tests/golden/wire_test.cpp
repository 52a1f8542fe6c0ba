// The programs attached for real, frames sent through real devices: from the
// switch end of the uplink, from guests' veth ends and from tap fds, and seen
// (or not) at every sink: each guest's end, each tap's reader, the switch.
// These prove the redirect targets that BPF_PROG_TEST_RUN cannot show, over
// each delivery path: XDP into a tap, XDP into a veth whose guest end has
// NAPI, bpf_redirect_peer into a container's veth, plain TC redirect.
#include <catch2/catch.hpp>
#include <bpf/bpf.h>
#include <unistd.h>

#include <random>

#include "lib/attach.hpp"
#include "lib/netlink.hpp"
#include "lib/port_paths.hpp"
#include "tests/support/wire_socket.hpp"
#include "tests/support/testbed.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

const Mac kV1 = mac("02:00:00:00:01:01"); // veth, default guest end   -> tc-peer
const Mac kV2 = mac("02:00:00:00:02:01"); // veth, guest end with GRO  -> xdp
const Mac kT1 = mac("02:00:00:00:06:01"); // tap                       -> xdp
const Mac kT2 = mac("02:00:00:00:06:02"); // tap, forced TC delivery
const Mac kB1 = mac("02:00:00:00:03:01"); // bridge veth
const Mac kB2 = mac("02:00:00:00:04:01"); // bridge tap
const Mac kP1 = mac("02:00:00:00:05:01"); // private veth
const Mac kExt = mac("02:00:00:00:99:99");

class Wire {
public:
    explicit Wire(bool switch_napi = true)
        : tb({
              {"v1", false, VEPA_MODE_VEPA, {kV1}},
              {"v2", false, VEPA_MODE_VEPA, {kV2}, std::nullopt, true, true},
              {"t1", true, VEPA_MODE_VEPA, {kT1}},
              {"t2", true, VEPA_MODE_VEPA, {kT2}, VEPA_DELIVER_TC},
              {"b1", false, VEPA_MODE_BRIDGE, {kB1}},
              {"b2", true, VEPA_MODE_BRIDGE, {kB2}},
              {"p1", false, VEPA_MODE_PRIVATE, {kP1}},
          })
    {
        sh("ip addr add 10.77.0.1/24 dev up0");
        tb.attach(switch_napi);
        switch_sink = std::make_unique<WireSocket>("sw0", &tb.sw);
        for (auto& p : tb.ports)
            if (!p.tap)
                guest.emplace(p.name, std::make_unique<WireSocket>(p.guest_end, &tb.guests));
        host_mac = *NetlinkRequester().link("up0")->mac;
    }

    struct Seen {
        std::map<std::string, int> ports; // port -> copies received
        int uplink = 0;                   // copies the switch received
        std::vector<Bytes> at_switch;     // everything the switch received
        std::set<std::string> names() const
        {
            std::set<std::string> s;
            for (auto& [n, c] : ports)
                s.insert(n);
            return s;
        }
    };

    // Send frame from "switch" or a port's guest side; gather what arrives where.
    Seen send(const std::string& from, const Bytes& frame)
    {
        for (auto& [n, s] : guest)
            s->drain();
        switch_sink->drain();
        tb.drain_taps();
        if (from == "switch")
            switch_sink->send(frame);
        else if (tb.port(from).tap)
            tb.port(from).tap_fd->send(frame);
        else
            guest.at(from)->send(frame);
        ::usleep(150 * 1000);
        const uint32_t tag = frame_tag(frame);
        Seen seen;
        for (auto& [n, s] : guest)
            for (auto& f : s->drain())
                if (frame_tag(f) == tag && f == frame)
                    seen.ports[n]++;
        for (auto& p : tb.ports)
            if (p.tap)
                for (auto& f : p.tap_fd->drain())
                    if (frame_tag(f) == tag && f == frame)
                        seen.ports[p.name]++;
        seen.at_switch = switch_sink->drain();
        for (auto& f : seen.at_switch)
            if (frame_tag(f) == tag && f == frame)
                seen.uplink++;
        return seen;
    }

    Bytes frame(const Mac& dst, const Mac& src, uint16_t et = kEthTest, size_t len = 64)
    {
        return eth_frame(dst, src, et, len, {}, next_tag());
    }
    uint32_t next_tag() { return static_cast<uint32_t>(rng()) | 1; }

    Testbed tb;
    std::unique_ptr<WireSocket> switch_sink;
    std::map<std::string, std::unique_ptr<WireSocket>> guest;
    Mac host_mac;
    std::mt19937 rng{std::random_device{}()};
};

using Names = std::set<std::string>;

} // namespace

TEST_CASE("wire: the probe picks each port's delivery and egress path", "[wire]")
{
    Wire w;
    CHECK(w.tb.uplink_takes_xdp);                            // switch end has NAPI (GRO)
    CHECK(w.tb.port("v1").delivery == VEPA_DELIVER_TC_PEER); // container end as it comes
    CHECK(w.tb.port("v2").delivery == VEPA_DELIVER_XDP);     // guest end with GRO
    CHECK(w.tb.port("t1").delivery == VEPA_DELIVER_XDP);
    CHECK(w.tb.port("t1").xdp_egress);
    CHECK_FALSE(w.tb.port("v1").xdp_egress);
    CHECK(tc_query(w.tb.uplink));
    CHECK(xdp_query(w.tb.uplink));
    CHECK(xdp_query(w.tb.port("t1").ifindex));
    CHECK_FALSE(xdp_query(w.tb.port("v1").ifindex));
}

TEST_CASE("wire: R1 unicast from the switch reaches its port only, over every delivery path", "[wire]")
{
    Wire w;
    for (const auto& [name, m] : std::vector<std::pair<std::string, Mac>>{
             {"v1", kV1}, {"v2", kV2}, {"t1", kT1}, {"t2", kT2}, {"b1", kB1}, {"b2", kB2}, {"p1", kP1}}) {
        INFO("R1 to " << name << " (delivery " << to_string(w.tb.port(name).delivery) << ")");
        const auto seen = w.send("switch", w.frame(m, kExt));
        CHECK(seen.ports == std::map<std::string, int>{{name, 1}});
    }
}

TEST_CASE("wire: R2 unknown unicast reaches no port; the host's own unicast reaches the host", "[wire]")
{
    Wire w;
    CHECK(w.send("switch", w.frame(mac("02:00:00:00:88:88"), kExt)).ports.empty());
    // The host answers an ARP request addressed to its MAC (unicast ARP).
    Bytes arp = arp_request(kExt, "10.77.0.2", "10.77.0.1", w.next_tag());
    std::copy(w.host_mac.bytes().begin(), w.host_mac.bytes().end(), arp.begin());
    const auto seen = w.send("switch", arp);
    CHECK(seen.ports.empty());
    bool replied = false;
    for (auto& f : seen.at_switch)
        replied |= is_arp_reply_from(f, w.host_mac);
    CHECK(replied);
}

TEST_CASE("wire: R3 external broadcast reaches every port once and the host", "[wire]")
{
    Wire w;
    const auto seen = w.send("switch", arp_request(kExt, "10.77.0.2", "10.77.0.1", w.next_tag()));
    CHECK(seen.ports ==
          std::map<std::string, int>{{"v1", 1}, {"v2", 1}, {"t1", 1}, {"t2", 1}, {"b1", 1}, {"b2", 1}, {"p1", 1}});
    bool replied = false;
    for (auto& f : seen.at_switch)
        replied |= is_arp_reply_from(f, w.host_mac);
    CHECK(replied);
}

TEST_CASE("wire: R4-R6 reflected broadcasts never return to the sender", "[wire]")
{
    Wire w;
    SECTION("R4 from a vepa port: vepa and bridge ports but the sender")
    {
        CHECK(w.send("switch", w.frame(kBroadcast, kV1)).names() == Names{"v2", "t1", "t2", "b1", "b2"});
        CHECK(w.send("switch", w.frame(kBroadcast, kT1)).names() == Names{"v1", "v2", "t2", "b1", "b2"});
    }
    SECTION("R5 from a bridge port: vepa ports only")
    {
        CHECK(w.send("switch", w.frame(kBroadcast, kB1)).names() == Names{"v1", "v2", "t1", "t2"});
    }
    SECTION("R6 from a private port: no port at all, the host still answers")
    {
        const auto seen = w.send("switch", arp_request(kP1, "10.77.0.5", "10.77.0.1", w.next_tag()));
        CHECK(seen.ports.empty());
        bool replied = false;
        for (auto& f : seen.at_switch)
            replied |= is_arp_reply_from(f, w.host_mac);
        CHECK(replied);
    }
}

TEST_CASE("wire: R7 reflected unicast between a private port and another local port is dropped", "[wire]")
{
    Wire w;
    CHECK(w.send("switch", w.frame(kP1, kV1)).ports.empty());
    CHECK(w.send("switch", w.frame(kT1, kP1)).ports.empty());
    CHECK(w.send("switch", w.frame(kV2, kP1)).ports.empty());
    CHECK(w.send("switch", w.frame(kP1, kExt)).names() == Names{"p1"});
}

TEST_CASE("wire: T1 a port's frames go out the uplink, never to a local port", "[wire]")
{
    Wire w;
    for (const auto& [from, src, dst] :
         std::vector<std::tuple<std::string, Mac, Mac>>{{"v1", kV1, kV2}, // veth, TC egress
                                                        {"t1", kT1, kV1}, // tap, XDP egress
                                                        {"v1", kV1, kBroadcast},
                                                        {"t1", kT1, kBroadcast},
                                                        {"p1", kP1, kV1}}) {
        INFO("T1 from " << from << " to " << dst.str());
        const auto seen = w.send(from, w.frame(dst, src));
        CHECK(seen.ports.empty());
        CHECK(seen.uplink == 1);
    }
}

TEST_CASE("wire: T2-T4 bridge ports deliver locally to each other", "[wire]")
{
    Wire w;
    auto s = w.send("b1", w.frame(kB2, kB1)); // T2 veth -> tap
    CHECK(s.names() == Names{"b2"});
    CHECK(s.uplink == 0);
    s = w.send("b2", w.frame(kB1, kB2)); // T2 tap -> veth
    CHECK(s.names() == Names{"b1"});
    CHECK(s.uplink == 0);
    s = w.send("b1", w.frame(kV1, kB1)); // T3 to a vepa port: via the switch
    CHECK(s.ports.empty());
    CHECK(s.uplink == 1);
    s = w.send("b1", w.frame(kBroadcast, kB1)); // T4 local copy and the uplink
    CHECK(s.names() == Names{"b2"});
    CHECK(s.uplink == 1);
}

TEST_CASE("wire: T5 spoofed and T6 PAUSE frames leave nowhere", "[wire]")
{
    Wire w;
    for (const auto& from : {"v1", "t1", "b1"}) {
        INFO("from " << from);
        const auto spoofed = w.send(from, w.frame(kExt, kV2));
        CHECK(spoofed.ports.empty());
        CHECK(spoofed.uplink == 0);
        const Mac own = w.tb.port(from).macs[0];
        const auto pause = w.send(from, w.frame(mac("01:80:c2:00:00:01"), own, kEthPause));
        CHECK(pause.ports.empty());
        CHECK(pause.uplink == 0);
    }
}

TEST_CASE("wire: malformed frames from the switch reach no port", "[wire]")
{
    Wire w;
    CHECK(w.send("switch", eth_frame(kT1, kExt, kEthIpv4, 0, {kEthVlan}, w.next_tag())).ports.empty());
    CHECK(w.send("switch", eth_frame(kV1, kExt, kEthIpv4, 46, {kEthQinq, kEthVlan, kEthVlan}, w.next_tag()))
              .ports.empty());
    CHECK(w.send("switch", eth_frame(kBroadcast, kExt, kEthIpv4, 46, {kEthQinq, kEthVlan, kEthVlan}, w.next_tag()))
              .ports.empty());
}

TEST_CASE("wire: stacked VLAN tags are counted though the stack strips the outer one before TC", "[wire]")
{
    Wire w;
    const auto before = w.tb.counters();
    // A veth's receive path moves the outer tag into skb metadata: TC must count it.
    const auto three = w.send("b1", eth_frame(kB2, kB1, kEthIpv4, 46, {kEthQinq, kEthVlan, kEthVlan}, w.next_tag()));
    CHECK(three.ports.empty());
    CHECK(three.uplink == 0);
    // Two tags are within the depth, but a port without VLAN settings sends no tagged frame (V2).
    const auto two = w.send("b1", eth_frame(kB2, kB1, kEthIpv4, 46, {kEthQinq, kEthVlan}, w.next_tag()));
    CHECK(two.ports.empty());
    CHECK(two.uplink == 0);
    auto d = counter_delta(before, w.tb.counters());
    CHECK(d[w.tb.port("b1").slot].drops[VEPA_DROP_VLAN] == 1);
    CHECK(d[w.tb.port("b1").slot].drops[VEPA_DROP_VLAN_DEPTH] == 1);
    const auto from_switch =
        w.send("switch", eth_frame(kV1, kExt, kEthIpv4, 46, {kEthQinq, kEthVlan, kEthVlan}, w.next_tag()));
    CHECK(from_switch.ports.empty());
}

TEST_CASE("wire: when the uplink takes no XDP frames, taps send through TC", "[wire]")
{
    Wire w(false);
    CHECK_FALSE(w.tb.uplink_takes_xdp);
    CHECK_FALSE(w.tb.port("t1").xdp_egress);
    CHECK_FALSE(xdp_query(w.tb.port("t1").ifindex));
    const auto seen = w.send("t1", w.frame(kExt, kT1));
    CHECK(seen.uplink == 1);
    // Delivery into taps is unaffected.
    CHECK(w.send("switch", w.frame(kT1, kExt)).names() == Names{"t1"});
}

TEST_CASE("wire: XDP into a veth whose guest end lacks NAPI loses frames (why vepad probes)", "[wire]")
{
    Wire w;
    w.tb.port("v1").delivery = VEPA_DELIVER_XDP; // against the probe
    w.tb.port("v1").forced_delivery = true;
    w.tb.sync();
    CHECK(w.send("switch", w.frame(kV1, kExt)).ports.empty());
    w.tb.port("v1").delivery = VEPA_DELIVER_TC_PEER;
    w.tb.sync();
    CHECK(w.send("switch", w.frame(kV1, kExt)).names() == Names{"v1"});
}

TEST_CASE("wire: re-attaching over our own programs replaces them in place", "[wire]")
{
    Wire w;
    const auto before_xdp = xdp_query(w.tb.uplink);
    const auto before_tc = tc_query(w.tb.uplink);
    REQUIRE(before_xdp);
    REQUIRE(before_tc);
    // A second load of the same object, as a restarted or upgraded vepad does.
    Dataplane second(DataplaneOptions{});
    const auto x = xdp_attach(w.tb.uplink, second.uplink_xdp_fd(), XdpMode::Auto);
    tc_attach(w.tb.uplink, second.uplink_tc_fd(), before_tc->hook);
    CHECK(x.prog_id != before_xdp->prog_id);
    CHECK(xdp_query(w.tb.uplink)->prog_id == x.prog_id);
    CHECK(*tc_query(w.tb.uplink) != *before_tc);
    CHECK(x.mode == XdpMode::Native);
}

TEST_CASE("wire: TC programs move between tcx and clsact in place and forward at either", "[wire]")
{
    if (tc_hook_available() != TcHook::Tcx) {
        WARN("this kernel has no tcx: only clsact is in use, nothing to move between");
        return;
    }
    Wire w;
    const int up = w.tb.uplink;
    const auto start = tc_query(up);
    REQUIRE(start);
    CHECK(start->hook == TcHook::Tcx); // the kernel has it: the test bed plans it, as vepad's auto does
    CHECK_FALSE(start->both);
    const int fd = w.tb.dp->uplink_tc_fd();
    for (const TcHook hook : {TcHook::Clsact, TcHook::Tcx, TcHook::Clsact}) {
        tc_attach(up, fd, hook);
        const auto now = tc_query(up);
        REQUIRE(now);
        CHECK(now->hook == hook);
        CHECK(now->prog_id == start->prog_id);
        CHECK_FALSE(now->both); // the other hook's attachment went
        CHECK(w.send("switch", w.frame(kV1, kExt)).names() == std::set<std::string>{"v1"});
    }
    // A cls_bpf filter of ours under a tcx attachment (a move cut short) is seen, and detach takes both.
    tc_attach(up, w.tb.dp->port_tc_fd(), TcHook::Clsact);
    LIBBPF_OPTS(bpf_prog_attach_opts, opts);
    REQUIRE(bpf_prog_attach_opts(fd, up, static_cast<bpf_attach_type>(kTcxIngressAttachType), &opts) == 0);
    CHECK(tc_query(up)->both);
    CHECK(tc_detach(up));
    CHECK_FALSE(tc_query(up));
    CHECK_FALSE(tc_detach(up));
}

TEST_CASE("wire: vepad's plan puts XDP on the uplink only while some port is delivered by XDP", "[wire]")
{
    // Only a container end (delivered by bpf_redirect_peer): the uplink's TC program does everything.
    Testbed tb({{"v1", false, VEPA_MODE_VEPA, {kV1}}});
    CHECK(tb.port("v1").delivery == VEPA_DELIVER_TC_PEER);
    CHECK(tc_query(tb.uplink));
    CHECK_FALSE(xdp_query(tb.uplink));
    CHECK_FALSE(xdp_query(tb.port("v1").ifindex));
    // Its guest end gets NAPI (GRO): the port takes XDP frames, and the uplink its XDP program.
    tb.guests.sh("ethtool -K v1g gro on");
    tb.attach();
    CHECK(tb.port("v1").delivery == VEPA_DELIVER_XDP);
    CHECK(xdp_query(tb.uplink));
    CHECK_FALSE(xdp_query(tb.port("v1").ifindex)); // never XDP on a veth host end
    // And off again: vepad takes the program away.
    tb.guests.sh("ethtool -K v1g gro off");
    tb.attach();
    CHECK(tb.port("v1").delivery == VEPA_DELIVER_TC_PEER);
    CHECK_FALSE(xdp_query(tb.uplink));
}

// ---- VLANs behind a real Linux bridge ---------------------------------------

namespace {

const Mac kA10 = mac("02:00:00:10:00:01"); // veth, untagged VLAN 10
const Mac kB10 = mac("02:00:00:10:00:02"); // tap, untagged VLAN 10
const Mac kT20 = mac("02:00:00:20:00:01"); // tap, untagged VLAN 20
const Mac kK30 = mac("02:00:00:30:00:01"); // veth, tagged VLAN 30
const Mac kU0 = mac("02:00:00:50:00:01");  // tap, no VLAN settings
const Mac kRemote = mac("02:00:00:00:aa:01");

// The switch: a Linux bridge (no VLAN filtering: tags pass as they are) with the
// uplink's switch end in hairpin mode and a remote host on another bridge port.
// This kernel has no 8021q module: tagged frames are made by hand.
class VlanWire {
public:
    VlanWire()
        : tb({
              {"a10", false, VEPA_MODE_VEPA, {kA10}, std::nullopt, true, false, port_vlans(10)},
              {"b10", true, VEPA_MODE_VEPA, {kB10}, std::nullopt, true, false, port_vlans(10)},
              {"t20", true, VEPA_MODE_VEPA, {kT20}, std::nullopt, true, false, port_vlans(20)},
              {"k30", false, VEPA_MODE_VEPA, {kK30}, std::nullopt, true, false, port_vlans(0, {30})},
              {"u0", true, VEPA_MODE_VEPA, {kU0}},
          })
    {
        tb.sw.sh("ip link add br0 type bridge && ip link set sw0 master br0 && bridge link set dev sw0 hairpin on"
                 " && ip link add rh0 type veth peer name rh1 && ip link set rh0 master br0"
                 " && ip link set rh0 up && ip link set rh1 up && ip link set br0 up");
        remote = std::make_unique<WireSocket>("rh1", &tb.sw);
        for (auto& p : tb.ports)
            if (!p.tap)
                guest.emplace(p.name, std::make_unique<WireSocket>(p.guest_end, &tb.guests));
    }

    struct Seen {
        std::map<std::string, Bytes> ports; // port -> the frame it got (one copy each expected)
        std::map<std::string, int> copies;
        std::vector<Bytes> remote; // what the remote host got of it
    };

    Seen send(const std::string& from, const Bytes& frame)
    {
        drain_all();
        if (from == "remote")
            remote->send(frame);
        else if (tb.port(from).tap)
            tb.port(from).tap_fd->send(frame);
        else
            guest.at(from)->send(frame);
        ::usleep(150 * 1000);
        const uint32_t tag = frame_tag(frame);
        Seen seen;
        auto keep = [&](const std::string& name, const Bytes& f) {
            if (frame_tag(f) != tag)
                return;
            seen.ports[name] = f;
            seen.copies[name]++;
        };
        for (auto& [n, s] : guest)
            for (auto& f : s->drain())
                keep(n, f);
        for (auto& p : tb.ports)
            if (p.tap)
                for (auto& f : p.tap_fd->drain())
                    keep(p.name, f);
        for (auto& f : remote->drain())
            if (frame_tag(f) == tag)
                seen.remote.push_back(f);
        return seen;
    }

    void drain_all()
    {
        for (auto& [n, s] : guest)
            s->drain();
        remote->drain();
        tb.drain_taps();
    }

    Bytes frame(const Mac& dst, const Mac& src) { return eth_frame(dst, src, kEthTest, 64, {}, next_tag()); }
    uint32_t next_tag() { return static_cast<uint32_t>(rng()) | 1; }

    Testbed tb;
    std::unique_ptr<WireSocket> remote;
    std::map<std::string, std::unique_ptr<WireSocket>> guest;
    std::mt19937 rng{std::random_device{}()};
};

using Got = std::map<std::string, Bytes>;

} // namespace

TEST_CASE("wire: VLANs from the remote host reach exactly their members, with the right tag", "[wire]")
{
    VlanWire w;
    SECTION("unicast")
    {
        Bytes f = w.frame(kA10, kRemote);
        CHECK(w.send("remote", push_tag(f, 10)).ports == Got{{"a10", f}}); // popped, TC peer
        f = w.frame(kB10, kRemote);
        CHECK(w.send("remote", push_tag(f, 10)).ports == Got{{"b10", f}}); // popped, tap
        f = w.frame(kT20, kRemote);
        CHECK(w.send("remote", push_tag(f, 20)).ports == Got{{"t20", f}});
        f = push_tag(w.frame(kK30, kRemote), 30);
        CHECK(w.send("remote", f).ports == Got{{"k30", f}}); // keeps its tag
        f = w.frame(kU0, kRemote);
        CHECK(w.send("remote", f).ports == Got{{"u0", f}});
        // Not their VLAN: the host's (R2), no port's.
        CHECK(w.send("remote", push_tag(w.frame(kU0, kRemote), 20)).ports.empty());
        CHECK(w.send("remote", push_tag(w.frame(kT20, kRemote), 10)).ports.empty());
        CHECK(w.send("remote", w.frame(kA10, kRemote)).ports.empty());
        CHECK(w.send("remote", push_tag(w.frame(kK30, kRemote), 10)).ports.empty());
    }
    SECTION("broadcast")
    {
        Bytes f = w.frame(kBroadcast, kRemote);
        CHECK(w.send("remote", push_tag(f, 10)).ports == Got{{"a10", f}, {"b10", f}});
        CHECK(w.send("remote", push_tag(f, 20)).ports == Got{{"t20", f}});
        CHECK(w.send("remote", push_tag(f, 30)).ports == Got{{"k30", push_tag(f, 30)}});
        CHECK(w.send("remote", f).ports == Got{{"u0", f}, {"k30", f}}); // ports with no untagged VLAN
        CHECK(w.send("remote", push_tag(f, 77)).ports.empty());
    }
}

TEST_CASE("wire: VLANs from the guests: tagged on the wire, hairpinned within the VLAN, guests' tags dropped", "[wire]")
{
    VlanWire w;
    // The bridge learns where the remote host is.
    w.send("remote", w.frame(kBroadcast, kRemote));
    SECTION("an access port's frames reach the switch tagged with its VLAN")
    {
        const Bytes f = w.frame(kRemote, kA10);
        const auto seen = w.send("a10", f);
        CHECK(seen.ports.empty());
        CHECK(seen.remote == std::vector<Bytes>{push_tag(f, 10)});
        const Bytes g = w.frame(kRemote, kT20);
        CHECK(w.send("t20", g).remote == std::vector<Bytes>{push_tag(g, 20)});
        const Bytes h = push_tag(w.frame(kRemote, kK30), 30);
        CHECK(w.send("k30", h).remote == std::vector<Bytes>{h});
    }
    SECTION("reflected by the hairpin: within VLAN 10 only")
    {
        // The bridge learns the guests' MACs on sw0 first.
        for (const char* p : {"a10", "b10", "t20"})
            w.send(p, w.frame(kBroadcast, w.tb.port(p).macs[0]));
        const Bytes f = w.frame(kB10, kA10);
        CHECK(w.send("a10", f).ports == Got{{"b10", f}});
        CHECK(w.send("a10", w.frame(kT20, kA10)).ports.empty()); // other VLAN: the host's only
        const Bytes b = w.frame(kBroadcast, kB10);
        CHECK(w.send("b10", b).ports == Got{{"a10", b}}); // reflected broadcast: VLAN 10 but the sender
    }
    SECTION("a guest's tagged frame is dropped and counted vlan")
    {
        const auto before = w.tb.counters();
        const auto seen = w.send("a10", push_tag(w.frame(kRemote, kA10), 20));
        CHECK(seen.remote.empty());
        CHECK(seen.ports.empty());
        const auto seen2 = w.send("u0", push_tag(w.frame(kRemote, kU0), 10));
        CHECK(seen2.remote.empty());
        auto d = counter_delta(before, w.tb.counters());
        CHECK(d[w.tb.port("a10").slot].drops[VEPA_DROP_VLAN] == 1);
        CHECK(d[w.tb.port("u0").slot].drops[VEPA_DROP_VLAN] == 1);
    }
}
