// vepactl trace's explain programs (bpf/explain.h) loaded over a Dataplane's
// maps: the dataplane's own rules, which record what they decide instead of
// counting, redirecting or cloning.  Running a frame through one of them reads
// the live maps and changes nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "lib/dataplane.hpp"
#include "vepa/abi.h"

struct vepa_explain_bpf;

namespace vepa {

struct Explanation {
    bool xdp = false;                  // an XDP program (else TC)
    int verdict = -1;                  // the program's return value (XDP_*, TC_ACT_*)
    std::vector<vepa_event> decisions; // as the program recorded them, in order
    uint32_t unkept = 0;               // decisions beyond VEPA_EXPLAIN_MAX_DECISIONS
    std::vector<uint16_t> copies;      // a group frame: the slots it is copied to, ascending
    std::vector<uint8_t> out;          // the frame as the program left it (TC: a pushed tag is metadata)
};

// What the decisions of one explanation did with the frame.
struct Decided {
    std::optional<vepa_drop_reason> drop;
    uint16_t charged = 0;     // the slot a drop counts on
    std::set<uint16_t> ports; // slots that get the frame (a redirect, or group copies)
    bool uplink = false;      // out to the switch
    bool host = false;        // to the host stack
    bool probe = false;       // vepad's own reflection probe, consumed
    bool passed = false;      // XDP decided nothing: the frame goes on to TC
};
Decided decided(const Explanation& e);

class Explainer {
public:
    // Load the explain programs over dp's maps (the verifier's time: once).
    explicit Explainer(const Dataplane& dp);
    ~Explainer();
    Explainer(const Explainer&) = delete;
    Explainer& operator=(const Explainer&) = delete;

    // Frame through program p (not XskXdp) as if it arrived on ifindex
    // (gso_size != 0, TC: a GSO super-frame).
    Explanation run(Program p, int ifindex, const std::vector<uint8_t>& frame, uint32_t gso_size = 0) const;

private:
    vepa_explain_bpf* skel_ = nullptr;
    int explain_fd_ = -1;
};

} // namespace vepa
