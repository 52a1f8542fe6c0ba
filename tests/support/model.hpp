// An executable reading of docs/VEPA-SEMANTICS.md, written from the document
// and not from the BPF code: what must happen to a frame, and which counters
// that moves.  The randomized tests compare the programs against it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "lib/port_vlans.hpp"
#include "tests/support/frames.hpp"
#include "vepa/abi.h"

namespace vepa::test {

struct ModelPort {
    uint16_t slot = 0;
    uint32_t ifindex = 0;
    vepa_mode mode = VEPA_MODE_VEPA;
    bool src_check = true;
    std::vector<Mac> macs;
    // The longest copy the kernel lets a clone put into the device (a veth's
    // MTU + 14 + 4: is_skb_forwardable); 0: no limit (a tap).  A longer group
    // copy fails, and the dataplane counts it as clone_failed on the port.
    size_t clone_limit = 0;
    PortVlans vlans; // empty: untagged frames only

    // Is mac this port's in VLAN vid, by its own (vid, MAC) entry of the MAC table?
    bool keyed(const Mac& mac, uint16_t vid) const;
};

struct Model {
    uint32_t uplink_ifindex = 0;
    uint32_t max_frame_len = 1518;
    std::optional<Mac> probe_dst; // vepad's reflection probe destination (not a port's)
    std::vector<ModelPort> ports;

    // The port owning m in VLAN vid (V3: (vid, m), else a trunk-all port's (any, m)).
    const ModelPort* owner(const Mac& m, uint16_t vid = VEPA_VID_UNTAGGED) const;
    const ModelPort* by_slot(uint16_t slot) const;
};

struct Outcome {
    std::optional<vepa_drop_reason> drop;
    uint16_t charged = 0;             // slot a drop counts on
    std::set<uint16_t> ports;         // slots that receive a copy
    std::map<uint16_t, Bytes> frames; // what each of them receives, as on the wire (V1-V5: tags on or off)
    Bytes uplink_frame;               // what the switch receives (V1: the port's untagged VLAN pushed)
    Bytes final_frame;                // the frame the TC program leaves in the skb (host copy, or to the uplink)
    bool retagged = false;      // TC pushed or popped a tag on the way (the skb then holds its outer tag as metadata)
    std::set<uint16_t> refused; // slots whose group copy the kernel refused (clone_failed)
    bool uplink = false;        // sent to the switch
    bool host = false;          // handed to the host stack
    bool probe = false;         // vepad's own reflection probe came back: counted, consumed
};

// A frame arriving from the switch (from_slot = VEPA_SLOT_UPLINK) or sent by
// the port in from_slot.  gso_size != 0 marks a GSO super-frame.
Outcome expect(const Model& m, uint16_t from_slot, const Bytes& frame, uint32_t gso_size = 0);

// Counter deltas an outcome implies, summed over CPUs, by slot.
std::map<uint16_t, vepa_counters> expected_counters(uint16_t from_slot, const Outcome& o, size_t len);

std::string describe(const Outcome& o);

// The wire VLAN of a frame (V rules): the outer C-tag's VID, 0 when untagged or
// priority-tagged, VEPA_VID_ANY for an outer S-tag.
uint16_t wire_vid(const Bytes& f);
Bytes push_tag(const Bytes& f, uint16_t tci, uint16_t tpid = kEthVlan);
Bytes pop_tag(const Bytes& f);
// What BPF_PROG_TEST_RUN shows of the TC program's frame: a tag TC pushed or
// moved lives in skb metadata, which the harness cannot see.
Bytes tc_data_out(const Bytes& in, const Outcome& o);

} // namespace vepa::test
