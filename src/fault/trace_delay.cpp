#include "fault/trace_delay.hpp"

#include <algorithm>
#include <cmath>

namespace netchaos::fault {

namespace {
constexpr std::int64_t grid_ns = 1'000'000;   // step means and errors are taken on a 1 ms grid
}

std::int64_t TraceDelay::at(std::int64_t since) const {
    if (since < 0) since = 0;
    if (loops()) since %= period;
    const std::int64_t last = t.back();
    if (since >= last) {
        if (!loops()) return d.back();
        // Between the last point and the wrap: back toward the first delay, as between any two.
        const double f = static_cast<double>(since - last) / static_cast<double>(period - last);
        return d.back() + std::llround(f * static_cast<double>(d.front() - d.back()));
    }
    // The first point after `since`: t[i-1] <= since < t[i], so t[i] - t[i-1] > 0.
    const auto i = static_cast<std::size_t>(std::upper_bound(t.begin(), t.end(), since) - t.begin());
    const double f = static_cast<double>(since - t[i - 1]) / static_cast<double>(t[i] - t[i - 1]);
    return d[i - 1] + std::llround(f * static_cast<double>(d[i] - d[i - 1]));
}

TraceDelay compile_trace(const profile::DelayTrace& tr) {
    TraceDelay td;
    td.t.reserve(tr.points.size());
    td.d.reserve(tr.points.size());
    for (const auto& p : tr.points) {
        td.t.push_back(p.at.count());
        td.d.push_back(std::max<std::int64_t>(0, p.delay.count()));
    }
    if (td.t.empty()) {   // the parser refuses this; a zero delay keeps at() defined anyway
        td.t.push_back(0);
        td.d.push_back(0);
    }
    td.period = tr.period.count();
    td.loop = tr.at_end == profile::TraceEnd::loop;
    return td;
}

namespace {
struct Moments {
    double mean = 0, sd = 0;
};
// Mean and standard deviation of the series on the 1 ms grid over [from, from + len).
Moments grid_moments(const TraceDelay& td, std::int64_t from, std::int64_t len) {
    double n = 0, sum = 0, sumsq = 0;
    for (std::int64_t x = from; x < from + len; x += grid_ns) {
        const double v = static_cast<double>(td.at(x));
        n += 1, sum += v, sumsq += v * v;
    }
    if (n == 0) return {static_cast<double>(td.at(from)), 0};
    const double mean = sum / n;
    return {mean, std::sqrt(std::max(0.0, sumsq / n - mean * mean))};
}
}  // namespace

std::vector<TraceStep> trace_steps(const TraceDelay& td, profile::Duration granularity, profile::Duration total) {
    std::vector<TraceStep> out;
    const std::int64_t g = std::max<std::int64_t>(granularity.count(), grid_ns);
    for (std::int64_t s = 0; s < total.count(); s += g) {
        const std::int64_t len = std::min(g, total.count() - s);
        const Moments m = grid_moments(td, s, len);
        out.push_back({profile::Duration{s}, profile::Duration{len}, profile::Duration{std::llround(m.mean)},
                       profile::Duration{std::llround(m.sd)}});
    }
    return out;
}

StepError step_error(const TraceDelay& td, profile::Duration granularity) {
    StepError e;
    const std::int64_t pass = td.loops() ? td.period : td.t.back();
    const std::int64_t g = std::max<std::int64_t>(granularity.count(), grid_ns);
    if (pass <= 0) return e;
    std::vector<double> curve, steps;
    double sq = 0;
    for (std::int64_t s = 0; s < pass; s += g) {
        const std::int64_t len = std::min(g, pass - s);
        const double mean = grid_moments(td, s, len).mean;
        ++e.steps;
        for (std::int64_t x = s; x < s + len; x += grid_ns) {
            const double v = static_cast<double>(td.at(x));
            curve.push_back(v);
            steps.push_back(mean);
            sq += (v - mean) * (v - mean);
            e.max_ms = std::max(e.max_ms, std::abs(v - mean) / 1e6);
        }
    }
    e.rms_ms = std::sqrt(sq / static_cast<double>(curve.size())) / 1e6;
    // KS distance of the two value distributions (same count): walk both sorted lists.
    std::sort(curve.begin(), curve.end());
    std::sort(steps.begin(), steps.end());
    const double n = static_cast<double>(curve.size());
    std::size_t i = 0, j = 0;
    while (i < curve.size() && j < steps.size()) {
        const double x = std::min(curve[i], steps[j]);
        while (i < curve.size() && curve[i] <= x) ++i;
        while (j < steps.size() && steps[j] <= x) ++j;
        e.ks = std::max(e.ks, std::abs(static_cast<double>(i) - static_cast<double>(j)) / n);
    }
    return e;
}

}  // namespace netchaos::fault
