// Attaching vepad's programs: XDP through libxdp (so other XDP programs can
// share the device when the kernel allows libxdp's dispatcher), TC ingress at
// tcx (Linux 6.6+: the device's own BPF program array, no qdisc or classifier
// on the way) or, where the kernel has none, as a direct-action cls_bpf filter
// at a fixed handle and priority on clsact.  Attaching over an attachment of
// ours replaces it atomically.
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

enum class TcHook { Tcx, Clsact };

// BPF_TCX_INGRESS (Linux 6.6): Debian 12's uapi headers predate it; the
// attach type is a stable ABI number.
constexpr int kTcxIngressAttachType = 46;

// tcx when this kernel has it, else clsact (probed once).
TcHook tc_hook_available();

struct TcAttachment {
    uint32_t prog_id = 0;
    TcHook hook = TcHook::Tcx;
    bool both = false; // ours at tcx and a cls_bpf filter of ours left behind too
    bool operator==(const TcAttachment&) const = default;
};

// Attach (or atomically replace) our TC ingress program at hook; ours at the
// other hook goes once the new one is in place (tcx runs first and our
// verdict is final, so a device moving between them forwards throughout).
void tc_attach(int ifindex, int prog_fd, TcHook hook);

// Our TC ingress program, if any: tcx's when there is one there.
std::optional<TcAttachment> tc_query(int ifindex);

// Remove our TC programs (both hooks); false if there was none (or the device is gone).
bool tc_detach(int ifindex);

// Name of a loaded BPF program by id ("" when it is gone).
std::string prog_name(uint32_t prog_id);

// Send libxdp's and libbpf's diagnostics to fn (nullptr: silence them).
void set_bpf_log(void (*fn)(int level, const char* msg));

} // namespace vepa
