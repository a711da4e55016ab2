#pragma once
// Statistics helpers for the fault engine tests: moments, batch-means standard errors,
// one-sample Kolmogorov-Smirnov distance. Plain and independent of the engine's code.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "fault/engine.hpp"

namespace fault_test {

using namespace std::chrono_literals;
namespace profile = netchaos::profile;
namespace fault = netchaos::fault;

inline constexpr std::size_t N = 1'000'000;

struct Moments {
    double mean = 0, sigma = 0;
};

inline Moments moments(const std::vector<double>& x) {
    long double s = 0;
    for (double v : x) s += v;
    const long double mean = s / x.size();
    long double ss = 0;
    for (double v : x) ss += (v - mean) * (v - mean);
    return {static_cast<double>(mean), static_cast<double>(std::sqrt(ss / (x.size() - 1)))};
}

// Standard error of the mean of a serially correlated series, by batch means.
inline double batch_se(const std::vector<double>& x, std::size_t batches = 100) {
    const std::size_t b = x.size() / batches;
    std::vector<double> means;
    for (std::size_t i = 0; i < batches; ++i) {
        double s = 0;
        for (std::size_t j = i * b; j < (i + 1) * b; ++j) s += x[j];
        means.push_back(s / b);
    }
    return moments(means).sigma / std::sqrt(static_cast<double>(batches));
}

// sup |F_n - F|. Ties (table samples) are handled by evaluating F once per distinct value,
// against the empirical CDF at it, and F just below (x - 1e-6 x, coarser than the ns
// rounding of delays) against the empirical CDF just below
// (the reference may have atoms, e.g. netem's capped pareto tail).
inline double ks_distance(std::vector<double> x, const std::function<double(double)>& cdf) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size();) {
        std::size_t j = i;
        while (j < x.size() && x[j] == x[i]) ++j;
        const double f = cdf(x[i]);
        const double f_left = cdf(x[i] - 1e-6 * std::max(1.0, std::abs(x[i])));
        d = std::max({d, std::abs(f_left - i / n), std::abs(f - j / n)});
        i = j;
    }
    return d;
}

// Critical KS distance at alpha = 0.001 (asymptotic).
inline double ks_critical(std::size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

inline double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

inline fault::ModelPtr must(const profile::Impairment& imp) {
    auto m = fault::compile(imp);
    if (!m) throw std::runtime_error(m.error().message);
    return *m;
}

inline profile::Impairment with_delay(profile::Duration mean, profile::Duration jitter, profile::Distribution d,
                                      double corr = 0.0) {
    profile::Impairment imp;
    profile::Delay del;
    del.mean = mean;
    del.jitter = jitter;
    del.distribution = d;
    del.correlation = corr;
    imp.delay = del;
    return imp;
}

// Delays in ms of n packets spaced 1 s apart (far more than any jitter here, so order
// preservation never holds a packet back and release - rx is the sampled delay).
inline std::vector<double> delays_ms(const profile::Impairment& imp, std::uint64_t seed, std::size_t n = N) {
    fault::Engine e(must(imp), seed);
    std::vector<double> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::int64_t rx = static_cast<std::int64_t>(i) * 1'000'000'000;
        const auto d = e.decide(rx, 100);
        out.push_back((d.release_ns - rx) / 1e6);
    }
    return out;
}

}  // namespace fault_test
