#include "frame.hpp"

namespace netchaos::fwd {
using frame_detail::be16;

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
