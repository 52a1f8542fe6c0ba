#include "tests/support/model.hpp"

#include <algorithm>
#include <sstream>

namespace vepa::test {

const ModelPort* Model::owner(const Mac& mac) const
{
    for (const auto& p : ports)
        if (std::find(p.macs.begin(), p.macs.end(), mac) != p.macs.end())
            return &p;
    return nullptr;
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

// A group copy for port p, or the kernel's refusal of it.
void copy_to(Outcome& o, const ModelPort& p, size_t len)
{
    if (p.clone_limit && len > p.clone_limit)
        o.refused.insert(p.slot);
    else
        o.ports.insert(p.slot);
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
    const Mac dst = mac_dst(f), src = mac_src(f);
    if (sender && sender->src_check && std::find(sender->macs.begin(), sender->macs.end(), src) == sender->macs.end())
        return drop(VEPA_DROP_SPOOFED, from_slot); // T5
    if (!gso_size && f.size() > m.max_frame_len)
        return drop(VEPA_DROP_OVERSIZE, from_slot);

    if (!sender) { // from the switch
        const ModelPort* from = m.owner(src);
        if (dst.is_group()) {
            o.host = true;
            if (link_local(dst))
                return o;
            for (const auto& p2 : m.ports) {
                bool gets;
                if (!from)
                    gets = true; // R3
                else if (from->mode == VEPA_MODE_VEPA)
                    gets = p2.mode != VEPA_MODE_PRIVATE && p2.slot != from->slot; // R4
                else if (from->mode == VEPA_MODE_BRIDGE)
                    gets = p2.mode == VEPA_MODE_VEPA; // R5
                else
                    gets = false; // R6
                if (gets)
                    copy_to(o, p2, f.size());
            }
            return o;
        }
        const ModelPort* to = m.owner(dst);
        if (!to && m.probe_dst && dst == *m.probe_dst && p.ethertype == VEPA_PROBE_ETHERTYPE) {
            o.probe = true; // vepad's probe, reflected
            return o;
        }
        if (!to) { // R2
            o.host = true;
            return o;
        }
        if (from && from->slot != to->slot && (from->mode == VEPA_MODE_PRIVATE || to->mode == VEPA_MODE_PRIVATE))
            return drop(VEPA_DROP_PRIVATE, to->slot); // R7
        o.ports.insert(to->slot);                     // R1
        return o;
    }

    if (!m.uplink_ifindex)
        return drop(VEPA_DROP_NO_UPLINK, from_slot);
    if (sender->mode == VEPA_MODE_BRIDGE) {
        if (dst.is_group()) { // T4
            if (!link_local(dst))
                for (const auto& p2 : m.ports)
                    if (p2.mode == VEPA_MODE_BRIDGE && p2.slot != sender->slot)
                        copy_to(o, p2, f.size());
        } else if (const ModelPort* to = m.owner(dst); to && to->mode == VEPA_MODE_BRIDGE && to->slot != sender->slot) {
            o.ports.insert(to->slot); // T2
            return o;
        }
    }
    o.uplink = true; // T1, T3
    return o;
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
        d[s].tx_bytes += len;
    }
    for (uint16_t s : o.refused)
        d[s].drops[VEPA_DROP_CLONE_FAILED]++;
    if (o.uplink) {
        d[VEPA_SLOT_UPLINK].tx_packets++;
        d[VEPA_SLOT_UPLINK].tx_bytes += len;
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
