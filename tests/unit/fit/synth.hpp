#pragma once
// Synthetic traces from known models, drawn with a seeded RNG (deterministic): the fit must
// recover what made them.
#include <cmath>
#include <random>

#include "dist/normal.hpp"
#include "dist/shapes.hpp"
#include "trace/trace.hpp"

namespace fit_test {

using namespace std::chrono_literals;
using netchaos::profile::Distribution;

struct Piece {
    Distribution law;
    double mean_ms, jitter_ms;
    double seconds;
    double rho = 0;   // Gaussian-copula lag-1 correlation, as the fault engine draws it
};

// 100 probes/s; loss from a Gilbert chain (p good->bad, r bad->good; lost iff bad) when p > 0.
inline netchaos::trace::Trace draw(const std::vector<Piece>& pieces, std::uint64_t seed, double p = 0, double r = 1) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    std::normal_distribution<double> gauss(0.0, 1.0);
    netchaos::trace::Trace t;
    std::uint64_t seq = 0;
    double z = gauss(rng);
    bool bad = false;
    for (const auto& pc : pieces) {
        const auto n = static_cast<std::uint64_t>(pc.seconds * 100);
        for (std::uint64_t i = 0; i < n; ++i, ++seq) {
            z = pc.rho * z + std::sqrt(1 - pc.rho * pc.rho) * gauss(rng);
            const double u = std::clamp(netchaos::dist::normal_cdf(z), 1e-12, 1 - 1e-12);
            const double ms = pc.mean_ms + pc.jitter_ms * netchaos::dist::shape_quantile(pc.law, u);
            netchaos::trace::Record rec;
            rec.seq = seq;
            rec.send = std::chrono::nanoseconds(static_cast<std::int64_t>(seq) * 10'000'000);
            const bool lost = p > 0 && bad;
            if (p > 0) bad = bad ? uni(rng) >= r : uni(rng) < p;
            if (!lost) rec.rtt = std::chrono::nanoseconds(std::llround(std::max(ms, 0.0) * 1e6));
            t.records.push_back(rec);
        }
    }
    return t;
}

// n probes at 100/s, a fixed 10 ms RTT, lost as netem's 4-state chain decides (the state a
// packet moves into is its fate: 1 and 2 deliver, 3 and 4 lose; src/fault/engine.cpp and
// netem's loss_4state draw one uniform per packet the same way), starting in state 1.
inline netchaos::trace::Trace draw_markov4(std::uint64_t n, std::uint64_t seed, const netchaos::profile::Markov4& q) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    netchaos::trace::Trace t;
    int state = 1;
    for (std::uint64_t seq = 0; seq < n; ++seq) {
        const double u = uni(rng);
        switch (state) {
            case 1: state = u < q.p14 ? 4 : u < q.p14 + q.p13 ? 3 : 1; break;
            case 2: state = u < q.p23 ? 3 : 2; break;
            case 3: state = u < q.p32 ? 2 : u < q.p32 + q.p31 ? 1 : 3; break;
            default: state = 1; break;
        }
        netchaos::trace::Record rec;
        rec.seq = seq;
        rec.send = std::chrono::nanoseconds(static_cast<std::int64_t>(seq) * 10'000'000);
        if (state <= 2) rec.rtt = 10ms;
        t.records.push_back(rec);
    }
    return t;
}

}  // namespace fit_test
