// One streaming reply on the control socket (the monitor request): a producer
// pushes lines, the connection's session writes them.  The queue is bounded:
// a client that does not read fast enough overflows it and is dropped (the
// connection closed), so no client ever holds up the producer.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>

namespace vepad {

class StreamSink {
public:
    explicit StreamSink(size_t max_bytes = 1 << 20) : max_bytes_(max_bytes) {}

    // Queue one line (without its newline).  False when the sink is closed, or
    // was just closed because the line would overflow it (overflowed() then).
    bool push(std::string line)
    {
        if (closed_)
            return false;
        if (bytes_ + line.size() + 1 > max_bytes_) {
            overflowed_ = true;
            close();
            return false;
        }
        bytes_ += line.size() + 1;
        lines_.push_back(std::move(line) + "\n");
        if (on_ready)
            on_ready();
        return true;
    }

    // Take everything queued (the session writes it).
    std::string take()
    {
        std::string out;
        for (auto& l : lines_)
            out += l;
        lines_.clear();
        bytes_ = 0;
        return out;
    }

    bool empty() const { return lines_.empty(); }
    bool closed() const { return closed_; }
    bool overflowed() const { return overflowed_; }

    // No more lines: the client left, or was dropped.  Tells both sides, once.
    void close()
    {
        if (closed_)
            return;
        closed_ = true;
        lines_.clear();
        bytes_ = 0;
        if (auto f = std::move(on_close))
            f();
        if (auto f = std::move(on_ready))
            f();
    }

    std::function<void()> on_ready; // the session: lines to write, or closed
    std::function<void()> on_close; // the producer: forget this client

private:
    std::deque<std::string> lines_;
    size_t bytes_ = 0;
    size_t max_bytes_;
    bool closed_ = false;
    bool overflowed_ = false;
};

} // namespace vepad
