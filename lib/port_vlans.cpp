#include "lib/port_vlans.hpp"

#include "vepa/vlan_list.hpp"

namespace vepa {

bool PortVlans::member(uint16_t vid) const
{
    if (vid == untagged)
        return true; // 0 == 0 too: a port without --vlan takes untagged frames
    return vid != 0 && (all_tagged || tagged.count(vid));
}

std::vector<uint16_t> PortVlans::mac_vids() const
{
    std::vector<uint16_t> out{untagged};
    if (all_tagged)
        out.push_back(VEPA_VID_ANY);
    else
        out.insert(out.end(), tagged.begin(), tagged.end());
    return out;
}

bool PortVlans::overlaps(const PortVlans& o) const
{
    // On the uplink side a port is in {untagged} + tagged (or + every VID).
    auto meets = [](const PortVlans& a, const PortVlans& b) {
        if (b.member(a.untagged))
            return true;
        if (a.all_tagged)
            return b.untagged != 0 || b.all_tagged || !b.tagged.empty();
        for (auto v : a.tagged)
            if (b.member(v))
                return true;
        return false;
    };
    return meets(*this, o);
}

std::string PortVlans::str() const
{
    std::string out = untagged ? std::to_string(untagged) : "";
    if (all_tagged || !tagged.empty()) {
        if (!out.empty())
            out += ' ';
        out += '+' + (all_tagged ? std::string("all") : format_vid_list(tagged));
    }
    return out;
}

} // namespace vepa
