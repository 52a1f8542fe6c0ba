// The flood list: every present port, for group fan-out.  Published as a
// whole: the new list is written to a spare inner map and swapped into the
// outer array-of-maps, so no frame ever sees half a list.  The kernel swaps
// at once, then waits in the same update until every program that could still
// read the old list has finished (synchronize_rcu, milliseconds): the update
// runs on a thread of its own, and publish() returns once the programs see the
// new list, not after that wait.  The old inner map is written again only
// after it (the next publish waits for the previous one), and settle() waits
// for it before anything the old list names may go.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "lib/fd.hpp"
#include "vepa/abi.h"

namespace vepa {

class FloodList {
public:
    explicit FloodList(UniqueFd outer);
    ~FloodList();
    FloodList(const FloodList&) = delete;
    FloodList& operator=(const FloodList&) = delete;

    void publish(const std::vector<vepa_port_ref>& ports);
    // Returns once no program reads a list older than the last one published;
    // throws SysError when publishing it failed.
    void settle();
    // The list the programs see now (empty when none was ever published).
    std::vector<vepa_port_ref> current() const;

private:
    UniqueFd outer_;
    UniqueFd inner_[2];
    uint32_t inner_id_[2] = {};
    int next_ = 0;
    std::thread swap_;             // the last publish's update of the outer map, while it waits
    std::atomic<bool> swap_done_{false};
    int swap_err_ = 0;             // its errno
};

} // namespace vepa
