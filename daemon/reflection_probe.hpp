// Does the adjacent switch reflect (hairpin) frames back out of the port they
// came in on?  vepad asks it directly: it lets the switch learn one probe MAC
// (B) on the uplink with a frame to the nearest-bridge group, which no bridge
// forwards but every bridge learns from, then sends a frame from its other
// probe MAC (A) to B out of the uplink.  Only a reflecting switch sends it back;
// the uplink's TC program recognises it (ethertype VEPA_PROBE_ETHERTYPE, to B)
// and counts it in probe_packets.  If B was not learned the switch floods the
// probe, which comes back only when it reflects too: the answer is the same.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "lib/fd.hpp"
#include "lib/mac.hpp"

namespace vepad {

struct ProbeMacs {
    vepa::Mac src, dst; // A and B: locally administered unicast, 0a:76:65:xx:xx:x0 and ...x1
};

// Stable per host and uplink (from the machine ID and the uplink's name), so
// two hosts on one switch never answer each other's probes and a restarted
// vepad keeps its MACs.
ProbeMacs probe_macs(const std::string& machine_id, const std::string& uplink);

// /etc/machine-id, else the hostname.
std::string machine_identity();

enum class Reflection { Unknown, Reflecting, NotReflecting };
const char* to_string(Reflection r);

struct ProbeResult {
    Reflection state = Reflection::Unknown;
    std::string reason; // why unknown, or how it was decided
    std::optional<std::chrono::system_clock::time_point> checked;
    double rtt_ms = 0; // when reflecting: from the first probe sent to its return seen
    uint64_t seq = 0;  // probes completed
};

class ReflectionProbe {
public:
    struct Options {
        ProbeMacs macs;
        std::chrono::seconds interval{30}; // 0: no periodic probes
        std::chrono::milliseconds timeout{600};
    };
    // read_returned() is the uplink's probe_packets counter, summed over CPUs.
    ReflectionProbe(boost::asio::io_context& io, Options o, std::function<uint64_t()> read_returned,
                    std::function<void(const ProbeResult&)> on_result);

    // The uplink changed: probe when it is (again) present and up; unknown otherwise.
    void uplink_changed(int ifindex, bool up);
    // Probe now (or join the probe under way); returns the seq that will answer.
    uint64_t request();

    const ProbeResult& result() const { return result_; }
    bool running() const { return running_; }
    nlohmann::json to_json() const;

private:
    void start();
    void send_probe();
    void check(int attempt);
    void finish(Reflection r, std::string reason);
    void schedule_periodic();

    Options opt_;
    std::function<uint64_t()> read_returned_;
    std::function<void(const ProbeResult&)> on_result_;
    boost::asio::steady_timer step_;
    boost::asio::steady_timer periodic_;
    int ifindex_ = 0;
    bool up_ = false;
    bool running_ = false;
    vepa::UniqueFd sock_; // the running probe's send socket
    uint64_t baseline_ = 0;
    std::chrono::steady_clock::time_point sent_at_;
    ProbeResult result_;
};

} // namespace vepad
