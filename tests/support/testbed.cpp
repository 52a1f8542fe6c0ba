#include "tests/support/testbed.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cstring>
#include <sstream>

#include <stdexcept>

#include "lib/counters.hpp"
#include "lib/test_run.hpp"

namespace vepa::test {

Testbed::Testbed(const std::vector<PortSpec>& specs, std::string pin_dir)
{
    sh("ip link add up0 type veth peer name sw0");
    sh("ip link set sw0 netns " + sw.path());
    sw.sh("ip link set sw0 up");
    sh("ip link set up0 up");
    uplink = ifindex_of("up0");
    for (const PortSpec& s : specs) {
        TestPort p;
        p.name = s.name;
        p.tap = s.tap;
        p.mode = s.mode;
        p.macs = s.macs;
        p.src_check = s.src_check;
        p.vlans = s.vlans;
        p.forced_delivery = s.delivery.has_value();
        p.delivery = s.delivery.value_or(VEPA_DELIVER_DOWN);
        if (s.tap) {
            p.tap_fd = std::make_shared<TapFd>(s.name);
            if (!s.macs.empty())
                sh("ip link set " + s.name + " address " + s.macs[0].str());
        } else {
            p.guest_end = s.name + "g";
            sh("ip link add " + s.name + " type veth peer name " + p.guest_end);
            if (!s.macs.empty())
                sh("ip link set " + p.guest_end + " address " + s.macs[0].str());
            sh("ip link set " + p.guest_end + " netns " + guests.path());
            guests.sh("ip link set " + p.guest_end + " up");
            if (s.guest_gro)
                guests.sh("ethtool -K " + p.guest_end + " gro on");
        }
        sh("ip link set " + s.name + " up");
        p.ifindex = ifindex_of(s.name);
        vepad::PortConfig pc;
        pc.name = s.name;
        pc.mode = s.mode;
        pc.macs = s.macs;
        pc.src_check = s.src_check;
        pc.vlans = s.vlans;
        p.slot = table.add(pc).slot;
        ports.push_back(p);
    }
    dp = std::make_unique<Dataplane>(DataplaneOptions{std::move(pin_dir)});
    reconciler_ = std::make_unique<vepad::Reconciler>(*dp, nl_, vepad::PlanSettings{"up0", XdpMode::Native, probe_dst, vepad::RxFilterMode::Auto, tc_hook_available()});
    attach(true);
}

Testbed::~Testbed()
{
    try {
        detach();
    } catch (...) {}
    reconciler_.reset();
    explainer_.reset();
    dp.reset();
}

const Explainer& Testbed::explainer()
{
    if (!explainer_)
        explainer_ = std::make_unique<Explainer>(*dp);
    return *explainer_;
}

TestPort& Testbed::port(const std::string& name)
{
    for (auto& p : ports)
        if (p.name == name)
            return p;
    throw std::out_of_range("no test port " + name);
}

DataplaneState Testbed::state() const
{
    DataplaneState st;
    st.uplink_ifindex = uplink_present ? static_cast<uint32_t>(uplink) : 0;
    st.max_frame_len = max_frame_len;
    st.uplink_takes_xdp = uplink_takes_xdp;
    st.probe_dst = probe_dst;
    for (const auto& p : ports) {
        PresentPort pp;
        pp.ifindex = static_cast<uint32_t>(p.ifindex);
        pp.slot = p.slot;
        pp.mode = p.mode;
        pp.delivery = p.delivery;
        pp.flags = p.src_check ? 0 : VEPA_PORT_F_NO_SRC_CHECK;
        pp.macs = p.macs;
        pp.vlans = p.vlans;
        st.ports.push_back(pp);
    }
    return st;
}

void Testbed::sync() { sync_maps(*dp, state()); }

// The ports' fields from what the reconciler made of them.
void Testbed::read_back_plan()
{
    const auto& status = reconciler_->ports();
    for (auto& p : ports) {
        const vepad::PortStatus& ps = status.at(p.name);
        if (!p.forced_delivery)
            p.delivery = ps.delivery.value_or(VEPA_DELIVER_DOWN);
        p.xdp_egress = ps.attach == vepad::Attach::XdpNative || ps.attach == vepad::Attach::XdpGeneric;
    }
    uplink_takes_xdp = reconciler_->uplink().takes_xdp;
    max_frame_len = dp->config().lookup(0).value().max_frame_len;
}

void Testbed::attach(bool switch_napi)
{
    sw.sh(std::string("ethtool -K sw0 gro ") + (switch_napi ? "on" : "off"));
    reconciler_->run(table, true);
    read_back_plan();
    bool forced = false;
    for (const auto& p : ports)
        forced |= p.forced_delivery;
    if (forced)
        sync();
}

void Testbed::detach() { reconciler_->detach_all(); }

Model Testbed::model() const
{
    Model m;
    m.uplink_ifindex = uplink_present ? static_cast<uint32_t>(uplink) : 0;
    m.max_frame_len = max_frame_len;
    m.probe_dst = probe_dst;
    for (const auto& p : ports)
        m.ports.push_back({p.slot, static_cast<uint32_t>(p.ifindex), p.mode, p.src_check, p.macs,
                           p.tap ? 0u : 1500u + 14 + 4, p.vlans});
    return m;
}

RunResult Testbed::xdp(int prog_fd, int ifindex, const Bytes& in, uint32_t repeat)
{
    return test_run_xdp(prog_fd, ifindex, in, repeat);
}

RunResult Testbed::tc(int prog_fd, int ifindex, const Bytes& in, uint32_t gso_size, uint32_t repeat)
{
    return test_run_tc(prog_fd, ifindex, in, gso_size, repeat);
}

void Testbed::drain_taps()
{
    for (auto& p : ports)
        if (p.tap_fd)
            p.tap_fd->drain();
}

std::map<uint16_t, vepa_counters> Testbed::counters()
{
    drain_taps();
    uint16_t max_slot = 0;
    for (const auto& p : ports)
        max_slot = std::max(max_slot, p.slot);
    const auto raw = dp->stats().lookup_range(0, max_slot + 1u);
    const int ncpu = dp->stats().cpus();
    std::map<uint16_t, vepa_counters> out;
    for (uint16_t s = 0; s <= max_slot; s++)
        out[s] = sum_cpus(raw, s, ncpu);
    return out;
}

Explained explain_frame(Testbed& tb, int ifindex, const Bytes& f, bool with_xdp, uint32_t gso_size)
{
    const bool from_uplink = ifindex == tb.uplink;
    Explained out;
    Decided d;
    if (with_xdp) {
        const Explanation x = tb.explainer().run(from_uplink ? Program::UplinkXdp : Program::PortXdp, ifindex, f);
        out.xdp_verdict = x.verdict;
        d = decided(x);
    }
    if (!with_xdp || d.passed) {
        const Explanation t = tb.explainer().run(from_uplink ? Program::UplinkTc : Program::PortTc, ifindex, f, gso_size);
        out.tc_verdict = t.verdict;
        out.unkept = t.unkept;
        d = decided(t);
    }
    out.fate.drop = d.drop;
    out.fate.charged = d.charged;
    out.fate.ports = d.ports;
    out.fate.uplink = d.uplink;
    out.fate.host = d.host;
    out.fate.probe = d.probe;
    return out;
}

Outcome explainable(Outcome o)
{
    o.ports.insert(o.refused.begin(), o.refused.end());
    o.refused.clear();
    return o;
}

bool tc_test_run_accepts(const Bytes& f)
{
    if (f.size() <= 14)
        return false;
    const uint16_t et = static_cast<uint16_t>(f[12] << 8 | f[13]);
    if (et == kEthIpv4)
        return f.size() >= 14 + 20;
    if (et == 0x86dd)
        return f.size() >= 14 + 40;
    return true;
}

bool counters_equal(const vepa_counters& a, const vepa_counters& b) { return a == b; }

std::map<uint16_t, vepa_counters> counter_delta(const std::map<uint16_t, vepa_counters>& before,
                                                const std::map<uint16_t, vepa_counters>& after)
{
    std::map<uint16_t, vepa_counters> d;
    for (const auto& [slot, a] : after) {
        const auto it = before.find(slot);
        const vepa_counters b = it == before.end() ? vepa_counters{} : it->second;
        const vepa_counters x = a - b;
        if (!counters_equal(x, vepa_counters{}))
            d[slot] = x;
    }
    return d;
}

std::string describe(const std::map<uint16_t, vepa_counters>& c)
{
    std::ostringstream s;
    for (const auto& [slot, v] : c) {
        s << "slot " << slot << ":";
        if (v.rx_packets)
            s << " rx=" << v.rx_packets << "/" << v.rx_bytes << "B";
        if (v.tx_packets)
            s << " tx=" << v.tx_packets << "/" << v.tx_bytes << "B";
        if (v.host_packets)
            s << " host=" << v.host_packets << "/" << v.host_bytes << "B";
        if (v.probe_packets)
            s << " probe=" << v.probe_packets;
        for (int i = 0; i < VEPA_DROP__MAX; i++)
            if (v.drops[i])
                s << " drop[" << i << "]=" << v.drops[i];
        s << "; ";
    }
    return s.str();
}

} // namespace vepa::test
