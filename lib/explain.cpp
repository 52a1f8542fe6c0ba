#include "lib/explain.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>

#include "lib/error.hpp"
#include "lib/test_run.hpp"
#include "vepa_explain.skel.h"

namespace vepa {

Decided decided(const Explanation& e)
{
    Decided d;
    for (const vepa_event& ev : e.decisions) {
        switch (ev.action) {
        case VEPA_ACT_DROP:
            d.drop = static_cast<vepa_drop_reason>(ev.reason);
            d.charged = ev.egress;
            break;
        case VEPA_ACT_REDIRECT:
        case VEPA_ACT_REDIRECT_PEER:
            if (ev.egress == VEPA_SLOT_UPLINK)
                d.uplink = true;
            else
                d.ports.insert(ev.egress);
            break;
        case VEPA_ACT_HOST:
            d.host = true;
            break;
        case VEPA_ACT_FANOUT:
            d.ports.insert(e.copies.begin(), e.copies.end());
            d.host |= (ev.flags & VEPA_EV_F_HOST) != 0;
            break;
        case VEPA_ACT_PROBE:
            d.probe = true;
            break;
        }
    }
    d.passed = e.xdp && e.decisions.empty() && e.verdict == XDP_PASS;
    return d;
}

Explainer::Explainer(const Dataplane& dp)
{
    skel_ = vepa_explain_bpf__open();
    if (!skel_)
        throw SysError(errno, "open the explain programs' BPF skeleton");
    try {
        for (const std::string& name : Dataplane::map_names()) {
            bpf_map* m = bpf_object__find_map_by_name(skel_->obj, name.c_str());
            if (!m)
                throw Error("the explain programs have no map " + name);
            check_bpf(bpf_map__reuse_fd(m, dp.map_fd(name)), "reuse map " + name + " for the explain programs");
        }
        if (const int err = vepa_explain_bpf__load(skel_))
            throw SysError(err, "load of the explain programs");
        bpf_map* explain = bpf_object__find_map_by_name(skel_->obj, VEPA_MAP_EXPLAIN);
        if (!explain)
            throw Error("the explain programs have no map " VEPA_MAP_EXPLAIN);
        explain_fd_ = bpf_map__fd(explain);
    } catch (...) {
        vepa_explain_bpf__destroy(skel_);
        throw;
    }
}

Explainer::~Explainer() { vepa_explain_bpf__destroy(skel_); }

Explanation Explainer::run(Program p, int ifindex, const std::vector<uint8_t>& frame, uint32_t gso_size) const
{
    const uint32_t zero = 0;
    vepa_explanation x{};
    check_bpf(bpf_map_update_elem(explain_fd_, &zero, &x, BPF_ANY), "clear the explanation");
    TestRun r;
    switch (p) {
    case Program::UplinkXdp:
        r = test_run_xdp(bpf_program__fd(skel_->progs.vepa_uplink_xdp), ifindex, frame);
        break;
    case Program::PortXdp:
        r = test_run_xdp(bpf_program__fd(skel_->progs.vepa_port_xdp), ifindex, frame);
        break;
    case Program::UplinkTc:
        r = test_run_tc(bpf_program__fd(skel_->progs.vepa_uplink_tc), ifindex, frame, gso_size);
        break;
    case Program::PortTc:
        r = test_run_tc(bpf_program__fd(skel_->progs.vepa_port_tc), ifindex, frame, gso_size);
        break;
    case Program::XskXdp:
        throw Error("the xsk program has no explain variant");
    }
    check_bpf(bpf_map_lookup_elem(explain_fd_, &zero, &x), "read the explanation");

    Explanation e;
    e.xdp = p == Program::UplinkXdp || p == Program::PortXdp;
    e.verdict = r.verdict;
    e.out = std::move(r.out);
    const uint32_t kept = std::min<uint32_t>(x.decisions, VEPA_EXPLAIN_MAX_DECISIONS);
    e.decisions.assign(x.decision, x.decision + kept);
    e.unkept = x.decisions - kept;
    for (uint32_t s = 0; s < VEPA_MAX_PORTS; s++)
        if (x.copies[s / 64] >> (s % 64) & 1)
            e.copies.push_back(static_cast<uint16_t>(s));
    return e;
}

} // namespace vepa
