#include "tests/support/model.hpp"

#include <algorithm>
#include <sstream>

namespace vepa::test {

bool ModelPort::keyed(const Mac& mac, uint16_t vid) const
{
    if (std::find(macs.begin(), macs.end(), mac) == macs.end())
        return false;
    const auto vids = vlans.mac_vids();
    return std::find(vids.begin(), vids.end(), vid) != vids.end();
}

const ModelPort* Model::owner(const Mac& mac, uint16_t vid) const
{
    for (const auto& p : ports)
        if (p.keyed(mac, vid))
            return &p;
    if (vid == VEPA_VID_UNTAGGED || vid == VEPA_VID_ANY)
        return nullptr;
    for (const auto& p : ports)
        if (p.keyed(mac, VEPA_VID_ANY))
            return &p;
    return nullptr;
}

uint16_t wire_vid(const Bytes& f)
{
    if (f.size() < 16)
        return VEPA_VID_UNTAGGED;
    const uint16_t tpid = static_cast<uint16_t>(f[12] << 8 | f[13]);
    if (tpid == kEthQinq)
        return VEPA_VID_ANY;
    if (tpid != kEthVlan)
        return VEPA_VID_UNTAGGED;
    return static_cast<uint16_t>((f[14] << 8 | f[15]) & 0xfff);
}

Bytes push_tag(const Bytes& f, uint16_t tci, uint16_t tpid)
{
    Bytes out(f.begin(), f.begin() + 12);
    out.insert(out.end(), {static_cast<uint8_t>(tpid >> 8), static_cast<uint8_t>(tpid), static_cast<uint8_t>(tci >> 8),
                           static_cast<uint8_t>(tci)});
    out.insert(out.end(), f.begin() + 12, f.end());
    return out;
}

Bytes pop_tag(const Bytes& f)
{
    Bytes out(f.begin(), f.begin() + 12);
    out.insert(out.end(), f.begin() + 16, f.end());
    return out;
}

Bytes tc_data_out(const Bytes& in, const Outcome& o)
{
    if (!o.retagged)
        return in;
    const uint16_t tpid = static_cast<uint16_t>(o.final_frame[12] << 8 | o.final_frame[13]);
    return tpid == kEthVlan || tpid == kEthQinq ? pop_tag(o.final_frame) : o.final_frame;
}

const ModelPort* Model::by_slot(uint16_t slot) const
{
    for (const auto& p : ports)
        if (p.slot == slot)
            return &p;
    return nullptr;
}

namespace {
bool link_local(const Mac& m)
{
    const auto& b = m.bytes();
    return b[0] == 0x01 && b[1] == 0x80 && b[2] == 0xc2 && b[3] == 0 && b[4] == 0 && b[5] <= 0x0f;
}

// Innermost ethertype and header length, or the malformation.
struct Parsed {
    std::optional<vepa_drop_reason> bad;
    uint16_t ethertype = 0;
};

Parsed parse(const Bytes& f)
{
    if (f.size() < 14)
        return {VEPA_DROP_TRUNCATED};
    size_t off = 12;
    int tags = 0;
    uint16_t et = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
    while (et == kEthVlan || et == kEthQinq) {
        if (tags == 2)
            return {VEPA_DROP_VLAN_DEPTH};
        if (f.size() < off + 2 + 4)
            return {VEPA_DROP_TRUNCATED};
        off += 4;
        tags++;
        et = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
    }
    if (f.size() <= off + 2)
        return {VEPA_DROP_NO_PAYLOAD};
    const Mac src = mac_src(f);
    if (src.is_group() || src.is_zero())
        return {VEPA_DROP_BAD_SRC};
    return {std::nullopt, et};
}

// A group copy for port p, or the kernel's refusal of it.  A copy whose tag TC
// changed passes: a popped one is shorter, a pushed tag is skb metadata, which
// the kernel's length check does not count.
void copy_to(Outcome& o, const ModelPort& p, const Bytes& frame, bool changed)
{
    if (p.clone_limit && !changed && frame.size() > p.clone_limit)
        o.refused.insert(p.slot);
    else {
        o.ports.insert(p.slot);
        o.frames[p.slot] = frame;
    }
}

// V2: does a port's tagged frame of VLAN vid pass?
bool tagged_member(const PortVlans& v, uint16_t vid)
{
    if (v.all_tagged)
        return true;
    return vid != VEPA_VID_ANY && v.tagged.count(vid);
}

// The frame as port p takes a frame of VLAN vid that is now f (tagged or not, tci
// the tag it has or gets): V3-V5, the tag off for its untagged VLAN, on for a tagged one.
Bytes as_received(const ModelPort& p, uint16_t vid, const Bytes& f, bool tagged, uint16_t tci)
{
    if (vid == VEPA_VID_UNTAGGED)
        return f;
    const bool wants_tag = p.vlans.untagged != vid;
    if (wants_tag == tagged)
        return f;
    return wants_tag ? push_tag(f, tci) : pop_tag(f);
}

} // namespace

namespace {
// R3-R6: does p get a group frame whose source is from's (nullptr: external)?
bool group_receiver(const ModelPort& p, const ModelPort* from)
{
    if (!from)
        return true; // R3
    if (from->mode == VEPA_MODE_VEPA)
        return p.mode != VEPA_MODE_PRIVATE && p.slot != from->slot; // R4
    if (from->mode == VEPA_MODE_BRIDGE)
        return p.mode == VEPA_MODE_VEPA; // R5
    return false;                        // R6
}

// A frame from the switch (R1-R7, V3, V4).
Outcome from_switch(const Model& m, const Bytes& f, uint16_t ethertype, Outcome o)
{
    const Mac dst = mac_dst(f), src = mac_src(f);
    const uint16_t vid = wire_vid(f);
    const bool tagged = vid != VEPA_VID_UNTAGGED;
    const uint16_t tci = tagged ? static_cast<uint16_t>(f[14] << 8 | f[15]) : 0;
    const ModelPort* from = m.owner(src, vid);
    o.final_frame = f;
    if (dst.is_group()) {
        o.host = true;
        if (link_local(dst))
            return o;
        for (const auto& p2 : m.ports) {
            if (!group_receiver(p2, from) || !p2.vlans.member(vid)) // V4
                continue;
            const Bytes copy = as_received(p2, vid, f, tagged, tci);
            o.retagged |= copy != f;
            copy_to(o, p2, copy, copy != f);
        }
        return o;
    }
    const ModelPort* to = m.owner(dst, vid); // V3
    if (!to && m.probe_dst && dst == *m.probe_dst && ethertype == VEPA_PROBE_ETHERTYPE) {
        o.probe = true; // vepad's probe, reflected
        return o;
    }
    if (!to) { // R2
        o.host = true;
        return o;
    }
    if (from && from->slot != to->slot && (from->mode == VEPA_MODE_PRIVATE || to->mode == VEPA_MODE_PRIVATE)) {
        o.drop = VEPA_DROP_PRIVATE; // R7
        o.charged = to->slot;
        return o;
    }
    o.ports.insert(to->slot); // R1
    o.frames[to->slot] = o.final_frame = as_received(*to, vid, f, tagged, tci);
    o.retagged = o.final_frame != f;
    return o;
}

// A frame a port sends, admitted (T1-T4, V1, V5).
Outcome from_port(const Model& m, const ModelPort& sender, const Bytes& f, uint16_t vid, bool tagged, Outcome o)
{
    const Mac dst = mac_dst(f);
    const uint16_t tci = tagged ? static_cast<uint16_t>(f[14] << 8 | f[15]) : vid;
    o.uplink_frame = tagged || vid == VEPA_VID_UNTAGGED ? f : push_tag(f, tci);
    o.final_frame = o.uplink_frame;
    o.retagged = o.uplink_frame != f;
    if (sender.mode == VEPA_MODE_BRIDGE) {
        if (dst.is_group()) { // T4, V5
            if (!link_local(dst))
                for (const auto& p2 : m.ports)
                    if (p2.mode == VEPA_MODE_BRIDGE && p2.slot != sender.slot && p2.vlans.member(vid)) {
                        const Bytes copy = as_received(p2, vid, f, tagged, tci);
                        o.retagged |= copy != f;
                        copy_to(o, p2, copy, copy != f);
                    }
        } else if (const ModelPort* to = m.owner(dst, vid);
                   to && to->mode == VEPA_MODE_BRIDGE && to->slot != sender.slot) {
            o.ports.insert(to->slot); // T2, V5
            o.frames[to->slot] = o.final_frame = as_received(*to, vid, f, tagged, tci);
            o.retagged = o.final_frame != f;
            o.uplink_frame.clear();
            return o;
        }
    }
    o.uplink = true; // T1, T3
    return o;
}
} // namespace

Outcome expect(const Model& m, uint16_t from_slot, const Bytes& f, uint32_t gso_size)
{
    Outcome o;
    const ModelPort* sender = from_slot == VEPA_SLOT_UPLINK ? nullptr : m.by_slot(from_slot);
    o.charged = from_slot;
    auto drop = [&](vepa_drop_reason r, uint16_t slot) {
        o.drop = r;
        o.charged = slot;
        return o;
    };

    const Parsed p = parse(f);
    if (p.bad)
        return drop(*p.bad, from_slot);
    if (p.ethertype == kEthPause) // T6
        return drop(VEPA_DROP_PAUSE, from_slot);
    const Mac src = mac_src(f);
    uint16_t vid = wire_vid(f);
    const bool tagged = vid != VEPA_VID_UNTAGGED;
    if (sender) {
        if (!tagged)
            vid = sender->vlans.untagged; // V1 (a priority tag stays inside)
        else if (!tagged_member(sender->vlans, vid))
            return drop(VEPA_DROP_VLAN, from_slot); // V2
    }
    if (sender && sender->src_check && std::find(sender->macs.begin(), sender->macs.end(), src) == sender->macs.end())
        return drop(VEPA_DROP_SPOOFED, from_slot); // T5, V6
    const size_t out_len = f.size() + (sender && !tagged && vid ? 4 : 0);
    if (!gso_size && out_len > m.max_frame_len)
        return drop(VEPA_DROP_OVERSIZE, from_slot); // V7
    if (!sender)
        return from_switch(m, f, p.ethertype, o);
    if (!m.uplink_ifindex)
        return drop(VEPA_DROP_NO_UPLINK, from_slot);
    return from_port(m, *sender, f, vid, tagged, o);
}

std::map<uint16_t, vepa_counters> expected_counters(uint16_t from_slot, const Outcome& o, size_t len)
{
    std::map<uint16_t, vepa_counters> d;
    if (o.drop) {
        d[o.charged].drops[*o.drop]++;
        return d;
    }
    if (o.probe) {
        d[VEPA_SLOT_UPLINK].probe_packets++;
        return d;
    }
    const bool from_switch = from_slot == VEPA_SLOT_UPLINK;
    if (!from_switch || !o.ports.empty() || !o.refused.empty() || o.host) {
        d[from_slot].rx_packets++;
        d[from_slot].rx_bytes += len;
    }
    if (o.host) {
        d[VEPA_SLOT_UPLINK].host_packets++;
        d[VEPA_SLOT_UPLINK].host_bytes += len;
    }
    for (uint16_t s : o.ports) {
        d[s].tx_packets++;
        d[s].tx_bytes += o.frames.count(s) ? o.frames.at(s).size() : len;
    }
    for (uint16_t s : o.refused)
        d[s].drops[VEPA_DROP_CLONE_FAILED]++;
    if (o.uplink) {
        d[VEPA_SLOT_UPLINK].tx_packets++;
        d[VEPA_SLOT_UPLINK].tx_bytes += o.uplink_frame.empty() ? len : o.uplink_frame.size();
    }
    return d;
}

std::string describe(const Outcome& o)
{
    std::ostringstream s;
    if (o.drop)
        s << "drop(reason " << *o.drop << ", slot " << o.charged << ")";
    else {
        s << "ports{";
        for (auto p : o.ports)
            s << p << " ";
        s << "}";
        if (!o.refused.empty()) {
            s << " refused{";
            for (auto p : o.refused)
                s << p << " ";
            s << "}";
        }
        s << (o.uplink ? " uplink" : "") << (o.host ? " host" : "") << (o.probe ? " probe" : "");
    }
    return s.str();
}

} // namespace vepa::test
