#include "fault/grid.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "fault/engine.hpp"

namespace netchaos::fault {

namespace {
struct Moments {   // Welford: mean and sample variance in one pass
    double n = 0, mean = 0, m2 = 0;
    void add(double x) {
        n += 1;
        const double d = x - mean;
        mean += d / n;
        m2 += d * (x - mean);
    }
    double sd() const { return n > 1 ? std::sqrt(m2 / (n - 1)) : 0; }
};
}  // namespace

Result<GridPrediction> predict_grid(const profile::Impairment& imp, const Grid& g) {
    if (g.count == 0 || g.runs == 0 || g.interval.count() <= 0) {
        return make_error("prediction grid needs packets, runs and a positive interval", 3);
    }
    auto model = compile(imp);
    if (!model) return model.error();
    struct Out { std::int64_t release; std::uint32_t seq; };
    std::vector<Out> out;
    out.reserve(g.count);
    Moments delivered, mean, sigma, reordered, share;
    for (std::uint32_t run = 0; run < g.runs; ++run) {
        Engine e(*model, g.seed + run);
        out.clear();
        Moments delay;
        for (std::uint32_t i = 0; i < g.count; ++i) {
            const std::int64_t tx = static_cast<std::int64_t>(i) * g.interval.count();
            const Decision d = e.decide(tx, g.frame_bytes);
            if (d.drop) continue;
            out.push_back({d.release_ns, i});
            delay.add(static_cast<double>(d.release_ns - tx) / 1e6);
        }
        std::stable_sort(out.begin(), out.end(), [](const Out& a, const Out& b) { return a.release < b.release; });
        std::uint64_t late = 0;
        std::int64_t next_expected = 0;
        for (const auto& o : out) {
            if (static_cast<std::int64_t>(o.seq) < next_expected) ++late;
            else next_expected = static_cast<std::int64_t>(o.seq) + 1;
        }
        delivered.add(static_cast<double>(out.size()));
        mean.add(delay.mean);
        sigma.add(delay.sd());
        reordered.add(static_cast<double>(late));
        share.add(out.empty() ? 0.0 : static_cast<double>(late) / static_cast<double>(out.size()));
    }
    return GridPrediction{delivered.mean, mean.mean, sigma.mean, reordered.mean, share.mean, sigma.sd(), reordered.sd()};
}

}  // namespace netchaos::fault
