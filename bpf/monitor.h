/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Decision records for vepactl monitor: a struct vepa_event in the events
 * ring buffer where a program decides (drops in vepa_count_drop, forwarding
 * in vepa_forward and the fan-out, the host in vepa_uplink_tc).  With
 * monitoring off a decision point costs one array lookup and a branch; the
 * writer itself is a subprogram (one per hook), off the forwarding code, and
 * whatever a record needs besides the decision (the reflected flag's lookup,
 * the payload's bytes) it gets there, only for records written.
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

/*
 * VEPA_EV_F_REFLECTED for a frame from the uplink whose source MAC is a local
 * port's (in the frame's VLAN): the switch sent a local port's frame back.  A
 * fan-out's caller sets it itself: it looked the sender up to choose the
 * receivers.
 */
static __always_inline __u16 vepa_reflected(const struct vepa_frame *f, const struct vepa_decision *d)
{
	if ((f->prog != VEPA_PROG_UPLINK_XDP && f->prog != VEPA_PROG_UPLINK_TC) || d->action == VEPA_ACT_FANOUT ||
	    vepa_is_zero(f->src))
		return 0;
	return vepa_mac_owner(f->src, f->vid) ? VEPA_EV_F_REFLECTED : 0;
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
	e->flags = d->flags | (vepa_is_group(f->dst) ? VEPA_EV_F_GROUP : 0) | vepa_reflected(f, d);
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

/* ---- payload: the frame's first bytes, as it came ---- */

#define VEPA_ETH_ADDRS 12 /* the MAC addresses: an outer VLAN tag follows them */

/*
 * A load's length n (not 0) kept within [1, max] in the register the helper
 * call then takes: the verifier checks it there, and clang may check one copy
 * of a length and pass another (a 64-bit value rather than its 32-bit
 * truncation).  The lower bound never applies: the caller checked n.
 */
#define VEPA_LOAD_LEN(n, max)                                                   \
	asm volatile("if %[v] <= %[m] goto +1\n\t%[v] = %[m]\n\t"              \
		     "if %[v] >= 1 goto +1\n\t%[v] = 1" : [v] "+r"(n) : [m] "i"(max))

static __always_inline long vepa_load_bytes(void *ctx, const enum vepa_hook hook, __u32 off, void *to, __u32 len)
{
	if (hook == VEPA_XDP)
		return bpf_xdp_load_bytes(ctx, off, to, len);
	return bpf_skb_load_bytes(ctx, off, to, len);
}

/* A VLAN tag as on the wire (TPID, TCI), at data[at]. */
static __always_inline void vepa_payload_tag(struct vepa_event_payload *p, const __u32 at, __be16 tpid, __u16 tci)
{
	*(__be16 *)&p->data[at] = tpid;
	*(__be16 *)&p->data[at + 2] = bpf_htons(tci);
}

/*
 * The frame's bytes from offset from of its data (cur_len bytes) at data[at],
 * as many as fit: the payload's length.  at is a constant (the verifier
 * bounds the copy by the record's end, so a variable one would not do).
 */
static __always_inline __u16 vepa_payload_tail(void *ctx, const enum vepa_hook hook, struct vepa_event_payload *p,
					      __u32 from, __u32 cur_len, const __u32 at)
{
	__u32 n = cur_len > from ? cur_len - from : 0;

	if (n > VEPA_PAYLOAD_BYTES - at)
		n = VEPA_PAYLOAD_BYTES - at;
	if (!n)
		return at;
	VEPA_LOAD_LEN(n, VEPA_PAYLOAD_BYTES - at);
	if (vepa_load_bytes(ctx, hook, from, &p->data[at], n) < 0)
		return at;
	return at + n;
}

/*
 * Copy the frame's first VEPA_PAYLOAD_BYTES into p as the frame came on the
 * wire (vepa/abi.h): one load from its start when the program has not moved a
 * tag and the kernel holds none (the common case, a short frame's too).  Else
 * only the outer tag can have changed since (vepa_set_tagged, f->retag): one
 * the program pushed is skipped (XDP: in the data after the MAC addresses; TC:
 * in skb metadata, where the kernel's push puts it), one it popped is put back
 * from f.  TC's metadata tag goes back where the wire had it, after the MAC
 * addresses (and inside a popped one: the kernel's pop moves the next tag from
 * the data into metadata).
 */
static __always_inline void vepa_payload_capture(void *ctx, const enum vepa_hook hook, const struct vepa_frame *f,
						 struct vepa_event_payload *p)
{
	struct __sk_buff *skb = ctx;
	const __u32 cur_len = hook == VEPA_XDP ? bpf_xdp_get_buff_len(ctx) : skb->len;
	const int pushed = f->retag && f->tagged, popped = f->retag && !f->tagged;
	const int meta = hook == VEPA_TC && skb->vlan_present && !pushed;

	__builtin_memset(p->pad, 0, sizeof(p->pad));
	p->len = 0;
	if (!popped && !meta && !(hook == VEPA_XDP && pushed)) {
		p->len = vepa_payload_tail(ctx, hook, p, 0, cur_len, 0);
		return;
	}
	/* A tag to put in or leave out: the frame has its MAC addresses (it was parsed, or the kernel untagged it). */
	if (cur_len < VEPA_ETH_ADDRS || vepa_load_bytes(ctx, hook, 0, p->data, VEPA_ETH_ADDRS) < 0)
		return;
	if (popped) {
		vepa_payload_tag(p, VEPA_ETH_ADDRS, f->tpid, f->tci);
		if (meta) {
			vepa_payload_tag(p, VEPA_ETH_ADDRS + 4, skb->vlan_proto, skb->vlan_tci);
			p->len = vepa_payload_tail(ctx, hook, p, VEPA_ETH_ADDRS, cur_len, VEPA_ETH_ADDRS + 8);
		} else {
			p->len = vepa_payload_tail(ctx, hook, p, VEPA_ETH_ADDRS, cur_len, VEPA_ETH_ADDRS + 4);
		}
	} else if (meta) {
		vepa_payload_tag(p, VEPA_ETH_ADDRS, skb->vlan_proto, skb->vlan_tci);
		p->len = vepa_payload_tail(ctx, hook, p, VEPA_ETH_ADDRS, cur_len, VEPA_ETH_ADDRS + 4);
	} else {
		p->len = vepa_payload_tail(ctx, hook, p, VEPA_ETH_ADDRS + 4, cur_len, VEPA_ETH_ADDRS); /* XDP pushed */
	}
}

/* ---- the writer ---- */

/* Write the record of decision d on frame f (monitoring is on: m), its payload too when m asks. */
static __always_inline int vepa_record_hook(void *ctx, const enum vepa_hook hook, const struct vepa_monitor *m,
					    const struct vepa_frame *f, const struct vepa_decision *d)
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
	if (m->flags & VEPA_MON_F_PAYLOAD) {
		/* The larger record, another constant size: the reader knows it by its size. */
		struct vepa_event_with_payload *r = bpf_ringbuf_reserve(&VEPA_MAP(events), sizeof(*r), 0);

		e = NULL;
		if (r) {
			vepa_payload_capture(ctx, hook, f, &r->payload);
			e = &r->event;
		}
	} else {
		e = bpf_ringbuf_reserve(&VEPA_MAP(events), sizeof(*e), 0);
	}
	if (!e) {
		st->lost++;
		return 0;
	}
	vepa_event_fill(e, f, d, now);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* One subprogram per hook, so each is compiled for its own context (and its own load helper). */
static __noinline int vepa_record_xdp(struct xdp_md *ctx, const struct vepa_monitor *m, const struct vepa_frame *f,
				      const struct vepa_decision *d)
{
	return vepa_record_hook(ctx, VEPA_XDP, m, f, d);
}

static __noinline int vepa_record_tc(struct __sk_buff *skb, const struct vepa_monitor *m, const struct vepa_frame *f,
				     const struct vepa_decision *d)
{
	return vepa_record_hook(skb, VEPA_TC, m, f, d);
}

static __always_inline void vepa_record(void *ctx, const enum vepa_hook hook, const struct vepa_monitor *m,
					const struct vepa_frame *f, const struct vepa_decision *d)
{
	if (hook == VEPA_XDP)
		vepa_record_xdp(ctx, m, f, d);
	else
		vepa_record_tc(ctx, m, f, d);
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
	vepa_record(ctx, hook, m, f, &d);
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
	vepa_record(ctx, hook, m, f, &d);
}

#endif /* VEPA_BPF_MONITOR_H */
