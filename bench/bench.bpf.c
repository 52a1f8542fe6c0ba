// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Benchmark helpers, not part of vepad:
 *   bench_gen   XDP program run by BPF_PROG_TEST_RUN with live frames: rewrites
 *               the destination MAC from the targets map (round robin per CPU)
 *               and returns XDP_TX, out of the generator's veth.
 *   bench_sink  TC ingress on a VM end: counts the frame per ingress ifindex and
 *               drops it, as a guest's stack would consume it (an skb was built).
 *   bench_xdp_sink  XDP sink (an extra, labelled case only: it builds no skb and
 *               gives a veth NAPI, which a real container end lacks).
 *   bench_clone_flood  TC on the uplink: a group frame cloned to every port of
 *               flood_to, then to the host (the floor of TC flooding).
 *   bench_xsk   XDP: every frame to the AF_XDP socket bound to its receive
 *               queue (XSKMAP xsks), else to the stack: the AF_XDP tests' and
 *               the xsk path's LIMIT.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BENCH_MAX_TARGETS 256
#define BENCH_MAX_IFINDEX 4096

struct bench_mac {
	__u8 addr[6];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_MAX_TARGETS);
	__type(key, __u32);
	__type(value, struct bench_mac);
} targets SEC(".maps");

struct bench_gen_cfg {
	__u32 n_targets;
	__u32 set_src;          /* also rewrite the source MAC */
	struct bench_mac src;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_gen_cfg);
} gen_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_seq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_MAX_IFINDEX);
	__type(key, __u32);
	__type(value, __u64);
} sink_count SEC(".maps");

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *eth = data;
	__u32 zero = 0, idx;
	struct bench_gen_cfg *cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	__u64 *seq = bpf_map_lookup_elem(&gen_seq, &zero);
	struct bench_mac *m;

	if (!cfg || !seq || data + 14 > data_end || !cfg->n_targets)
		return XDP_ABORTED;
	idx = (__u32)(*seq % cfg->n_targets);
	(*seq)++;
	m = bpf_map_lookup_elem(&targets, &idx);
	if (!m)
		return XDP_ABORTED;
	__builtin_memcpy(eth, m->addr, 6);
	if (cfg->set_src)
		__builtin_memcpy(eth + 6, cfg->src.addr, 6);
	return XDP_TX;
}

static __always_inline void count(__u32 ifindex)
{
	__u32 key = ifindex % BENCH_MAX_IFINDEX;
	__u64 *c = bpf_map_lookup_elem(&sink_count, &key);

	if (c)
		(*c)++;
}

/* LIMIT for taps: the cheapest forwarding there is, every frame to one device. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} redirect_to SEC(".maps");

SEC("xdp")
int bench_redirect(struct xdp_md *ctx __attribute__((unused)))
{
	return bpf_redirect_map(&redirect_to, 0, XDP_DROP);
}

/*
 * The floor of forwarding by MAC over TC into containers: one hash lookup of
 * the destination (the key vepad's MAC map has: MAC and VLAN), then
 * bpf_redirect_peer.  No rule, no counter: what any TC forwarder pays.
 */
struct bench_mac_key {
	__u8 addr[6];
	__u16 vid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BENCH_MAX_TARGETS);
	__type(key, struct bench_mac_key);
	__type(value, __u32);
} peer_of SEC(".maps");

/* The ifindex peer_of gives a frame's destination MAC: 0 when none, -1 when the frame is too short. */
static __always_inline long target_of(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct bench_mac_key key = {};
	__u32 *ifindex;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(key.addr, eth->h_dest, 6);
	ifindex = bpf_map_lookup_elem(&peer_of, &key);
	return ifindex ? *ifindex : 0;
}

SEC("tc")
int bench_peer_fwd(struct __sk_buff *skb)
{
	long to = target_of((void *)(long)skb->data, (void *)(long)skb->data_end);

	if (to < 0)
		return TC_ACT_SHOT;
	return to ? bpf_redirect_peer(to, 0) : TC_ACT_OK;
}

/*
 * The floor of forwarding by MAC over XDP into taps (what vepad's tap path is
 * made of): the same lookup of the destination in peer_of, then
 * bpf_redirect_map into a devmap of the targets.  No rule, no counter.
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, BENCH_MAX_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} xdp_to SEC(".maps");

SEC("xdp")
int bench_xdp_fwd(struct xdp_md *ctx)
{
	long to = target_of((void *)(long)ctx->data, (void *)(long)ctx->data_end);

	if (to < 0)
		return XDP_DROP;
	return to ? bpf_redirect_map(&xdp_to, to, XDP_PASS) : XDP_PASS;
}

/* The outbound floor: every frame a container sends, to the uplink (bpf_redirect, egress). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tc_to SEC(".maps");

SEC("tc")
int bench_tc_redirect(struct __sk_buff *skb __attribute__((unused)))
{
	__u32 zero = 0, *to = bpf_map_lookup_elem(&tc_to, &zero);

	return to ? bpf_redirect(*to, 0) : TC_ACT_SHOT;
}

/*
 * The floor of flooding a group frame over TC: a copy to every port by
 * bpf_clone_redirect (out of each, to its peer), then the frame itself to the
 * host stack.  flood_to holds the count in slot 0 and the ports' ifindexes in
 * slots 1 to count.  No rule, no VLAN, no counter: what any TC flooder pays.
 */
#define BENCH_MAX_FLOOD 64

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BENCH_MAX_FLOOD + 1);
	__type(key, __u32);
	__type(value, __u32);
} flood_to SEC(".maps");

SEC("tc")
int bench_clone_flood(struct __sk_buff *skb)
{
	__u8 *dst = (__u8 *)(long)skb->data;
	__u32 zero = 0, *n = bpf_map_lookup_elem(&flood_to, &zero), *to;

	if ((void *)(dst + ETH_HLEN) > (void *)(long)skb->data_end)
		return TC_ACT_SHOT;
	if (!(dst[0] & 1) || !n)
		return TC_ACT_OK;
	/* The index stays in a register (the key is a copy): the verifier sees the bound. */
	for (__u32 i = 1, count = *n; i <= BENCH_MAX_FLOOD && i <= count; i++) {
		__u32 key = i;

		to = bpf_map_lookup_elem(&flood_to, &key);
		if (to)
			bpf_clone_redirect(skb, *to, 0);
	}
	return TC_ACT_OK;
}

SEC("tc")
int bench_sink(struct __sk_buff *skb)
{
	count(skb->ifindex);
	return TC_ACT_SHOT;
}

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

SEC("xdp")
int bench_xsk(struct xdp_md *ctx)
{
	return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
}

SEC("xdp")
int bench_xdp_sink(struct xdp_md *ctx)
{
	count(ctx->ingress_ifindex);
	return XDP_DROP;
}
