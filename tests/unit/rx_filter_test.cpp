// The uplink receive filter's policy (daemon/rx_filter.hpp): what vepad wants,
// and the changes from what is there, without a kernel.
#include <catch2/catch.hpp>

#include <random>

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

namespace {
// What apply does with the changes, without a kernel.
void apply_changes(const RxFilterChanges& ch, RxFilterHave& h)
{
    for (const auto& [dev, m] : ch.remove) {
        if (static_cast<int>(dev) == h.uplink)
            h.entries.erase(m);
        h.ours.erase(m);
    }
    for (const auto& m : ch.forget)
        h.ours.erase(m);
    for (const auto& m : ch.add) {
        h.entries.insert(m);
        h.ours[m] = static_cast<uint32_t>(h.uplink);
    }
}

std::set<Mac> random_macs(std::mt19937& rng, const std::vector<Mac>& pool)
{
    std::set<Mac> out;
    for (const auto& m : pool)
        if (rng() % 2)
            out.insert(m);
    return out;
}

template <typename T> std::set<T> as_set(const std::vector<T>& v) { return {v.begin(), v.end()}; }
} // namespace

TEST_CASE("rx filter: a plan for the changed MACs only is the whole plan, after a run that met its want")
{
    std::vector<Mac> pool;
    for (int i = 1; i <= 10; i++)
        pool.push_back(Mac({0x02, 0, 0, 0, 0, static_cast<uint8_t>(i)}));
    std::mt19937 rng(42);
    for (int i = 0; i < 2000; i++) {
        RxFilterHave h = uplink();
        h.entries = random_macs(rng, pool); // someone else's entries
        const RxFilterWant before{random_macs(rng, pool), true, false};
        apply_changes(plan_rx_filter(before, h), h);
        RxFilterWant after{random_macs(rng, pool), true, false};
        const RxFilterChanges whole = plan_rx_filter(after, h);
        // The MACs that changed, and a few that did not (a changed port's unchanged MACs).
        std::vector<Mac> only;
        for (const auto& m : pool)
            if (before.macs.count(m) != after.macs.count(m) || rng() % 4 == 0)
                only.push_back(m);
        RxFilterWant delta = after;
        delta.only = only;
        const RxFilterChanges part = plan_rx_filter(delta, h);
        INFO("step " << i);
        CHECK(as_set(part.add) == as_set(whole.add));
        CHECK(as_set(part.remove) == as_set(whole.remove));
        CHECK(as_set(part.forget) == as_set(whole.forget));
        CHECK(part.flags == whole.flags);
    }
}
