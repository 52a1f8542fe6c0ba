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

/* Headers the TC programs read directly: Ethernet plus VLAN tags. */
#define VEPA_MAX_HDR_LEN (sizeof(struct ethhdr) + VEPA_MAX_VLAN_DEPTH * sizeof(struct vlan_tag) + 4)

/* ---- delivery helpers (TC) -------------------------------------------- */

/* Deliver a frame into a port from TC ingress. */
static __always_inline int vepa_tc_deliver(const struct vepa_port_ref *to, __u32 len)
{
	if (to->delivery == VEPA_DELIVER_DOWN) {
		vepa_count_drop(to->slot, VEPA_DROP_PORT_DOWN);
		return TC_ACT_SHOT;
	}
	vepa_count_tx(to->slot, len);
	if (to->delivery == VEPA_DELIVER_TC_PEER)
		return bpf_redirect_peer(to->ifindex, 0);
	return bpf_redirect(to->ifindex, 0);
}

struct vepa_fanout {
	struct __sk_buff *skb;
	const struct vepa_flood_list *list;
	__u32 modes;      /* VEPA_MODE_BIT()s of the receivers */
	__u32 exclude;    /* ifindex never copied to (the sender), 0 for none */
	__u32 len;
	__u32 charge;     /* slot charged when a copy fails */
};

static long vepa_fanout_one(__u32 i, void *data)
{
	struct vepa_fanout *fo = data;
	const struct vepa_port_ref *to;

	if (i >= VEPA_MAX_PORTS)
		return 1;
	to = &fo->list->ports[i];
	if (!(fo->modes & VEPA_MODE_BIT(to->mode)) || to->ifindex == fo->exclude)
		return 0;
	if (bpf_clone_redirect(fo->skb, to->ifindex, 0) == 0)
		vepa_count_tx(to->slot, fo->len);
	else
		vepa_count_drop(to->slot, VEPA_DROP_CLONE_FAILED);
	return 0;
}

/* A copy of the frame to every present port whose mode is in modes, except exclude. */
static __always_inline void vepa_fanout(struct __sk_buff *skb, __u32 modes, __u32 exclude,
					__u32 len)
{
	struct vepa_fanout fo = {
		.skb = skb, .modes = modes, .exclude = exclude, .len = len,
	};
	__u32 zero = 0;
	void *inner;

	if (!modes)
		return;
	inner = bpf_map_lookup_elem(&VEPA_MAP(flood), &zero);
	if (!inner)
		return;
	fo.list = bpf_map_lookup_elem(inner, &zero);
	if (!fo.list)
		return;
	bpf_loop(fo.list->count < VEPA_MAX_PORTS ? fo.list->count : VEPA_MAX_PORTS,
		 vepa_fanout_one, &fo, 0);
}

/* Parse a TC frame, pulling its headers into the linear part first when needed. */
static __always_inline int vepa_tc_parse(struct __sk_buff *skb, struct vepa_frame *f)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (data + VEPA_MAX_HDR_LEN > data_end && skb->len > data_end - data) {
		bpf_skb_pull_data(skb, skb->len < VEPA_MAX_HDR_LEN ? skb->len : VEPA_MAX_HDR_LEN);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	return vepa_parse(data, data_end, skb->len, skb->vlan_present ? 1 : 0, f);
}

/* ---- uplink ------------------------------------------------------------ */

SEC("xdp.frags")
int vepa_uplink_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port_ref *to;
	struct vepa_frame f = {};
	__u32 len = bpf_xdp_get_buff_len(ctx);
	int reason, ret;

	if (!cfg)
		return XDP_PASS;
	VEPA_VARIANT_MARK(len);
	reason = vepa_parse(data, data_end, len, 0, &f);
	if (reason >= 0) {
		vepa_count_drop(VEPA_SLOT_UPLINK, reason);
		return XDP_DROP;
	}
	if (f.proto == bpf_htons(ETH_P_PAUSE)) {                        /* T6 */
		vepa_count_drop(VEPA_SLOT_UPLINK, VEPA_DROP_PAUSE);
		return XDP_DROP;
	}
	/* Group frames need a host copy, long ones a GSO check: TC's. */
	if (vepa_is_group(f.dst) || len > cfg->max_frame_len)
		return XDP_PASS;
	to = vepa_mac_owner(f.dst);
	if (!to || to->delivery != VEPA_DELIVER_XDP)                    /* R2, or TC delivers */
		return XDP_PASS;
	if (vepa_private_blocks(cfg, f.src, to)) {                      /* R7 */
		vepa_count_drop(to->slot, VEPA_DROP_PRIVATE);
		return XDP_DROP;
	}
	ret = bpf_redirect_map(&VEPA_MAP(devs), to->ifindex, XDP_PASS); /* R1 */
	if (ret == XDP_REDIRECT) {
		vepa_count_rx(VEPA_SLOT_UPLINK, len);
		vepa_count_tx(to->slot, len);
	}
	return ret;
}

SEC("tc")
int vepa_uplink_tc(struct __sk_buff *skb)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port_ref *to, *from;
	struct vepa_frame f = {};
	int reason;

	if (!cfg)
		return TC_ACT_OK;
	VEPA_VARIANT_MARK(cfg);
	reason = vepa_tc_parse(skb, &f);
	if (reason < 0 && f.proto == bpf_htons(ETH_P_PAUSE))            /* T6 */
		reason = VEPA_DROP_PAUSE;
	if (reason < 0 && vepa_oversize(cfg, f.len, skb->gso_size))
		reason = VEPA_DROP_OVERSIZE;
	if (reason >= 0) {
		vepa_count_drop(VEPA_SLOT_UPLINK, reason);
		return TC_ACT_SHOT;
	}

	if (vepa_is_group(f.dst)) {
		/* 802.1 link-local frames (LLDP, STP) are the host's, never flooded. */
		if (!vepa_is_link_local(f.dst)) {
			from = vepa_mac_owner(f.src);
			vepa_fanout(skb, vepa_group_receivers(from),     /* R3-R6 */
				    from ? from->ifindex : 0, f.len);
		}
		vepa_count_host(f.len);
		return TC_ACT_OK;
	}

	to = vepa_mac_owner(f.dst);
	if (!to) {
		if (vepa_is_reflected_probe(cfg, &f)) {                 /* our probe, reflected */
			vepa_count_probe();
			return TC_ACT_SHOT;
		}
		vepa_count_host(f.len);                                 /* R2 */
		return TC_ACT_OK;
	}
	if (vepa_private_blocks(cfg, f.src, to)) {                      /* R7 */
		vepa_count_drop(to->slot, VEPA_DROP_PRIVATE);
		return TC_ACT_SHOT;
	}
	vepa_count_rx(VEPA_SLOT_UPLINK, f.len);
	return vepa_tc_deliver(to, f.len);                              /* R1 */
}

/* ---- ports -------------------------------------------------------------- */

SEC("xdp.frags")
int vepa_port_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port *port = vepa_port(ctx->ingress_ifindex);
	const struct vepa_port_ref *to;
	struct vepa_frame f = {};
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u32 target;
	int reason, ret;

	if (!cfg)
		return XDP_PASS;
	if (!port) {
		vepa_count_drop(VEPA_SLOT_UPLINK, VEPA_DROP_NOT_A_PORT);
		return XDP_DROP;
	}
	VEPA_VARIANT_MARK(len);
	reason = vepa_parse(data, data_end, len, 0, &f);
	if (reason < 0 && f.proto == bpf_htons(ETH_P_PAUSE))            /* T6 */
		reason = VEPA_DROP_PAUSE;
	if (reason < 0 && !vepa_src_allowed(port, f.src))               /* T5 */
		reason = VEPA_DROP_SPOOFED;
	if (reason >= 0) {
		vepa_count_drop(port->ref.slot, reason);
		return XDP_DROP;
	}
	if (len > cfg->max_frame_len)                                   /* GSO? TC knows */
		return XDP_PASS;

	target = cfg->uplink_ifindex;                                   /* T1, T3 */
	if (port->ref.mode == VEPA_MODE_BRIDGE) {
		if (vepa_is_group(f.dst))                               /* T4: TC clones */
			return XDP_PASS;
		to = vepa_mac_owner(f.dst);
		if (to && to->mode == VEPA_MODE_BRIDGE && to->ifindex != port->ref.ifindex) {
			if (to->delivery != VEPA_DELIVER_XDP)           /* T2 via TC */
				return XDP_PASS;
			ret = bpf_redirect_map(&VEPA_MAP(devs), to->ifindex, XDP_PASS); /* T2 */
			if (ret == XDP_REDIRECT) {
				vepa_count_rx(port->ref.slot, len);
				vepa_count_tx(to->slot, len);
			}
			return ret;
		}
	}
	/* The uplink is in the devmap only when it takes XDP frames; else TC sends. */
	ret = bpf_redirect_map(&VEPA_MAP(devs), target, XDP_PASS);
	if (ret == XDP_REDIRECT) {
		vepa_count_rx(port->ref.slot, len);
		vepa_count_tx(VEPA_SLOT_UPLINK, len);
	}
	return ret;
}

SEC("tc")
int vepa_port_tc(struct __sk_buff *skb)
{
	const struct vepa_config *cfg = vepa_config();
	const struct vepa_port *port = vepa_port(skb->ifindex);
	const struct vepa_port_ref *to;
	struct vepa_frame f = {};
	__u32 uplink;
	int reason;

	if (!cfg)
		return TC_ACT_OK;
	if (!port) {
		vepa_count_drop(VEPA_SLOT_UPLINK, VEPA_DROP_NOT_A_PORT);
		return TC_ACT_SHOT;
	}
	VEPA_VARIANT_MARK(port);
	reason = vepa_tc_parse(skb, &f);
	if (reason < 0 && f.proto == bpf_htons(ETH_P_PAUSE))            /* T6 */
		reason = VEPA_DROP_PAUSE;
	if (reason < 0 && !vepa_src_allowed(port, f.src))               /* T5 */
		reason = VEPA_DROP_SPOOFED;
	if (reason < 0 && vepa_oversize(cfg, f.len, skb->gso_size))
		reason = VEPA_DROP_OVERSIZE;
	uplink = cfg->uplink_ifindex;
	if (reason < 0 && !uplink)
		reason = VEPA_DROP_NO_UPLINK;
	if (reason >= 0) {
		vepa_count_drop(port->ref.slot, reason);
		return TC_ACT_SHOT;
	}

	if (port->ref.mode == VEPA_MODE_BRIDGE) {
		if (vepa_is_group(f.dst)) {                             /* T4 */
			if (!vepa_is_link_local(f.dst))
				vepa_fanout(skb, VEPA_MODE_BIT(VEPA_MODE_BRIDGE),
					    port->ref.ifindex, f.len);
		} else {
			to = vepa_mac_owner(f.dst);
			if (to && to->mode == VEPA_MODE_BRIDGE &&
			    to->ifindex != port->ref.ifindex) {         /* T2 */
				vepa_count_rx(port->ref.slot, f.len);
				return vepa_tc_deliver(to, f.len);
			}
		}
	}
	vepa_count_rx(port->ref.slot, f.len);                           /* T1, T3 */
	vepa_count_tx(VEPA_SLOT_UPLINK, f.len);
	return bpf_redirect(uplink, 0);
}

/* ---- xsk ports ------------------------------------------------------------ */

SEC("xdp")
int vepa_xsk_xdp(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex;
	const struct vepa_xsk_port *x = bpf_map_lookup_elem(&VEPA_MAP(xskports), &ifindex);
	__u32 queue = ctx->rx_queue_index;
	__u32 key;

	if (!x) {
		vepa_count_drop(VEPA_SLOT_UPLINK, VEPA_DROP_NOT_A_PORT);
		return XDP_DROP;
	}
	VEPA_VARIANT_MARK(queue);
	key = x->first_slot + queue;
	/* No socket on this queue (none yet, or it closed): the port is down. */
	if (queue >= x->queues || !bpf_map_lookup_elem(&VEPA_MAP(xsks), &key)) {
		vepa_count_drop(x->slot, VEPA_DROP_PORT_DOWN);
		return XDP_DROP;
	}
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
