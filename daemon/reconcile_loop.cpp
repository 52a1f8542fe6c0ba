#include "daemon/reconcile_loop.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <algorithm>

namespace vepad {

ReconcileLoop::ReconcileLoop(boost::asio::io_context& io, std::function<void(bool)> run, std::function<void()> after)
    : io_(io), run_(std::move(run)), after_(std::move(after)), retry_(io)
{}

void ReconcileLoop::request(bool full, When when)
{
    pending_ = true;
    full_pending_ |= full;
    if (when == When::Now) {
        run_pending();
        return;
    }
    if (posted_)
        return;
    posted_ = true;
    boost::asio::post(io_, [this] {
        posted_ = false;
        run_pending();
    });
}

void ReconcileLoop::took(std::chrono::steady_clock::time_point t0, bool full)
{
    const std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    last_seconds_ = d.count();
    seconds_ += d.count();
    spdlog::debug("reconcile{}: {:.3f} ms", full ? " (full)" : "", d.count() * 1e3);
}

void ReconcileLoop::run_pending()
{
    if (!std::exchange(pending_, false))
        return; // a command's run took this request along
    const bool full = std::exchange(full_pending_, false);
    ++runs_;
    const auto t0 = std::chrono::steady_clock::now();
    try {
        run_(full);
        took(t0, full);
        if (backoff_.count())
            spdlog::info("reconcile succeeded again");
        backoff_ = std::chrono::seconds(0);
        retry_.cancel();
    } catch (const std::exception& e) {
        took(t0, full);
        ++failures_;
        full_pending_ = true; // not pending_: the retry timer or the next request runs it
        backoff_ = std::min(std::chrono::seconds(30), std::max(std::chrono::seconds(1), backoff_ * 2));
        spdlog::error("reconcile failed: {}; retrying in full in {} s or at the next event", e.what(),
                      backoff_.count());
        retry_.expires_after(backoff_);
        retry_.async_wait([this](const boost::system::error_code& ec) {
            if (!ec)
                request(false, When::Soon);
        });
    }
    after_();
}

} // namespace vepad
