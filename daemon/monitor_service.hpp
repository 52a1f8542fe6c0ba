// vepactl monitor's clients: each a filter and a stream.  While one is
// subscribed, the dataplane records decisions (drops always, forwarding only
// when a client asked for a sample: the smallest one asked); with none, it
// records nothing.  Records carry the frame's first bytes while a client asks
// for them (payload), and only those clients get them.  Events from the ring
// buffer are named, filtered per client and queued on its stream; a client
// whose queue overflows is dropped.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/event_reader.hpp"
#include "daemon/monitor_event.hpp"
#include "daemon/requests.hpp"
#include "lib/dataplane.hpp"

namespace vepad {

class MonitorService {
public:
    struct Options {
        uint32_t default_rate = 10000; // records per second per CPU when no client asks for less
    };
    using Ports = std::function<PortsBySlot()>;

    MonitorService(boost::asio::io_context& io, vepa::Dataplane& dp, Ports ports, Options opts);
    ~MonitorService();

    // A monitor request: the client's stream is m.sink.  Returns the reply's result.
    nlohmann::json subscribe(const Monitor& m);
    // {"clients", "events", "lost", "dropped_clients"}
    nlohmann::json to_json() const;
    // Records not written by the programs (over the rate cap or the ring buffer full), since load.
    uint64_t lost() const;

private:
    struct Client {
        MonitorFilter filter;
        std::shared_ptr<StreamSink> sink;
        uint64_t lost_base = 0; // lost() when it came
        uint64_t lost_told = 0;
        uint64_t forwarded = 0; // forwarding events seen, for its own sampling
    };

    void on_event(const vepa_event& e, const vepa_event_payload* payload);
    void sweep();   // forget closed clients
    void apply();   // the dataplane's monitor config from the clients
    void tick();    // every second while clients exist: lost records
    void tell_lost();

    boost::asio::io_context& io_;
    vepa::Dataplane& dp_;
    Ports ports_;
    Options opts_;
    std::vector<Client> clients_;
    PortsBySlot names_;
    bool names_valid_ = false;
    uint32_t sample_ = 0; // the dataplane's: one in sample_ forwarding decisions (0: none)
    uint64_t events_ = 0; // events sent to clients
    uint64_t dropped_ = 0; // clients dropped for not reading
    boost::asio::steady_timer timer_;
    std::unique_ptr<EventReader> reader_;
};

} // namespace vepad
