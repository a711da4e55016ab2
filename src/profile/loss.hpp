#pragma once
// Loss models by what they do: the long-run loss rate and the mean length of a loss burst
// (consecutive lost packets), for every model, and the inverse for Gilbert-Elliott ("0.5%
// in bursts of 4" -> p, r). Pure functions; the parser derives, show-profile prints.
#include <optional>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::profile {

struct LossSummary {
    double mean_loss = 0;                 // long-run share of packets lost, 0..1
    std::optional<double> mean_burst;     // packets per loss burst; nullopt: no closed form (correlated random loss) or no loss
};

// Exact for the stationary chain: loss = sum(pi_s * loss_s); a burst starts when a lost
// packet follows a delivered one, so mean burst = P(lost) / P(delivered, then lost).
LossSummary summarize(const LossModel& m);

// Simple Gilbert (loss 100% in bad, 0% in good): mean burst = 1/r, mean loss = p/(p+r), so
//   r = 1 / burst,   p = mean * r / (1 - mean) = mean / (burst * (1 - mean)).
// Needs 0 < mean < 1 and burst >= 1 (r <= 100%); p must come out <= 100%.
Result<GilbertElliott> gilbert_elliott_for(double mean, double burst);

// A model chosen for bursts (gilbert-elliott, markov4) whose mean burst is below this is
// effectively random loss; the parser warns.
inline constexpr double min_bursty_burst = 1.5;

}  // namespace netchaos::profile
