#pragma once
// The fidelity gate: what RTT the requested delay model predicts, and whether the probe saw
// it. The model (docs/ci.md):
//   predicted mean  = baseline mean + sum over impaired directions of E[delay]
//   predicted sigma = sqrt(baseline sigma^2 + sum over impaired directions of Var[delay])
// E[delay] = mean + jitter * E[table]/8192 and Var = (jitter * sd[table]/8192)^2 for table
// distributions (normal, pareto, paretonormal, custom: netem's own tables, so the model is the
// one the emulator claims to implement), and mean, half-width/sqrt(3) for uniform. Truncation
// at zero and order-preserving queueing are deliberately NOT modelled: they are exactly the
// ways an emulator fails to deliver what was asked.
#include <string>
#include <utility>
#include <vector>

#include "experiment/samples.hpp"
#include "profile/profile.hpp"
#include "report/report.hpp"

namespace netchaos::experiment {

struct DelayMoments {
    double mean_ms = 0;
    double sigma_ms = 0;
};

// Moments of one direction's delay (0,0 without a delay). Needs the distribution table.
Result<DelayMoments> delay_moments(const profile::Delay& d, const std::filesystem::path& profile_dir = {});

struct Prediction {
    bool applicable = true;   // false when the profile has a fault the model does not cover
    double mean_ms = 0;
    double sigma_ms = 0;
    std::string note;
};

Prediction predict(const profile::Profile& p, const Moments& baseline);

// Errors below `floor_ms` in absolute terms always pass: sub-millisecond differences on a
// sub-millisecond baseline are scheduler noise, not a fidelity finding.
inline constexpr double fidelity_floor_ms = 0.5;

// `noise_ms` widens the allowance further (the steady-state check after rollback passes
// within one baseline sigma: it asks "is the fault gone", not "is the path identical").
report::Fidelity check_fidelity(const std::string& step, const Prediction& pred, const Moments& measured,
                                double tolerance, double noise_ms = 0);

// The requested RTT density for the histogram overlay: baseline (normal) plus each
// direction's delay, sampled from the requested distribution; a mixture over weighted steps.
std::vector<std::pair<double, double>> predicted_density(const std::vector<std::pair<profile::Profile, double>>& steps,
                                                         const Moments& baseline, int points = 120);

}  // namespace netchaos::experiment
