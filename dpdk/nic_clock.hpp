#pragma once
// NIC clock -> TSC. A PMD with RTE_ETH_RX_OFFLOAD_TIMESTAMP stamps each frame in its own
// clock (ticks of the NIC's free-running counter: ns on some, core cycles on others);
// rte_eth_read_clock reads that counter now. Two (TSC, NIC) pairs read back to back some
// time apart give the slope and an anchor, so a frame's rx time becomes a TSC value the
// release wheel can use, taken when the frame arrived rather than when the burst was read.
// Pure: the arithmetic is unit-tested (tests/unit/fwd_preflight/); the reads are in
// nic_clock.cpp.
#include <cstdint>

namespace netchaos::fwd {

// One NIC clock read bracketed by two TSC reads; tsc is their midpoint.
struct NicClockPair {
    std::uint64_t tsc = 0;
    std::uint64_t nic = 0;
};

struct NicToTsc {
    std::uint64_t nic0 = 0;
    std::uint64_t tsc0 = 0;
    double tsc_per_nic = 0;   // 0 = not mapped

    bool valid() const { return tsc_per_nic > 0; }
    // Signed differences: a stamp slightly before the anchor (a frame received while the
    // anchor was read) maps just before tsc0 instead of 2^64 ticks later.
    std::uint64_t to_tsc(std::uint64_t nic) const {
        const auto dn = static_cast<std::int64_t>(nic - nic0);
        return tsc0 + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<double>(dn) * tsc_per_nic));
    }
    // The NIC clock's rate in Hz, given the TSC's.
    double nic_hz(double tsc_hz) const { return valid() ? tsc_hz / tsc_per_nic : 0; }
};

// The line through two pairs, anchored at the later one (closest to the frames to come).
// Invalid (tsc_per_nic 0) when the pairs do not advance on both clocks.
inline NicToTsc map_nic_clock(const NicClockPair& a, const NicClockPair& b) {
    if (b.nic <= a.nic || b.tsc <= a.tsc) return {};
    return NicToTsc{b.nic, b.tsc, static_cast<double>(b.tsc - a.tsc) / static_cast<double>(b.nic - a.nic)};
}

}  // namespace netchaos::fwd
