/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * vepa/abi.h - the contract between vepad's BPF programs and user space.
 *
 * Plain C, no BPF helpers: included by bpf/vepa.bpf.c, by the C++ library and
 * by anyone who wants to read the pinned maps.  Every struct here is a map key
 * or value; their layout is versioned by VEPA_LAYOUT_VERSION, which is also part
 * of every pinned map's file name, so a daemon with a different layout finds
 * no map of its own version instead of misreading another one.
 */
#ifndef VEPA_ABI_H
#define VEPA_ABI_H

#include <linux/types.h>

/*
 * Bump on any change to a struct below, a map's type, key, value or size.
 * Adding a map does not need a bump: a newer vepad creates it beside the
 * pins it adopts, an older one never opens it.
 */
#define VEPA_LAYOUT_VERSION 3

/* Map names: BPF object names (15 characters at most) and pin file names. */
#define VEPA__STR(x) #x
#define VEPA__XSTR(x) VEPA__STR(x)
#define VEPA_MAP_NAME(base) #base "_v" VEPA__XSTR(VEPA_LAYOUT_VERSION)
#define VEPA_MAP_MACS VEPA_MAP_NAME(macs)       /* hash: MAC -> owning port */
#define VEPA_MAP_PORTS VEPA_MAP_NAME(ports)     /* hash: port ifindex -> port record */
#define VEPA_MAP_STATS VEPA_MAP_NAME(stats)     /* per-CPU array: slot -> counters */
#define VEPA_MAP_DEVS VEPA_MAP_NAME(devs)       /* devmap hash: ifindex -> ifindex (XDP targets) */
#define VEPA_MAP_FLOOD VEPA_MAP_NAME(flood)     /* array of maps: [0] -> current port list */
#define VEPA_MAP_CONFIG VEPA_MAP_NAME(config)   /* array: [0] -> struct vepa_config */
#define VEPA_MAP_XSKS VEPA_MAP_NAME(xsks)       /* xskmap: slot -> AF_XDP socket of an xsk port's queue */
#define VEPA_MAP_XSKPORTS VEPA_MAP_NAME(xskports) /* hash: socket device ifindex -> struct vepa_xsk_port */
#define VEPA_MAP_VLANS VEPA_MAP_NAME(vlans)     /* array: port slot -> struct vepa_vlan_set (tagged VIDs) */
#define VEPA_MAP_RXMACS VEPA_MAP_NAME(rxrecord) /* hash: MAC (vid 0) -> uplink ifindex: the uplink FDB
                                                   entries vepad made (user space only) */
#define VEPA_MAP_RXMACS_OLD VEPA_MAP_NAME(rxmacs) /* its 8192-record predecessor: read once, then unpinned */
#define VEPA_MAP_EVENTS VEPA_MAP_NAME(events)   /* ring buffer of decision records: struct vepa_event[_with_payload] */
#define VEPA_MAP_MONITOR VEPA_MAP_NAME(monitor) /* array: [0] -> struct vepa_monitor (0: monitoring off) */
#define VEPA_MAP_MONSTATE VEPA_MAP_NAME(monstate) /* per-CPU array: [0] -> struct vepa_monitor_state */
#define VEPA_MAP_EXPLAIN VEPA_MAP_NAME(explain)   /* the explain programs' own array, never pinned:
                                                     [0] -> struct vepa_explanation */

/* Sizes. Slot 0 of the counters is the uplink; ports use slots 1..MAX_PORTS-1. */
#define VEPA_MAX_PORTS 4096
#define VEPA_MAX_MACS 131072
#define VEPA_MAX_PORT_MACS 256   /* MACs one port may own (all of them are in the MAC table) */
#define VEPA_PORT_FAST_MACS 4    /* the first ones, kept in the port record for anti-spoofing */
#define VEPA_SLOT_UPLINK 0
#define VEPA_MAX_VLAN_DEPTH 2
#define VEPA_MAX_XSK_SLOTS 4096  /* XSKMAP entries: one per queue of every xsk port */
#define VEPA_MAX_XSK_QUEUES 64   /* queues of one xsk port */
#define VEPA_MAX_RX_MACS (VEPA_MAX_MACS + 64) /* uplink receive-filter records: every MAC, the probe, flags */
#define VEPA_EVENTS_BYTES (256 * 1024) /* the decision ring buffer */

/*
 * VLAN ids in MAC keys and port records (docs/VEPA-SEMANTICS.md, V rules).
 * VID 0 = untagged.  A port in every VLAN (trunk all) has its MACs keyed by
 * VEPA_VID_ANY as well, looked up when (vid, MAC) misses.
 */
#define VEPA_VID_UNTAGGED 0
#define VEPA_VID_MAX 4094
#define VEPA_VID_ANY 4095

/*
 * Reflection probe (does the switch hairpin?): vepad sends a frame of this
 * ethertype (IEEE 802 Local Experimental 1) out of the uplink to
 * vepa_config.probe_dst, a locally administered MAC no port owns.  Only a switch
 * that reflects sends it back; the uplink program counts it in probe_packets of
 * slot 0 and consumes it.
 */
#define VEPA_PROBE_ETHERTYPE 0x88B5

/* Port modes, as in macvlan (see docs/VEPA-SEMANTICS.md). */
enum vepa_mode {
	VEPA_MODE_VEPA = 0,
	VEPA_MODE_PRIVATE = 1,
	VEPA_MODE_BRIDGE = 2,
	VEPA_MODE__MAX,
};

/*
 * How a frame is delivered into a port.  Chosen per port by the control plane
 * from what the device can take (its XDP features), never by the BPF side.
 */
enum vepa_delivery {
	VEPA_DELIVER_XDP = 0,     /* devmap redirect from XDP (tap; veth whose peer has NAPI) */
	VEPA_DELIVER_TC_PEER = 1, /* bpf_redirect_peer from TC ingress (veth, peer in another netns) */
	VEPA_DELIVER_TC = 2,      /* bpf_redirect from TC to the device's egress */
	VEPA_DELIVER_DOWN = 3,    /* the port's link is down: drop and count */
	VEPA_DELIVER__MAX,
};

/* VLAN flags of a port (struct vepa_port_ref.vflags). */
#define VEPA_VLAN_F_TRUNK (1U << 0)     /* some VIDs pass tagged: see the vlans map at the port's slot */
#define VEPA_VLAN_F_TRUNK_ALL (1U << 1) /* every VID passes tagged */

/* Port flags (struct vepa_port.flags). */
#define VEPA_PORT_F_NO_SRC_CHECK (1U << 0) /* anti-spoofing (T5) off for this port */

/* Config flags (struct vepa_config.flags), derived by the control plane. */
#define VEPA_CFG_F_HAVE_PRIVATE (1U << 0) /* some port is private: R7 needs the source lookup */
/*
 * Some port has VLAN settings: the uplink's XDP program passes every frame to
 * TC, because XDP cannot see an outer tag kept as skb metadata (a NIC's rx VLAN
 * offload, a veth frame from a bridge), which would make a tagged frame look
 * untagged.  TC reads the metadata tag.
 */
#define VEPA_CFG_F_VLANS (1U << 1)

/* Why a frame was dropped.  Every XDP_DROP/TC_ACT_SHOT counts exactly one. */
enum vepa_drop_reason {
	VEPA_DROP_TRUNCATED = 0,  /* shorter than its Ethernet/VLAN headers */
	VEPA_DROP_NO_PAYLOAD,     /* headers (VLAN tags included) and nothing after them */
	VEPA_DROP_VLAN_DEPTH,     /* more than VEPA_MAX_VLAN_DEPTH stacked VLAN tags */
	VEPA_DROP_OVERSIZE,       /* longer than the uplink MTU allows (non-GSO) */
	VEPA_DROP_BAD_SRC,        /* group or all-zero source MAC */
	VEPA_DROP_PAUSE,          /* MAC control (ethertype 0x8808): never forwarded (T6) */
	VEPA_DROP_SPOOFED,        /* source MAC is not one of the sending port's (T5) */
	VEPA_DROP_PRIVATE,        /* unicast between a private port and another local port (R7) */
	VEPA_DROP_NOT_A_PORT,     /* frame on a device with no port record */
	VEPA_DROP_NO_UPLINK,      /* the uplink is absent: nowhere to send */
	VEPA_DROP_CLONE_FAILED,   /* bpf_clone_redirect to a port failed */
	VEPA_DROP_PORT_DOWN,      /* unicast for a port whose link is down */
	VEPA_DROP_VLAN,           /* a port's frame in a VLAN the port is not in (V2) */
	VEPA_DROP__MAX,
};

/* Key of the MAC table: a MAC within a VLAN (vid 0 = untagged, VEPA_VID_ANY). */
struct vepa_mac_key {
	__u8 addr[6];
	__u16 vid;
};

/*
 * A reference to a present port: the value of the MAC table and an entry of
 * the flood list.  Carries everything the per-packet path needs, so a lookup
 * by MAC needs no second lookup of the port record.
 */
struct vepa_port_ref {
	__u32 ifindex;
	__u16 slot;    /* index into the counters */
	__u8 mode;     /* enum vepa_mode */
	__u8 delivery; /* enum vepa_delivery */
	__u16 vid;     /* untagged VLAN: pushed on the port's untagged frames, popped toward it; 0: none */
	__u16 vflags;  /* VEPA_VLAN_F_* */
};

/* The tagged VLANs of a port (VEPA_VLAN_F_TRUNK): bit v of the set is VID v. */
struct vepa_vlan_set {
	__u64 bits[64];
};

/*
 * The port record, keyed by the port's ifindex (__u32).  A port with up to
 * VEPA_PORT_FAST_MACS MACs has them all here, and anti-spoofing compares them in
 * place; one with more is checked against the MAC table (owner == this port).
 */
struct vepa_port {
	struct vepa_port_ref ref;
	__u32 flags;   /* VEPA_PORT_F_* */
	__u32 n_macs;  /* MACs the port owns; the first min(n_macs, VEPA_PORT_FAST_MACS) are in macs[] */
	struct vepa_mac_key macs[VEPA_PORT_FAST_MACS];
};

/* The flood list: every present port, replaced as a whole by the control plane. */
struct vepa_flood_list {
	__u32 count;
	__u32 pad;
	struct vepa_port_ref ports[VEPA_MAX_PORTS];
};

/*
 * An xsk port (AF_XDP sockets as a port): vepad creates a veth pair; its
 * vepa-side end is an ordinary port (record, MACs, counters), and its other
 * end, the socket device the sockets bind to, runs vepa_xsk_xdp, which hands
 * every frame arriving on queue q to XSKMAP slot first_slot + q.  Keyed by
 * the socket device's ifindex (__u32).
 */
struct vepa_xsk_port {
	__u32 first_slot;  /* first XSKMAP slot of the port */
	__u16 queues;      /* slots first_slot .. first_slot + queues - 1 */
	__u16 slot;        /* the port's counters slot (drops when no socket is there) */
};

/*
 * Which XSKMAP slots hold a socket: user space cannot look into an XSKMAP, so
 * vepad runs vepa_xsk_query (BPF_PROG_TEST_RUN, never attached) on this struct
 * as packet data; it fills queue_plus1[i] with the bound queue + 1 of the
 * socket in slot first_slot + i, 0 when the slot is empty.
 */
struct vepa_xsk_query {
	__u32 first_slot;
	__u32 count;       /* at most VEPA_MAX_XSK_QUEUES */
	__u32 queue_plus1[VEPA_MAX_XSK_QUEUES];
};

/* Global configuration: element 0 of the config map. */
struct vepa_config {
	__u32 layout_version;  /* VEPA_LAYOUT_VERSION of whoever wrote it */
	__u32 uplink_ifindex;  /* 0 while the uplink is absent */
	__u32 max_frame_len;   /* longest non-GSO frame forwarded, headers included */
	__u32 flags;           /* VEPA_CFG_F_* */
	struct vepa_mac_key probe_dst; /* destination of vepad's reflection probe; zero: none */
};

/*
 * Per-slot counters (per CPU).  For a port: rx = frames the port sent (from
 * its VM), tx = frames delivered into it, as on the port's own interface.
 * For the uplink (slot 0): rx = frames from the switch, tx = frames sent to
 * the switch, host = frames handed to the host stack, probe = vepad's own
 * reflection probes that the switch sent back (consumed, not in rx).  A frame
 * a program drops counts in drops[reason] of the slot it was charged to.
 */
struct vepa_counters {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u64 host_packets;
	__u64 host_bytes;
	__u64 probe_packets;
	__u64 drops[VEPA_DROP__MAX];
};

/* ---- decision records (vepactl monitor) ------------------------------------ */

/* The program that decided (struct vepa_event.prog). */
enum vepa_prog {
	VEPA_PROG_UPLINK_XDP = 0,
	VEPA_PROG_UPLINK_TC,
	VEPA_PROG_PORT_XDP,
	VEPA_PROG_PORT_TC,
	VEPA_PROG_XSK_XDP,
	VEPA_PROG__MAX,
};

/* The rule of docs/VEPA-SEMANTICS.md that decided (struct vepa_event.rule). */
enum vepa_rule {
	VEPA_RULE_NONE = 0, /* no rule: a port down, no uplink, not a port, a clone that failed */
	VEPA_RULE_T1, VEPA_RULE_T2, VEPA_RULE_T3, VEPA_RULE_T4, VEPA_RULE_T5, VEPA_RULE_T6,
	VEPA_RULE_R1, VEPA_RULE_R2, VEPA_RULE_R3, VEPA_RULE_R4, VEPA_RULE_R5, VEPA_RULE_R6, VEPA_RULE_R7,
	VEPA_RULE_M1, VEPA_RULE_M2, VEPA_RULE_M3, VEPA_RULE_M4, VEPA_RULE_M5,
	VEPA_RULE_V1, VEPA_RULE_V2, VEPA_RULE_V3, VEPA_RULE_V4, VEPA_RULE_V5, VEPA_RULE_V6, VEPA_RULE_V7,
	VEPA_RULE__MAX,
};

/* What became of the frame (struct vepa_event.action). */
enum vepa_action {
	VEPA_ACT_DROP = 0,
	VEPA_ACT_REDIRECT,      /* XDP devmap redirect, or TC bpf_redirect: egress is the target's slot */
	VEPA_ACT_REDIRECT_PEER, /* TC bpf_redirect_peer into a veth's guest end */
	VEPA_ACT_HOST,          /* to the host stack (R2) */
	VEPA_ACT_FANOUT,        /* group copies: egress is the number of copies sent */
	VEPA_ACT_PROBE,         /* vepad's reflection probe came back: counted and consumed */
	VEPA_ACT__MAX,
};

/* struct vepa_event.flags */
#define VEPA_EV_F_GROUP (1U << 0)     /* group destination */
#define VEPA_EV_F_REFLECTED (1U << 1) /* from the uplink with a local port's source MAC: the switch sent it back */
#define VEPA_EV_F_GSO (1U << 2)       /* a GSO super-frame (TC) */
#define VEPA_EV_F_HOST (1U << 3)      /* fan-out: the host stack gets the frame too */

/*
 * One decision, as a program took it: a fixed-size record in the events ring
 * buffer.  Drops are recorded when VEPA_MON_F_DROPS is set, forwarding
 * decisions (one in vepa_monitor.sample) when VEPA_MON_F_FORWARD is.
 */
struct vepa_event {
	__u64 time_ns;  /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 ifindex;  /* the device the frame arrived on */
	__u32 len;      /* the frame's length as it came */
	__u16 cpu;
	__u16 slot;     /* the sender's counters slot (VEPA_SLOT_UPLINK for the uplink) */
	__u16 egress;   /* drop: the slot charged; redirect: the target's slot; fan-out: copies */
	__u16 vid;      /* the frame's VLAN on the uplink side (0: untagged) */
	__u8 prog;      /* enum vepa_prog */
	__u8 rule;      /* enum vepa_rule */
	__u8 action;    /* enum vepa_action */
	__u8 reason;    /* enum vepa_drop_reason (action drop) */
	__u16 flags;    /* VEPA_EV_F_* */
	__u16 proto;    /* innermost ethertype, host order; 0 when the frame ended first */
	__u8 dst[6];
	__u8 src[6];
	__u32 pad;
};

/*
 * What the explain programs (vepactl trace) decided for one frame: element 0 of
 * their explanation map, zeroed by vepad before each BPF_PROG_TEST_RUN.  The
 * explain programs are the dataplane's programs built with VEPA_EXPLAIN: the
 * same rules over the same (live) maps, but instead of counting, redirecting
 * and cloning they write here every decision record they would have written
 * for vepactl monitor, and the slots a group frame would be copied to.
 */
#define VEPA_EXPLAIN_MAX_DECISIONS 4
struct vepa_explanation {
	__u32 decisions;                                     /* decision records written (more are not kept) */
	__u32 pad;
	struct vepa_event decision[VEPA_EXPLAIN_MAX_DECISIONS];
	__u64 copies[VEPA_MAX_PORTS / 64];                   /* fan-out: bit s = a copy to slot s */
};

/*
 * The frame's first bytes, after its struct vepa_event in the same ring buffer
 * record when VEPA_MON_F_PAYLOAD is set (struct vepa_event_with_payload): a
 * reader tells the two kinds of record apart by their size.  The bytes are the
 * frame as it came on the wire, before the program changed it: its outer VLAN
 * tag included where the kernel keeps it in skb metadata (TC), a tag the
 * program pushed left out and one it popped put back.
 */
#define VEPA_PAYLOAD_BYTES 64
struct vepa_event_payload {
	__u16 len;     /* bytes of data captured: min(the frame's length as it came, VEPA_PAYLOAD_BYTES) */
	__u8 pad[6];
	__u8 data[VEPA_PAYLOAD_BYTES];
};

struct vepa_event_with_payload {
	struct vepa_event event;
	struct vepa_event_payload payload;
};

/* struct vepa_monitor.flags */
#define VEPA_MON_F_DROPS (1U << 0)   /* record every drop */
#define VEPA_MON_F_FORWARD (1U << 1) /* record one in `sample` forwarding decisions */
#define VEPA_MON_F_PAYLOAD (1U << 2) /* records carry the frame's first bytes (struct vepa_event_payload) */

/*
 * Monitoring, set by vepad while someone watches: element 0 of the monitor map.
 * All zero: off, and a program's only cost is the lookup of this element at
 * its decision points.  Records over the rate are not written and counted lost.
 */
struct vepa_monitor {
	__u32 flags;        /* VEPA_MON_F_* */
	__u32 sample;       /* forwarding decisions: one in sample (0, 1: every one) */
	__u64 cost_ns;      /* rate cap per CPU: a record costs cost_ns of credit (1e9 / events per s); 0: none */
};

/* Per-CPU state of monitoring (element 0 of the monstate map), kept by the programs. */
struct vepa_monitor_state {
	__u64 credit_ns;    /* token bucket: credit, at most one second's */
	__u64 last_ns;      /* when credit was last added */
	__u64 seen;         /* forwarding decisions seen while sampling */
	__u64 lost;         /* records not written: over the rate, or the ring buffer full */
};

#endif /* VEPA_ABI_H */
