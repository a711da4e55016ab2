#include "frame.hpp"

namespace netchaos::fwd {
namespace {
constexpr std::size_t eth_min = 60;   // without FCS
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
FrameInfo bad(std::size_t len) { return FrameInfo{len < eth_min ? FrameKind::runt : FrameKind::truncated, 0, 0}; }
}  // namespace

FrameInfo classify(const std::uint8_t* p, std::size_t len, std::size_t max_frame) {
    if (len > max_frame) return FrameInfo{FrameKind::oversize, 0, 0};
    if (p == nullptr || len < 14) return FrameInfo{FrameKind::runt, 0, 0};
    std::size_t off = 12;
    std::uint16_t type = be16(p + off);
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); ++tags) {
        off += 4;
        if (off + 2 > len) return bad(len);
        type = be16(p + off);
    }
    off += 2;
    if (type == 0x0800) {
        if (off + 20 > len) return bad(len);
        const std::uint8_t vihl = p[off];
        const std::size_t ihl = static_cast<std::size_t>(vihl & 0x0f) * 4;
        const std::size_t total = be16(p + off + 2);
        if ((vihl >> 4) != 4 || ihl < 20 || off + ihl > len || total < ihl || off + total > len) return bad(len);
        return FrameInfo{FrameKind::ipv4, static_cast<std::uint16_t>(off), static_cast<std::uint8_t>(p[off + 1] & 3)};
    }
    if (type == 0x86dd) {
        if (off + 40 > len || (p[off] >> 4) != 6 || off + 40 + be16(p + off + 4) > len) return bad(len);
        const std::uint8_t tc = static_cast<std::uint8_t>((p[off] & 0x0f) << 4 | p[off + 1] >> 4);
        return FrameInfo{FrameKind::ipv6, static_cast<std::uint16_t>(off), static_cast<std::uint8_t>(tc & 3)};
    }
    return FrameInfo{FrameKind::non_ip, static_cast<std::uint16_t>(off), 0};
}

bool set_ce(std::uint8_t* p, std::size_t len, const FrameInfo& info) {
    const std::size_t off = info.l3_offset;
    if (info.kind == FrameKind::ipv4 && off + 20 <= len) {
        // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), on the 16-bit word holding TOS.
        const std::uint16_t old_word = be16(p + off);
        p[off + 1] = static_cast<std::uint8_t>(p[off + 1] | 3);
        const std::uint16_t new_word = be16(p + off);
        std::uint32_t sum = static_cast<std::uint16_t>(~be16(p + off + 10));
        sum += static_cast<std::uint16_t>(~old_word);
        sum += new_word;
        while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
        const std::uint16_t csum = static_cast<std::uint16_t>(~sum);
        p[off + 10] = static_cast<std::uint8_t>(csum >> 8);
        p[off + 11] = static_cast<std::uint8_t>(csum & 0xff);
        return true;
    }
    if (info.kind == FrameKind::ipv6 && off + 40 <= len) {
        p[off + 1] = static_cast<std::uint8_t>(p[off + 1] | 0x30);   // low 2 bits of traffic class
        return true;
    }
    return false;
}

void flip_bit(std::uint8_t* p, std::size_t len, std::uint32_t bit) {
    if (p == nullptr || len == 0) return;
    const std::uint64_t b = bit % (static_cast<std::uint64_t>(len) * 8);
    p[b / 8] ^= static_cast<std::uint8_t>(1u << (b % 8));
}

std::uint16_t inet_checksum(const std::uint8_t* p, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += be16(p + i);
    if (len & 1) sum += static_cast<std::uint32_t>(p[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

}  // namespace netchaos::fwd
