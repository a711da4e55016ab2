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

FrameInfo classify(const std::uint8_t* p, std::size_t len, std::size_t max_frame);

// Sets ECN to CE (11) in the IP header at l3_offset; for IPv4 patches the header checksum
// incrementally (RFC 1624) so the frame stays valid. Returns false if not IP.
bool set_ce(std::uint8_t* p, std::size_t len, const FrameInfo& info);

// Flips bit `bit` (modulo the frame's bits) of the frame.
void flip_bit(std::uint8_t* p, std::size_t len, std::uint32_t bit);

// Internet checksum of a buffer (for tests and verification).
std::uint16_t inet_checksum(const std::uint8_t* p, std::size_t len);

}  // namespace netchaos::fwd
