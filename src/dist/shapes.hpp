#pragma once
// The delay distributions as continuous laws, in netem's parameterisation: a delay is
// mean + jitter * X, with X the standardized shape below. The tables (table.hpp) sample the
// same X at 4096 quantiles (capped at +4 by their s16 range; the laws here are not capped).
// Fitting (src/fit) needs their CDFs, log-densities and quantiles; tests draw from them.
//   normal:       X ~ N(0, 1)
//   pareto:       X = 4/3 (P - 3/2), P ~ Pareto(x_m = 1, a = 3): iproute2's pareto.c, so X >= -2/3
//   paretonormal: the 1/4 normal + 3/4 pareto quantile mix iproute2 tabulates:
//                 Q(u) = Phi^-1(u) / 4 + (1 - u)^(-1/3) - 3/2 (comonotone, not a convolution)
#include "profile/profile.hpp"

namespace netchaos::dist {

using profile::Distribution;

// Standardized X. uniform and custom are not laws here: these return NaN for them.
double shape_cdf(Distribution d, double x);
double shape_log_pdf(Distribution d, double x);   // -inf outside the support
double shape_quantile(Distribution d, double u);   // u in (0, 1)

// Pareto's lower end of X (-2/3); -inf for the others.
double shape_lower_bound(Distribution d);

}  // namespace netchaos::dist
