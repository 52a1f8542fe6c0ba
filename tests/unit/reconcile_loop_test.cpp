// The reconcile loop: coalescing, the full re-read flag whoever asks, and the
// retry after a failure.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "daemon/reconcile_loop.hpp"

using namespace vepad;
using When = ReconcileLoop::When;

namespace {
struct Recorder {
    std::vector<bool> runs; // the full flag of each run
    int afters = 0;
    int fail_next = 0; // runs still to fail
};

ReconcileLoop loop_for(boost::asio::io_context& io, Recorder& r)
{
    return ReconcileLoop(
        io,
        [&r](bool full) {
            r.runs.push_back(full);
            if (r.fail_next > 0) {
                r.fail_next--;
                throw std::runtime_error("netlink said no");
            }
        },
        [&r] { r.afters++; });
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds d)
{
    io.restart();
    io.run_for(d);
}
} // namespace

TEST_CASE("reconcile loop: requests soon are coalesced, and the full flag is kept")
{
    boost::asio::io_context io;
    Recorder r;
    auto loop = loop_for(io, r);
    loop.request(false, When::Soon);
    loop.request(true, When::Soon);
    loop.request(false, When::Soon);
    CHECK(r.runs.empty());
    run_for(io, std::chrono::milliseconds(50));
    CHECK(r.runs == std::vector<bool>{true});
    CHECK(r.afters == 1);
}

TEST_CASE("reconcile loop: a run now takes pending requests along")
{
    boost::asio::io_context io;
    Recorder r;
    auto loop = loop_for(io, r);
    loop.request(true, When::Soon); // an overrun: a full re-read is pending
    loop.request(false, When::Now); // a command
    CHECK(r.runs == std::vector<bool>{true});
    run_for(io, std::chrono::milliseconds(50));
    CHECK(r.runs == std::vector<bool>{true}); // the posted request found nothing left to do
}

TEST_CASE("reconcile loop: after a failure the next run is full, and it comes by itself")
{
    boost::asio::io_context io;
    Recorder r;
    auto loop = loop_for(io, r);
    r.fail_next = 2;
    loop.request(false, When::Now);
    CHECK(r.runs == std::vector<bool>{false});
    CHECK(loop.failing());
    CHECK(r.afters == 1);                         // what follows a run follows a failed one too
    run_for(io, std::chrono::milliseconds(1500)); // the retry after 1 s: full, fails again
    CHECK(r.runs == std::vector<bool>{false, true});
    run_for(io, std::chrono::milliseconds(2500)); // the next after 2 s: full, succeeds
    CHECK(r.runs == std::vector<bool>{false, true, true});
    CHECK_FALSE(loop.failing());
    run_for(io, std::chrono::milliseconds(1200)); // and no more retries
    CHECK(r.runs.size() == 3);
}

TEST_CASE("reconcile loop: after a failure a command's run is full too")
{
    boost::asio::io_context io;
    Recorder r;
    auto loop = loop_for(io, r);
    r.fail_next = 1;
    loop.request(false, When::Soon);
    run_for(io, std::chrono::milliseconds(20));
    loop.request(false, When::Now);
    CHECK(r.runs == std::vector<bool>{false, true});
    CHECK_FALSE(loop.failing());
}
