/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The maps of the dataplane.  The C names carry the layout version (macs_v2,
 * ...) because libbpf names each map after its variable; user space pins them
 * under the same names (VEPA_MAP_* in vepa/abi.h).
 */
#ifndef VEPA_BPF_MAPS_H
#define VEPA_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "vepa/abi.h"
#include "parse.h"

#define VEPA__PASTE(a, b) a##_v##b
#define VEPA__VNAME(a, b) VEPA__PASTE(a, b)
#define VEPA_MAP(base) VEPA__VNAME(base, VEPA_LAYOUT_VERSION)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEPA_MAX_MACS);
	__type(key, struct vepa_mac_key);
	__type(value, struct vepa_port_ref);
} VEPA_MAP(macs) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEPA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vepa_port);
} VEPA_MAP(ports) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VEPA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vepa_counters);
} VEPA_MAP(stats) SEC(".maps");

/*
 * XDP redirect targets: ports delivered by XDP, and the uplink when it takes XDP
 * frames.  (The kernel adds BPF_F_RDONLY_PROG to a devmap's flags, so libbpf's own
 * pin reuse would call it incompatible: lib/dataplane.cpp reuses pins itself.)
 */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, VEPA_MAX_PORTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} VEPA_MAP(devs) SEC(".maps");

/*
 * One list of present ports, swapped as a whole so no reader sees half of one.
 * Sized, not typed: clang emits only a forward declaration for a type reached
 * through an inner-map template, which libbpf cannot size.
 */
struct vepa_flood_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct vepa_flood_list));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct vepa_flood_inner);
} VEPA_MAP(flood) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vepa_config);
} VEPA_MAP(config) SEC(".maps");

/* AF_XDP sockets of xsk ports, inserted by vepad (fd handed over) or by QEMU (map-path). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VEPA_MAX_XSK_SLOTS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} VEPA_MAP(xsks) SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEPA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vepa_xsk_port);
} VEPA_MAP(xskports) SEC(".maps");

/* Tagged VLANs of ports with VEPA_VLAN_F_TRUNK, by counters slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VEPA_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct vepa_vlan_set);
} VEPA_MAP(vlans) SEC(".maps");

/*
 * The uplink receive-filter entries (FDB self entries) vepad made: user space's
 * record, pinned so that it outlives a crash as the entries do.  No program uses it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VEPA_MAX_RX_MACS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* sized for every MAC; memory only for those recorded */
	__type(key, struct vepa_mac_key);
	__type(value, __u32);
} VEPA_MAP(rxrecord) SEC(".maps");

/* Decision records for vepactl monitor (struct vepa_event), read by vepad. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, VEPA_EVENTS_BYTES);
} VEPA_MAP(events) SEC(".maps");

/* Whether and what to record: vepad sets it while a client monitors. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vepa_monitor);
} VEPA_MAP(monitor) SEC(".maps");

/* The rate cap's token bucket, the sample counter and records lost, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vepa_monitor_state);
} VEPA_MAP(monstate) SEC(".maps");

#ifdef VEPA_EXPLAIN
/* The explain programs' output (struct vepa_explanation): their own, never pinned. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vepa_explanation);
} VEPA_MAP(explain) SEC(".maps");
#endif

/* The port owning a MAC: the rules' lookup (rules.h), and the decision records' reflected flag (monitor.h). */
static __always_inline const struct vepa_port_ref *vepa_mac_lookup(const __u8 *mac, __u16 vid)
{
	struct vepa_mac_key key = { .vid = vid };

	vepa_mac_copy(key.addr, mac);
	return bpf_map_lookup_elem(&VEPA_MAP(macs), &key);
}

/*
 * The port owning mac in VLAN vid (V3): its (vid, MAC) entry, else for a
 * tagged VLAN the (VEPA_VID_ANY, MAC) entry of a trunk-all port.  Untagged
 * frames pay one lookup, as before VLANs.
 */
static __always_inline const struct vepa_port_ref *vepa_mac_owner(const __u8 *mac, __u16 vid)
{
	const struct vepa_port_ref *ref = vepa_mac_lookup(mac, vid);

	if (!ref && vid != VEPA_VID_UNTAGGED && vid != VEPA_VID_ANY)
		ref = vepa_mac_lookup(mac, VEPA_VID_ANY);
	return ref;
}

#endif /* VEPA_BPF_MAPS_H */
