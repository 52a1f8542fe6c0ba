// vepa/xsk.hpp - an AF_XDP socket for a user-space network function or a VM
// attached to vepad, over libxdp's xsk API: one UMEM, one socket on one
// (interface, queue), no XDP program of its own (whoever owns the interface's
// XDP program - vepad, or the test - decides what it receives, through an
// XSKMAP).  Not thread-safe; one thread per socket.
#pragma once

#include <linux/if_xdp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace vepa::xsk {

struct Options {
    uint32_t frames = 4096;     // UMEM frames, shared between receive and transmit
    uint32_t frame_size = 2048; // bytes per frame: the longest frame it can receive or send
    uint32_t ring_size = 2048;  // descriptors per ring (fill, completion, RX, TX): a power of two
    bool zero_copy = false;     // XDP_ZEROCOPY (needs driver support; veth and tap have none)
};

// Counters of the socket, from the kernel (XDP_STATISTICS) and its own.
struct Stats {
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
    uint64_t rx_dropped = 0; // kernel: no room in the RX ring or the fill ring ran dry
    uint64_t rx_invalid_descs = 0, tx_invalid_descs = 0, rx_ring_full = 0, rx_fill_ring_empty = 0;
};

class Socket {
public:
    // Bind to ifname's queue.  Throws std::system_error naming what failed.
    Socket(const std::string& ifname, uint32_t queue, const Options& o = {});
    ~Socket();
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;

    int fd() const;
    const std::string& ifname() const;
    uint32_t queue() const;

    // Wait until frames can be received (or timeout_ms passes); true when some can.
    bool wait(int timeout_ms);
    // Up to max received frames, each handed to fn, then returned to the kernel.
    size_t receive(const std::function<void(std::span<const uint8_t>)>& fn, size_t max = 64);
    // Queue frames for transmission (as many as the TX ring and free frames allow)
    // and kick the kernel; returns how many were queued.
    size_t send(std::span<const std::span<const uint8_t>> frames);
    size_t send(std::span<const uint8_t> frame) { return send(std::span<const std::span<const uint8_t>>(&frame, 1)); }
    // Reclaim frames the kernel has transmitted (send() does it too).
    void complete();
    // Frames queued and not yet transmitted.
    uint32_t pending() const;
    // Kick and wait until every queued frame is transmitted (or timeout_ms passes); true when none is left.
    bool flush(int timeout_ms);

    Stats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

// Hand the socket to vepad as the socket of xsk port s.ifname()'s queue s.queue():
// vepa/control.hpp's attach-xsk over vepad's control socket (control_socket, or
// $VEPAD_SOCKET, or the default path), the descriptor passed with SCM_RIGHTS.
// vepad inserts it into the port's XSKMAP slot and keeps no copy: the port stays
// up while this socket is open.  Returns the XSKMAP slot; throws
// std::runtime_error with vepad's refusal (code and message) otherwise.
uint32_t attach_to_vepad(const Socket& s, const std::string& control_socket = "");

} // namespace vepa::xsk
