// One frame through a loaded BPF program with BPF_PROG_TEST_RUN, as if it
// arrived on a device: nothing is received or sent by the kernel (a program
// that clones does send its clones, and its map updates are real).
#pragma once

#include <cstdint>
#include <vector>

namespace vepa {

struct TestRun {
    int verdict = -1;
    std::vector<uint8_t> out; // the frame as the program left it
    uint32_t duration_ns = 0; // average per repetition
};

// An XDP program on a frame arriving on ifindex.
TestRun test_run_xdp(int prog_fd, int ifindex, const std::vector<uint8_t>& frame, uint32_t repeat = 1);

// A TC program on a frame arriving on ifindex; gso_size != 0: a GSO super-frame.
TestRun test_run_tc(int prog_fd, int ifindex, const std::vector<uint8_t>& frame, uint32_t gso_size = 0,
                    uint32_t repeat = 1);

} // namespace vepa
