/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The VEPA rules of docs/VEPA-SEMANTICS.md that XDP and TC share.  Rule ids
 * (T1..T6, R1..R7) are cited where each is decided.
 */
#ifndef VEPA_BPF_RULES_H
#define VEPA_BPF_RULES_H

#include "maps.h"
#include "parse.h"
#include "counters.h"

#define VEPA_MODE_BIT(m) (1U << (m))
#define VEPA_ALL_MODES (VEPA_MODE_BIT(VEPA_MODE_VEPA) | VEPA_MODE_BIT(VEPA_MODE_PRIVATE) | \
			VEPA_MODE_BIT(VEPA_MODE_BRIDGE))

static __always_inline const struct vepa_config *vepa_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&VEPA_MAP(config), &zero);
}

/* Is vid one of the port's tagged VLANs (trunk)?  An S-tag (VEPA_VID_ANY): trunk-all only. */
static __always_inline int vepa_vlan_tagged_member(const struct vepa_port_ref *ref, __u16 vid)
{
	const struct vepa_vlan_set *set;
	__u32 slot = ref->slot, word;

	if (ref->vflags & VEPA_VLAN_F_TRUNK_ALL)
		return 1;
	if (!(ref->vflags & VEPA_VLAN_F_TRUNK) || vid == VEPA_VID_UNTAGGED || vid > VEPA_VID_MAX)
		return 0;
	set = bpf_map_lookup_elem(&VEPA_MAP(vlans), &slot);
	if (!set)
		return 0;
	word = vid >> 6;
	asm volatile("" : "+r"(word)); /* keep the mask: the verifier knows no bound on vid */
	word &= 63;
	return (set->bits[word] >> (vid & 63)) & 1;
}

enum vepa_membership {
	VEPA_NOT_MEMBER = 0,
	VEPA_MEMBER_UNTAGGED,   /* the port's untagged VLAN (or untagged frames to a port without one) */
	VEPA_MEMBER_TAGGED,     /* one of its tagged VLANs: the frame keeps its tag */
};

/* V3, V4: how a port is in the VLAN vid of the uplink side. */
static __always_inline int vepa_vlan_member(const struct vepa_port_ref *ref, __u16 vid)
{
	if (ref->vid == vid)
		return VEPA_MEMBER_UNTAGGED;
	if (vid == VEPA_VID_UNTAGGED)
		return VEPA_NOT_MEMBER;
	return vepa_vlan_tagged_member(ref, vid) ? VEPA_MEMBER_TAGGED : VEPA_NOT_MEMBER;
}

/* Does a frame of f's VLAN carry its tag into to (the uplink: ref.vid 0)? */
static __always_inline int vepa_wants_tag(const struct vepa_port_ref *to, const struct vepa_frame *f)
{
	return f->vid != VEPA_VID_UNTAGGED && to->vid != f->vid;
}

/*
 * V1, V2: the VLAN a port's frame leaves in.  An untagged frame (a priority
 * tag counts as untagged and stays inside) takes the port's untagged VLAN,
 * whose tag the frame gets on its way out; a tagged one keeps its tag if the
 * port is in that VLAN, else it is dropped.  Returns VEPA_ADMITTED or
 * VEPA_DROP_VLAN.
 */
static __always_inline int vepa_port_vlan(const struct vepa_port *port, struct vepa_frame *f)
{
	if (!f->tagged) {
		f->vid = port->ref.vid;                                         /* V1 */
		f->tpid = bpf_htons(ETH_P_8021Q);
		f->tci = port->ref.vid;
		return VEPA_ADMITTED;
	}
	return vepa_vlan_tagged_member(&port->ref, f->vid) ? VEPA_ADMITTED : VEPA_DROP_VLAN; /* V2 */
}

static __always_inline const struct vepa_port *vepa_port(__u32 ifindex)
{
	return bpf_map_lookup_elem(&VEPA_MAP(ports), &ifindex);
}

/*
 * T5: the source MAC must be one of the port's own: compared in place for a
 * port with few MACs, looked up in the MAC table for one with many.
 */
static __always_inline int vepa_src_allowed(const struct vepa_port *port, const __u8 *src, __u16 vid)
{
	const struct vepa_port_ref *owner;
	const __u32 n = port->n_macs;

	if (port->flags & VEPA_PORT_F_NO_SRC_CHECK)
		return 1;
	if (n > VEPA_PORT_FAST_MACS) {
		owner = vepa_mac_owner(src, vid);                       /* V6 */
		return owner && owner->ifindex == port->ref.ifindex;
	}
	_Static_assert(VEPA_PORT_FAST_MACS == 4, "the comparisons below cover the record's MACs");
	return (n > 0 && vepa_mac_eq(port->macs[0].addr, src)) || (n > 1 && vepa_mac_eq(port->macs[1].addr, src)) ||
	       (n > 2 && vepa_mac_eq(port->macs[2].addr, src)) || (n > 3 && vepa_mac_eq(port->macs[3].addr, src));
}

/* The frame's length once it holds its VLAN's tag (V7: a tag pushed adds 4 bytes). */
static __always_inline __u32 vepa_tagged_len(const struct vepa_frame *f)
{
	return f->len + (f->vid != VEPA_VID_UNTAGGED && !f->tagged ? sizeof(struct vlan_tag) : 0);
}

/* A frame longer than the uplink can carry, unless the stack will segment it. */
static __always_inline int vepa_oversize(const struct vepa_config *cfg, __u32 len, __u32 gso_size)
{
	return !gso_size && len > cfg->max_frame_len;
}

/*
 * The checks every frame passes before any forwarding decision, XDP and TC
 * alike: well formed (M), not PAUSE (T6), and from a port, in a VLAN of the
 * port (V1, V2) and one of the port's source MACs (T5, V6).  TC, which knows whether a long frame is GSO, also drops
 * one longer than the uplink carries, and a port's frame when there is no
 * uplink.  port: the sender, NULL for the uplink (f->slot: its slot).  Returns
 * VEPA_ADMITTED, or the reason the frame is dropped, counted on the sender.
 */
static __always_inline int vepa_admit(void *ctx, const enum vepa_hook hook, const struct vepa_config *cfg,
				      const struct vepa_port *port, struct vepa_frame *f)
{
	int reason = vepa_ctx_parse(ctx, hook, f);                      /* M */

	if (reason < 0 && f->proto == bpf_htons(ETH_P_PAUSE))           /* T6 */
		reason = VEPA_DROP_PAUSE;
	if (reason < 0 && port)
		reason = vepa_port_vlan(port, f);                       /* V1, V2 */
	if (reason < 0 && port && !vepa_src_allowed(port, f->src, f->vid)) /* T5 */
		reason = VEPA_DROP_SPOOFED;
	if (reason < 0 && hook == VEPA_TC &&
	    vepa_oversize(cfg, vepa_tagged_len(f), ((struct __sk_buff *)ctx)->gso_size)) /* V7 */
		reason = VEPA_DROP_OVERSIZE;
	if (reason < 0 && hook == VEPA_TC && port && !cfg->uplink_ifindex)
		reason = VEPA_DROP_NO_UPLINK;
	if (reason >= 0)
		vepa_count_drop(ctx, hook, f, f->slot, reason);
	return reason;
}

/*
 * A frame a port sends (T1-T6 start here): vepa_admit for the port the
 * frame arrived on, returned in *port.  A frame from a device that is not
 * a port is dropped, counted on the uplink.
 */
static __always_inline int vepa_port_admit(void *ctx, const enum vepa_hook hook, const struct vepa_config *cfg,
					   const struct vepa_port **port, struct vepa_frame *f)
{
	*port = vepa_port(vepa_ctx_ifindex(ctx, hook));
	if (!*port) {
		vepa_count_drop(ctx, hook, f, VEPA_SLOT_UPLINK, VEPA_DROP_NOT_A_PORT);
		return VEPA_DROP_NOT_A_PORT;
	}
	f->slot = (*port)->ref.slot;
	return vepa_admit(ctx, hook, cfg, *port, f);
}

/* T4: a bridge-mode port's group frame, copied to the other bridge-mode ports too. */
static __always_inline int vepa_bridge_group(const struct vepa_port *port, const __u8 *dst)
{
	return port->ref.mode == VEPA_MODE_BRIDGE && vepa_is_group(dst);
}

/*
 * T2: the other bridge-mode port a bridge-mode port's unicast frame is
 * delivered to locally, within the frame's VLAN (V5); NULL when the frame
 * goes out the uplink (T1, T3).
 */
static __always_inline const struct vepa_port_ref *vepa_bridge_peer(const struct vepa_port *port,
								   const struct vepa_frame *f)
{
	const struct vepa_port_ref *to;

	if (port->ref.mode != VEPA_MODE_BRIDGE || vepa_is_group(f->dst))
		return NULL;
	to = vepa_mac_owner(f->dst, f->vid);                            /* V5 */
	if (to && to->mode == VEPA_MODE_BRIDGE && to->ifindex != port->ref.ifindex)
		return to;
	return NULL;
}

/* T1 (vepa, private), T3 (bridge unicast), T4 (bridge group): a port's frame out the uplink. */
static __always_inline __u8 vepa_uplink_rule(const struct vepa_port *port, const struct vepa_frame *f)
{
	if (port->ref.mode != VEPA_MODE_BRIDGE)
		return VEPA_RULE_T1;
	return vepa_is_group(f->dst) ? VEPA_RULE_T4 : VEPA_RULE_T3;
}

/*
 * R7: a unicast frame from the uplink whose source is one local port and
 * whose destination is another, one of them private, is never delivered.
 * The sender is the source MAC's owner in the frame's VLAN (V5).
 */
static __always_inline int vepa_private_blocks(const struct vepa_config *cfg, const struct vepa_frame *f,
					       const struct vepa_port_ref *dst)
{
	const struct vepa_port_ref *from;

	if (!(cfg->flags & VEPA_CFG_F_HAVE_PRIVATE))
		return 0;
	from = vepa_mac_owner(f->src, f->vid);                          /* V5 */
	if (!from || from->ifindex == dst->ifindex)
		return 0;
	return from->mode == VEPA_MODE_PRIVATE || dst->mode == VEPA_MODE_PRIVATE;
}

/*
 * R3-R6: which port modes receive a group frame from the uplink, by who sent
 * it.  from is the local port owning the source MAC, NULL for an external one.
 */
static __always_inline __u32 vepa_group_receivers(const struct vepa_port_ref *from)
{
	if (!from)
		return VEPA_ALL_MODES;                                          /* R3 */
	switch (from->mode) {
	case VEPA_MODE_VEPA:
		return VEPA_MODE_BIT(VEPA_MODE_VEPA) | VEPA_MODE_BIT(VEPA_MODE_BRIDGE); /* R4 */
	case VEPA_MODE_BRIDGE:
		return VEPA_MODE_BIT(VEPA_MODE_VEPA);                          /* R5 */
	default:
		return 0;                                                       /* R6 */
	}
}

/*
 * vepad's reflection probe coming back from the switch: only looked at for
 * unicast no port owns (the host's path), so forwarding never pays for it.
 */
static __always_inline int vepa_is_reflected_probe(const struct vepa_config *cfg, const struct vepa_frame *f)
{
	return f->proto == bpf_htons(VEPA_PROBE_ETHERTYPE) && !vepa_is_zero(cfg->probe_dst.addr) &&
	       vepa_mac_eq(f->dst, cfg->probe_dst.addr);
}

#endif /* VEPA_BPF_RULES_H */
