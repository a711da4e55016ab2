#pragma once
// The standard normal distribution, once for netchaos: the table generator (netem's
// normal.dist), the fault engine (correlated loss thresholds, its CDF table) and the
// fidelity prediction all use these.
#include <cmath>

namespace netchaos::dist {

// Phi(z). erfc keeps full relative precision in the lower tail (Phi(-8) ~ 6e-16), where
// 0.5 + 0.5 * erf(z / sqrt 2) would round to 0: loss probabilities of 1e-9 live there.
inline double normal_cdf(double z) { return 0.5 * std::erfc(-z * M_SQRT1_2); }

// Inverse of normal_cdf to full double precision (rational start, Halley steps; ~0.2 us).
// -inf for p <= 0, +inf for p >= 1.
double normal_quantile(double p);

}  // namespace netchaos::dist
