// vepad's LLDP agent on the uplink: an 802.1Qbg EVB station.  Each interval it
// sends a plain LLDPDU to the nearest bridge group (any LLDP agent's neighbour
// discovery) and one to the nearest customer bridge group with the EVB TLV
// requesting reflective relay (RRREQ) and reporting what the bridge granted (RRSTAT),
// and decodes what neighbours send: chassis, port, names and their EVB TLV
// (ratified or draft 0.2).  LLDP frames from the switch never reach ports (the
// uplink program keeps 802.1 link-local groups for the host); this agent reads
// them with an AF_PACKET socket.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "lib/lldp.hpp"
#include "lib/mac.hpp"

namespace vepad {

class LldpAgent {
public:
    struct Options {
        std::chrono::seconds interval{30}; // msgTxInterval; 0: the agent is off
        std::string system_name;
    };
    // on_evb: the bridge's EVB TLV appeared, changed or went away.
    LldpAgent(boost::asio::io_context& io, Options o, std::function<void()> on_evb);

    // The uplink changed (ifindex 0: absent): reopen, and send fast while it is new.
    void uplink_changed(int ifindex, const std::string& name, const vepa::Mac& mac, bool up);

    bool enabled() const { return opt_.interval.count() > 0; }
    // The EVB TLV of the neighbour that sends one (the bridge), if any is live.
    std::optional<vepa::lldp::Evb> bridge_evb() const;
    nlohmann::json to_json() const;

private:
    struct Entry {
        vepa::lldp::Neighbour nb;
        std::chrono::steady_clock::time_point seen;
        uint64_t received = 0;
    };
    using Key = std::tuple<vepa::Mac, std::string, std::string>; // dst group, chassis ID, port ID

    void arm_receive();
    void on_readable();
    void transmit();
    void schedule_transmit();
    void expire();
    void evb_maybe_changed(const std::optional<vepa::lldp::Evb>& before);

    boost::asio::io_context& io_;
    Options opt_;
    std::function<void()> on_evb_;
    boost::asio::posix::stream_descriptor rx_;
    boost::asio::steady_timer tx_timer_;
    int ifindex_ = 0;
    std::string ifname_;
    vepa::Mac mac_;
    bool up_ = false;
    int fast_left_ = 0;  // LLDPDUs still to send at the fast rate (1 s)
    uint8_t rrstat_ = 3; // what we advertise
    uint64_t sent_ = 0, send_errors_ = 0, received_ = 0, invalid_ = 0, own_ = 0;
    std::string last_error_;
    std::map<Key, Entry> neighbours_;
};

} // namespace vepad
