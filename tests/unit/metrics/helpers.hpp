#pragma once
#include <chrono>
#include <optional>
#include <vector>

#include "metrics/metrics.hpp"

namespace metrics_test {
using namespace netchaos::metrics;
using namespace std::chrono_literals;

// Windows and report points of a whole series, as summarize() computes them.
struct Run {
    Summary s;
    std::vector<Window> windows;
    std::vector<ReportPoint> points;
};
inline Run run(const std::vector<Record>& recs, Nanos origin, Nanos end, const Config& cfg = {}) {
    Run r;
    r.s = summarize(recs, origin, end, cfg, &r.windows, &r.points);
    return r;
}
inline std::optional<Nanos> ms(std::optional<int> v) {
    if (!v) return std::nullopt;
    return std::chrono::milliseconds(*v);
}
}  // namespace metrics_test
