/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Putting a frame's VLAN tag on and taking it off (V1, V3-V5), XDP and TC
 * alike.  XDP moves the MAC addresses by 4 bytes (bpf_xdp_adjust_head); TC
 * uses the kernel's own helpers, which keep the outer tag in skb metadata
 * where the receive path keeps it (and a device without VLAN offload puts it
 * back into the frame on transmit).
 */
#ifndef VEPA_BPF_VLAN_TAG_H
#define VEPA_BPF_VLAN_TAG_H

#include "parse.h"

/* The Ethernet header at the start of an XDP frame, or NULL when it is shorter. */
static __always_inline struct ethhdr *vepa_xdp_eth(struct xdp_md *ctx, __u32 extra)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	if ((void *)(eth + 1) + extra > (void *)(long)ctx->data_end)
		return NULL;
	return eth;
}

/* Insert f's tag (tpid, tci) between the MAC addresses and the ethertype. */
static __always_inline int vepa_xdp_push(struct xdp_md *ctx, const struct vepa_frame *f)
{
	struct vlan_tag *tag;
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(*tag)))
		return -1;
	eth = vepa_xdp_eth(ctx, sizeof(*tag));
	if (!eth)
		return -1;
	vepa_mac_copy(eth->h_dest, f->dst);
	vepa_mac_copy(eth->h_source, f->src);
	eth->h_proto = f->tpid;
	tag = (void *)(eth + 1);
	tag->tci = bpf_htons(f->tci); /* encap_proto: the old ethertype, already there */
	return 0;
}

/* Remove the outer tag: the MAC addresses move over it. */
static __always_inline int vepa_xdp_pop(struct xdp_md *ctx, const struct vepa_frame *f)
{
	struct ethhdr *eth;

	if (bpf_xdp_adjust_head(ctx, sizeof(struct vlan_tag)))
		return -1;
	eth = vepa_xdp_eth(ctx, 0);
	if (!eth)
		return -1;
	vepa_mac_copy(eth->h_dest, f->dst);
	vepa_mac_copy(eth->h_source, f->src);
	return 0;
}

/*
 * Make the frame hold its VLAN's tag (tagged) or not, tracking its length.
 * Returns 0, or -1 when the frame could not be changed (then drop it).
 */
static __always_inline int vepa_set_tagged(void *ctx, const enum vepa_hook hook, struct vepa_frame *f, int tagged)
{
	int err;

	if (!tagged == !f->tagged)
		return 0;
	if (hook == VEPA_XDP)
		err = tagged ? vepa_xdp_push(ctx, f) : vepa_xdp_pop(ctx, f);
	else
		err = tagged ? bpf_skb_vlan_push(ctx, f->tpid, f->tci) : bpf_skb_vlan_pop(ctx);
	if (err)
		return -1;
	f->tagged = tagged;
	f->retag ^= 1;
	f->len = tagged ? f->len + sizeof(struct vlan_tag) : f->len - sizeof(struct vlan_tag);
	return 0;
}

#endif /* VEPA_BPF_VLAN_TAG_H */
