#include "fault/grid.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "dist/moments.hpp"
#include "fault/engine.hpp"

namespace netchaos::fault {

using dist::RunningMoments;

Result<TrafficRun> run_traffic(const ModelPtr& model, const Traffic& t, std::size_t packets, std::uint64_t seed,
                               const std::function<void(std::uint32_t, std::int64_t, const Decision&)>& on_probe) {
    if (t.probe_interval.count() < 0 || !(t.cross_hz >= 0)) return make_error("traffic needs rates >= 0", ErrorKind::bad_input);
    if (t.probe_interval.count() == 0 && t.cross_hz == 0) return make_error("traffic needs a probe grid or cross traffic", ErrorKind::bad_input);
    Engine e(model, seed);
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    std::exponential_distribution<double> cross_gap(t.cross_hz > 0 ? t.cross_hz / 1e9 : 1.0);
    const double t0 = 1e9;
    double next_probe = t.probe_interval.count() > 0 ? t0 : INFINITY;
    double next_cross = t.cross_hz > 0 ? t0 + cross_gap(rng) : INFINITY;
    RunningMoments drawn;
    TrafficRun r;
    std::uint32_t seq = 0;
    for (std::size_t i = 0; i < packets; ++i) {
        const bool probe = next_probe <= next_cross;
        const auto tx = static_cast<std::int64_t>(probe ? next_probe : next_cross);
        if (probe) next_probe += double(t.probe_interval.count());
        else next_cross += cross_gap(rng);
        const Decision d = e.decide(tx, probe ? t.probe_bytes : t.cross_bytes, false, probe ? 0 : 1 + std::uint32_t(rng() % 64));
        if (!d.drop) {
            ++r.decided;
            r.pushed += d.pushed;
            drawn.add(double(d.drawn_ns));
        }
        if (probe) on_probe(seq++, tx, d);
    }
    r.drawn = drawn.get();
    return r;
}

Result<GridPrediction> predict_grid(const profile::Impairment& imp, const Grid& g) {
    if (g.count == 0 || g.runs == 0 || g.interval.count() <= 0) {
        return make_error("prediction grid needs packets, runs and a positive interval", ErrorKind::bad_input);
    }
    auto model = compile(imp);
    if (!model) return model.error();
    struct Out { std::int64_t release; std::uint32_t seq; };
    std::vector<Out> out;
    out.reserve(g.count);
    RunningMoments delivered, mean, sigma, reordered, share;
    for (std::uint32_t run = 0; run < g.runs; ++run) {
        out.clear();
        RunningMoments delay;
        auto r = run_traffic(*model, Traffic{g.interval, 0, g.frame_bytes, 0}, g.count, g.seed + run,
                             [&](std::uint32_t seq, std::int64_t tx, const Decision& d) {
                                 if (d.drop) return;
                                 out.push_back({d.release_ns, seq});
                                 delay.add(static_cast<double>(d.release_ns - tx) / 1e6);
                             });
        if (!r) return r.error();
        std::stable_sort(out.begin(), out.end(), [](const Out& a, const Out& b) { return a.release < b.release; });
        std::uint64_t late = 0;
        std::int64_t next_expected = 0;
        for (const auto& o : out) {
            if (static_cast<std::int64_t>(o.seq) < next_expected) ++late;
            else next_expected = static_cast<std::int64_t>(o.seq) + 1;
        }
        delivered.add(static_cast<double>(out.size()));
        mean.add(delay.get().mean);
        sigma.add(delay.get().stddev);
        reordered.add(static_cast<double>(late));
        share.add(out.empty() ? 0.0 : static_cast<double>(late) / static_cast<double>(out.size()));
    }
    return GridPrediction{delivered.get().mean, mean.get().mean, sigma.get().mean, reordered.get().mean,
                          share.get().mean, sigma.get().stddev, reordered.get().stddev};
}

}  // namespace netchaos::fault
