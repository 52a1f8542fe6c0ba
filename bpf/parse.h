/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* Ethernet/VLAN parsing and validation shared by the XDP and TC programs. */
#ifndef VEPA_BPF_PARSE_H
#define VEPA_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "vepa/abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif
#ifndef ETH_P_PAUSE
#define ETH_P_PAUSE 0x8808
#endif

/* A frame that passed every check so far (vepa_parse, vepa_admit): not a drop reason. */
#define VEPA_ADMITTED (-1)

struct vlan_tag {
	__be16 tci;
	__be16 encap_proto;
};

/* Headers the TC programs read directly: Ethernet plus VLAN tags. */
#define VEPA_MAX_HDR_LEN (sizeof(struct ethhdr) + VEPA_MAX_VLAN_DEPTH * sizeof(struct vlan_tag) + 4)

/*
 * What the programs need to know of a frame after validation.  VLAN words
 * (docs/VEPA-SEMANTICS.md, V rules): the frame's outer tag, when it has one,
 * is (tpid, tci); vid is its VLAN on the uplink side: the outer C-tag's VID (0:
 * untagged or priority-tagged), VEPA_VID_ANY for an outer S-tag.  A port's
 * frame gets the VLAN it leaves in (V1: the port's untagged VLAN, whose tag is
 * still to be pushed: tagged 0, tci = the VID).
 */
struct vepa_frame {
	__u8 dst[6];
	__u8 src[6];
	__be16 proto;   /* innermost ethertype (after VLAN tags) */
	__be16 tpid;    /* outer tag's TPID (0x8100, 0x88a8); 0: untagged */
	__u16 tci;      /* outer tag's TCI, host order */
	__u16 vid;      /* VLAN on the uplink side, 0 untagged */
	__u8 tagged;    /* the frame holds its VLAN's tag now (in data or skb metadata) */
	__u8 meta;      /* TC: the outer tag is in skb metadata, not in data */
	__u32 len;      /* whole frame as on the wire, all fragments, a metadata tag included */
	__u32 rx_len;   /* len as the frame came */
	__u16 slot;     /* the sender's counters slot, once known (decision records) */
	__u8 prog;      /* enum vepa_prog: the program looking at the frame (decision records) */
	__u8 retag;     /* 1: the program pushed or popped the outer tag (tagged says which): decision records' payload */
};

#define VEPA_VID_MASK 0x0fff

/* The VLAN of a frame with this outer tag (V rules: wire VLAN). */
static __always_inline __u16 vepa_wire_vid(__be16 tpid, __u16 tci)
{
	if (!tpid)
		return VEPA_VID_UNTAGGED;
	if (tpid == bpf_htons(ETH_P_8021AD))
		return VEPA_VID_ANY; /* an S-tag: trunk-all ports only */
	return tci & VEPA_VID_MASK;
}

/* Record the outer tag: a tag with VID 0 (priority tag) is no VLAN's tag. */
static __always_inline void vepa_set_outer(struct vepa_frame *f, __be16 tpid, __u16 tci)
{
	f->tpid = tpid;
	f->tci = tci;
	f->vid = vepa_wire_vid(tpid, tci);
	f->tagged = f->vid != VEPA_VID_UNTAGGED;
}

static __always_inline int vepa_is_vlan(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int vepa_is_group(const __u8 *mac)
{
	return mac[0] & 1;
}

static __always_inline int vepa_is_zero(const __u8 *mac)
{
	return !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

/* 01:80:c2:00:00:0X: IEEE 802.1 link-local group addresses (STP, LLDP, EVB, ...) */
static __always_inline int vepa_is_link_local(const __u8 *mac)
{
	return mac[0] == 0x01 && mac[1] == 0x80 && mac[2] == 0xc2 && mac[3] == 0 &&
	       mac[4] == 0 && (mac[5] & 0xf0) == 0;
}

/* Compare two MAC addresses (clang 14 turns __builtin_memcmp into a call). */
static __always_inline int vepa_mac_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] &&
	       a[4] == b[4] && a[5] == b[5];
}

static __always_inline void vepa_mac_copy(__u8 *dst, const __u8 *src)
{
	dst[0] = src[0]; dst[1] = src[1]; dst[2] = src[2];
	dst[3] = src[3]; dst[4] = src[4]; dst[5] = src[5];
}

/*
 * Where parsing has got to in the linear part of a frame, as in xdp-tools'
 * parsing_helpers.h: each vepa_pull_* sets *hdr to the header at the cursor
 * and moves the cursor past it, or returns -1 when the frame ends first.
 */
struct vepa_cursor {
	void *pos;
	void *end;
};

static __always_inline int vepa_pull_eth(struct vepa_cursor *c, struct ethhdr **hdr)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	*hdr = eth;
	return 0;
}

static __always_inline int vepa_pull_vlan(struct vepa_cursor *c, struct vlan_tag **hdr)
{
	struct vlan_tag *tag = c->pos;

	if ((void *)(tag + 1) > c->end)
		return -1;
	c->pos = tag + 1;
	*hdr = tag;
	return 0;
}

/*
 * Parse and validate the Ethernet header and up to VEPA_MAX_VLAN_DEPTH VLAN
 * tags in [data, data_end), the linear part of a frame of len bytes in all.
 * outside_tags: tags the stack already took out of the frame (an skb's
 * vlan_present: the receive path strips the outer tag before TC runs), which
 * count against the depth; the caller recorded that outer tag in f.  Returns VEPA_ADMITTED when the frame is well
 * formed, else the drop reason.  The length limit is not checked here: only
 * TC knows whether a long frame is GSO.
 */
static __always_inline int vepa_parse(void *data, void *data_end, __u32 len, __u32 outside_tags,
				      struct vepa_frame *f)
{
	struct vepa_cursor c = { .pos = data, .end = data_end };
	struct vlan_tag *tag;
	struct ethhdr *eth;
	__be16 proto;
	int i;

	f->len = len + outside_tags * sizeof(*tag);
	f->rx_len = f->len;
	if (vepa_pull_eth(&c, &eth) < 0)
		return VEPA_DROP_TRUNCATED;
	vepa_mac_copy(f->dst, eth->h_dest);
	vepa_mac_copy(f->src, eth->h_source);
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < VEPA_MAX_VLAN_DEPTH && vepa_is_vlan(proto); i++) {
		if (vepa_pull_vlan(&c, &tag) < 0)
			return VEPA_DROP_TRUNCATED;
		if (i == 0 && !outside_tags)
			vepa_set_outer(f, proto, bpf_ntohs(tag->tci));
		proto = tag->encap_proto;
	}
	if (vepa_is_vlan(proto) || i + outside_tags > VEPA_MAX_VLAN_DEPTH)
		return VEPA_DROP_VLAN_DEPTH;
	/* From the tag count: the verifier lets only CAP_PERFMON programs subtract pointers. */
	if (len <= sizeof(*eth) + i * sizeof(*tag))
		return VEPA_DROP_NO_PAYLOAD;
	f->proto = proto;
	if (vepa_is_group(eth->h_source) || vepa_is_zero(eth->h_source))
		return VEPA_DROP_BAD_SRC;
	return VEPA_ADMITTED;
}

/*
 * One rule, two contexts.  A helper that serves XDP and TC programs alike
 * takes the program's context as void * and its kind as a constant, which
 * inlining folds away: one object holds both kinds of programs, so a type
 * chosen at build time (one object per context) cannot do it.
 */
enum vepa_hook {
	VEPA_XDP,       /* ctx is a struct xdp_md */
	VEPA_TC,        /* ctx is a struct __sk_buff (TC ingress) */
};

/* The device the frame arrived on. */
static __always_inline __u32 vepa_ctx_ifindex(void *ctx, const enum vepa_hook hook)
{
	if (hook == VEPA_XDP)
		return ((struct xdp_md *)ctx)->ingress_ifindex;
	return ((struct __sk_buff *)ctx)->ifindex;
}

/*
 * vepa_parse on the program's frame.  An skb's headers may lie past its
 * linear part: they are pulled into it first.  (An XDP frame's are in the
 * first buffer or nowhere: vepa_parse calls that truncated.)
 */
static __always_inline int vepa_ctx_parse(void *ctx, const enum vepa_hook hook, struct vepa_frame *f)
{
	struct xdp_md *xdp = ctx;
	struct __sk_buff *skb = ctx;
	void *data, *data_end;

	if (hook == VEPA_XDP)
		return vepa_parse((void *)(long)xdp->data, (void *)(long)xdp->data_end,
				  bpf_xdp_get_buff_len(xdp), 0, f);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data + VEPA_MAX_HDR_LEN > data_end && skb->len > data_end - data) {
		bpf_skb_pull_data(skb, skb->len < VEPA_MAX_HDR_LEN ? skb->len : VEPA_MAX_HDR_LEN);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	if (skb->vlan_present) {
		vepa_set_outer(f, skb->vlan_proto, skb->vlan_tci);
		f->meta = 1;
	}
	return vepa_parse(data, data_end, skb->len, f->meta, f);
}

#endif /* VEPA_BPF_PARSE_H */
