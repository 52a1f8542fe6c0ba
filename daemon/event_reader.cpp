#include "daemon/event_reader.hpp"
#include "daemon/when_readable.hpp"

#include <bpf/libbpf.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "lib/error.hpp"

namespace vepad {

// The payload record is the plain one followed by the payload block, no padding between.
static_assert(sizeof(vepa_event_with_payload) == sizeof(vepa_event) + sizeof(vepa_event_payload));

EventReader::EventReader(boost::asio::io_context& io, int ringbuf_fd, OnEvent on_event,
                         std::function<void()> batch_done)
    : sd_(io), on_event_(std::move(on_event)), batch_done_(std::move(batch_done))
{
    rb_ = ring_buffer__new(ringbuf_fd, on_sample, this, nullptr);
    if (!rb_)
        throw vepa::SysError(errno, "ring buffer of decision events");
    // The descriptor stays libbpf's: Asio gets a duplicate of it.
    const int fd = ::dup(ring_buffer__epoll_fd(rb_));
    if (fd < 0) {
        ring_buffer__free(rb_);
        throw vepa::SysError(errno, "dup of the ring buffer's epoll fd");
    }
    sd_.assign(fd);
    wait();
}

EventReader::~EventReader()
{
    boost::system::error_code ec;
    sd_.close(ec);
    ring_buffer__free(rb_);
}

int EventReader::on_sample(void* ctx, void* data, size_t size)
{
    auto* self = static_cast<EventReader*>(ctx);
    vepa_event_with_payload r{};
    std::memcpy(&r, data, std::min(size, sizeof(r)));
    if (size < sizeof(r)) {
        self->on_event_(r.event, nullptr);
        return 0;
    }
    r.payload.len = std::min<uint16_t>(r.payload.len, VEPA_PAYLOAD_BYTES);
    self->on_event_(r.event, &r.payload);
    return 0;
}

void EventReader::consume()
{
    if (ring_buffer__consume(rb_) < 0)
        spdlog::warn("reading decision events: {}", std::strerror(errno));
    if (batch_done_)
        batch_done_();
}

void EventReader::wait()
{
    when_readable(sd_, [this] {
        consume();
        return true;
    });
}

} // namespace vepad
