// Golden frames through the xsk programs: vepa_xsk_xdp (on an xsk port's socket
// device: every frame to the socket of its queue, or dropped and counted) and
// vepa_xsk_query (which slots hold a socket).  The redirect is checked twice:
// its verdict under BPF_PROG_TEST_RUN, and with live frames, the frame read
// back from a real AF_XDP socket (libvepa-xsk) bound to the device.
#include <catch2/catch.hpp>
#include <linux/bpf.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "lib/netlink.hpp"
#include "tests/support/testbed.hpp"
#include "vepa/xsk.hpp"

using namespace vepa;
using namespace vepa::test;

namespace {

const Mac kV1 = mac("02:00:00:00:01:01");
const Mac kX1 = mac("02:00:00:00:0c:01");
const Mac kExt = mac("02:00:00:00:99:99");
constexpr uint32_t kFirst = 5; // the xsk port's first XSKMAP slot

// An xsk port's veth pair (xs0 sockets, vx-xs0 vepa side), two queues each.
int make_pair()
{
    NetlinkRequester nl;
    VethPair v;
    v.name = "vx-xs0";
    v.peer = "xs0";
    v.queues = 2;
    v.peer_mac = kX1;
    nl.create_veth(v);
    int xs0 = 0;
    for (const char* n : {"vx-xs0", "xs0"}) {
        const auto l = nl.link(std::string(n));
        REQUIRE(l);
        LinkSettings up;
        up.up = true;
        nl.set_link(l->ifindex, up);
        if (std::string(n) == "xs0")
            xs0 = l->ifindex;
    }
    return xs0;
}

RunResult run(int prog_fd, int ifindex, uint32_t queue, const Bytes& in, uint32_t flags = 0)
{
    RunResult r;
    r.out.resize(in.size() + 256);
    xdp_md ctx{};
    ctx.data_end = static_cast<uint32_t>(in.size());
    ctx.ingress_ifindex = static_cast<uint32_t>(ifindex);
    ctx.rx_queue_index = queue;
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in.data(), .data_size_in = static_cast<uint32_t>(in.size()),
                .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
    opts.repeat = 1;
    opts.flags = flags;
    if (!flags) {
        opts.data_out = r.out.data();
        opts.data_size_out = static_cast<uint32_t>(r.out.size());
    }
    if (bpf_prog_test_run_opts(prog_fd, &opts) != 0)
        throw std::runtime_error("XDP test run failed: " + std::string(std::strerror(errno)));
    r.verdict = static_cast<int>(opts.retval);
    r.out.resize(flags ? 0 : opts.data_size_out);
    return r;
}

} // namespace

TEST_CASE("xsk: vepa_xsk_xdp hands each frame to its queue's socket, or drops and counts it", "[golden]")
{
    Testbed tb({{"v1", false, VEPA_MODE_VEPA, {kV1}}});
    const int xs0 = make_pair();
    const int prog = tb.dp->xsk_xdp_fd();
    const uint16_t slot = tb.port("v1").slot; // the counters slot the xsk port's drops go to
    const Bytes f = eth_frame(kX1, kExt, kEthTest, 46, {}, 7);

    SECTION("a device that is no xsk port: dropped, not_a_port on the uplink")
    {
        const auto before = tb.counters();
        const RunResult r = run(prog, xs0, 0, f);
        CHECK(r.verdict == XDP_DROP);
        const auto d = counter_delta(before, tb.counters());
        REQUIRE(d.count(VEPA_SLOT_UPLINK));
        CHECK(d.at(VEPA_SLOT_UPLINK).drops[VEPA_DROP_NOT_A_PORT] == 1);
        CHECK(d.size() == 1);
    }

    tb.dp->xskports().update(static_cast<uint32_t>(xs0), vepa_xsk_port{kFirst, 1, slot});

    SECTION("no socket in the slot: dropped, port_down on the port")
    {
        const auto before = tb.counters();
        CHECK(run(prog, xs0, 0, f).verdict == XDP_DROP);
        const auto d = counter_delta(before, tb.counters());
        REQUIRE(d.count(slot));
        CHECK(d.at(slot).drops[VEPA_DROP_PORT_DOWN] == 1);
        CHECK(d.size() == 1);
        CHECK(tb.dp->xsk_sockets(kFirst, 1) == std::vector<std::optional<uint32_t>>{std::nullopt});
    }

    SECTION("with a socket bound to queue 0 in the slot")
    {
        xsk::Socket sock("xs0", 0);
        tb.dp->xsks().update(kFirst, static_cast<uint32_t>(sock.fd()));

        // The query sees it, and only it.
        CHECK(tb.dp->xsk_sockets(kFirst - 1, 3) ==
              std::vector<std::optional<uint32_t>>{std::nullopt, 0u, std::nullopt});

        const auto before = tb.counters();
        const RunResult r = run(prog, xs0, 0, f);
        CHECK(r.verdict == XDP_REDIRECT);
        CHECK(r.out == f); // never modified
        CHECK(counter_delta(before, tb.counters()).empty());

        // A queue beyond the port's (the device has 2, the port 1): dropped, port_down.
        const auto b2 = tb.counters();
        CHECK(run(prog, xs0, 1, f).verdict == XDP_DROP);
        CHECK(counter_delta(b2, tb.counters()).at(slot).drops[VEPA_DROP_PORT_DOWN] == 1);

        // Live frames: the redirect really delivers, and the bytes arrive intact.
        const Bytes g = eth_frame(kX1, kExt, kEthTest, 200, {}, 42);
        run(prog, xs0, 0, g, BPF_F_TEST_XDP_LIVE_FRAMES);
        std::vector<Bytes> got;
        for (int i = 0; i < 20 && got.empty(); i++) {
            sock.wait(50);
            sock.receive([&](std::span<const uint8_t> b) { got.emplace_back(b.begin(), b.end()); });
        }
        REQUIRE(got.size() == 1);
        CHECK(got[0] == g);
        CHECK(frame_tag(got[0]) == 42);
    }

    SECTION("a socket that closes leaves its slot: the query and the program see it gone")
    {
        {
            xsk::Socket sock("xs0", 0);
            tb.dp->xsks().update(kFirst, static_cast<uint32_t>(sock.fd()));
            CHECK(tb.dp->xsk_sockets(kFirst, 1) == std::vector<std::optional<uint32_t>>{0u});
        }
        // The kernel releases a closed socket after an RCU grace period.
        std::vector<std::optional<uint32_t>> now;
        for (int i = 0; i < 100; i++) {
            now = tb.dp->xsk_sockets(kFirst, 1);
            if (!now[0])
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        CHECK(now == std::vector<std::optional<uint32_t>>{std::nullopt});
        CHECK(run(prog, xs0, 0, f).verdict == XDP_DROP);
    }

    SECTION("a socket bound to queue 1 in queue 0's slot is reported as queue 1's")
    {
        xsk::Socket sock("xs0", 1);
        tb.dp->xsks().update(kFirst, static_cast<uint32_t>(sock.fd()));
        CHECK(tb.dp->xsk_sockets(kFirst, 1) == std::vector<std::optional<uint32_t>>{1u});
    }
}
