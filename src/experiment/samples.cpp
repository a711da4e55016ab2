#include "experiment/samples.hpp"

#include <algorithm>

namespace netchaos::experiment {

Moments to_ms(const metrics::Moments& m) { return Moments{m.n, m.mean / 1e6, m.stddev / 1e6}; }

std::span<const Record> slice(const std::vector<Record>& all, std::int64_t from_ns, std::int64_t to_ns) {
    const auto by_send = [](const Record& r, std::int64_t t) { return r.send.count() < t; };
    const auto a = std::lower_bound(all.begin(), all.end(), from_ns, by_send);
    const auto b = std::lower_bound(a, all.end(), std::max(from_ns, to_ns), by_send);
    return {a, b};
}

Moments rtt_moments(std::span<const Record> records) {
    metrics::RunningMoments m;
    for (const Record& r : records)
        if (r.rtt) m.add(static_cast<double>(r.rtt->count()));
    return to_ms(m.get());
}

}  // namespace netchaos::experiment
