// The uplink receive filter's policy (daemon/rx_filter.hpp): what vepad wants,
// and the changes from what is there, without a kernel.
#include <catch2/catch.hpp>

#include "daemon/rx_filter.hpp"

using namespace vepad;
using vepa::Mac;

namespace {
Mac mac(const char* s) { return *Mac::parse(s); }
const Mac a = mac("02:00:00:00:00:0a"), b = mac("02:00:00:00:00:0b"), c = mac("02:00:00:00:00:0c");
const Mac probe = mac("06:00:00:00:00:01"), own = mac("02:00:00:00:00:ff");

RxFilterHave uplink(int ifindex = 5)
{
    RxFilterHave h;
    h.uplink = ifindex;
    h.devices = {1, ifindex};
    return h;
}
} // namespace

TEST_CASE("rx filter modes: what vepad wants on the uplink")
{
    const std::set<Mac> ports{a, b, own, mac("01:00:5e:00:00:01"), Mac()};
    auto w = rx_filter_want(RxFilterMode::Auto, ports, probe, own);
    CHECK(w.macs == std::set<Mac>{a, b, probe}); // no group, zero or own address
    CHECK(w.allmulti);
    CHECK_FALSE(w.promisc);
    w = rx_filter_want(RxFilterMode::Fdb, ports, Mac(), std::nullopt);
    CHECK(w.macs == std::set<Mac>{a, b, own});
    CHECK_FALSE(w.allmulti);
    w = rx_filter_want(RxFilterMode::Promisc, ports, probe, own);
    CHECK(w.macs.empty());
    CHECK(w.promisc);
    CHECK(rx_filter_want(RxFilterMode::None, ports, probe, own) == RxFilterWant{});
    for (auto m : {RxFilterMode::Auto, RxFilterMode::Fdb, RxFilterMode::Promisc, RxFilterMode::None})
        CHECK(parse_rx_filter_mode(to_string(m)) == m);
    CHECK_FALSE(parse_rx_filter_mode("yes"));
}

TEST_CASE("rx filter: missing entries are added, someone else's are left alone")
{
    RxFilterHave h = uplink();
    h.entries = {b};   // someone else's (not recorded)
    h.ours = {{c, 5}}; // ours, still wanted but removed by someone: forget, then add again
    const auto ch = plan_rx_filter({{a, b, c}, true, false}, h);
    CHECK(ch.add == std::vector<Mac>{a, c});
    CHECK(ch.remove.empty());
    CHECK(ch.forget == std::vector<Mac>{c});
    CHECK(ch.flags == std::vector<RxFlagChange>{{RxFlag::Allmulti, 5, true}});
}

TEST_CASE("rx filter: only vepad's own entries and flags go")
{
    RxFilterHave h = uplink();
    h.entries = {a, b, c};
    h.ours = {{a, 5}, {b, 5}}; // c is someone else's
    h.allmulti = true;
    h.our_flags = {{RxFlag::Allmulti, 5}};
    auto ch = plan_rx_filter({{a}, false, false}, h);
    CHECK(ch.add.empty());
    CHECK(ch.remove == std::vector<std::pair<uint32_t, Mac>>{{5, b}});
    CHECK(ch.flags == std::vector<RxFlagChange>{{RxFlag::Allmulti, 5, false}});
    // Teardown: nothing wanted.
    ch = plan_rx_filter({}, h);
    CHECK(ch.remove == std::vector<std::pair<uint32_t, Mac>>{{5, a}, {5, b}});
    // Someone else set all-multicast: vepad neither records nor clears it.
    h.our_flags.clear();
    ch = plan_rx_filter({}, h);
    CHECK(ch.flags.empty());
    CHECK(plan_rx_filter({{a, b}, true, false}, h).flags.empty());
}

TEST_CASE("rx filter: steady state needs no change")
{
    RxFilterHave h = uplink();
    h.entries = {a, probe};
    h.ours = {{a, 5}, {probe, 5}};
    h.allmulti = true;
    h.our_flags = {{RxFlag::Allmulti, 5}};
    CHECK(plan_rx_filter({{a, probe}, true, false}, h).empty());
}

TEST_CASE("rx filter: a re-created or changed uplink")
{
    // Records name ifindex 4, which is gone: forgotten; everything is added on the new uplink 5.
    RxFilterHave h = uplink();
    h.ours = {{a, 4}};
    h.our_flags = {{RxFlag::Allmulti, 4}};
    auto ch = plan_rx_filter({{a}, true, false}, h);
    CHECK(ch.forget == std::vector<Mac>{a});
    CHECK(ch.add == std::vector<Mac>{a});
    CHECK(ch.forget_flags == std::vector<RxFlag>{RxFlag::Allmulti});
    CHECK(ch.flags == std::vector<RxFlagChange>{{RxFlag::Allmulti, 5, true}});
    // The old device still exists (the uplink setting changed): vepad cleans up there.
    h.devices.insert(4);
    ch = plan_rx_filter({{a}, true, false}, h);
    CHECK(ch.remove == std::vector<std::pair<uint32_t, Mac>>{{4, a}});
    CHECK(ch.flags == std::vector<RxFlagChange>{{RxFlag::Allmulti, 4, false}, {RxFlag::Allmulti, 5, true}});
}

TEST_CASE("rx filter: nothing changes while the uplink is absent")
{
    RxFilterHave h = uplink(0);
    h.ours = {{a, 4}};
    CHECK(plan_rx_filter({{b}, true, true}, h).empty());
}

TEST_CASE("rx filter: promiscuous mode")
{
    RxFilterHave h = uplink();
    auto ch = plan_rx_filter({{}, false, true}, h);
    CHECK(ch.flags == std::vector<RxFlagChange>{{RxFlag::Promisc, 5, true}});
    h.promisc = true;
    h.our_flags = {{RxFlag::Promisc, 5}};
    CHECK(plan_rx_filter({{}, false, true}, h).empty());
    CHECK(plan_rx_filter({}, h).flags == std::vector<RxFlagChange>{{RxFlag::Promisc, 5, false}});
    h.promisc = false; // someone cleared it: the record goes, and vepad sets it again if it wants it
    CHECK(plan_rx_filter({}, h).forget_flags == std::vector<RxFlag>{RxFlag::Promisc});
    CHECK(plan_rx_filter({{}, false, true}, h).flags == std::vector<RxFlagChange>{{RxFlag::Promisc, 5, true}});
}
