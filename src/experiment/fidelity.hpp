#pragma once
// The fidelity gate: what RTT the profile predicts under its own semantics, what the emulator
// drew and delivered (when it can say: the DPDK forwarder's counters), what the probe saw,
// and which of the differences could change a verdict. docs/ci.md ("The fidelity model").
//
// The prediction is a Monte Carlo run of fault::Engine, the code the forwarder runs, over the
// arrival process the emulator saw in each direction (the probe's send grid plus the cross
// traffic it counted, as a Poisson stream). So order preservation (release_i =
// max(release_{i-1}, arrival_i + d_i)), truncation at zero, rate, slot and netem-style
// reordering are predicted by the same code that produces them; there is no second model.
#include <array>
#include <cstdint>
#include <optional>
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

// The requested model's own moments (mean + jitter * E[table], jitter * sd[table]; uniform:
// half-width / sqrt 3): what the user asked for, before any semantics. 0,0 without delay.
Result<DelayMoments> delay_moments(const profile::Delay& d, const std::filesystem::path& profile_dir = {});

// The traffic one direction of the emulator saw during a step.
struct Arrivals {
    double probe_hz = 0;   // the probe's periodic send grid
    double cross_hz = 0;   // everything else, modelled as a Poisson stream
};

// One direction simulated with fault::Engine.
struct DirSim {
    DelayMoments drawn;       // the sampler's draws (truncation at zero included), no queueing
    DelayMoments delivered;   // holding time (release - arrival) of the probe's packets
    double pushed = 0;        // share of packets whose release order preservation moved
};
// `held_ms` (optional) receives the probe packets' holding times, for the density overlay.
Result<DirSim> simulate(const profile::Impairment& imp, const Arrivals& a, std::size_t packets = 1'000'000,
                        std::uint64_t seed = 0x5eed, std::vector<double>* held_ms = nullptr);

// Moments from count, sum and sum of squares (the forwarder's counters are sums in us).
DelayMoments moments_from_sums(double n, double sum, double sumsq, double unit_ms);

// Ground truth from the emulator for one step and direction (DPDK forwarder counters).
struct DirTruth {
    std::uint64_t rx = 0;       // frames received in that direction
    std::uint64_t held = 0;     // packets the engine scheduled
    std::uint64_t pushed = 0;   // ... of which order preservation moved
    double drawn_sum_us = 0, drawn_sumsq_us2 = 0;
    double held_sum_us = 0, held_sumsq_us2 = 0;
};
struct EmulatorTruth {
    std::array<DirTruth, 2> dir;   // [0] egress (cli -> srv), [1] ingress
    double seconds = 0;            // the span the counters cover
};
// Difference of two cumulative readings (later - earlier).
EmulatorTruth operator-(const EmulatorTruth& later, const EmulatorTruth& earlier);

struct Prediction {
    bool applicable = true;    // false: no baseline or the model failed to compile
    DelayMoments requested;    // RTT: baseline + the requested moments, no semantics
    DelayMoments drawn;        // RTT: baseline + what the engine draws (truncation)
    double mean_ms = 0;        // RTT under the profile's semantics: baseline + delivered
    double sigma_ms = 0;
    double pushed = 0;         // largest share of releases pushed by order preservation
    bool fault = true;         // false: the step requests no fault at all
    std::array<std::optional<DirSim>, 2> dir;   // per direction, when impaired
    std::string note;
};

// `arrivals` per direction; without counters, the probe grid alone.
Prediction predict(const profile::Profile& p, const Moments& baseline, const std::array<Arrivals, 2>& arrivals,
                   std::size_t packets = 1'000'000);

// Errors below `floor_ms` in absolute terms always pass: sub-millisecond differences on a
// sub-millisecond baseline are scheduler noise, not a fidelity finding.
inline constexpr double fidelity_floor_ms = 0.5;
// A deviation is material when it exceeds this share of the nearest delay threshold's margin
// or of the requested jitter (docs/ci.md): smaller ones cannot change a verdict.
inline constexpr double material_share = 0.25;

// What a step's SLOs leave as margin, for the materiality rule.
struct Margins {
    std::optional<double> p99_ms;       // |p99 limit - measured p99| (p99_rtt_max or drift)
    std::optional<double> jitter_ms;    // |jitter_1s_max - measured jitter_1s max|
};
Margins margins_of(const report::Stats& s, const profile::Thresholds& th, const report::Stats* drift_ref);

// The verdict for one step. `truth` is the emulator's counters for the step (nullopt for
// netem); `mode` gate/warn/off.
report::Fidelity check_fidelity(const std::string& step, const Prediction& pred, const Moments& measured,
                                const std::optional<EmulatorTruth>& truth, double tolerance, const Margins& margins,
                                profile::FidelityMode mode);

// The predicted RTT density for the histogram overlay (under the profile's semantics): a
// mixture over weighted steps of baseline (normal) plus each direction's simulated holding.
std::vector<std::pair<double, double>> predicted_density(
    const std::vector<std::pair<profile::Profile, double>>& steps, const Moments& baseline,
    const std::array<Arrivals, 2>& arrivals, int points = 120);

}  // namespace netchaos::experiment
