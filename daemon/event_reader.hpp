// The dataplane's decision ring buffer (struct vepa_event, or
// vepa_event_with_payload: told apart by the record's size), read on the event
// loop: libbpf's ring buffer epoll fd wrapped in an Asio descriptor, consumed
// whenever it is readable.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>

#include "vepa/abi.h"

struct ring_buffer;

namespace vepad {

class EventReader {
public:
    // Called once per record (payload: null when the record has none); then batch_done once per wake-up.
    using OnEvent = std::function<void(const vepa_event&, const vepa_event_payload* payload)>;

    EventReader(boost::asio::io_context& io, int ringbuf_fd, OnEvent on_event, std::function<void()> batch_done);
    ~EventReader();
    EventReader(const EventReader&) = delete;
    EventReader& operator=(const EventReader&) = delete;

    // Read everything there is now (records the callbacks see).
    void consume();

private:
    void wait();
    static int on_sample(void* ctx, void* data, size_t size);

    ring_buffer* rb_ = nullptr;
    boost::asio::posix::stream_descriptor sd_;
    OnEvent on_event_;
    std::function<void()> batch_done_;
};

} // namespace vepad
