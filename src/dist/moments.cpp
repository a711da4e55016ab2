#include "dist/moments.hpp"

#include <cmath>

namespace netchaos::dist {

Moments RunningMoments::get() const {
    Moments m{n_, mean_, 0.0};
    if (n_ >= 2) m.stddev = std::sqrt(m2_ / static_cast<double>(n_ - 1));
    return m;
}

Moments moments(std::span<const double> xs) {
    RunningMoments r;
    for (double x : xs) r.add(x);
    return r.get();
}

Moments pool(std::span<const Moments> groups) {
    // M2 = M2a + M2b + delta^2 * na * nb / n.
    std::uint64_t n = 0;
    double mean = 0.0, m2 = 0.0;
    for (const Moments& g : groups) {
        if (g.n == 0) continue;
        const double na = static_cast<double>(n), nb = static_cast<double>(g.n);
        const double delta = g.mean - mean;
        const double m2b = g.n >= 2 ? g.stddev * g.stddev * (nb - 1.0) : 0.0;
        n += g.n;
        mean += delta * nb / static_cast<double>(n);
        m2 += m2b + delta * delta * na * nb / static_cast<double>(n);
    }
    Moments m{n, mean, 0.0};
    if (n >= 2) m.stddev = std::sqrt(m2 / static_cast<double>(n - 1));
    return m;
}

}  // namespace netchaos::dist
