#include "lib/lldp.hpp"

#include <algorithm>
#include <cstdio>

namespace vepa::lldp {

namespace {

enum TlvType : uint8_t {
    kEnd = 0,
    kChassisId = 1,
    kPortId = 2,
    kTtl = 3,
    kPortDescription = 4,
    kSystemName = 5,
    kSystemDescription = 6,
    kOrgSpecific = 127,
};

constexpr uint8_t kOui8021[3] = {0x00, 0x80, 0xc2};
constexpr uint8_t kSubtypeEvb = 0x0d;
constexpr uint8_t kOuiQbgDraft[3] = {0x00, 0x1b, 0x3f};
constexpr uint8_t kSubtypeEvbDraft = 0x00;

// Chassis/port ID subtypes that hold a MAC address (802.1AB 8.5.2.2, 8.5.3.2).
constexpr uint8_t kChassisMac = 4, kPortMac = 3;

std::string hex(const uint8_t* p, size_t n)
{
    std::string s;
    char b[4];
    for (size_t i = 0; i < n; i++) {
        std::snprintf(b, sizeof(b), i ? ":%02x" : "%02x", p[i]);
        s += b;
    }
    return s;
}

bool printable(const uint8_t* p, size_t n)
{
    return n > 0 && std::all_of(p, p + n, [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
}

// An ID TLV's value: a MAC, text, or hex.
std::string id_string(uint8_t subtype, uint8_t mac_subtype, const uint8_t* p, size_t n)
{
    if (subtype == mac_subtype && n == 6)
        return Mac(p).str();
    if (printable(p, n))
        return std::string(reinterpret_cast<const char*>(p), n);
    return hex(p, n);
}

std::string text(const uint8_t* p, size_t n)
{
    std::string s(reinterpret_cast<const char*>(p), n);
    for (char& c : s)
        if (static_cast<uint8_t>(c) < 0x20 || static_cast<uint8_t>(c) == 0x7f)
            c = '?';
    return s;
}

std::optional<Evb> parse_evb(const uint8_t* p, size_t n)
{
    if (n >= 9 && std::equal(kOui8021, kOui8021 + 3, p) && p[3] == kSubtypeEvb) {
        Evb e;
        e.form = Evb::Form::Ratified;
        e.bgid = p[4] & 0x04;
        e.rrcap = p[4] & 0x02;
        e.rrctr = p[4] & 0x01;
        e.sgid = p[5] & 0x08;
        e.rrreq = p[5] & 0x04;
        e.rrstat = p[5] & 0x03;
        e.retries = p[6] >> 5;
        e.rte = p[6] & 0x1f;
        e.mode = p[7] >> 6;
        e.rol_rwd = p[7] & 0x20;
        e.rwd = p[7] & 0x1f;
        e.rol_rka = p[8] & 0x20;
        e.rka = p[8] & 0x1f;
        return e;
    }
    if (n >= 13 && std::equal(kOuiQbgDraft, kOuiQbgDraft + 3, p) && p[3] == kSubtypeEvbDraft) {
        Evb e;
        e.form = Evb::Form::Draft02;
        e.smode = p[4];
        e.scap = p[5];
        e.cmode = p[6];
        e.ccap = p[7];
        e.svsi = static_cast<uint16_t>(p[8] << 8 | p[9]);
        e.cvsi = static_cast<uint16_t>(p[10] << 8 | p[11]);
        e.rte02 = p[12];
        return e;
    }
    return std::nullopt;
}

void put_tlv(std::vector<uint8_t>& f, uint8_t type, const std::vector<uint8_t>& value)
{
    const size_t n = std::min<size_t>(value.size(), 511);
    f.push_back(static_cast<uint8_t>(type << 1 | n >> 8));
    f.push_back(static_cast<uint8_t>(n));
    f.insert(f.end(), value.begin(), value.begin() + static_cast<long>(n));
}

} // namespace

bool Evb::rr_capable() const { return form == Form::Ratified ? rrcap : (smode & kDraftModeReflectiveRelay) != 0; }

bool Evb::rr_enabled() const { return form == Form::Ratified ? rrctr : (cmode & kDraftModeReflectiveRelay) != 0; }

namespace {

// Chassis and port ID: a subtype byte, then 1-255 bytes of ID.
bool read_id(const uint8_t* v, size_t len, uint8_t& subtype, std::string& id, uint8_t mac_subtype)
{
    if (len < 2 || len > 256)
        return false;
    subtype = v[0];
    id = id_string(v[0], mac_subtype, v + 1, len - 1);
    return true;
}

// Take the index-th TLV (type, value v of len bytes) into nb; nullptr or why it is refused.
const char* take_tlv(Neighbour& nb, int index, uint8_t type, const uint8_t* v, size_t len)
{
    const int expect[] = {kChassisId, kPortId, kTtl};
    if (index < 3 && type != expect[index])
        return "the first TLVs are not chassis ID, port ID and TTL";
    switch (type) {
    case kEnd:
        return nullptr;
    case kChassisId: // index: only where expected, so a second one is refused too
        return index != 0 || !read_id(v, len, nb.chassis_subtype, nb.chassis_id, kChassisMac) ? "bad chassis ID TLV"
                                                                                              : nullptr;
    case kPortId:
        return index != 1 || !read_id(v, len, nb.port_subtype, nb.port_id, kPortMac) ? "bad port ID TLV" : nullptr;
    case kTtl:
        if (index != 2 || len < 2)
            return "bad TTL TLV";
        nb.ttl = static_cast<uint16_t>(v[0] << 8 | v[1]);
        return nullptr;
    case kPortDescription:
        nb.port_description = text(v, len);
        return nullptr;
    case kSystemName:
        nb.system_name = text(v, len);
        return nullptr;
    case kSystemDescription:
        nb.system_description = text(v, len);
        return nullptr;
    case kOrgSpecific:
        if (auto e = parse_evb(v, len); e && !nb.evb)
            nb.evb = e;
        else
            nb.unknown_tlvs++;
        return nullptr;
    default:
        nb.unknown_tlvs++;
        return nullptr;
    }
}

} // namespace

std::optional<Neighbour> parse(const std::vector<uint8_t>& frame, std::string* why)
{
    auto fail = [&](const char* w) -> std::optional<Neighbour> {
        if (why)
            *why = w;
        return std::nullopt;
    };
    if (frame.size() < 14)
        return fail("shorter than an Ethernet header");
    if ((frame[12] << 8 | frame[13]) != kEthertype)
        return fail("not ethertype 0x88cc");
    Neighbour nb;
    nb.dst = Mac(frame.data());
    nb.src = Mac(frame.data() + 6);
    size_t off = 14;
    int index = 0;
    for (bool ended = false; !ended; index++) {
        if (off + 2 > frame.size())
            return fail("a TLV header runs past the end of the frame");
        const uint8_t type = frame[off] >> 1;
        const size_t len = static_cast<size_t>((frame[off] & 1) << 8 | frame[off + 1]);
        off += 2;
        if (off + len > frame.size())
            return fail("a TLV runs past the end of the frame");
        if (const char* bad = take_tlv(nb, index, type, frame.data() + off, len))
            return fail(bad);
        off += len;
        // An LLDPDU without End TLV ends with the frame (802.1AB-2016 allows it).
        ended = type == kEnd ||
                std::all_of(frame.begin() + static_cast<long>(off), frame.end(), [](uint8_t b) { return b == 0; });
    }
    if (index < 3)
        return fail("the first TLVs are not chassis ID, port ID and TTL");
    return nb;
}

std::vector<uint8_t> build(const Station& s, const Mac& dst, bool with_evb)
{
    std::vector<uint8_t> f;
    f.insert(f.end(), dst.bytes().begin(), dst.bytes().end());
    f.insert(f.end(), s.mac.bytes().begin(), s.mac.bytes().end());
    f.push_back(kEthertype >> 8);
    f.push_back(kEthertype & 0xff);

    std::vector<uint8_t> v{kChassisMac};
    v.insert(v.end(), s.mac.bytes().begin(), s.mac.bytes().end());
    put_tlv(f, kChassisId, v);
    v = {5}; // interface name
    v.insert(v.end(), s.port.begin(), s.port.end());
    put_tlv(f, kPortId, v);
    put_tlv(f, kTtl, {static_cast<uint8_t>(s.ttl >> 8), static_cast<uint8_t>(s.ttl)});
    if (!s.system_name.empty())
        put_tlv(f, kSystemName, std::vector<uint8_t>(s.system_name.begin(), s.system_name.end()));
    // EVB TLV as a station: bridge status zero; station status RRREQ + RRSTAT;
    // 3 retries, RTE 20 (ECP/VDP timers, unused: vepad does not run VDP);
    // EVB mode station, RWD 20; RKA 20.
    if (with_evb)
        put_tlv(f, kOrgSpecific,
                {kOui8021[0], kOui8021[1], kOui8021[2], kSubtypeEvb, 0,
                 static_cast<uint8_t>((s.rrreq ? 0x04 : 0) | (s.rrstat & 0x03)), static_cast<uint8_t>(3 << 5 | 20),
                 static_cast<uint8_t>(2 << 6 | 20), 20});
    put_tlv(f, kEnd, {});
    if (f.size() < 60)
        f.resize(60, 0);
    return f;
}

uint8_t station_rrstat(const std::optional<Evb>& bridge)
{
    if (!bridge)
        return 3;
    return bridge->rr_enabled() ? 1 : 0;
}

} // namespace vepa::lldp
