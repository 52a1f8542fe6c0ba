// An AF_PACKET socket on one interface, in whatever namespace it was opened:
// a sink that sees what a guest (or the switch) would receive, and a way to
// send raw frames as that guest.
#pragma once

#include <string>
#include <vector>

#include "lib/fd.hpp"
#include "tests/support/frames.hpp"
#include "tests/support/netns.hpp"

namespace vepa::test {

class WireSocket {
public:
    // Open on ifname inside ns (nullptr: the current namespace).
    WireSocket(const std::string& ifname, const Netns* ns = nullptr);
    // Frames received (not those sent from this interface) until timeout_ms passes with none.
    std::vector<Bytes> collect(int timeout_ms);
    // Frames received now, without waiting.
    std::vector<Bytes> drain() { return collect(0); }
    void send(const Bytes& frame);
    const std::string& name() const { return name_; }

private:
    UniqueFd fd_;
    int ifindex_ = 0;
    std::string name_;
};

} // namespace vepa::test
