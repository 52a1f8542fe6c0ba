/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The dataplane built with VEPA_EXPLAIN: the explain programs vepactl trace
 * runs with BPF_PROG_TEST_RUN against the live maps.  Every rule is the same
 * code (rules.h, vepa.bpf.c); what a decision does is not.  Instead of the
 * effects the attached programs have, an explain program
 *   - records every decision (monitor.h's decision points, always on) in
 *     element 0 of its explanation map (struct vepa_explanation),
 *   - marks the slots a group frame would be copied to instead of cloning,
 *   - decides a redirect without calling a redirect helper (XDP: whether the
 *     target is in the devmap, as bpf_redirect_map would find it),
 *   - counts nothing (counters.h).
 * So a trace touches no counter and sends nothing, wherever it runs.
 */
#ifndef VEPA_BPF_EXPLAIN_H
#define VEPA_BPF_EXPLAIN_H

#include <linux/pkt_cls.h>

#include "maps.h"

/* Monitoring as the explain programs see it: every decision. */
static __always_inline const struct vepa_monitor *vepa_monitor(void)
{
	static const struct vepa_monitor all = { .flags = VEPA_MON_F_DROPS | VEPA_MON_F_FORWARD };

	return &all;
}

static __always_inline struct vepa_explanation *vepa_explanation(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&VEPA_MAP(explain), &zero);
}

/* Keep the record of decision d on frame f, as the next of the explanation's. */
static __noinline int vepa_explain_record(const struct vepa_monitor *m, const struct vepa_frame *f,
					  const struct vepa_decision *d)
{
	struct vepa_explanation *x = vepa_explanation();
	__u32 n;

	(void)m;
	if (!x)
		return 0;
	n = x->decisions++;
	if (n < VEPA_EXPLAIN_MAX_DECISIONS)
		vepa_event_fill(&x->decision[n], f, d, bpf_ktime_get_ns());
	return 0;
}

/* The explanation keeps no payload: the frame is vepad's own (vepactl trace's). */
static __always_inline void vepa_record(void *ctx, const enum vepa_hook hook, const struct vepa_monitor *m,
					const struct vepa_frame *f, const struct vepa_decision *d)
{
	(void)ctx;
	(void)hook;
	vepa_explain_record(m, f, d);
}

/* A group copy to slot, as bpf_clone_redirect would have sent it: 0. */
static __always_inline long vepa_explain_copy(__u32 slot)
{
	struct vepa_explanation *x = vepa_explanation();

	if (x)
		x->copies[(slot >> 6) & (VEPA_MAX_PORTS / 64 - 1)] |= 1ULL << (slot & 63);
	return 0;
}

/* The verdict of a redirect to ifindex, without redirecting. */
static __always_inline int vepa_explain_redirect(const enum vepa_hook hook, __u32 ifindex)
{
	if (hook == VEPA_XDP)
		return bpf_map_lookup_elem(&VEPA_MAP(devs), &ifindex) ? XDP_REDIRECT : XDP_PASS;
	return TC_ACT_REDIRECT;
}

#endif /* VEPA_BPF_EXPLAIN_H */
