#pragma once
// From a recorded trace to the profile that reproduces it (`netchaos fit`, docs/replay.md).
// Pure: a trace in, value types out; the TOML is rendered by render() with profile's printer.
//
//  1. Segmentation: binary segmentation over the received RTTs with the Gaussian
//     cost n log(sigma^2) (a change in mean, in sigma or both; O(n log n), where PELT is O(n^2)
//     on a long stationary trace), a minimum piece length and a
//     penalty; then neighbours that a two-sample KS cannot tell apart (D under ks_critical at
//     merge_alpha, or under merge_ks) are merged: heavy tails and correlation make the
//     Gaussian cost cut stationary stretches, the KS merge undoes that.
//  2. Delay per piece: maximum likelihood of each law in dist/shapes.hpp (normal: closed
//     form; pareto: the profile likelihood in its location, scale = min - location; paretonormal:
//     Nelder-Mead on (mean, log sigma)). The highest likelihood wins (equal parameter counts,
//     so AIC agrees); when even that law's KS distance to the data exceeds custom_ks, the piece
//     gets an empirical `custom` table (its quantiles as samples).
//     With one-way times (irtt's, kept in a v2 .ncr) the pieces are still cut on the RTT, and
//     each direction's delay is fitted from its own one-way delays: egress from client->server,
//     ingress from server->client.
//  3. Correlation per piece: lag-1 Pearson r of the normal scores of consecutive answered
//     probes: the fault engine's correlation is a Gaussian copula, so this is its parameter.
//  4. Loss per piece, from the loss runs: random (p = lost / sent), Gilbert-Elliott (p from
//     received->lost, r from lost->received transitions) or netem's 4-state chain (EM over the
//     runs, markov4.cpp), each scored by maximum likelihood less BIC's (k / 2) log n for its k
//     parameters (1, 2, 5); the highest score wins.
#include <chrono>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"
#include "trace/trace.hpp"

namespace netchaos::fit {

using Nanos = std::chrono::nanoseconds;
using profile::Distribution;

struct Options {
    Nanos min_segment{std::chrono::seconds(10)};
    double penalty = 0.0;          // PELT penalty per change point; 0: 10 log n
    double merge_alpha = 0.001;    // merge neighbours whose KS D is under the critical value at this level
    double merge_ks = 0.05;        // ... or under this distance (the replay-check gate's default)
    double custom_ks = 0.03;       // best law's KS D above this: an empirical table instead
    std::size_t mle_samples = 20000;   // the paretonormal optimiser sees at most this many (evenly strided)
    std::size_t custom_points = 500;   // quantiles kept for a custom table
    // The measuring bench's own RTT (its median with no impairment, `fit --floor`): taken off
    // every RTT before the delay is fitted (clamped at 0), so the fitted path is the path
    // alone and a replay through the same bench, which adds its own RTT again, is not shifted
    // by it twice. With one-way times, half comes off each direction. Pieces are cut on the
    // RTTs as measured (a shift changes no change point).
    Nanos floor{0};
};

// The bench floor from a recording of the same bench with no impairment: the median of its
// answered RTTs, with p1 and p99 for its spread. Errors: fewer than 10 answered (bad input).
struct Floor {
    Nanos median{0}, p1{0}, p99{0};
    std::size_t answered = 0;
};
Result<Floor> bench_floor(const trace::Trace& t);

// One law fitted to a piece's RTTs (ms).
struct LawFit {
    Distribution law = Distribution::normal;
    double mean_ms = 0, jitter_ms = 0;   // netem's parameters: delay = mean + jitter * X
    double loglik = 0;                   // per sample
    double ks = 1;                       // KS distance of the fitted law to the data
};

LawFit fit_normal(std::span<const double> sorted_ms);
LawFit fit_pareto(std::span<const double> sorted_ms);
LawFit fit_paretonormal(std::span<const double> sorted_ms, std::size_t max_samples = 20000);

// Change points (indices into x, ascending, each piece >= min_len long) of the series x.
std::vector<std::size_t> segment(std::span<const double> x, std::size_t min_len, double penalty);
// Each interior bound of `bounds` (0, change points..., x.size()) moved to where the same
// Gaussian cost is least between its two neighbours, pieces kept >= min_len; repeated until
// none moves (at most `passes` times). Binary segmentation places each point for the span it
// split, before the later points existed; a point it placed against a wider span can sit
// seconds off the change once its neighbours are known.
void refine(std::span<const double> x, std::vector<std::size_t>& bounds, std::size_t min_len, int passes = 4);

struct LossFit {
    std::uint64_t sent = 0, lost = 0;
    std::optional<profile::Loss> loss;   // none when nothing was lost
    std::string why;                     // the choice and its evidence, for the comment
};
LossFit fit_loss(std::span<const trace::Record> by_seq);

// netem's 4-state loss by maximum likelihood (EM over the loss runs; markov4.cpp says how),
// started from an RFC 3611 burst/gap split and from the Gilbert-Elliott fit (ge_p, ge_r).
// loglik: of every packet after the first, given the first (as fit_loss scores the others);
// -inf when the trace has a single run.
struct Markov4Fit {
    profile::Markov4 model;
    double loglik = -std::numeric_limits<double>::infinity();
    int iterations = 0;
};
Markov4Fit fit_markov4(std::span<const trace::Record> by_seq, double ge_p, double ge_r);

// Lag-1 correlation of normal scores over consecutive answered seqs, clamped to [0, 0.99].
double copula_correlation(std::span<const trace::Record> by_seq);

struct Piece {
    std::size_t begin = 0, end = 0;   // records [begin, end) of the trace
    Nanos start{0}, duration{0};      // on the trace's clock, from the first record
    std::vector<LawFit> laws;         // every law tried, best first
    profile::Delay delay;             // what the profile gets (a law, or custom)
    double ks = 1;                    // its KS distance to the data (custom: of the quantile table)
    // Fit::split: delay/laws/ks above are the egress's, from the forward one-way delays, and
    // these the ingress's, from the reverse ones.
    std::optional<profile::Delay> ingress;
    std::vector<LawFit> ingress_laws;
    double ingress_ks = 1;
    std::uint64_t received = 0;
    double rtt_mean_ms = 0, rtt_sd_ms = 0;
    LossFit loss;                     // egress (all of it unless Fit::loss_split)
    std::optional<LossFit> ingress_loss;   // Fit::loss_split: from the probes lost server -> client
};

struct Fit {
    std::vector<Piece> pieces;
    bool one_way = false;   // the source had one-way times
    bool split = false;     // ... kept for >= 90% of the answered probes: delay split per direction
    Nanos floor{0};         // Options::floor, taken off before fitting
    // >= 90% of the lost probes say which way they were lost (irtt's true_up / true_down, a v3
    // .ncr): egress loss is fitted from the client->server losses (and those of unknown way),
    // over every probe; ingress loss from the server->client ones, over the probes that
    // reached the server.
    bool loss_split = false;
    std::size_t records = 0;
};

// Errors: fewer than 10 answered probes (bad input, 3).
Result<Fit> fit(const trace::Trace& t, const Options& o = {});

struct RenderOptions {
    std::string name = "fitted";
    std::string source;               // the trace's path, for the header comment
    // Experiment only (more than one piece): where the replay runs.
    std::string backend = "dpdk";
    std::string control = "/run/netchaos/nc-fwd.sock";
    std::string probe_target = "10.213.0.2:7777";
    std::string probe_netns = "nc-cli";
    double probe_rate = 100;
    bool force_experiment = false;
};
// A profile (one piece) or an experiment (one phase per piece), commented with each fit's
// goodness. Round-trips through the profile/experiment parsers.
std::string render(const Fit& f, const RenderOptions& o);

}  // namespace netchaos::fit
