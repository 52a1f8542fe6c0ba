#include <catch2/catch.hpp>
#include <net/if.h>

#include "lib/port_paths.hpp"

using namespace vepa;

namespace {
LinkInfo link(const char* kind, bool mac = true)
{
    LinkInfo l;
    l.kind = kind;
    if (mac)
        l.mac = *Mac::parse("02:00:00:00:00:01");
    l.flags = IFF_UP | IFF_RUNNING;
    return l;
}
} // namespace

TEST_CASE("port kinds: veth and tap are ports, tun (L3) and others are not")
{
    CHECK(port_kind(link("veth")) == PortKind::Veth);
    CHECK(port_kind(link("tun")) == PortKind::Tap);
    CHECK(port_kind(link("tun", false)) == PortKind::Unsupported);
    CHECK(port_kind(link("bridge")) == PortKind::Unsupported);
    CHECK(port_kind(link("")) == PortKind::Unsupported);
}

TEST_CASE("delivery: XDP only where the device takes XDP frames")
{
    LinkInfo tap = link("tun");
    CHECK(choose_paths(tap, kXdpActBasic | kXdpActNdoXmit, true).delivery == VEPA_DELIVER_XDP);
    CHECK(choose_paths(tap, std::nullopt, true).delivery == VEPA_DELIVER_XDP); // pre-6.3 kernels

    LinkInfo container = link("veth");
    container.link_netnsid = 3;
    // default container end: no GRO, no XDP program -> no NDO_XMIT -> redirect to the peer
    CHECK(choose_paths(container, kXdpActBasic | kXdpActRedirect, true).delivery == VEPA_DELIVER_TC_PEER);
    CHECK(choose_paths(container, std::nullopt, true).delivery == VEPA_DELIVER_TC_PEER);
    // the VM end got NAPI (GRO on / XDP program) -> XDP
    CHECK(choose_paths(container, kXdpActBasic | kXdpActNdoXmit, true).delivery == VEPA_DELIVER_XDP);

    LinkInfo same_ns = link("veth"); // peer in the host namespace: bpf_redirect_peer would drop
    CHECK(choose_paths(same_ns, kXdpActBasic, true).delivery == VEPA_DELIVER_TC);
}

TEST_CASE("egress: XDP on taps when the uplink takes XDP frames, TC on veths always")
{
    CHECK(choose_paths(link("tun"), kXdpActNdoXmit, true).xdp_egress);
    CHECK_FALSE(choose_paths(link("tun"), kXdpActNdoXmit, false).xdp_egress);
    CHECK_FALSE(choose_paths(link("veth"), kXdpActNdoXmit, true).xdp_egress);
}
