// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * vepad's dataplane: five programs over one set of maps.
 *
 *   vepa_uplink_xdp  XDP on the uplink: unicast to ports delivered by XDP (R1, R7),
 *                    malformed frames dropped; everything else passes to TC.
 *   vepa_uplink_tc   TC ingress on the uplink: every rule for frames from the switch
 *                    (R1-R7), group fan-out by clone (XDP cannot also give the host
 *                    its copy), delivery to TC-delivered ports.
 *   vepa_port_xdp    XDP on a port: anti-spoofing (T5), PAUSE (T6), to the uplink
 *                    (T1, T3) and bridge-mode local unicast (T2) when the target takes
 *                    XDP frames; everything else passes to TC.
 *   vepa_port_tc     TC ingress on a port: every rule for frames a port sends
 *                    (T1-T6), bridge-mode group copies (T4) included.
 *   vepa_xsk_xdp     XDP on an xsk port's socket device: each frame to the AF_XDP
 *                    socket of the queue it arrived on.  Every rule has been applied
 *                    on the way in (the device's peer is an ordinary port).
 *
 * Built with VEPA_EXPLAIN, the first four are vepactl trace's explain programs
 * (explain.h): the same rules, decisions recorded instead of carried out.
 *
 * The TC programs are complete on their own; the XDP programs are a fast path
 * for the common cases.  Policy (which port gets what path, who is private)
 * is the control plane's: the programs only read the maps.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "vepa/abi.h"
#include "maps.h"
#include "parse.h"
#include "counters.h"
#include "rules.h"
#include "vlan_tag.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * VEPA_TEST_VARIANT builds the same dataplane with different code (an extra,
 * behaviour-free register shuffle in each program), so the upgrade test can
 * replace the running programs with ones that really differ.
 */
#ifdef VEPA_TEST_VARIANT
#define VEPA_VARIANT_MARK(x) asm volatile("%0 = %0" : "+r"(x))
#else
#define VEPA_VARIANT_MARK(x) ((void)0)
#endif

/* ---- forwarding ---------------------------------------------------------- */

/* Drop frame f, counting (and recording) why on slot: the verdict. */
static __always_inline int vepa_drop(void *ctx, const enum vepa_hook hook, const struct vepa_frame *f, __u32 slot,
				     __u32 reason)
{
	vepa_count_drop(ctx, hook, f, slot, reason);
	return hook == VEPA_XDP ? XDP_DROP : TC_ACT_SHOT;
}

/* The uplink as a forwarding target: TC sends to it by a plain redirect. */
static __always_inline struct vepa_port_ref vepa_uplink_ref(const struct vepa_config *cfg)
{
	struct vepa_port_ref up = {
		.ifindex = cfg->uplink_ifindex,
		.slot = VEPA_SLOT_UPLINK,
		.delivery = VEPA_DELIVER_TC,
	};

	return up;
}

/*
 * Redirect a frame to a port or the uplink: the verdict.  XDP redirects
 * through the devmap, which holds only the devices that take XDP frames: any
 * other target gets XDP_PASS, and TC forwards the frame.  TC redirects by the
 * target's delivery.
 */
static __always_inline int vepa_redirect(const enum vepa_hook hook, const struct vepa_port_ref *to)
{
#ifdef VEPA_EXPLAIN
	return vepa_explain_redirect(hook, to->ifindex);
#else
	if (hook == VEPA_XDP)
		return bpf_redirect_map(&VEPA_MAP(devs), to->ifindex, XDP_PASS);
	if (to->delivery == VEPA_DELIVER_TC_PEER)
		return bpf_redirect_peer(to->ifindex, 0);
	return bpf_redirect(to->ifindex, 0);
#endif
}

/*
 * Forward frame f, received on slot from, to to: redirect, with its VLAN tag
 * on or off as to takes it (V1, V3, V5), then count it received and sent when
 * it went (a TC redirect always goes), and record it by rule when sampled.
 * XDP changes the frame only once the redirect is set: a frame it passes to TC
 * is as it came.  TC also meets targets whose link is down (XDP passes their
 * frames on): the frame is dropped, counted as received from the sender and as
 * the target's drop.
 */
static __always_inline int vepa_forward(void *ctx, const enum vepa_hook hook, __u32 from,
					const struct vepa_port_ref *to, struct vepa_frame *f, __u8 rule)
{
	const __u32 rx_len = f->rx_len;
	int ret;

	if (hook == VEPA_TC && to->delivery == VEPA_DELIVER_DOWN) {
		vepa_count_rx(from, rx_len);
		return vepa_drop(ctx, hook, f, to->slot, VEPA_DROP_PORT_DOWN);
	}
	ret = vepa_redirect(hook, to);
	if (hook == VEPA_XDP && ret != XDP_REDIRECT)
		return ret;
	if (f->vid && vepa_set_tagged(ctx, hook, f, vepa_wants_tag(to, f)) < 0)
		return vepa_drop(ctx, hook, f, from, VEPA_DROP_VLAN);
	vepa_count_rx(from, rx_len);
	vepa_count_tx(to->slot, f->len);
	vepa_monitor_forward(ctx, hook, f, rule,
			     hook == VEPA_TC && to->delivery == VEPA_DELIVER_TC_PEER ? VEPA_ACT_REDIRECT_PEER
										 : VEPA_ACT_REDIRECT,
			     to->slot, 0);
	return ret;
}

/* ---- group fan-out (TC) ---------------------------------------------------- */

struct vepa_fanout {
	struct __sk_buff *skb;
	const struct vepa_frame *f;
	const struct vepa_flood_list *list;
	__u32 modes;      /* VEPA_MODE_BIT()s of the receivers */
	__u32 exclude;    /* ifindex never copied to (the sender), 0 for none */
	__u32 len;        /* of the frame as it is now */
	__u16 vid;        /* the frame's VLAN: only its members get a copy (V4, V5) */
	__u8 tagged;      /* this round copies to the receivers that take the frame so */
	__u8 others;      /* a member takes it the other way: a second round */
	__u16 sent;       /* copies sent */
};

static long vepa_fanout_one(__u32 i, void *data)
{
	struct vepa_fanout *fo = data;
	const struct vepa_port_ref *to;
	int member;

	if (i >= VEPA_MAX_PORTS)
		return 1;
	to = &fo->list->ports[i];
	if (!(fo->modes & VEPA_MODE_BIT(to->mode)) || to->ifindex == fo->exclude)
		return 0;
	member = vepa_vlan_member(to, fo->vid);
	if (member == VEPA_NOT_MEMBER)
		return 0;
	if ((member == VEPA_MEMBER_TAGGED) != fo->tagged) {
		fo->others = 1;
		return 0;
	}
#ifdef VEPA_EXPLAIN
	if (vepa_explain_copy(to->slot) == 0) {
#else
	if (bpf_clone_redirect(fo->skb, to->ifindex, 0) == 0) {
#endif
		vepa_count_tx(to->slot, fo->len);
		fo->sent++;
	} else {
		vepa_count_drop(fo->skb, VEPA_TC, fo->f, to->slot, VEPA_DROP_CLONE_FAILED);
	}
	return 0;
}

static __always_inline void vepa_fanout_round(struct vepa_fanout *fo)
{
	fo->others = 0;
	bpf_loop(fo->list->count < VEPA_MAX_PORTS ? fo->list->count : VEPA_MAX_PORTS, vepa_fanout_one, fo, 0);
}

/*
 * A copy of frame f to every present port whose mode is in modes, except
 * exclude, that is in f's VLAN: first to those that take the frame as it
 * is, then, the tag put on or taken off, to the others.  The frame is left
 * in either state (f says which): the caller sets the one it needs.  Returns
 * the copies sent.
 */
static __always_inline __u16 vepa_fanout(struct __sk_buff *skb, struct vepa_frame *f, __u32 modes, __u32 exclude)
{
	struct vepa_fanout fo = {
		.skb = skb, .f = f, .modes = modes, .exclude = exclude, .len = f->len, .vid = f->vid, .tagged = f->tagged,
	};
	__u32 zero = 0;
	void *inner;

	if (!modes)
		return 0;
	inner = bpf_map_lookup_elem(&VEPA_MAP(flood), &zero);
	if (!inner)
		return 0;
	fo.list = bpf_map_lookup_elem(inner, &zero);
	if (!fo.list)
		return 0;
	vepa_fanout_round(&fo);
	if (!fo.others || vepa_set_tagged(skb, VEPA_TC, f, !f->tagged) < 0)
		return fo.sent;
	fo.tagged = f->tagged;
	fo.len = f->len;
	vepa_fanout_round(&fo);
	return fo.sent;
}

/* ---- uplink ------------------------------------------------------------ */

SEC("xdp.frags")
int vepa_uplink_xdp(struct xdp_md *ctx)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port_ref *to;
	struct vepa_frame f = { .prog = VEPA_PROG_UPLINK_XDP };

	if (!cfg || (cfg->flags & VEPA_CFG_F_VLANS))                   /* a tag XDP cannot see: TC's */
		return XDP_PASS;
	VEPA_VARIANT_MARK(cfg);
	if (vepa_admit(ctx, VEPA_XDP, cfg, NULL, &f) != VEPA_ADMITTED)
		return XDP_DROP;
	/* Group frames need a host copy, long ones a GSO check: TC's. */
	if (vepa_is_group(f.dst) || f.len > cfg->max_frame_len)
		return XDP_PASS;
	to = vepa_mac_owner(f.dst, f.vid);                              /* V3 */
	if (!to || to->delivery != VEPA_DELIVER_XDP)                    /* R2, or TC delivers */
		return XDP_PASS;
	if (vepa_private_blocks(cfg, &f, to))                           /* R7 */
		return vepa_drop(ctx, VEPA_XDP, &f, to->slot, VEPA_DROP_PRIVATE);
	return vepa_forward(ctx, VEPA_XDP, VEPA_SLOT_UPLINK, to, &f, VEPA_RULE_R1); /* R1 */
}

/* R3-R6: the rule that chose a group frame's receivers, by its sender (NULL: external). */
static __always_inline __u8 vepa_group_rule(const struct vepa_port_ref *from)
{
	if (!from)
		return VEPA_RULE_R3;
	return from->mode == VEPA_MODE_VEPA ? VEPA_RULE_R4 : from->mode == VEPA_MODE_BRIDGE ? VEPA_RULE_R5 : VEPA_RULE_R6;
}

/*
 * R3-R6 within the frame's VLAN (V4): the sender is the source MAC's owner
 * in that VLAN.  The host then gets the frame as it came.
 */
static __always_inline void vepa_uplink_fanout(struct __sk_buff *skb, struct vepa_frame *f)
{
	const struct vepa_port_ref *from = vepa_mac_owner(f->src, f->vid);
	const __u8 tagged = f->tagged;
	__u16 sent;

	sent = vepa_fanout(skb, f, vepa_group_receivers(from), from ? from->ifindex : 0);
	if (vepa_set_tagged(skb, VEPA_TC, f, tagged) < 0)
		vepa_count_drop(skb, VEPA_TC, f, VEPA_SLOT_UPLINK, VEPA_DROP_VLAN);
	vepa_monitor_forward(skb, VEPA_TC, f, vepa_group_rule(from), VEPA_ACT_FANOUT, sent,
			     VEPA_EV_F_HOST | (from ? VEPA_EV_F_REFLECTED : 0));
}

SEC("tc")
int vepa_uplink_tc(struct __sk_buff *skb)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port_ref *to;
	struct vepa_frame f = { .prog = VEPA_PROG_UPLINK_TC };

	if (!cfg)
		return TC_ACT_OK;
	VEPA_VARIANT_MARK(cfg);
	if (vepa_admit(skb, VEPA_TC, cfg, NULL, &f) != VEPA_ADMITTED)
		return TC_ACT_SHOT;

	if (vepa_is_group(f.dst)) {
		/* 802.1 link-local frames (LLDP, STP) are the host's, never flooded. */
		if (!vepa_is_link_local(f.dst))
			vepa_uplink_fanout(skb, &f);                    /* R3-R6, V4 */
		else
			vepa_monitor_forward(skb, VEPA_TC, &f, VEPA_RULE_R3, VEPA_ACT_HOST, 0, 0);
		vepa_count_host(f.len);
		return TC_ACT_OK;
	}

	to = vepa_mac_owner(f.dst, f.vid);                              /* V3 */
	if (!to) {
		if (vepa_is_reflected_probe(cfg, &f)) {                 /* our probe, reflected */
			vepa_count_probe();
			vepa_monitor_forward(skb, VEPA_TC, &f, VEPA_RULE_NONE, VEPA_ACT_PROBE, 0, 0);
			return TC_ACT_SHOT;
		}
		vepa_count_host(f.len);                                 /* R2 */
		vepa_monitor_forward(skb, VEPA_TC, &f, VEPA_RULE_R2, VEPA_ACT_HOST, 0, 0);
		return TC_ACT_OK;
	}
	if (vepa_private_blocks(cfg, &f, to))                           /* R7 */
		return vepa_drop(skb, VEPA_TC, &f, to->slot, VEPA_DROP_PRIVATE);
	return vepa_forward(skb, VEPA_TC, VEPA_SLOT_UPLINK, to, &f, VEPA_RULE_R1); /* R1 */
}

/* ---- ports -------------------------------------------------------------- */

SEC("xdp.frags")
int vepa_port_xdp(struct xdp_md *ctx)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port *port;
	const struct vepa_port_ref *to;
	struct vepa_port_ref up;
	struct vepa_frame f = { .prog = VEPA_PROG_PORT_XDP };

	if (!cfg)
		return XDP_PASS;
	VEPA_VARIANT_MARK(cfg);
	if (vepa_port_admit(ctx, VEPA_XDP, cfg, &port, &f) != VEPA_ADMITTED)
		return XDP_DROP;
	if (vepa_tagged_len(&f) > cfg->max_frame_len)                   /* GSO? TC knows (V7) */
		return XDP_PASS;
	if (vepa_bridge_group(port, f.dst))                             /* T4: TC clones */
		return XDP_PASS;
	to = vepa_bridge_peer(port, &f);
	if (to) {
		if (to->delivery != VEPA_DELIVER_XDP)                   /* T2 via TC */
			return XDP_PASS;
		return vepa_forward(ctx, VEPA_XDP, port->ref.slot, to, &f, VEPA_RULE_T2); /* T2 */
	}
	/* The uplink is in the devmap only when it takes XDP frames; else TC sends. */
	up = vepa_uplink_ref(cfg);
	return vepa_forward(ctx, VEPA_XDP, port->ref.slot, &up, &f, vepa_uplink_rule(port, &f)); /* T1, T3 */
}

SEC("tc")
int vepa_port_tc(struct __sk_buff *skb)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port *port;
	const struct vepa_port_ref *to;
	struct vepa_port_ref up;
	struct vepa_frame f = { .prog = VEPA_PROG_PORT_TC };
	__u16 sent;

	if (!cfg)
		return TC_ACT_OK;
	VEPA_VARIANT_MARK(cfg);
	if (vepa_port_admit(skb, VEPA_TC, cfg, &port, &f) != VEPA_ADMITTED)
		return TC_ACT_SHOT;

	if (vepa_bridge_group(port, f.dst)) {                           /* T4, V5 */
		if (!vepa_is_link_local(f.dst)) {
			sent = vepa_fanout(skb, &f, VEPA_MODE_BIT(VEPA_MODE_BRIDGE), port->ref.ifindex);
			vepa_monitor_forward(skb, VEPA_TC, &f, VEPA_RULE_T4, VEPA_ACT_FANOUT, sent, 0);
		}
	} else {
		to = vepa_bridge_peer(port, &f);
		if (to)
			return vepa_forward(skb, VEPA_TC, port->ref.slot, to, &f, VEPA_RULE_T2); /* T2 */
	}
	up = vepa_uplink_ref(cfg);
	return vepa_forward(skb, VEPA_TC, port->ref.slot, &up, &f, vepa_uplink_rule(port, &f)); /* T1, T3, T4 */
}

/* ---- xsk ports (not explained: every rule was applied on the way in) ------ */
#ifndef VEPA_EXPLAIN

/* An xsk port's frame with nowhere to go: counted and recorded (unparsed: MACs and length only). */
static __always_inline int vepa_xsk_drop(struct xdp_md *ctx, __u32 slot, __u32 reason)
{
	struct vepa_frame f = { .prog = VEPA_PROG_XSK_XDP, .slot = slot };
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	f.rx_len = bpf_xdp_get_buff_len(ctx);
	if ((void *)(eth + 1) <= (void *)(long)ctx->data_end) {
		vepa_mac_copy(f.dst, eth->h_dest);
		vepa_mac_copy(f.src, eth->h_source);
		f.proto = eth->h_proto;
	}
	return vepa_drop(ctx, VEPA_XDP, &f, slot, reason);
}

SEC("xdp")
int vepa_xsk_xdp(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	const struct vepa_xsk_port *x = bpf_map_lookup_elem(&VEPA_MAP(xskports), &ifindex);
	__u32 queue = ctx->rx_queue_index;
	__u32 key;

	if (!x)
		return vepa_xsk_drop(ctx, VEPA_SLOT_UPLINK, VEPA_DROP_NOT_A_PORT);
	VEPA_VARIANT_MARK(queue);
	key = x->first_slot + queue;
	/* No socket on this queue (none yet, or it closed): the port is down. */
	if (queue >= x->queues || !bpf_map_lookup_elem(&VEPA_MAP(xsks), &key))
		return vepa_xsk_drop(ctx, x->slot, VEPA_DROP_PORT_DOWN);
	return bpf_redirect_map(&VEPA_MAP(xsks), key, XDP_DROP);
}

/* Never attached: vepad runs it with BPF_PROG_TEST_RUN to see which slots hold a socket. */
SEC("xdp")
int vepa_xsk_query(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vepa_xsk_query *q = data;
	struct bpf_xdp_sock *xs;
	__u32 i, key;

	if ((void *)(q + 1) > data_end)
		return XDP_ABORTED;
	for (i = 0; i < VEPA_MAX_XSK_QUEUES; i++) {
		q->queue_plus1[i] = 0;
		if (i >= q->count)
			continue;
		key = q->first_slot + i;
		xs = bpf_map_lookup_elem(&VEPA_MAP(xsks), &key);
		if (xs)
			q->queue_plus1[i] = xs->queue_id + 1;
	}
	return XDP_PASS;
}
#endif /* !VEPA_EXPLAIN */
