// Prometheus metrics (text exposition format 0.0.4): rendered from the same objects
// the control protocol answers list, stats and status with, so `vepactl metrics`,
// GET /metrics and `vepactl stats` cannot disagree.  Pure: unit-tested without root.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace vepad {

// Control requests answered, by command ("" when unreadable) and result ("ok" or an error code),
// and how long each command's last one took to answer (seconds).
class RequestCounts {
public:
    void count(const std::string& command, const std::string& result, double seconds = 0)
    {
        ++n_[{command, result}];
        last_seconds_[command] = seconds;
    }
    const std::map<std::pair<std::string, std::string>, uint64_t>& all() const { return n_; }
    const std::map<std::string, double>& last_seconds() const { return last_seconds_; }

private:
    std::map<std::pair<std::string, std::string>, uint64_t> n_;
    std::map<std::string, double> last_seconds_;
};

struct MetricsSources {
    nlohmann::json list;   // the list result: {"ports": [...]}
    nlohmann::json stats;  // the stats result for every port
    nlohmann::json status; // the status result
    const RequestCounts* requests = nullptr;
    uint64_t reconcile_runs = 0, reconcile_failures = 0;
    bool reconcile_failing = false;
    double reconcile_last_seconds = 0, reconcile_seconds = 0; // the last run's duration, all runs'

};

std::string render_metrics(const MetricsSources& s);

// "text/plain; version=0.0.4; charset=utf-8"
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

} // namespace vepad
