#include "tests/support/frames.hpp"

#include <cstdio>
#include <stdexcept>

namespace vepa::test {

const Mac kBroadcast = Mac({0xff, 0xff, 0xff, 0xff, 0xff, 0xff});

Mac mac(const char* s)
{
    auto m = Mac::parse(s);
    if (!m)
        throw std::invalid_argument(std::string("bad MAC ") + s);
    return *m;
}

static void put16(Bytes& b, uint16_t v)
{
    b.push_back(static_cast<uint8_t>(v >> 8));
    b.push_back(static_cast<uint8_t>(v));
}

Bytes eth_frame(const Mac& dst, const Mac& src, uint16_t ethertype, size_t payload_len,
                const std::vector<uint16_t>& vlan_tpids, uint32_t tag)
{
    Bytes b(dst.bytes().begin(), dst.bytes().end());
    b.insert(b.end(), src.bytes().begin(), src.bytes().end());
    uint16_t vid = 100;
    for (uint16_t tpid : vlan_tpids) {
        put16(b, tpid);
        put16(b, vid++);
    }
    put16(b, ethertype);
    const size_t start = b.size();
    b.resize(start + payload_len, 0);
    for (size_t i = 0; i < 4 && i < payload_len; i++)
        b[start + i] = static_cast<uint8_t>(tag >> (24 - 8 * i));
    for (size_t i = 4; i < payload_len; i++)
        b[start + i] = static_cast<uint8_t>(i);
    return b;
}

uint32_t frame_tag(const Bytes& f)
{
    size_t off = 12;
    while (off + 2 <= f.size()) {
        const uint16_t et = static_cast<uint16_t>(f[off] << 8 | f[off + 1]);
        if (et == kEthVlan || et == kEthQinq) {
            off += 4;
            continue;
        }
        break;
    }
    off += 2;
    if (off + 4 > f.size())
        return 0;
    return static_cast<uint32_t>(f[off]) << 24 | f[off + 1] << 16 | f[off + 2] << 8 | f[off + 3];
}

Mac mac_dst(const Bytes& f) { return Mac(f.data()); }
Mac mac_src(const Bytes& f) { return Mac(f.data() + 6); }

std::string hex(const Bytes& b, size_t max)
{
    std::string s;
    char buf[4];
    for (size_t i = 0; i < b.size() && i < max; i++) {
        std::snprintf(buf, sizeof(buf), "%02x", b[i]);
        s += buf;
    }
    if (b.size() > max)
        s += "...";
    return s;
}

} // namespace vepa::test

#include <arpa/inet.h>

namespace vepa::test {

Bytes arp_request(const Mac& sha, const char* spa, const char* tpa, uint32_t tag)
{
    Bytes b = eth_frame(kBroadcast, sha, kEthArp, 0);
    const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
    b.insert(b.end(), hdr, hdr + sizeof(hdr));
    b.insert(b.end(), sha.bytes().begin(), sha.bytes().end());
    in_addr a{};
    inet_pton(AF_INET, spa, &a);
    const auto* ap = reinterpret_cast<const uint8_t*>(&a);
    b.insert(b.end(), ap, ap + 4);
    b.insert(b.end(), 6, 0);
    inet_pton(AF_INET, tpa, &a);
    b.insert(b.end(), ap, ap + 4);
    // padding to the Ethernet minimum, carrying the tag
    for (int i = 0; i < 4; i++)
        b.push_back(static_cast<uint8_t>(tag >> (24 - 8 * i)));
    b.resize(60, 0);
    return b;
}

bool is_arp_reply_from(const Bytes& f, const Mac& sha)
{
    return f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 2 && mac_src(f) == sha;
}

} // namespace vepa::test
