#include "lib/map_sync.hpp"

#include <algorithm>
#include <cstring>
#include <set>
#include <unordered_map>

namespace vepa {

namespace {
bool same(const vepa_port_ref& a, const vepa_port_ref& b)
{
    return a.ifindex == b.ifindex && a.slot == b.slot && a.mode == b.mode && a.delivery == b.delivery &&
           a.vid == b.vid && a.vflags == b.vflags;
}
bool same(const vepa_vlan_set& a, const vepa_vlan_set& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }
bool same(const vepa_port& a, const vepa_port& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }
bool same(const vepa_config& a, const vepa_config& b) { return std::memcmp(&a, &b, sizeof(a)) == 0; }
bool same(uint32_t a, uint32_t b) { return a == b; }
bool same(const vepa_xsk_port& a, const vepa_xsk_port& b)
{
    return a.first_slot == b.first_slot && a.queues == b.queues && a.slot == b.slot;
}

// Upsert every wanted entry that differs; return the number written.
template <typename Map, typename K, typename V>
size_t upsert(Map& map, const std::map<K, V>& want, const std::map<K, V>& have)
{
    size_t n = 0;
    for (const auto& [k, v] : want) {
        auto it = have.find(k);
        if (it == have.end() || !same(it->second, v)) {
            map.update(k, v);
            n++;
        }
    }
    return n;
}

template <typename Map, typename K, typename V>
size_t remove_stale(Map& map, const std::map<K, V>& want, const std::map<K, V>& have)
{
    size_t n = 0;
    for (const auto& [k, v] : have)
        if (!want.count(k) && map.erase(k))
            n++;
    return n;
}

template <typename K, typename V> bool any_stale(const std::map<K, V>& want, const std::map<K, V>& have)
{
    return std::any_of(have.begin(), have.end(), [&](const auto& e) { return !want.count(e.first); });
}

template <typename K, typename V, typename Map> std::map<K, V> read_all(const Map& map)
{
    std::map<K, V> out;
    for (auto& [k, v] : map.entries())
        out.emplace(k, v);
    return out;
}

uint16_t vlan_flags(const PortVlans& v)
{
    if (v.all_tagged)
        return VEPA_VLAN_F_TRUNK_ALL;
    return v.tagged.empty() ? 0 : VEPA_VLAN_F_TRUNK;
}

vepa_vlan_set vlan_set(const std::set<uint16_t>& vids)
{
    vepa_vlan_set s{};
    for (uint16_t v : vids) {
        if (v == VEPA_VID_UNTAGGED || v > VEPA_VID_MAX)
            throw Error("VLAN " + std::to_string(v) + " is out of range 1-" + std::to_string(VEPA_VID_MAX));
        s.bits[v / 64] |= uint64_t{1} << (v % 64);
    }
    return s;
}

vepa_port_ref port_ref(const PresentPort& p)
{
    return {p.ifindex,
            p.slot,
            static_cast<uint8_t>(p.mode),
            static_cast<uint8_t>(p.delivery),
            p.vlans.untagged,
            vlan_flags(p.vlans)};
}

// The MAC table entries of a port: each MAC in each VLAN the port is in (V3).
// A MAC on two ports is an error only when their VLANs overlap.
void add_macs(MacTable& c, std::map<Mac, std::vector<const PresentPort*>>& owners, const PresentPort& p)
{
    const vepa_port_ref ref = port_ref(p);
    if (p.vlans.untagged > VEPA_VID_MAX)
        throw Error("VLAN " + std::to_string(p.vlans.untagged) + " is out of range");
    for (const Mac& m : p.macs) {
        auto& others = owners[m];
        for (const PresentPort* o : others)
            if (o != &p && o->vlans.overlaps(p.vlans))
                throw Error("MAC " + m.str() + " is on two ports in one VLAN");
        others.push_back(&p);
        for (uint16_t vid : p.vlans.mac_vids())
            if (!c.emplace(MacVid{vid, m}, ref).second)
                throw Error("MAC " + m.str() + " is on two ports");
    }
}

// The checks of one port's record, and the slots seen so far.
void check_port(const DataplaneState& st, const PresentPort& p, std::set<uint16_t>& slots)
{
    if (p.ifindex == 0 || p.ifindex == st.uplink_ifindex)
        throw Error("port ifindex " + std::to_string(p.ifindex) + " is not a usable port");
    if (p.slot == VEPA_SLOT_UPLINK || p.slot >= VEPA_MAX_PORTS || !slots.insert(p.slot).second)
        throw Error("port slot " + std::to_string(p.slot) + " is reserved, out of range or used twice");
    if (p.macs.size() > VEPA_MAX_PORT_MACS)
        throw Error("a port has at most " + std::to_string(VEPA_MAX_PORT_MACS) + " MAC addresses");
    if (p.vlans.untagged > VEPA_VID_MAX)
        throw Error("VLAN " + std::to_string(p.vlans.untagged) + " is out of range");
}

void add_port(MapRecords& c, const PresentPort& p)
{
    const vepa_port_ref ref = port_ref(p);
    vepa_port rec{};
    rec.ref = ref;
    rec.flags = p.flags;
    rec.n_macs = static_cast<uint32_t>(p.macs.size());
    for (size_t i = 0; i < p.macs.size() && i < VEPA_PORT_FAST_MACS; i++)
        rec.macs[i] = p.macs[i].key();
    if (ref.vflags & VEPA_VLAN_F_TRUNK)
        c.vlans.emplace(p.slot, vlan_set(p.vlans.tagged));
    if (!c.ports.emplace(p.ifindex, rec).second)
        throw Error("ifindex " + std::to_string(p.ifindex) + " is two ports");
    if (p.mode == VEPA_MODE_PRIVATE)
        c.config.flags |= VEPA_CFG_F_HAVE_PRIVATE;
    if (!p.vlans.empty())
        c.config.flags |= VEPA_CFG_F_VLANS;
    if (p.delivery == VEPA_DELIVER_XDP)
        c.devs.emplace(p.ifindex, p.ifindex);
    if (p.delivery != VEPA_DELIVER_DOWN) // no copies for a port that cannot take them
        c.flood.push_back(ref);
}

} // namespace

MapRecords build_records(const DataplaneState& st)
{
    MapRecords c;
    c.config.layout_version = VEPA_LAYOUT_VERSION;
    c.config.uplink_ifindex = st.uplink_ifindex;
    c.config.max_frame_len = st.max_frame_len;
    if (!st.probe_dst.is_zero())
        c.config.probe_dst = st.probe_dst.key();
    std::set<uint16_t> slots;
    for (const PresentPort& p : st.ports) {
        check_port(st, p, slots);
        add_port(c, p);
    }
    if (st.uplink_ifindex && st.uplink_takes_xdp)
        c.devs.emplace(st.uplink_ifindex, st.uplink_ifindex);
    for (const XskDevice& x : st.xsk_devices) {
        if (x.queues == 0 || x.queues > VEPA_MAX_XSK_QUEUES || x.first_slot + x.queues > VEPA_MAX_XSK_SLOTS)
            throw Error("xsk device " + std::to_string(x.ifindex) + ": slots out of range");
        if (!c.xskports.emplace(x.ifindex, vepa_xsk_port{x.first_slot, x.queues, x.slot}).second)
            throw Error("ifindex " + std::to_string(x.ifindex) + " is two xsk devices");
    }
    return c;
}

MapContents build_contents(const DataplaneState& st)
{
    MapContents c;
    static_cast<MapRecords&>(c) = build_records(st);
    std::map<Mac, std::vector<const PresentPort*>> owners;
    for (const PresentPort& p : st.ports)
        add_macs(c.macs, owners, p);
    return c;
}

MacChanges diff_macs(const MacTable& want, const MacTable& have)
{
    MacChanges c;
    for (const auto& [key, ref] : want)
        if (auto it = have.find(key); it == have.end() || !same(it->second, ref))
            c.put.emplace(key, ref);
    for (const auto& [key, ref] : have)
        if (!want.count(key))
            c.remove.push_back(key);
    return c;
}

namespace {

// Two ports alike; their MAC lists compared as one block of bytes (66 000 MACs
// compared one by one cost more than the rest of a plan).
bool alike(const PresentPort& a, const PresentPort& b)
{
    static_assert(sizeof(Mac) == 6, "MAC lists are compared as bytes");
    return a.ifindex == b.ifindex && a.slot == b.slot && a.mode == b.mode && a.delivery == b.delivery &&
           a.flags == b.flags && a.macs.size() == b.macs.size() &&
           (a.macs.empty() || std::memcmp(a.macs.data(), b.macs.data(), a.macs.size() * sizeof(Mac)) == 0) &&
           a.vlans == b.vlans;
}

// The ports of `a` that `b` does not hold alike (by slot): changed, added or removed.
std::vector<const PresentPort*> differing(const DataplaneState& a, const DataplaneState& b)
{
    std::unordered_map<uint16_t, const PresentPort*> by_slot;
    by_slot.reserve(b.ports.size());
    for (const PresentPort& p : b.ports)
        by_slot.emplace(p.slot, &p);
    std::vector<const PresentPort*> out;
    for (const PresentPort& p : a.ports)
        if (auto it = by_slot.find(p.slot); it == by_slot.end() || !alike(*it->second, p))
            out.push_back(&p);
    return out;
}

} // namespace

PortChanges diff_ports(const DataplaneState& want, const DataplaneState& was)
{
    return {differing(want, was), differing(was, want)};
}

MacChanges diff_macs(const PortChanges& changed, const MacTable& have)
{
    std::set<uint16_t> changed_slots; // their entries in `have` are rewritten or removed
    for (const auto* list : {&changed.now, &changed.before})
        for (const PresentPort* p : *list)
            changed_slots.insert(p->slot);
    MacTable fresh; // every entry of the changed ports as they are now
    std::map<Mac, std::vector<const PresentPort*>> owners;
    for (const PresentPort* p : changed.now)
        add_macs(fresh, owners, *p);
    MacChanges c;
    for (const auto& [key, ref] : fresh) {
        const auto it = have.find(key);
        if (it != have.end() && !changed_slots.count(it->second.slot))
            throw Error("MAC " + key.second.str() + " is on two ports");
        if (it == have.end() || !same(it->second, ref))
            c.put.emplace(key, ref);
    }
    for (const PresentPort* p : changed.before)
        for (const Mac& m : p->macs)
            for (uint16_t vid : p->vlans.mac_vids())
                if (const MacVid key{vid, m}; !fresh.count(key) && have.count(key))
                    c.remove.push_back(key);
    return c;
}

std::vector<Mac> changed_macs(const PortChanges& changed)
{
    std::set<Mac> out;
    for (const auto* list : {&changed.now, &changed.before})
        for (const PresentPort* p : *list)
            out.insert(p->macs.begin(), p->macs.end());
    return {out.begin(), out.end()};
}

MapContents read_contents(Dataplane& dp)
{
    MapContents c;
    c.config = dp.config().lookup(0).value_or(vepa_config{});
    for (auto& [k, v] : dp.macs().entries())
        c.macs.emplace(MacVid{k.vid, Mac::from_key(k)}, v);
    c.ports = read_all<uint32_t, vepa_port>(dp.ports());
    // The vlans array of the slots in use (any other slot was zeroed when its port left).
    const vepa_vlan_set none{};
    for (const auto& [ifindex, rec] : c.ports)
        if (auto set = dp.vlans().lookup(rec.ref.slot); set && !same(*set, none))
            c.vlans.emplace(rec.ref.slot, *set);
    c.devs = read_all<uint32_t, uint32_t>(dp.devs());
    c.flood = dp.flood().current();
    c.xskports = read_all<uint32_t, vepa_xsk_port>(dp.xskports());
    return c;
}

SyncStats sync_maps(Dataplane& dp, const DataplaneState& st)
{
    const MapContents want = build_contents(st);
    MapContents have = read_contents(dp);
    const MacChanges macs = diff_macs(want.macs, have.macs);
    return sync_maps(dp, want, macs, have);
}

namespace {

// Step 3: new owners in place (one atomic write per MAC), stale entries out.
void sync_macs(Dataplane& dp, const MacChanges& c, MacTable& have, SyncStats& s)
{
    for (const auto& [key, ref] : c.put) {
        dp.macs().update(key.second.key(key.first), ref);
        have[key] = ref;
        s.written++;
    }
    for (const MacVid& key : c.remove) {
        if (dp.macs().erase(key.second.key(key.first)))
            s.removed++;
        have.erase(key);
    }
}

} // namespace

SyncStats sync_maps(Dataplane& dp, const MapRecords& want, const MacChanges& macs, MapContents& have)
{
    SyncStats s;
    const uint32_t zero = 0;

    // 1. Config: while ports change, R7's source lookup and the uplink's VLAN-safe
    // path stay on if they are on before or after.
    vepa_config transit = want.config;
    transit.flags |= have.config.flags & (VEPA_CFG_F_HAVE_PRIVATE | VEPA_CFG_F_VLANS);
    if (!same(transit, have.config)) {
        dp.config().update(zero, transit);
        s.written++;
    }
    // 2. Targets before references: devmap entries, then port records.
    s.written += upsert(dp.devs(), want.devs, have.devs);
    s.written += upsert(dp.vlans(), want.vlans, have.vlans);
    s.written += upsert(dp.ports(), want.ports, have.ports);
    s.written += upsert(dp.xskports(), want.xskports, have.xskports);
    // 3. MAC table.
    sync_macs(dp, macs, have.macs, s);
    // 4. Flood list, swapped whole; returns once frames see the new list.
    bool flood_same = have.flood.size() == want.flood.size();
    for (size_t i = 0; flood_same && i < have.flood.size(); i++)
        flood_same = same(have.flood[i], want.flood[i]);
    if (!flood_same) {
        dp.flood().publish(want.flood);
        s.flood_published = true;
    }
    // 5. Nothing references the departed ports any more, once no frame reads an older flood
    // list: zero their VLAN sets, drop their records and targets.
    if (any_stale(want.vlans, have.vlans) || any_stale(want.ports, have.ports) || any_stale(want.devs, have.devs) ||
        any_stale(want.xskports, have.xskports))
        dp.flood().settle();
    for (const auto& [slot, set] : have.vlans)
        if (!want.vlans.count(slot)) {
            dp.vlans().update(slot, vepa_vlan_set{});
            s.removed++;
        }
    s.removed += remove_stale(dp.ports(), want.ports, have.ports);
    s.removed += remove_stale(dp.devs(), want.devs, have.devs);
    s.removed += remove_stale(dp.xskports(), want.xskports, have.xskports);
    if (!same(want.config, transit))
        dp.config().update(zero, want.config);
    static_cast<MapRecords&>(have) = want;
    return s;
}

} // namespace vepa
