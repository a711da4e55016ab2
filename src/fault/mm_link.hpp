#pragma once
// Mahimahi's mm-link traces as a time-varying rate ([egress.rate] mm_link = "x.trace"): each
// line is one delivery opportunity, an integer millisecond, at which 1500 bytes may leave; the
// trace loops with the last line's time as its period (as mm-link does). A packet leaves at
// the opportunity that carries its last byte; opportunities nobody is waiting for are lost,
// as on the link. Pure: the caller keeps the cursor (MmCursor) per stream.
#include <cstdint>
#include <vector>

namespace netchaos::fault {

inline constexpr std::int64_t mm_bytes_per_opportunity = 1500;

struct MmLink {
    std::vector<std::int64_t> at;   // opportunity times in ns within one pass, non-decreasing
    std::int64_t period = 0;        // ns, > 0 (the last line's time; 1 ms when that is 0)
    std::int64_t time(std::int64_t k) const {   // absolute opportunity k (counting over passes)
        const auto n = static_cast<std::int64_t>(at.size());
        return (k / n) * period + at[static_cast<std::size_t>(k % n)];
    }
    // The first opportunity at or after `since` (ns since the link's origin): O(log n).
    std::int64_t first_at_or_after(std::int64_t since) const;
};

MmLink compile_mm_link(const std::vector<std::uint32_t>& ms);

struct MmCursor {
    bool started = false;
    std::int64_t origin = 0;   // t = 0 of the trace: the first packet after a model switch
    std::int64_t k = -1;       // the opportunity being filled (-1: none yet)
    std::int64_t left = 0;     // bytes it still carries
    // The release time of a packet of `len` bytes ready at `ready` (absolute ns).
    std::int64_t release(const MmLink& l, std::int64_t ready, std::uint32_t len);
};

}  // namespace netchaos::fault
