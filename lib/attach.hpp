// Attaching vepad's programs: XDP through libxdp (so other XDP programs can
// share the device when the kernel allows libxdp's dispatcher), TC as a
// direct-action cls_bpf filter at a fixed handle and priority on clsact ingress.
// Attaching over an attachment of ours replaces it atomically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lib/xdp_mode.hpp"

namespace vepa {

struct XdpAttachment {
    uint32_t prog_id = 0;
    XdpMode mode = XdpMode::Native; // Native or Generic
    bool legacy = true;             // alone on the device (no libxdp dispatcher)
};

// The TC filter vepad owns on each device.
constexpr uint32_t kTcHandle = 0x7e9a;
constexpr uint32_t kTcPriority = 1;

// Attach prog_fd (an XDP program named vepa_*) to ifindex.  An XDP program of
// ours already there is replaced without a window (XDP_FLAGS_REPLACE, or
// attach-then-detach under a dispatcher); a foreign one that is alone on the
// device is an error.  Auto tries native, then generic.
XdpAttachment xdp_attach(int ifindex, int prog_fd, XdpMode wanted);

// Our XDP program on ifindex, if any.
std::optional<XdpAttachment> xdp_query(int ifindex);

// Remove our XDP program(s) from ifindex; false if there was none.
bool xdp_detach(int ifindex);

// Attach (or atomically replace) our TC ingress filter.
void tc_attach(int ifindex, int prog_fd);

// Program id of our TC ingress filter, if any.
std::optional<uint32_t> tc_query(int ifindex);

// Remove our TC filter; false if there was none (or the device is gone).
bool tc_detach(int ifindex);

// Name of a loaded BPF program by id ("" when it is gone).
std::string prog_name(uint32_t prog_id);

// Send libxdp's and libbpf's diagnostics to fn (nullptr: silence them).
void set_bpf_log(void (*fn)(int level, const char* msg));

} // namespace vepa
