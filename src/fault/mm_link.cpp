#include "fault/mm_link.hpp"

#include <algorithm>

namespace netchaos::fault {

std::int64_t MmLink::first_at_or_after(std::int64_t since) const {
    if (since < 0) since = 0;
    const auto n = static_cast<std::int64_t>(at.size());
    const std::int64_t pass = since / period;
    const std::int64_t in = since - pass * period;
    const auto i = static_cast<std::int64_t>(std::lower_bound(at.begin(), at.end(), in) - at.begin());
    return pass * n + i;   // i == n: the first opportunity of the next pass
}

MmLink compile_mm_link(const std::vector<std::uint32_t>& ms) {
    MmLink l;
    for (auto v : ms) l.at.push_back(static_cast<std::int64_t>(v) * 1'000'000);
    if (l.at.empty()) l.at.push_back(0);   // the parser refuses this; one opportunity a ms keeps it defined
    l.period = std::max<std::int64_t>(l.at.back(), 1'000'000);
    return l;
}

std::int64_t MmCursor::release(const MmLink& l, std::int64_t ready, std::uint32_t len) {
    if (!started) started = true, origin = ready, k = -1, left = 0;
    // A spent opportunity is not reused; one that passed before the packet was ready is lost
    // (with what it had left): the packet takes the first one at or after it is ready.
    if (k < 0 || left == 0 || origin + l.time(k) < ready) {
        std::int64_t next = l.first_at_or_after(ready - origin);
        if (k >= 0 && left == 0) next = std::max(next, k + 1);
        k = next;
        left = mm_bytes_per_opportunity;
    }
    std::int64_t need = std::max<std::int64_t>(len, 1);
    while (need > left) {   // a packet larger than what is left spills into the next opportunities
        need -= left;
        ++k;
        left = mm_bytes_per_opportunity;
    }
    left -= need;
    return origin + l.time(k);
}

}  // namespace netchaos::fault
