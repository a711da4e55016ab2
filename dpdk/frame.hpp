#pragma once
// Defensive frame inspection on raw bytes (no DPDK): the engine needs only the length and
// the ECN bits, so all we parse is Ethernet (+ up to two VLAN tags) and the IP header.
// Anything that does not hold together is classified, never trusted.
#include <cstddef>
#include <cstdint>

namespace netchaos::fwd {

enum class FrameKind : std::uint8_t {
    ipv4,
    ipv6,
    non_ip,      // ARP, LLDP, anything else with a whole Ethernet header: forwarded as is
    runt,        // shorter than 60 bytes and its headers do not fit
    truncated,   // 60 bytes or more, but the IP header or total length does not fit
    oversize,    // longer than the configured maximum frame
};

inline bool is_malformed(FrameKind k) {
    return k == FrameKind::runt || k == FrameKind::truncated || k == FrameKind::oversize;
}

struct FrameInfo {
    FrameKind kind = FrameKind::runt;
    std::uint16_t l3_offset = 0;   // start of the IP header
    std::uint8_t ecn = 0;          // the two ECN bits (IP only)
};

namespace frame_detail {
constexpr std::size_t eth_min = 60;   // without FCS
inline std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
inline FrameInfo bad(std::size_t len) { return FrameInfo{len < eth_min ? FrameKind::runt : FrameKind::truncated, 0, 0}; }
}  // namespace frame_detail

// Inline: called per packet, and an out-of-line call returned the small struct through the
// stack (a store-forwarding stall measured at ~14% of the loop).
[[gnu::always_inline]] inline FrameInfo classify(const std::uint8_t* p, std::size_t len, std::size_t max_frame) {
    if (len > max_frame) return FrameInfo{FrameKind::oversize, 0, 0};
    if (p == nullptr || len < 14) return FrameInfo{FrameKind::runt, 0, 0};
    std::size_t off = 12;
    std::uint16_t type = frame_detail::be16(p + off);
    for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); ++tags) {
        off += 4;
        if (off + 2 > len) return frame_detail::bad(len);
        type = frame_detail::be16(p + off);
    }
    off += 2;
    if (type == 0x0800) {
        if (off + 20 > len) return frame_detail::bad(len);
        const std::uint8_t vihl = p[off];
        const std::size_t ihl = static_cast<std::size_t>(vihl & 0x0f) * 4;
        const std::size_t total = frame_detail::be16(p + off + 2);
        if ((vihl >> 4) != 4 || ihl < 20 || off + ihl > len || total < ihl || off + total > len) return frame_detail::bad(len);
        return FrameInfo{FrameKind::ipv4, static_cast<std::uint16_t>(off), static_cast<std::uint8_t>(p[off + 1] & 3)};
    }
    if (type == 0x86dd) {
        if (off + 40 > len || (p[off] >> 4) != 6 || off + 40 + frame_detail::be16(p + off + 4) > len) return frame_detail::bad(len);
        const std::uint8_t tc = static_cast<std::uint8_t>((p[off] & 0x0f) << 4 | p[off + 1] >> 4);
        return FrameInfo{FrameKind::ipv6, static_cast<std::uint16_t>(off), static_cast<std::uint8_t>(tc & 3)};
    }
    return FrameInfo{FrameKind::non_ip, static_cast<std::uint16_t>(off), 0};
}

// The flow of a classified IP frame, for reorder = "flow": a hash of addresses, protocol and,
// for TCP/UDP/SCTP/UDP-Lite, the ports (an IPv4 fragment other than the first, or an IPv6
// header followed by extension headers, hashes without ports: all its pieces stay in one
// order). Non-IP frames are all flow 0. Only the bytes classify() checked are read, plus the
// ports when they lie inside the segment.
[[gnu::always_inline]] inline std::uint32_t flow_hash(const std::uint8_t* p, std::size_t len, const FrameInfo& info) {
    std::uint64_t h = 0x9e3779b97f4a7c15ull;
    auto mix = [&h](std::uint64_t v) {   // a splitmix64 step per word: every input bit reaches every output bit
        h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
        h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ull; h ^= h >> 27; h *= 0x94d049bb133111ebull; h ^= h >> 31;
    };
    auto word = [p](std::size_t at, std::size_t n) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < n; ++i) v = v << 8 | p[at + i];
        return v;
    };
    const std::size_t off = info.l3_offset;
    std::size_t l4 = 0;
    std::uint8_t proto = 0;
    if (info.kind == FrameKind::ipv4) {
        proto = p[off + 9];
        mix(word(off + 12, 8));   // source and destination
        const bool first_fragment = (frame_detail::be16(p + off + 6) & 0x1fff) == 0;
        if (first_fragment) l4 = off + static_cast<std::size_t>(p[off] & 0x0f) * 4;
    } else if (info.kind == FrameKind::ipv6) {
        proto = p[off + 6];
        for (std::size_t i = 0; i < 32; i += 8) mix(word(off + 8 + i, 8));
        l4 = off + 40;
    } else {
        return 0;
    }
    const bool ports = proto == 6 || proto == 17 || proto == 132 || proto == 136;
    mix(proto);
    if (l4 && ports && l4 + 4 <= len) mix(word(l4, 4));
    return static_cast<std::uint32_t>(h ^ (h >> 32));
}

// Sets ECN to CE (11) in the IP header at l3_offset; for IPv4 patches the header checksum
// incrementally (RFC 1624) so the frame stays valid. Returns false if not IP.
bool set_ce(std::uint8_t* p, std::size_t len, const FrameInfo& info);

// Flips bit `bit` (modulo the frame's bits) of the frame.
void flip_bit(std::uint8_t* p, std::size_t len, std::uint32_t bit);

// Internet checksum of a buffer (for tests and verification).
std::uint16_t inet_checksum(const std::uint8_t* p, std::size_t len);

}  // namespace netchaos::fwd
