// A tap device's file descriptor, as QEMU holds it: frames the host sends into
// the tap are read here, frames written here are what the guest transmits.
#pragma once

#include <string>
#include <vector>

#include "lib/fd.hpp"
#include "tests/support/frames.hpp"

namespace vepa::test {

class TapFd {
public:
    // Attach to the tap called name, creating it if needed (non-blocking fd).
    explicit TapFd(const std::string& name);
    int fd() const { return fd_.get(); }
    // Every frame waiting now (non-blocking).
    std::vector<Bytes> drain();
    // Frames until timeout_ms passes with none arriving.
    std::vector<Bytes> collect(int timeout_ms);
    void send(const Bytes& frame);

private:
    UniqueFd fd_;
};

} // namespace vepa::test
