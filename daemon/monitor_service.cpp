#include "daemon/monitor_service.hpp"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace vepad {

using nlohmann::json;

namespace {

int64_t wall_offset_ns()
{
    timespec real{}, mono{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    return (static_cast<int64_t>(real.tv_sec) - mono.tv_sec) * 1000000000 + (real.tv_nsec - mono.tv_nsec);
}

} // namespace

MonitorService::MonitorService(boost::asio::io_context& io, vepa::Dataplane& dp, Ports ports, Options opts)
    : io_(io), dp_(dp), ports_(std::move(ports)), opts_(opts), timer_(io)
{
    apply(); // off: a vepad that died while someone watched left it on
    reader_ = std::make_unique<EventReader>(
        io, dp.events_fd(), [this](const vepa_event& e, const vepa_event_payload* payload) { on_event(e, payload); },
        [this] { names_valid_ = false; });
    reader_->consume(); // what that one left behind goes nowhere
}

MonitorService::~MonitorService()
{
    for (Client& c : clients_)
        c.sink->on_close = nullptr; // their sessions may outlive this
    clients_.clear();
    try {
        apply();
    } catch (const std::exception& e) {
        spdlog::warn("monitor off: {}", e.what());
    }
}

json MonitorService::subscribe(const Monitor& m)
{
    const bool first = clients_.empty();
    Client c{m.filter, m.sink, lost()};
    c.sink->on_close = [this] { boost::asio::post(io_, [this] { sweep(); }); };
    clients_.push_back(std::move(c));
    apply();
    if (first)
        tick();
    return {{"sample", sample_}};
}

void MonitorService::on_event(const vepa_event& e, const vepa_event_payload* payload)
{
    if (clients_.empty())
        return;
    if (!names_valid_) {
        names_ = ports_();
        names_valid_ = true;
    }
    const json ev = event_json(e, names_, wall_offset_ns());
    std::string line, with_payload; // the payload only to the clients that asked for it
    for (Client& c : clients_) {
        if (c.sink->closed() || !filter_matches(c.filter, ev))
            continue;
        // The dataplane samples one in sample_; a client that asked for fewer takes one in sample / sample_.
        if (e.action != VEPA_ACT_DROP && sample_ && c.filter.sample / sample_ > 1 &&
            c.forwarded++ % (c.filter.sample / sample_) != 0)
            continue;
        std::string& out = payload && c.filter.payload ? with_payload : line;
        if (out.empty()) {
            json j = ev;
            if (&out == &with_payload)
                j["payload"] = payload_hex(*payload);
            out = j.dump();
        }
        if (c.sink->push(out))
            events_++;
    }
}

void MonitorService::sweep()
{
    const size_t before = clients_.size();
    for (const Client& c : clients_)
        if (c.sink->closed() && c.sink->overflowed()) {
            dropped_++;
            spdlog::info("monitor: dropped a client that did not read its events");
        }
    std::erase_if(clients_, [](const Client& c) { return c.sink->closed(); });
    if (clients_.size() != before)
        apply();
}

void MonitorService::apply()
{
    vepa_monitor cfg{};
    uint32_t rate = opts_.default_rate;
    sample_ = 0;
    for (const Client& c : clients_) {
        cfg.flags |= VEPA_MON_F_DROPS;
        if (c.filter.wants_forwarding())
            sample_ = sample_ ? std::min(sample_, c.filter.sample) : c.filter.sample;
        if (c.filter.rate)
            rate = std::min(rate, c.filter.rate);
        if (c.filter.payload)
            cfg.flags |= VEPA_MON_F_PAYLOAD;
    }
    if (sample_) {
        cfg.flags |= VEPA_MON_F_FORWARD;
        cfg.sample = sample_;
    }
    if (cfg.flags)
        cfg.cost_ns = 1000000000ULL / std::max<uint32_t>(rate, 1);
    dp_.monitor().update(0, cfg);
}

uint64_t MonitorService::lost() const
{
    uint64_t n = 0;
    for (const vepa_monitor_state& s : dp_.monstate().lookup(0))
        n += s.lost;
    return n;
}

void MonitorService::tell_lost()
{
    const uint64_t total = lost();
    for (Client& c : clients_) {
        const uint64_t mine = total - c.lost_base;
        if (mine != c.lost_told && !c.sink->closed()) {
            c.lost_told = mine;
            c.sink->push(json{{"type", "lost"}, {"lost", mine}}.dump());
        }
    }
}

void MonitorService::tick()
{
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || clients_.empty())
            return;
        try {
            tell_lost();
        } catch (const std::exception& e) {
            spdlog::warn("monitor: {}", e.what());
        }
        sweep();
        if (!clients_.empty())
            tick();
    });
}

json MonitorService::to_json() const
{
    size_t open = 0;
    for (const Client& c : clients_)
        open += !c.sink->closed();
    return {{"clients", open}, {"events", events_}, {"lost", lost()}, {"dropped_clients", dropped_}};
}

} // namespace vepad
