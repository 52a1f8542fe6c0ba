/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Decision records for vepactl monitor: a struct vepa_event in the events
 * ring buffer where a program decides (drops in vepa_count_drop, forwarding
 * in vepa_forward and the fan-out, the host in vepa_uplink_tc).  With
 * monitoring off a decision point costs one array lookup and a branch; the
 * writer itself is a subprogram, off the forwarding code.
 */
#ifndef VEPA_BPF_MONITOR_H
#define VEPA_BPF_MONITOR_H

#include "maps.h"
#include "parse.h"

/* What the decision point knows besides the frame. */
struct vepa_decision {
	__u32 ifindex;
	__u16 egress;
	__u16 flags;
	__u8 rule;
	__u8 action;
	__u8 reason;
	__u8 pad;
};

/* The rule a drop reason stands for (M ids: docs/VEPA-SEMANTICS.md, malformed frames). */
static __always_inline __u8 vepa_drop_rule(__u32 reason)
{
	switch (reason) {
	case VEPA_DROP_NO_PAYLOAD:
		return VEPA_RULE_M1;
	case VEPA_DROP_TRUNCATED:
		return VEPA_RULE_M2;
	case VEPA_DROP_VLAN_DEPTH:
		return VEPA_RULE_M3;
	case VEPA_DROP_OVERSIZE:
		return VEPA_RULE_M4;
	case VEPA_DROP_BAD_SRC:
		return VEPA_RULE_M5;
	case VEPA_DROP_PAUSE:
		return VEPA_RULE_T6;
	case VEPA_DROP_SPOOFED:
		return VEPA_RULE_T5;
	case VEPA_DROP_PRIVATE:
		return VEPA_RULE_R7;
	case VEPA_DROP_VLAN:
		return VEPA_RULE_V2;
	default:
		return VEPA_RULE_NONE;
	}
}

/* Fill record e with decision d on frame f. */
static __always_inline void vepa_event_fill(struct vepa_event *e, const struct vepa_frame *f,
					    const struct vepa_decision *d, __u64 now)
{
	e->time_ns = now;
	e->ifindex = d->ifindex;
	e->len = f->rx_len;
	e->cpu = bpf_get_smp_processor_id();
	e->slot = f->slot;
	e->egress = d->egress;
	e->vid = f->vid;
	e->prog = f->prog;
	e->rule = d->rule;
	e->action = d->action;
	e->reason = d->reason;
	e->flags = d->flags | (vepa_is_group(f->dst) ? VEPA_EV_F_GROUP : 0);
	e->proto = bpf_ntohs(f->proto);
	vepa_mac_copy(e->dst, f->dst);
	vepa_mac_copy(e->src, f->src);
	e->pad = 0;
}

#ifdef VEPA_EXPLAIN
#include "explain.h"
#else
static __always_inline const struct vepa_monitor *vepa_monitor(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&VEPA_MAP(monitor), &zero);
}

/*
 * Within the rate cap?  A token bucket per CPU in nanoseconds of credit: time
 * adds credit (at most one second's), a record costs cost_ns.  A record over
 * the cap is counted lost.
 */
static __always_inline int vepa_monitor_take(const struct vepa_monitor *m, struct vepa_monitor_state *st, __u64 now)
{
	__u64 credit;

	if (!m->cost_ns)
		return 1;
	credit = st->credit_ns + (now - st->last_ns);
	st->last_ns = now;
	if (credit > 1000000000ULL)
		credit = 1000000000ULL;
	if (credit < m->cost_ns) {
		st->credit_ns = credit;
		st->lost++;
		return 0;
	}
	st->credit_ns = credit - m->cost_ns;
	return 1;
}

/* Write the record of decision d on frame f (monitoring is on: m). */
static __noinline int vepa_record(const struct vepa_monitor *m, const struct vepa_frame *f,
				  const struct vepa_decision *d)
{
	__u32 zero = 0;
	struct vepa_monitor_state *st = bpf_map_lookup_elem(&VEPA_MAP(monstate), &zero);
	struct vepa_event *e;
	__u64 now;

	if (!st)
		return 0;
	if (d->action != VEPA_ACT_DROP && m->sample > 1 && ++st->seen % m->sample)
		return 0;
	now = bpf_ktime_get_ns();
	if (!vepa_monitor_take(m, st, now))
		return 0;
	e = bpf_ringbuf_reserve(&VEPA_MAP(events), sizeof(*e), 0);
	if (!e) {
		st->lost++;
		return 0;
	}
	vepa_event_fill(e, f, d, now);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#endif /* VEPA_EXPLAIN */

/* A TC frame the stack will segment. */
static __always_inline __u16 vepa_gso_flag(void *ctx, const enum vepa_hook hook)
{
	return hook == VEPA_TC && ((struct __sk_buff *)ctx)->gso_size ? VEPA_EV_F_GSO : 0;
}

/* A drop of frame f, charged to slot: recorded when monitoring takes drops. */
static __always_inline void vepa_monitor_drop(void *ctx, const enum vepa_hook hook, const struct vepa_frame *f,
					      __u32 slot, __u32 reason)
{
	const struct vepa_monitor *m = vepa_monitor();
	struct vepa_decision d = {};

	if (!m || !(m->flags & VEPA_MON_F_DROPS))
		return;
	d.ifindex = vepa_ctx_ifindex(ctx, hook);
	d.egress = slot;
	d.flags = vepa_gso_flag(ctx, hook);
	d.rule = vepa_drop_rule(reason);
	d.action = VEPA_ACT_DROP;
	d.reason = reason;
	vepa_record(m, f, &d);
}

/* A frame forwarded (action, to egress: a slot or a number of copies): recorded when sampled. */
static __always_inline void vepa_monitor_forward(void *ctx, const enum vepa_hook hook, const struct vepa_frame *f,
						 __u8 rule, __u8 action, __u16 egress, __u16 flags)
{
	const struct vepa_monitor *m = vepa_monitor();
	struct vepa_decision d = {};

	if (!m || !(m->flags & VEPA_MON_F_FORWARD))
		return;
	d.ifindex = vepa_ctx_ifindex(ctx, hook);
	d.egress = egress;
	d.flags = flags | vepa_gso_flag(ctx, hook);
	d.rule = rule;
	d.action = action;
	vepa_record(m, f, &d);
}

#endif /* VEPA_BPF_MONITOR_H */
