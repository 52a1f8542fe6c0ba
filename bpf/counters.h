/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Per-slot, per-CPU counters: every verdict a program takes counts once. */
#ifndef VEPA_BPF_COUNTERS_H
#define VEPA_BPF_COUNTERS_H

#include "maps.h"
#include "monitor.h"

static __always_inline struct vepa_counters *vepa_counters(__u32 slot)
{
#ifdef VEPA_EXPLAIN
	(void)slot;
	return NULL; /* explain programs count nothing */
#else
	return bpf_map_lookup_elem(&VEPA_MAP(stats), &slot);
#endif
}

static __always_inline void vepa_count_rx(__u32 slot, __u32 len)
{
	struct vepa_counters *c = vepa_counters(slot);

	if (c) {
		c->rx_packets++;
		c->rx_bytes += len;
	}
}

static __always_inline void vepa_count_tx(__u32 slot, __u32 len)
{
	struct vepa_counters *c = vepa_counters(slot);

	if (c) {
		c->tx_packets++;
		c->tx_bytes += len;
	}
}

/* A frame from the uplink accepted and handed to the host stack. */
static __always_inline void vepa_count_host(__u32 len)
{
	struct vepa_counters *c = vepa_counters(VEPA_SLOT_UPLINK);

	if (c) {
		c->rx_packets++;
		c->rx_bytes += len;
		c->host_packets++;
		c->host_bytes += len;
	}
}

/* One of vepad's reflection probes came back from the switch. */
static __always_inline void vepa_count_probe(void)
{
	struct vepa_counters *c = vepa_counters(VEPA_SLOT_UPLINK);

	if (c)
		c->probe_packets++;
}

/*
 * Every drop comes here: counted on slot, and recorded (vepactl monitor) with
 * the frame f as far as it was parsed, when monitoring takes drops.
 */
static __always_inline void vepa_count_drop(void *ctx, const enum vepa_hook hook, const struct vepa_frame *f,
					    __u32 slot, __u32 reason)
{
	struct vepa_counters *c = vepa_counters(slot);

	if (c && reason < VEPA_DROP__MAX)
		c->drops[reason]++;
	vepa_monitor_drop(ctx, hook, f, slot, reason);
}

#endif /* VEPA_BPF_COUNTERS_H */
