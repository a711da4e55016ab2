#include "dist/shapes.hpp"

#include <algorithm>
#include <cmath>
#include <vector>
#include <limits>

#include "dist/normal.hpp"

namespace netchaos::dist {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double ninf = -std::numeric_limits<double>::infinity();
constexpr double log_sqrt_2pi = 0.91893853320467274178;

// paretonormal's quantile and its derivative in u.
double pn_q(double u) { return normal_quantile(u) / 4.0 + std::pow(1.0 - u, -1.0 / 3.0) - 1.5; }
double pn_dq(double u) {
    const double z = normal_quantile(u);
    const double phi = std::exp(-0.5 * z * z - log_sqrt_2pi);
    return 1.0 / (4.0 * phi) + std::pow(1.0 - u, -4.0 / 3.0) / 3.0;
}

// paretonormal has no closed-form CDF: Q(u) is tabulated once on a logit grid of u (8193
// points, t = logit(u) in [-36, 36]), and x -> u inverts it by binary search and linear
// interpolation in t (u's error < 1e-6 relative over the table). Outside it the tails follow
// their dominant term: Phi(4 (x + 1/2)) below, a Pareto(3) in x + 3/2 above.
struct PnTable {
    static constexpr int n = 8193;
    static constexpr double t_lo = -36.0, t_hi = 36.0;
    std::vector<double> x, t, lp;   // Q(u), logit(u), log density at Q(u)
    PnTable() : x(n), t(n), lp(n) {
        for (int i = 0; i < n; ++i) {
            t[i] = t_lo + (t_hi - t_lo) * i / (n - 1);
            const double u = 1.0 / (1.0 + std::exp(-t[i]));
            x[i] = pn_q(u);
            lp[i] = -std::log(pn_dq(u));
        }
    }
    static const PnTable& get() {
        static const PnTable table;
        return table;
    }
    // `col` (t or lp) interpolated at x = xv, for xv inside [x.front(), x.back()]
    double at(const std::vector<double>& col, double xv) const {
        const auto it = std::upper_bound(x.begin(), x.end(), xv);
        const auto i = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(it - x.begin(), 1, n - 1));
        const double f = (xv - x[i - 1]) / (x[i] - x[i - 1]);
        return col[i - 1] + f * (col[i] - col[i - 1]);
    }
};

double pn_cdf(double xv) {
    const auto& tb = PnTable::get();
    if (xv <= tb.x.front()) return normal_cdf(4.0 * (xv + 0.5));
    if (xv >= tb.x.back()) return 1.0 - std::pow(xv + 1.5, -3.0);
    return 1.0 / (1.0 + std::exp(-tb.at(tb.t, xv)));
}

double pn_log_pdf(double xv) {
    const auto& tb = PnTable::get();
    if (xv <= tb.x.front()) {
        const double z = 4.0 * (xv + 0.5);
        return std::log(4.0) - 0.5 * z * z - log_sqrt_2pi;
    }
    if (xv >= tb.x.back()) return std::log(3.0) - 4.0 * std::log(xv + 1.5);
    return tb.at(tb.lp, xv);
}

}  // namespace

double shape_cdf(Distribution d, double x) {
    switch (d) {
        case Distribution::normal: return normal_cdf(x);
        case Distribution::pareto: {
            const double p = 0.75 * x + 1.5;
            return p <= 1.0 ? 0.0 : 1.0 - 1.0 / (p * p * p);
        }
        case Distribution::paretonormal: return pn_cdf(x);
        default: return nan;
    }
}

double shape_log_pdf(Distribution d, double x) {
    switch (d) {
        case Distribution::normal: return -0.5 * x * x - log_sqrt_2pi;
        case Distribution::pareto: {
            const double p = 0.75 * x + 1.5;   // dP/dX = 3/4, f_P = 3 P^-4
            return p < 1.0 ? ninf : std::log(0.75 * 3.0) - 4.0 * std::log(p);
        }
        case Distribution::paretonormal: return pn_log_pdf(x);
        default: return nan;
    }
}

double shape_quantile(Distribution d, double u) {
    switch (d) {
        case Distribution::normal: return normal_quantile(u);
        case Distribution::pareto: return (std::pow(1.0 - u, -1.0 / 3.0) - 1.5) * 4.0 / 3.0;
        case Distribution::paretonormal: return pn_q(u);
        default: return nan;
    }
}

double shape_lower_bound(Distribution d) { return d == Distribution::pareto ? -2.0 / 3.0 : ninf; }

}  // namespace netchaos::dist
