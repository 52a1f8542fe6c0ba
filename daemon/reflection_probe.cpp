#include "daemon/reflection_probe.hpp"

#include "lib/fnv1a.hpp"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>

#include "lib/error.hpp"
#include "lib/lldp.hpp"
#include "lib/packet_socket.hpp"
#include "vepa/abi.h"

namespace vepad {

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto kPoll = 10ms;    // how often the counter is read while waiting
constexpr auto kResend = 200ms; // a lost probe is sent again this often

std::vector<uint8_t> frame(const vepa::Mac& dst, const vepa::Mac& src, const char* what, uint64_t seq)
{
    std::vector<uint8_t> f(60, 0);
    std::memcpy(f.data(), dst.bytes().data(), 6);
    std::memcpy(f.data() + 6, src.bytes().data(), 6);
    f[12] = VEPA_PROBE_ETHERTYPE >> 8;
    f[13] = VEPA_PROBE_ETHERTYPE & 0xff;
    const size_t n = std::min<size_t>(std::strlen(what), 36);
    std::memcpy(f.data() + 14, what, n);
    for (int i = 0; i < 8; i++)
        f[52 + i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
    return f;
}

std::string iso(std::chrono::system_clock::time_point t)
{
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char b[32];
    std::strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

} // namespace

ProbeMacs probe_macs(const std::string& machine_id, const std::string& uplink)
{
    const uint64_t h = vepa::fnv1a(machine_id + "/" + uplink);
    // 0a: locally administered, unicast; 76:65 = "ve"; 20 bits of hash; the last bit tells A from B.
    std::array<uint8_t, 6> a{
        0x0a, 0x76, 0x65, static_cast<uint8_t>(h >> 16), static_cast<uint8_t>(h >> 8), static_cast<uint8_t>(h & 0xfe)};
    std::array<uint8_t, 6> b = a;
    b[5] |= 1;
    return {vepa::Mac(a), vepa::Mac(b)};
}

std::string machine_identity()
{
    std::ifstream f("/etc/machine-id");
    std::string id;
    if (f && std::getline(f, id) && !id.empty())
        return id;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    return host;
}

const char* to_string(Reflection r)
{
    switch (r) {
    case Reflection::Reflecting:
        return "reflecting";
    case Reflection::NotReflecting:
        return "not-reflecting";
    default:
        return "unknown";
    }
}

ReflectionProbe::ReflectionProbe(boost::asio::io_context& io, Options o, std::function<uint64_t()> read_returned,
                                 std::function<void(const ProbeResult&)> on_result)
    : opt_(o), read_returned_(std::move(read_returned)), on_result_(std::move(on_result)), step_(io), periodic_(io)
{
    result_.reason = "not probed yet";
}

void ReflectionProbe::uplink_changed(int ifindex, bool up)
{
    const bool was_usable = ifindex_ && up_;
    const bool moved = ifindex != ifindex_;
    ifindex_ = ifindex;
    up_ = up;
    if (ifindex && up && (!was_usable || moved))
        request();
    else if (!(ifindex && up) && was_usable) {
        if (running_) {
            step_.cancel();
            running_ = false;
        }
        finish(Reflection::Unknown, ifindex ? "uplink down" : "uplink absent");
    }
}

uint64_t ReflectionProbe::request()
{
    if (!running_)
        start();
    return running_ ? result_.seq + 1 : result_.seq;
}

void ReflectionProbe::start()
{
    if (!ifindex_ || !up_) {
        finish(Reflection::Unknown, ifindex_ ? "uplink down" : "uplink absent");
        return;
    }
    running_ = true;
    try {
        // One send-only socket for this probe's frames. The switch learns B on the
        // uplink from a frame to the nearest-bridge group, which no bridge forwards.
        sock_ = vepa::open_packet_socket(ifindex_, 0);
        vepa::send_frame(
            sock_.get(), ifindex_,
            frame(vepa::lldp::kNearestBridge, opt_.macs.dst, "vepad reflection probe: learn", result_.seq + 1));
    } catch (const std::exception& e) {
        running_ = false;
        finish(Reflection::Unknown, std::string("cannot send: ") + e.what());
        return;
    }
    step_.expires_after(20ms);
    step_.async_wait([this](const boost::system::error_code& ec) {
        if (ec)
            return;
        baseline_ = read_returned_();
        sent_at_ = std::chrono::steady_clock::now();
        send_probe();
        check(1);
    });
}

void ReflectionProbe::send_probe()
{
    try {
        vepa::send_frame(sock_.get(), ifindex_,
                         frame(opt_.macs.dst, opt_.macs.src, "vepad reflection probe", result_.seq + 1));
    } catch (const std::exception& e) {
        spdlog::debug("reflection probe: {}", e.what());
    }
}

void ReflectionProbe::check(int polls)
{
    step_.expires_after(kPoll);
    step_.async_wait([this, polls](const boost::system::error_code& ec) {
        if (ec)
            return;
        const auto waited = std::chrono::steady_clock::now() - sent_at_;
        if (read_returned_() > baseline_) {
            result_.rtt_ms = std::chrono::duration<double, std::milli>(waited).count();
            finish(Reflection::Reflecting, "the probe came back through the uplink");
            return;
        }
        if (waited >= opt_.timeout) {
            finish(Reflection::NotReflecting, "no probe came back within " + std::to_string(opt_.timeout.count()) +
                                                  " ms (" + std::to_string(opt_.timeout / kResend) + " sent)");
            return;
        }
        if (polls % (kResend / kPoll) == 0)
            send_probe();
        check(polls + 1);
    });
}

void ReflectionProbe::finish(Reflection r, std::string reason)
{
    running_ = false;
    sock_.reset();
    result_.state = r;
    result_.reason = std::move(reason);
    result_.checked = std::chrono::system_clock::now();
    if (r != Reflection::Reflecting)
        result_.rtt_ms = 0;
    result_.seq++;
    on_result_(result_);
    schedule_periodic();
}

void ReflectionProbe::schedule_periodic()
{
    if (opt_.interval.count() <= 0)
        return;
    periodic_.expires_after(opt_.interval);
    periodic_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            request();
    });
}

json ReflectionProbe::to_json() const
{
    json j = {{"state", to_string(result_.state)},
              {"reason", result_.reason},
              {"checked", result_.checked ? json(iso(*result_.checked)) : json(nullptr)},
              {"age_s", nullptr},
              {"seq", result_.seq},
              {"running", running_},
              {"interval_s", opt_.interval.count()},
              {"src", opt_.macs.src.str()},
              {"dst", opt_.macs.dst.str()}};
    if (result_.checked)
        j["age_s"] = std::chrono::duration<double>(std::chrono::system_clock::now() - *result_.checked).count();
    if (result_.state == Reflection::Reflecting)
        j["rtt_ms"] = result_.rtt_ms;
    return j;
}

} // namespace vepad
