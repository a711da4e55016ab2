#pragma once
// Per-flow classes on raw frames (no DPDK): a profile's [[class]] matches compiled into small
// rules, and the pure function that picks a frame's class. The lcore calls it per packet
// only when the direction has classes; frames classify() already checked are the input.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "frame.hpp"
#include "profile/profile.hpp"

namespace netchaos::fwd {

// One class's match, ready for the hot path: addresses as masked bytes, 0 / -1 for "any".
struct ClassRule {
    enum class Family : std::uint8_t { any, v4, v6 };
    Family family = Family::any;   // set by src/dst; "any" matches IPv4 and IPv6
    bool has_src = false, has_dst = false;
    std::array<std::uint8_t, 16> src{}, src_mask{}, dst{}, dst_mask{};
    // 0 = any; "icmp" is kept apart: IPPROTO_ICMP for IPv4 frames, ICMPv6 for IPv6 frames.
    std::uint8_t proto = 0;
    bool icmp = false;
    std::uint16_t sport = 0, dport = 0;   // 0 = any (a port rule needs TCP or UDP)
    std::int16_t dscp = -1;               // -1 = any
};

inline ClassRule compile_rule(const profile::FlowMatch& m) {
    ClassRule r;
    auto set = [&r](const profile::Cidr& c, std::array<std::uint8_t, 16>& addr, std::array<std::uint8_t, 16>& mask) {
        r.family = c.v6 ? ClassRule::Family::v6 : ClassRule::Family::v4;
        // The profile parser already checked and canonicalized the text.
        inet_pton(c.v6 ? AF_INET6 : AF_INET, c.address.c_str(), addr.data());
        for (int i = 0; i < 16; ++i) {
            const int keep = std::min(8, std::max(0, int(c.prefix) - i * 8));
            mask[static_cast<std::size_t>(i)] = keep == 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
            addr[static_cast<std::size_t>(i)] &= mask[static_cast<std::size_t>(i)];
        }
    };
    if (m.src) { set(*m.src, r.src, r.src_mask); r.has_src = true; }
    if (m.dst) { set(*m.dst, r.dst, r.dst_mask); r.has_dst = true; }
    if (m.protocol == profile::Protocol::tcp) r.proto = 6;
    if (m.protocol == profile::Protocol::udp) r.proto = 17;
    r.icmp = m.protocol == profile::Protocol::icmp;
    r.sport = m.sport.value_or(0);
    r.dport = m.dport.value_or(0);
    r.dscp = m.dscp ? static_cast<std::int16_t>(*m.dscp) : std::int16_t{-1};
    return r;
}

// The fields of an IP frame a rule looks at, read once per packet.
struct FlowFields {
    bool v6 = false;
    const std::uint8_t* src = nullptr;   // 4 or 16 bytes inside the frame
    const std::uint8_t* dst = nullptr;
    std::uint8_t proto = 0;
    std::uint8_t dscp = 0;
    bool ports = false;                  // TCP/UDP with its ports inside the segment
    std::uint16_t sport = 0, dport = 0;
};

// Only the bytes classify() checked, plus the ports when they lie inside the segment. An
// IPv4 fragment other than the first has no ports (a port rule does not take it); IPv6
// extension headers are not walked (a port rule takes only TCP/UDP right after the header).
[[gnu::always_inline]] inline FlowFields flow_fields(const std::uint8_t* p, std::size_t len, const FrameInfo& info) {
    FlowFields f;
    const std::size_t off = info.l3_offset;
    std::size_t l4 = 0;
    if (info.kind == FrameKind::ipv4) {
        f.src = p + off + 12;
        f.dst = p + off + 16;
        f.proto = p[off + 9];
        f.dscp = static_cast<std::uint8_t>(p[off + 1] >> 2);
        if ((frame_detail::be16(p + off + 6) & 0x1fff) == 0) l4 = off + static_cast<std::size_t>(p[off] & 0x0f) * 4;
    } else {
        f.v6 = true;
        f.src = p + off + 8;
        f.dst = p + off + 24;
        f.proto = p[off + 6];
        f.dscp = static_cast<std::uint8_t>(((p[off] & 0x0f) << 2) | (p[off + 1] >> 6));
        l4 = off + 40;
    }
    if (l4 && (f.proto == 6 || f.proto == 17) && l4 + 4 <= len) {
        f.ports = true;
        f.sport = frame_detail::be16(p + l4);
        f.dport = frame_detail::be16(p + l4 + 2);
    }
    return f;
}

inline bool rule_takes(const ClassRule& r, const FlowFields& f) {
    if (r.family == ClassRule::Family::v4 && f.v6) return false;
    if (r.family == ClassRule::Family::v6 && !f.v6) return false;
    const std::size_t n = f.v6 ? 16 : 4;
    auto in = [n](const std::uint8_t* a, const std::array<std::uint8_t, 16>& net, const std::array<std::uint8_t, 16>& mask) {
        for (std::size_t i = 0; i < n; ++i)
            if ((a[i] & mask[i]) != net[i]) return false;
        return true;
    };
    if (r.has_src && !in(f.src, r.src, r.src_mask)) return false;
    if (r.has_dst && !in(f.dst, r.dst, r.dst_mask)) return false;
    if (r.icmp && f.proto != (f.v6 ? 58 : 1)) return false;
    if (r.proto && f.proto != r.proto) return false;
    if (r.dscp >= 0 && f.dscp != r.dscp) return false;
    if (r.sport || r.dport) {
        if (!f.ports) return false;
        if (r.sport && f.sport != r.sport) return false;
        if (r.dport && f.dport != r.dport) return false;
    }
    return true;
}

// The class of a frame: 1 + the index of the first rule that takes it, or 0 (unmatched: the
// direction's own impairment). Non-IP and malformed frames are unmatched.
[[gnu::always_inline]] inline unsigned flow_class_of(const std::uint8_t* p, std::size_t len, const FrameInfo& info,
                                                     const ClassRule* rules, unsigned n) {
    if (n == 0 || (info.kind != FrameKind::ipv4 && info.kind != FrameKind::ipv6)) return 0;
    const FlowFields f = flow_fields(p, len, info);
    for (unsigned i = 0; i < n; ++i)
        if (rule_takes(rules[i], f)) return i + 1;
    return 0;
}

}  // namespace netchaos::fwd
