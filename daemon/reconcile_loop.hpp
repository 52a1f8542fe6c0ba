// The one way a reconcile is asked for: by commands (now: their reply shows
// the result), by link events and the xsk socket watch (coalesced: one run for
// however many requests arrive before it).  Every run takes the "full re-read
// pending" flag, whoever asked.
//
// After a failure: the error is logged, the next run re-reads everything
// (full), and one is scheduled after a back-off (1 s, doubling up to 30 s) in
// case nothing else asks; the dataplane keeps what the last good run made.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>

namespace vepad {

class ReconcileLoop {
public:
    // run: reconcile (full or not), throws on failure; after: what follows every run.
    ReconcileLoop(boost::asio::io_context& io, std::function<void(bool full)> run, std::function<void()> after);

    enum class When { Now, Soon };
    void request(bool full, When when);
    bool failing() const { return backoff_.count() > 0; }
    uint64_t runs() const { return runs_; }         // since start, failed ones included
    uint64_t failures() const { return failures_; }
    double last_seconds() const { return last_seconds_; } // the last run's duration
    double seconds() const { return seconds_; }           // every run's, since start

private:
    void run_pending();
    void took(std::chrono::steady_clock::time_point t0, bool full);

    boost::asio::io_context& io_;
    std::function<void(bool)> run_;
    std::function<void()> after_;
    boost::asio::steady_timer retry_;
    std::chrono::seconds backoff_{0};
    bool pending_ = false; // a request not yet run
    bool full_pending_ = false;
    bool posted_ = false;
    uint64_t runs_ = 0, failures_ = 0;
    double last_seconds_ = 0, seconds_ = 0;
};

} // namespace vepad
