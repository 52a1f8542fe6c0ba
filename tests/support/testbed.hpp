// A dataplane in the test's private netns: an uplink veth whose switch end
// lives in its own namespace, veth ports whose VM ends live in a "guests"
// namespace, and tap ports, wired by vepad's own reconciler (observe, plan,
// apply: the maps and attachments the daemon would make for these ports), and
// helpers to run a frame through a program with BPF_PROG_TEST_RUN.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/port_table.hpp"
#include "daemon/reconciler.hpp"
#include "lib/dataplane.hpp"
#include "lib/explain.hpp"
#include "lib/netlink.hpp"
#include "lib/test_run.hpp"
#include "tests/support/frames.hpp"
#include "lib/map_sync.hpp"
#include "tests/support/model.hpp"
#include "tests/support/netns.hpp"
#include "tests/support/tap.hpp"

namespace vepa::test {

struct TestPort {
    std::string name;
    bool tap = false;
    int ifindex = 0;
    uint16_t slot = 0;
    vepa_mode mode = VEPA_MODE_VEPA;
    vepa_delivery delivery = VEPA_DELIVER_TC_PEER;
    bool src_check = true;
    std::vector<Mac> macs;
    std::string guest_end;         // veth: name of the VM end in the guests namespace
    std::shared_ptr<TapFd> tap_fd; // tap: the "QEMU" side, open so the tap has carrier
    bool forced_delivery = false;  // the spec chose the delivery, not vepad's plan
    bool xdp_egress = false;       // vepad attached its XDP program to the port
    PortVlans vlans;               // the port's VLANs (V rules)
};

struct PortSpec {
    std::string name;
    bool tap = false;
    vepa_mode mode = VEPA_MODE_VEPA;
    std::vector<Mac> macs;
    std::optional<vepa_delivery> delivery; // forced (a wiring vepad never makes); default: vepad's plan
    bool src_check = true;
    bool guest_gro = false; // veth: GRO on the VM end (gives it NAPI)
    PortVlans vlans{};      // --vlan U, --trunk ...: into PortConfig.vlans
};

// PortVlans by hand: untagged VLAN u (0: none), tagged VLANs, or every VLAN tagged.
inline PortVlans port_vlans(uint16_t u, std::set<uint16_t> tagged = {}, bool all = false)
{
    return PortVlans{u, std::move(tagged), all};
}

using RunResult = TestRun;

class Testbed {
public:
    explicit Testbed(const std::vector<PortSpec>& ports, std::string pin_dir = "");
    ~Testbed();

private:
    NetnsScope scope_; // first member: everything below lives in the testbed's own namespace

public:
    Netns guests;
    Netns sw;
    std::unique_ptr<Dataplane> dp;
    int uplink = 0; // ifindex of up0
    std::vector<TestPort> ports;
    uint32_t max_frame_len = 1518;
    Mac probe_dst{{0x0a, 0x76, 0x65, 0x00, 0x00, 0x01}}; // the reflection probe's destination
    bool uplink_present = true;
    bool uplink_takes_xdp = false;
    vepad::PortTable table; // the ports as vepad's table holds them

    TestPort& port(const std::string& name);
    Model model() const;
    DataplaneState state() const;
    // Write the maps from the ports' fields as they are now: for tests that
    // change a delivery or take the uplink away by hand.
    void sync();

    // Wire the dataplane as vepad does: its reconciler observes the devices,
    // plans (delivery paths, which devices carry which program, map contents)
    // and applies the plan; forced deliveries then override the maps.  With
    // switch_napi the switch end of the uplink has GRO, as a physical NIC
    // takes XDP frames; without, the uplink accepts none and taps send by TC.
    void attach(bool switch_napi = true);
    // vepad's teardown: every program of ours off, maps emptied.
    void detach();
    const vepad::Reconciler& reconciler() const { return *reconciler_; }

    // vepactl trace's explain programs over this dataplane's maps (loaded on first use).
    const Explainer& explainer();

    RunResult xdp(int prog_fd, int ifindex, const Bytes& in, uint32_t repeat = 1);
    RunResult tc(int prog_fd, int ifindex, const Bytes& in, uint32_t gso_size = 0, uint32_t repeat = 1);

    // Read and discard what the taps' readers hold, so their queues never fill.
    void drain_taps();

    // Counters summed over CPUs, by slot, for the uplink and every port.
    std::map<uint16_t, vepa_counters> counters();

private:
    void read_back_plan();

    NetlinkRequester nl_;
    std::unique_ptr<vepad::Reconciler> reconciler_;
    std::unique_ptr<Explainer> explainer_;
};

// What the explain programs (vepactl trace) decide for frame f arriving on
// ifindex (the uplink's or a port's): through XDP then, when XDP passes, TC
// (with_xdp), or through TC alone.  fate: the decision as an Outcome (drop,
// receivers, uplink, host, probe; no frames).  Verdicts -1: not run.
struct Explained {
    Outcome fate;
    int xdp_verdict = -1;
    int tc_verdict = -1;
    uint32_t unkept = 0;
};
Explained explain_frame(Testbed& tb, int ifindex, const Bytes& f, bool with_xdp, uint32_t gso_size = 0);

// A model outcome as the explain programs can know it: group copies the kernel
// would refuse (clone_failed) count as receivers.
Outcome explainable(Outcome o);

// Whether BPF_PROG_TEST_RUN can build an skb of this frame: it refuses a bare
// Ethernet header, and IPv4/IPv6 frames shorter than their IP header (EINVAL).
// The real stack hands such frames to TC all the same; only the harness cannot.
bool tc_test_run_accepts(const Bytes& frame);

// After minus before, keeping only slots that moved.
std::map<uint16_t, vepa_counters> counter_delta(const std::map<uint16_t, vepa_counters>& before,
                                                const std::map<uint16_t, vepa_counters>& after);
bool counters_equal(const vepa_counters& a, const vepa_counters& b);
std::string describe(const std::map<uint16_t, vepa_counters>& c);

} // namespace vepa::test
