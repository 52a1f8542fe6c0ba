#include "vepa/xsk.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <xdp/xsk.h>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <vector>

#include "vepa/control.hpp"
#include "vepa/control_client.hpp"

namespace vepa::xsk {

namespace proto = vepa::proto;

namespace {

[[noreturn]] void fail(int err, const std::string& what)
{
    throw std::system_error(err < 0 ? -err : err, std::generic_category(), what);
}

} // namespace

struct Socket::Impl {
    std::string ifname;
    uint32_t queue = 0;
    Options opt;
    void* area = MAP_FAILED;
    size_t area_size = 0;
    xsk_umem* umem = nullptr;
    xsk_socket* sock = nullptr;
    // libxdp 1.3.1 leaves parts of these uninitialised: value-initialised here.
    xsk_ring_prod fill{};
    xsk_ring_cons comp{};
    xsk_ring_cons rx{};
    xsk_ring_prod tx{};
    std::vector<uint64_t> free_tx; // frames free for transmission
    uint32_t tx_outstanding = 0;   // submitted, not yet completed
    Stats counted;

    ~Impl()
    {
        if (sock)
            xsk_socket__delete(sock);
        if (umem)
            xsk_umem__delete(umem);
        if (area != MAP_FAILED)
            ::munmap(area, area_size);
    }

    void refill(uint32_t n, const uint64_t* addrs)
    {
        uint32_t idx = 0;
        const uint32_t got = xsk_ring_prod__reserve(&fill, n, &idx);
        for (uint32_t i = 0; i < got; i++)
            *xsk_ring_prod__fill_addr(&fill, idx + i) = addrs[i];
        xsk_ring_prod__submit(&fill, got);
    }
};

Socket::Socket(const std::string& ifname, uint32_t queue, const Options& o) : d_(std::make_unique<Impl>())
{
    d_->ifname = ifname;
    d_->queue = queue;
    d_->opt = o;
    if (o.frames < 2 || (o.ring_size & (o.ring_size - 1)) || o.frame_size < 2048 || (o.frame_size & (o.frame_size - 1)))
        fail(EINVAL, "AF_XDP options: frames >= 2, ring_size and frame_size powers of two, frame_size >= 2048");
    d_->area_size = static_cast<size_t>(o.frames) * o.frame_size;
    d_->area = ::mmap(nullptr, d_->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (d_->area == MAP_FAILED)
        fail(errno, "mmap the AF_XDP UMEM (" + std::to_string(d_->area_size) + " bytes)");

    xsk_umem_config ucfg{};
    ucfg.fill_size = o.ring_size;
    ucfg.comp_size = o.ring_size;
    ucfg.frame_size = o.frame_size;
    ucfg.frame_headroom = 0;
    if (int err = xsk_umem__create(&d_->umem, d_->area, d_->area_size, &d_->fill, &d_->comp, &ucfg))
        fail(err, "create the AF_XDP UMEM");

    xsk_socket_config scfg{};
    scfg.rx_size = o.ring_size;
    scfg.tx_size = o.ring_size;
    scfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD; // the interface's XDP program is not ours
    scfg.bind_flags = static_cast<uint16_t>((o.zero_copy ? XDP_ZEROCOPY : XDP_COPY) | XDP_USE_NEED_WAKEUP);
    if (int err = xsk_socket__create(&d_->sock, ifname.c_str(), queue, d_->umem, &d_->rx, &d_->tx, &scfg))
        fail(err, "bind an AF_XDP socket to " + ifname + " queue " + std::to_string(queue) +
                      (o.zero_copy ? " in zero-copy mode (the driver may have none: veth and tap have not)" : ""));

    // Half the frames wait in the fill ring for received frames, half for sending.
    const uint32_t rx_frames = std::min(o.frames / 2, o.ring_size);
    std::vector<uint64_t> addrs;
    for (uint32_t i = 0; i < o.frames; i++)
        (i < rx_frames ? addrs : d_->free_tx).push_back(static_cast<uint64_t>(i) * o.frame_size);
    d_->refill(static_cast<uint32_t>(addrs.size()), addrs.data());
}

Socket::~Socket() = default;

int Socket::fd() const { return xsk_socket__fd(d_->sock); }
const std::string& Socket::ifname() const { return d_->ifname; }
uint32_t Socket::queue() const { return d_->queue; }

bool Socket::wait(int timeout_ms)
{
    if (xsk_cons_nb_avail(&d_->rx, 1) > 0)
        return true;
    pollfd p{fd(), POLLIN, 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        fail(errno, "poll the AF_XDP socket");
    return n > 0 && (p.revents & POLLIN);
}

size_t Socket::receive(const std::function<void(std::span<const uint8_t>)>& fn, size_t max)
{
    uint32_t idx = 0;
    const uint32_t n = xsk_ring_cons__peek(&d_->rx, static_cast<uint32_t>(max), &idx);
    if (n == 0) {
        // The kernel may wait for a wakeup to refill from the fill ring.
        if (xsk_ring_prod__needs_wakeup(&d_->fill))
            ::recvfrom(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
        return 0;
    }
    std::vector<uint64_t> back(n);
    for (uint32_t i = 0; i < n; i++) {
        const xdp_desc* desc = xsk_ring_cons__rx_desc(&d_->rx, idx + i);
        const auto* data = static_cast<const uint8_t*>(xsk_umem__get_data(d_->area, desc->addr));
        d_->counted.rx_packets++;
        d_->counted.rx_bytes += desc->len;
        fn(std::span<const uint8_t>(data, desc->len));
        back[i] = desc->addr;
    }
    xsk_ring_cons__release(&d_->rx, n);
    d_->refill(n, back.data());
    return n;
}

void Socket::complete()
{
    uint32_t idx = 0;
    const uint32_t n = xsk_ring_cons__peek(&d_->comp, d_->opt.ring_size, &idx);
    for (uint32_t i = 0; i < n; i++)
        d_->free_tx.push_back(*xsk_ring_cons__comp_addr(&d_->comp, idx + i));
    xsk_ring_cons__release(&d_->comp, n);
    d_->tx_outstanding -= std::min(n, d_->tx_outstanding);
}

size_t Socket::send(std::span<const std::span<const uint8_t>> frames)
{
    complete();
    const uint32_t want = static_cast<uint32_t>(std::min(frames.size(), d_->free_tx.size()));
    uint32_t idx = 0;
    const uint32_t n = want ? xsk_ring_prod__reserve(&d_->tx, want, &idx) : 0;
    for (uint32_t i = 0; i < n; i++) {
        const auto& f = frames[i];
        if (f.size() > d_->opt.frame_size)
            fail(EMSGSIZE, "a frame of " + std::to_string(f.size()) + " bytes does not fit a " +
                               std::to_string(d_->opt.frame_size) + "-byte UMEM frame");
        const uint64_t addr = d_->free_tx.back();
        d_->free_tx.pop_back();
        std::memcpy(xsk_umem__get_data(d_->area, addr), f.data(), f.size());
        xdp_desc* desc = xsk_ring_prod__tx_desc(&d_->tx, idx + i);
        desc->addr = addr;
        desc->len = static_cast<uint32_t>(f.size());
        d_->counted.tx_packets++;
        d_->counted.tx_bytes += f.size();
    }
    xsk_ring_prod__submit(&d_->tx, n);
    d_->tx_outstanding += n;
    // Copy mode transmits only when kicked.
    if (n && ::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN && errno != EBUSY &&
        errno != ENOBUFS && errno != ENETDOWN)
        fail(errno, "kick AF_XDP transmission on " + d_->ifname);
    return n;
}

uint32_t Socket::pending() const { return d_->tx_outstanding; }

bool Socket::flush(int timeout_ms)
{
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        complete();
        if (d_->tx_outstanding == 0)
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return false;
        ::sendto(fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
        ::usleep(200);
    }
}

Stats Socket::stats() const
{
    Stats s = d_->counted;
    xdp_statistics k{};
    socklen_t len = sizeof(k);
    if (::getsockopt(fd(), SOL_XDP, XDP_STATISTICS, &k, &len) == 0) {
        s.rx_dropped = k.rx_dropped;
        s.rx_invalid_descs = k.rx_invalid_descs;
        s.tx_invalid_descs = k.tx_invalid_descs;
        s.rx_ring_full = k.rx_ring_full;
        s.rx_fill_ring_empty = k.rx_fill_ring_empty_descs;
    }
    return s;
}

uint32_t attach_to_vepad(const Socket& s, const std::string& control_socket)
{
    const nlohmann::json req = {
        {"id", 1}, {"cmd", proto::kAttachXsk}, {"args", {{"name", s.ifname()}, {"queue", s.queue()}}}};
    nlohmann::json r;
    try {
        r = proto::call(proto::socket_path(control_socket), req, 10000, s.fd());
    } catch (const proto::ClientError& e) {
        throw std::runtime_error(std::string("attach-xsk: ") + e.what());
    }
    if (!r.is_object() || r.value("ok", false) != true) {
        const auto e = r.is_object() ? r.value("error", nlohmann::json::object()) : nlohmann::json::object();
        throw std::runtime_error("vepad refused the socket: " + e.value("message", std::string("?")) + " [" +
                                 e.value("code", std::string("?")) + "]");
    }
    return r["result"].value("xsk_slot", 0u);
}

} // namespace vepa::xsk
