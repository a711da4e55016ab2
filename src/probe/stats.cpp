#include "probe/stats.hpp"

#include <cmath>
#include <cstdlib>
#include <unordered_set>

namespace netchaos::probe {

std::vector<Nanos> received_rtts(std::span<const Record> records) {
    std::vector<Nanos> out;
    out.reserve(records.size());
    for (const Record& r : records)
        if (r.rtt) out.push_back(*r.rtt);
    return out;
}

Nanos percentile_sorted(std::span<const Nanos> sorted, double p) {
    if (sorted.empty()) return Nanos{0};
    const auto n = static_cast<double>(sorted.size());
    // 1e-9 keeps 99.9% of 1000 samples at rank 999, not 1000 (0.999 * 1000 = 999.0000000000001).
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n - 1e-9));
    if (rank < 1) rank = 1;
    if (rank > sorted.size()) rank = sorted.size();
    return sorted[rank - 1];
}

Moments moments(std::span<const Nanos> xs) {
    Moments m;
    double m2 = 0.0;
    for (Nanos x : xs) {
        ++m.n;
        const double v = static_cast<double>(x.count());
        const double d = v - m.mean_ns;
        m.mean_ns += d / static_cast<double>(m.n);
        m2 += d * (v - m.mean_ns);
    }
    if (m.n >= 2) m.stddev_ns = std::sqrt(m2 / static_cast<double>(m.n - 1));
    return m;
}

std::vector<Nanos> ipdv(std::span<const Record> by_seq) {
    std::vector<Nanos> out;
    for (std::size_t i = 1; i < by_seq.size(); ++i) {
        const Record& a = by_seq[i - 1];
        const Record& b = by_seq[i];
        if (b.seq == a.seq + 1 && a.rtt && b.rtt) out.push_back(*b.rtt - *a.rtt);
    }
    return out;
}

double rfc3550_jitter_ns(std::span<const Arrival> arrivals) {
    double j = 0.0;
    for (std::size_t i = 1; i < arrivals.size(); ++i) {
        const double d = static_cast<double>((arrivals[i].rtt - arrivals[i - 1].rtt).count());
        j += (std::abs(d) - j) / 16.0;
    }
    return j;
}

OrderCounts order_counts(std::span<const Arrival> arrivals) {
    OrderCounts c;
    std::unordered_set<std::uint64_t> seen;
    seen.reserve(arrivals.size());
    std::uint64_t next_exp = 0;
    for (const Arrival& a : arrivals) {
        if (!seen.insert(a.seq).second) {
            ++c.duplicates;
            continue;
        }
        if (a.seq < next_exp)
            ++c.reordered;
        else
            next_exp = a.seq + 1;
    }
    return c;
}

}  // namespace netchaos::probe
