// LLDP (IEEE 802.1AB) frames with the EVB TLV (IEEE 802.1Qbg): building the
// LLDPDU vepad sends as an EVB station, parsing what the neighbour sends.
// Pure functions over bytes, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/mac.hpp"

namespace vepa::lldp {

inline constexpr uint16_t kEthertype = 0x88cc;
// Destination groups (802.1AB 7.1): what kind of agent a neighbour speaks as.
inline const Mac kNearestBridge{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}};
inline const Mac kNearestNonTpmrBridge{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x03}};
inline const Mac kNearestCustomerBridge{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

// The EVB TLV, in either of its two forms.
struct Evb {
    enum class Form {
        Ratified,
        Draft02
    }; // 802.1Qbg-2012 (OUI 00-80-C2, subtype 13); draft 0.2 (OUI 00-1B-3F, subtype 0)
    Form form = Form::Ratified;
    // Ratified form.
    bool bgid = false, rrcap = false, rrctr = false;          // EVB bridge status
    bool sgid = false, rrreq = false;                         // EVB station status
    uint8_t rrstat = 3;                                       // 0 not enabled, 1 enabled, 3 unknown
    uint8_t retries = 0, rte = 0, mode = 0, rwd = 0, rka = 0; // mode: 1 bridge, 2 station
    bool rol_rwd = false, rol_rka = false;
    // Draft 0.2 form: forwarding modes and capabilities, supported and configured.
    uint8_t smode = 0, scap = 0, cmode = 0, ccap = 0, rte02 = 0;
    uint16_t svsi = 0, cvsi = 0;

    // What the bridge side says about reflective relay, whichever the form.
    bool rr_capable() const;
    bool rr_enabled() const;
    bool operator==(const Evb&) const = default;
};

inline constexpr uint8_t kDraftModeStandard = 0x80;        // draft 0.2: standard 802.1Q forwarding
inline constexpr uint8_t kDraftModeReflectiveRelay = 0x40; // draft 0.2: reflective relay

// One received LLDPDU, decoded.
struct Neighbour {
    Mac src, dst;
    uint8_t chassis_subtype = 0, port_subtype = 0;
    std::string chassis_id, port_id; // printable: a MAC, a name, or hex
    uint16_t ttl = 0;                // seconds; 0: the neighbour is leaving
    std::string port_description, system_name, system_description;
    std::optional<Evb> evb;
    size_t unknown_tlvs = 0; // TLVs skipped (other organisations, unknown types)
};

// Parse a whole Ethernet frame carrying an LLDPDU (untagged).  nullopt with
// *why set when it is not a valid LLDPDU (802.1AB 9.2.7.7: the first three TLVs
// must be chassis ID, port ID and TTL, in that order; every TLV must fit).
std::optional<Neighbour> parse(const std::vector<uint8_t>& frame, std::string* why = nullptr);

// What vepad says about itself.
struct Station {
    Mac mac;                 // the uplink's MAC: chassis ID (subtype 4) and frame source
    std::string port;        // the uplink's name: port ID (subtype 5, interface name)
    std::string system_name; // hostname
    uint16_t ttl = 120;
    bool rrreq = true;  // ask the bridge for reflective relay
    uint8_t rrstat = 3; // our reflective relay status as we last learned it (0, 1, 3)
};

// An LLDPDU with chassis ID, port ID, TTL, system name, then (with_evb) the
// ratified EVB TLV as a station, and End.  802.1Qbg exchanges EVB with the
// nearest customer bridge group; plain neighbour discovery uses the nearest bridge.
std::vector<uint8_t> build(const Station& s, const Mac& dst, bool with_evb);

// The station's reflective relay status to advertise, from the bridge's EVB TLV.
uint8_t station_rrstat(const std::optional<Evb>& bridge);

} // namespace vepa::lldp
