// The flood list: every present port, for group fan-out.  Published as a
// whole: the new list is written to a spare inner map and swapped into the
// outer array-of-maps; the kernel returns from that update only after every
// program that could still read the old list has finished, so no frame ever
// sees half a list and the old inner map is free for the next update.
#pragma once

#include <vector>

#include "lib/fd.hpp"
#include "vepa/abi.h"

namespace vepa {

class FloodList {
public:
    explicit FloodList(UniqueFd outer);
    void publish(const std::vector<vepa_port_ref>& ports);
    // The list the programs see now (empty when none was ever published).
    std::vector<vepa_port_ref> current() const;

private:
    UniqueFd outer_;
    UniqueFd inner_[2];
    int next_ = 0;
};

} // namespace vepa
