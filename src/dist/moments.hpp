#pragma once
// Mean and standard deviation of samples, once for netchaos: custom distributions from
// samples (profile, tables), the tables' own moments (fidelity prediction), and every
// measured RTT figure (src/metrics). Sample standard deviation (n - 1), Welford's method;
// docs/metrics.md says why n - 1.
#include <cstdint>
#include <span>

namespace netchaos::dist {

struct Moments {
    std::uint64_t n = 0;
    double mean = 0.0;
    double stddev = 0.0;   // sample sd (n - 1); 0 when n < 2
    bool operator==(const Moments&) const = default;
};

class RunningMoments {
public:
    void add(double x) {
        ++n_;
        const double d = x - mean_;
        mean_ += d / static_cast<double>(n_);
        m2_ += d * (x - mean_);
    }
    Moments get() const;
private:
    std::uint64_t n_ = 0;
    double mean_ = 0.0;
    double m2_ = 0.0;
};

Moments moments(std::span<const double> xs);

// The moments of the union of disjoint groups, from each group's moments alone (Chan et
// al.'s pairwise update: exact up to rounding).
Moments pool(std::span<const Moments> groups);

}  // namespace netchaos::dist
