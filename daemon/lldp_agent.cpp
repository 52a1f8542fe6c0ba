#include "daemon/lldp_agent.hpp"
#include "daemon/when_readable.hpp"

#include <linux/if_packet.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "lib/packet_socket.hpp"

namespace vepad {

using namespace std::chrono_literals;
using nlohmann::json;
namespace lldp = vepa::lldp;

namespace {

constexpr int kFastCount = 4; // txFastInit: LLDPDUs sent 1 s apart when something is new

const char* group_name(const vepa::Mac& dst)
{
    if (dst == lldp::kNearestBridge)
        return "nearest-bridge";
    if (dst == lldp::kNearestCustomerBridge)
        return "nearest-customer-bridge";
    if (dst == lldp::kNearestNonTpmrBridge)
        return "nearest-non-tpmr-bridge";
    return "other";
}

const char* rrstat_name(uint8_t s) { return s == 1 ? "enabled" : s == 0 ? "not-enabled" : "unknown"; }

json evb_json(const lldp::Evb& e)
{
    json j = {{"form", e.form == lldp::Evb::Form::Ratified ? "802.1Qbg-2012" : "802.1Qbg-draft-0.2"},
              {"rr_capable", e.rr_capable()},
              {"rr_enabled", e.rr_enabled()}};
    if (e.form == lldp::Evb::Form::Ratified) {
        j["role"] = e.mode == 1 ? "bridge" : e.mode == 2 ? "station" : "unknown";
        j["bridge_status"] = {{"bgid", e.bgid}, {"rrcap", e.rrcap}, {"rrctr", e.rrctr}};
        j["station_status"] = {{"sgid", e.sgid}, {"rrreq", e.rrreq}, {"rrstat", rrstat_name(e.rrstat)}};
        j["retries"] = e.retries;
        j["rte"] = e.rte;
        j["rwd"] = e.rwd;
        j["rka"] = e.rka;
    } else {
        j["supported_modes"] = {{"standard", (e.smode & lldp::kDraftModeStandard) != 0},
                                {"reflective_relay", (e.smode & lldp::kDraftModeReflectiveRelay) != 0}};
        j["configured_modes"] = {{"standard", (e.cmode & lldp::kDraftModeStandard) != 0},
                                 {"reflective_relay", (e.cmode & lldp::kDraftModeReflectiveRelay) != 0}};
        j["supported_caps"] = e.scap;
        j["configured_caps"] = e.ccap;
        j["supported_vsis"] = e.svsi;
        j["configured_vsis"] = e.cvsi;
        j["rte"] = e.rte02;
    }
    return j;
}

// An EVB TLV that speaks for a bridge (not a station echoing ours back).
bool from_bridge(const lldp::Evb& e) { return e.form == lldp::Evb::Form::Draft02 || e.mode == 1; }

} // namespace

LldpAgent::LldpAgent(boost::asio::io_context& io, Options o, std::function<void()> on_evb)
    : io_(io), opt_(std::move(o)), on_evb_(std::move(on_evb)), rx_(io), tx_timer_(io)
{}

void LldpAgent::uplink_changed(int ifindex, const std::string& name, const vepa::Mac& mac, bool up)
{
    if (!enabled())
        return;
    const bool moved = ifindex != ifindex_;
    const bool came_up = up && !up_;
    ifindex_ = ifindex;
    ifname_ = name;
    mac_ = mac;
    up_ = up;
    if (moved) {
        const auto before = bridge_evb();
        boost::system::error_code ec;
        rx_.close(ec);
        neighbours_.clear();
        tx_timer_.cancel();
        if (ifindex) {
            try {
                auto fd = vepa::open_packet_socket(ifindex, lldp::kEthertype);
                // Real NICs filter multicast: take the three LLDP groups in.
                for (const auto* g :
                     {&lldp::kNearestBridge, &lldp::kNearestCustomerBridge, &lldp::kNearestNonTpmrBridge}) {
                    packet_mreq mr{};
                    mr.mr_ifindex = ifindex;
                    mr.mr_type = PACKET_MR_MULTICAST;
                    mr.mr_alen = 6;
                    std::copy(g->bytes().begin(), g->bytes().end(), mr.mr_address);
                    ::setsockopt(fd.get(), SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr));
                }
                rx_.assign(fd.release());
                arm_receive();
            } catch (const std::exception& e) {
                last_error_ = e.what();
                spdlog::warn("LLDP: {}", e.what());
            }
        }
        evb_maybe_changed(before);
    }
    if (ifindex && up && (moved || came_up)) {
        fast_left_ = kFastCount;
        transmit();
    }
}

void LldpAgent::arm_receive()
{
    when_readable(rx_, [this] {
        on_readable();
        return rx_.is_open();
    });
}

void LldpAgent::on_readable()
{
    const auto before = bridge_evb();
    try {
        while (auto f = vepa::receive_frame(rx_.native_handle())) {
            std::string why;
            auto nb = lldp::parse(*f, &why);
            if (!nb) {
                invalid_++;
                spdlog::debug("LLDP: invalid LLDPDU on {}: {}", ifname_, why);
                continue;
            }
            if (nb->src == mac_) { // our own, reflected by a hairpinning switch
                own_++;
                continue;
            }
            received_++;
            Key k{nb->dst, nb->chassis_id, nb->port_id};
            if (nb->ttl == 0) {
                neighbours_.erase(k);
                continue;
            }
            auto [it, fresh] = neighbours_.try_emplace(k);
            if (fresh)
                spdlog::info("LLDP: neighbour {} port {} ({}){} on {}", nb->chassis_id, nb->port_id,
                             nb->system_name.empty() ? "no system name" : nb->system_name,
                             nb->evb ? ", with EVB TLV" : "", ifname_);
            it->second.nb = std::move(*nb);
            it->second.seen = std::chrono::steady_clock::now();
            it->second.received++;
        }
    } catch (const std::system_error& e) {
        // ENETDOWN: the uplink went down under the socket; the reconciler tells us.
        if (e.code().value() != ENETDOWN) {
            last_error_ = e.what();
            spdlog::warn("LLDP: {}", e.what());
        }
    }
    expire();
    evb_maybe_changed(before);
}

void LldpAgent::expire()
{
    const auto now = std::chrono::steady_clock::now();
    std::erase_if(neighbours_,
                  [&](const auto& kv) { return now - kv.second.seen > std::chrono::seconds(kv.second.nb.ttl); });
}

std::optional<lldp::Evb> LldpAgent::bridge_evb() const
{
    const auto now = std::chrono::steady_clock::now();
    const Entry* best = nullptr;
    for (const auto& [k, e] : neighbours_)
        if (e.nb.evb && from_bridge(*e.nb.evb) && now - e.seen <= std::chrono::seconds(e.nb.ttl) &&
            (!best || e.seen > best->seen))
            best = &e;
    return best ? best->nb.evb : std::nullopt;
}

void LldpAgent::evb_maybe_changed(const std::optional<lldp::Evb>& before)
{
    const auto after = bridge_evb();
    const uint8_t rrstat = lldp::station_rrstat(after);
    if (rrstat != rrstat_) {
        // Our status changed: tell the bridge now (lldpad re-evaluates on a changed LLDPDU).
        rrstat_ = rrstat;
        if (ifindex_ && up_)
            boost::asio::post(io_, [this] { transmit(); });
    }
    if (before != after) {
        if (after)
            spdlog::info("LLDP: the bridge's EVB TLV ({}): reflective relay {}capable, {}",
                         after->form == lldp::Evb::Form::Ratified ? "802.1Qbg" : "draft 0.2",
                         after->rr_capable() ? "" : "not ", after->rr_enabled() ? "enabled for us" : "not enabled");
        else if (before)
            spdlog::info("LLDP: no EVB TLV from the bridge any more");
        on_evb_();
    }
}

void LldpAgent::transmit()
{
    if (!ifindex_ || !up_ || !rx_.is_open())
        return;
    lldp::Station st;
    st.mac = mac_;
    st.port = ifname_;
    st.system_name = opt_.system_name;
    st.ttl = static_cast<uint16_t>(std::min<long>(65535, opt_.interval.count() * 4 + 1));
    st.rrstat = rrstat_;
    // Neighbour discovery for any LLDP agent, and EVB where 802.1Qbg exchanges it.
    for (const auto& [dst, evb] :
         {std::pair{&lldp::kNearestBridge, false}, std::pair{&lldp::kNearestCustomerBridge, true}}) {
        try {
            vepa::send_frame(rx_.native_handle(), ifindex_, lldp::build(st, *dst, evb));
            sent_++;
        } catch (const std::exception& e) {
            send_errors_++;
            last_error_ = e.what();
            spdlog::debug("LLDP: {}", e.what());
        }
    }
    expire();
    schedule_transmit();
}

void LldpAgent::schedule_transmit()
{
    std::chrono::seconds delay = opt_.interval;
    if (fast_left_ > 0) {
        fast_left_--;
        delay = 1s;
    }
    tx_timer_.expires_after(delay);
    tx_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec)
            transmit();
    });
}

json LldpAgent::to_json() const
{
    json nbs = json::array();
    const auto now = std::chrono::steady_clock::now();
    for (const auto& [k, e] : neighbours_) {
        const double age = std::chrono::duration<double>(now - e.seen).count();
        if (age > e.nb.ttl)
            continue;
        json n = {{"group", group_name(e.nb.dst)},
                  {"src", e.nb.src.str()},
                  {"chassis_id", e.nb.chassis_id},
                  {"port_id", e.nb.port_id},
                  {"ttl", e.nb.ttl},
                  {"age_s", age},
                  {"system_name", e.nb.system_name},
                  {"system_description", e.nb.system_description},
                  {"port_description", e.nb.port_description},
                  {"lldpdus", e.received},
                  {"evb", e.nb.evb ? evb_json(*e.nb.evb) : json(nullptr)}};
        nbs.push_back(std::move(n));
    }
    const auto evb = bridge_evb();
    return {{"enabled", enabled()},
            {"interval_s", opt_.interval.count()},
            {"sent", sent_},
            {"send_errors", send_errors_},
            {"received", received_},
            {"invalid", invalid_},
            {"own_reflected", own_},
            {"last_error", last_error_},
            {"advertising", {{"rrreq", true}, {"rrstat", rrstat_name(rrstat_)}}},
            {"neighbours", nbs},
            {"bridge_evb", evb ? evb_json(*evb) : json(nullptr)}};
}

} // namespace vepad
