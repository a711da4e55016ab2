#pragma once
// Does a replayed trace reproduce the original? (`netchaos replay-check`, run's
// [phase] replay_check gate; docs/replay.md.) Pure; every statistic is src/metrics'.
//
// The original is cut into its stationary pieces (fit's segmentation); each piece's time
// span, measured from the original's first send, selects the replayed records at the same
// offset from the replayed trace's first send. Per piece:
//   - KS distance D of the RTTs, gated at ks_max (and reported with the 1% critical value);
//     with a resolution eps > 0, the gate is on D_eps (metrics::ks_two_sample_within): RTT
//     differences up to the instrument's resolution count as equal. A jitter-free piece
//     replayed through a bench with its own microseconds of noise is shifted and widened by
//     those microseconds; plain KS has no scale and sees that as clearly as a 10 ms error.
//     Both D are reported;
//   - loss: |p1 - p2| within `loss_se` standard errors of the difference (pooled p, the
//     binomial variance times (1 + lambda) / (1 - lambda) for bursty loss, lambda the pooled
//     lag-1 correlation of the loss indicator, >= 0; both zero passes);
// and over the whole trace:
//   - Pearson r of the two jitter_1s series (1 s windows), gated at r_min when the original
//     has more than one piece (a stationary trace's jitter_1s is noise around a constant:
//     there is nothing to correlate);
//   - loss-run lengths: mean run length within loss_se standard errors (>= 10 runs on each
//     side, else reported only) and their KS distance (reported).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fit/fit.hpp"
#include "metrics/metrics.hpp"
#include "trace/trace.hpp"

namespace netchaos::replay {

struct CheckOptions {
    double ks_max = 0.05;
    double resolution_ms = 0;      // RTT differences up to this are equal (0: plain KS)
    double r_min = 0.9;
    double loss_se = 3.0;
    fit::Options segmentation{};   // how the original is cut
    std::chrono::nanoseconds window{std::chrono::seconds(1)};
};

struct PieceCheck {
    double start_s = 0, end_s = 0;
    std::size_t n_original = 0, n_replayed = 0;   // answered probes
    double ks = 1, ks_critical_1pct = 1;
    double ks_resolved = 1;        // D_eps at CheckOptions::resolution_ms (== ks when that is 0): the gated one
    double loss_original = 0, loss_replayed = 0, loss_se = 0;
    bool ks_pass = false, loss_pass = false;
};

struct CheckResult {
    std::vector<PieceCheck> pieces;
    std::vector<double> jitter_original_ns, jitter_replayed_ns;   // the two series (NaN: no jitter_1s)
    std::optional<double> jitter_r;     // none: fewer than 3 windows with jitter_1s on both sides
    bool jitter_gated = false;          // the original has more than one piece
    bool jitter_pass = true;
    std::size_t runs_original = 0, runs_replayed = 0;
    double run_mean_original = 0, run_mean_replayed = 0, run_se = 0, runs_ks = 0;
    bool runs_gated = false, runs_pass = true;
    bool pass = true;
    std::vector<std::string> misses;    // one line per failed check
};

// Errors: the original cannot be segmented (too few answers: bad input).
Result<CheckResult> check(const trace::Trace& original, const trace::Trace& replayed, const CheckOptions& o = {});

std::string to_text(const CheckResult& r, const CheckOptions& o);
nlohmann::ordered_json to_json(const CheckResult& r, const CheckOptions& o);

}  // namespace netchaos::replay
