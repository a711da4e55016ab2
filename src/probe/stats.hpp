#pragma once
// Pure probe statistics: no sockets, no clocks. The prober feeds resolved records in and
// reads numbers out; tests feed hand-made sequences. All times are nanoseconds on the
// client's CLOCK_MONOTONIC; RTTs already have the reflector's processing time removed.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.hpp"

namespace netchaos::probe {

// One probe once it is resolved: a reply came back in time, or it timed out.
struct Record {
    std::uint64_t seq = 0;
    Nanos send{0};               // when it left the client
    std::optional<Nanos> rtt;    // nullopt = lost (no reply within the timeout)
};

// One reply in arrival order, duplicates and late replies included.
struct Arrival {
    std::uint64_t seq = 0;
    Nanos rtt{0};
};

// The RTTs of the probes that were answered, in record order.
std::vector<Nanos> received_rtts(std::span<const Record> records);

// Exact percentile by nearest rank on sorted samples: the smallest sample such that at
// least p% of the samples are <= it (index ceil(p/100 * n) - 1). No interpolation, so
// the answer is always a measured RTT. p in (0, 100]; empty input gives 0.
Nanos percentile_sorted(std::span<const Nanos> sorted, double p);

struct Moments {
    std::size_t n = 0;
    double mean_ns = 0.0;
    double stddev_ns = 0.0;   // sample standard deviation (n - 1); 0 when n < 2
};
// Welford's running mean/variance: stable for long runs of nearly equal RTTs.
Moments moments(std::span<const Nanos> xs);

// RFC 3393 IPDV with the "consecutive packets" selection function: for every pair of
// consecutive sequence numbers (n, n+1) that were both received, rtt[n+1] - rtt[n].
// `by_seq` must be sorted by seq. Signed values, in pair order.
std::vector<Nanos> ipdv(std::span<const Record> by_seq);

// RFC 3550 section 6.4.1 interarrival jitter over replies in arrival order. The transit
// time of a round trip is its RTT, so D(i-1, i) = rtt_i - rtt_(i-1) and J += (|D| - J)/16.
// Returned in (fractional) nanoseconds.
double rfc3550_jitter_ns(std::span<const Arrival> arrivals);

// RFC 4737 section 3.3: a packet is reordered when its seq is below NextExp (the highest
// seq seen so far + 1). A seq that already arrived is a duplicate, not a reordering.
struct OrderCounts {
    std::uint64_t reordered = 0;
    std::uint64_t duplicates = 0;
};
OrderCounts order_counts(std::span<const Arrival> arrivals);

}  // namespace netchaos::probe
