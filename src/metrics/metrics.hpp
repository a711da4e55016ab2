#pragma once
// The ONLY place netchaos computes its measurements (docs/metrics.md defines each one, with
// its estimator). Pure and clock-free: everything is a function of per-probe records.
//
// A record is one probe that was sent: its sequence number, its send time and its RTT, or
// lost. Duplicate replies are counted by whoever receives them and passed in as a number;
// they are never stored. Reply order is not stored either: a reply's arrival time is
// its arrival time on the prober's clock (send + RTT where none was recorded), so reordering
// and RFC 3550 jitter are functions of the records alone and a CSV of records reproduces
// every figure.
//
// `probe` feeds records window by window as they resolve (Accumulator); `run` feeds the
// records of each phase read back from the CSV (summarize). Both get the same numbers.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <vector>

#include "dist/moments.hpp"
#include "profile/profile.hpp"

namespace netchaos::metrics {

using Nanos = std::chrono::nanoseconds;

struct Record {
    std::uint64_t seq = 0;
    Nanos send{0};              // when it left the prober (any monotonic origin)
    std::optional<Nanos> rtt;   // nullopt = lost (no reply within the timeout)
    std::uint32_t dups = 0;     // extra replies to this probe within the timeout (counted, not kept)
    // When the reply arrived, on the same clock as `send`; absent: send + rtt. Reordering needs
    // the real arrival: behind an order-keeping emulator packets leave back to back, and
    // send + rtt (with the reflector's processing time taken out) swaps such neighbours by a
    // few microseconds (300 of 800 "reordered" in the qemu order test where none were).
    std::optional<Nanos> arrival{};
    std::uint16_t http_status = 0;   // HTTP probes: the response's status (0: not HTTP)
    bool operator==(const Record&) const = default;
};

// ---------------------------------------------------------------- moments
// Sample mean and sample standard deviation (n - 1), by Welford's method, 0 sd when n < 2:
// src/dist's, the one implementation (docs/metrics.md says why n - 1). RTTs in ns.
using dist::Moments;
using dist::RunningMoments;
using dist::pool;   // exact moments of disjoint groups from the groups' moments
Moments moments(std::span<const Nanos> xs);

// ---------------------------------------------------------------- percentiles
// Nearest rank: the smallest sample such that at least p% of the samples are <= it (rank
// ceil(p/100 * n)), reported on the RTT grid below. No interpolation: the answer is a
// measured RTT, rounded down to the grid. p in (0, 100]; no samples gives 0.
//
// The grid: exact below 2048 ns, then 1024 steps per power of two (relative step < 0.1%).
// It is what lets a one-hour probe keep its percentiles in a fixed ~450 kB histogram.
Nanos quantize(Nanos rtt);
Nanos percentile_sorted(std::span<const Nanos> sorted, double p);   // sorted raw RTTs

class Histogram {
public:
    void add(Nanos rtt);
    std::uint64_t count() const { return n_; }
    Nanos percentile(double p) const;
private:
    std::vector<std::uint64_t> buckets_;
    std::uint64_t n_ = 0;
};

// ---------------------------------------------------------------- windows and the alert
struct Config {
    Nanos window{std::chrono::seconds(1)};
    Nanos spike_level{std::chrono::milliseconds(50)};
    int spike_windows = 60;
    std::optional<profile::AlertRule> alert;
};
Config config_of(const profile::Thresholds& t);
// Error text unless the config is usable (window > 0, spike_windows >= 1, alert period a
// positive whole number of windows, alert periods >= 1). Empty when fine.
std::string check(const Config& c);

struct Window {
    std::size_t index = 0;
    Nanos end{0};                    // relative to the origin
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    double loss = 0.0;               // fraction of `sent`; 0 when nothing was sent
    double rtt_mean_ns = 0.0;        // 0 when nothing was received
    std::optional<double> jitter_ns; // jitter_1s: sample sd of the window's RTTs; none when < 2
    Nanos p50{0};
    Nanos p99{0};
    bool spike = false;              // jitter_1s > spike level
    double spike_ratio = 0.0;        // after this window, over the last spike_windows windows
    bool operator==(const Window&) const = default;
};

struct ReportPoint {                 // one alert evaluation, every alert.period
    std::size_t index = 0;
    Nanos end{0};                    // relative to the origin
    std::optional<double> jitter_ns; // jitter_1s of the window ending here
    double spike_ratio = 0.0;        // spike ratio after that window
    bool hot = false;                // spike_ratio > rule ratio AND jitter_1s > rule jitter
    int consecutive = 0;             // hot points in a row, this one included
    bool fired = false;              // the alert fired at this point
    bool operator==(const ReportPoint&) const = default;
};

// ---------------------------------------------------------------- the summary
struct Summary {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;          // distinct probes answered within the timeout
    std::uint64_t lost = 0;
    double loss = 0.0;                   // lost / sent
    std::uint64_t duplicates = 0;        // extra replies (counted by the receiver)
    std::uint64_t reordered = 0;         // RFC 4737, in arrival order (send + rtt)
    double rtt_mean_ns = 0.0;
    double rtt_stddev_ns = 0.0;          // sample sd (n - 1)
    Nanos rtt_min{0}, rtt_max{0};
    Nanos p50{0}, p90{0}, p99{0}, p999{0};
    double ipdv_mean_ns = 0.0;           // mean |IPDV| (RFC 3393, consecutive seqs)
    std::uint64_t ipdv_pairs = 0;
    double jitter_rfc3550_ns = 0.0;      // RFC 3550 6.4.1 over replies in arrival order
    std::uint64_t windows = 0;
    double jitter_1s_max_ns = 0.0;       // worst window; 0 when no window has a jitter_1s
    double spike_ratio = 0.0;            // after the last window
    std::uint64_t report_points = 0;
    bool alert_fired = false;
    int alert_max_consecutive = 0;
    std::map<std::uint16_t, std::uint64_t> http_status;   // HTTP probes: responses by status
    bool operator==(const Summary&) const = default;
};

// Live figures from closed windows alone (the run's progress line, before the records are
// read back): counts, pooled moments (exact, see pool), the worst jitter_1s and the last
// spike ratio. No percentiles, IPDV or order metrics: those need the records.
Summary from_windows(std::span<const Window> windows);

// Live exporters (src/export) publish as records resolve, so they need what each record
// added and the running counts; both come from here, never recomputed by the exporter.
struct Added {
    std::optional<Nanos> rtt;    // none when the probe was lost: a lost reply is never an RTT
    std::optional<Nanos> ipdv;   // RFC 3393 against the previous seq, when both were received
};
struct Totals {                  // monotone over the run: exported as counters
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    std::uint64_t lost = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0; // replies already placed in arrival order (a few lag behind)
    bool operator==(const Totals&) const = default;
};

// Feeds records window by window. Records must come in send order (seq order: the prober
// sends in order); a record belongs to the window its send time falls in, whenever its
// reply came. The caller decides when a window is complete (the prober: its end plus the
// timeout; offline: when the next record is past it) and calls close_window().
class Accumulator {
public:
    // `origin`: the start of window 0 on the records' clock. Config must pass check().
    Accumulator(Config cfg, Nanos origin);
    Added add(const Record& r);         // into the open window; returns what it measured
    Totals totals() const;              // of every record added so far
    struct Closed {
        Window window;
        std::optional<ReportPoint> point;
    };
    Closed close_window();
    // Where the open window ends, on the records' clock.
    Nanos open_window_end() const;
    // After the last window: the run's figures.
    Summary finish();
    const Config& config() const { return cfg_; }

private:
    struct Pending {
        Nanos arrival;
        std::uint64_t seq;
        Nanos rtt;
        bool operator>(const Pending& o) const { return arrival != o.arrival ? arrival > o.arrival : seq > o.seq; }
    };
    void arrive(const Pending& p);
    void drain_arrivals(std::optional<Nanos> before);

    Config cfg_;
    Nanos origin_;
    // the open window
    std::vector<Nanos> win_rtts_;
    std::uint64_t win_sent_ = 0;
    // spike history of the last spike_windows windows: 1 spike, 0 calm, -1 no jitter_1s
    std::deque<signed char> recent_;
    std::size_t index_ = 0;
    // report points
    int consecutive_ = 0;
    // the whole run
    Summary s_;
    RunningMoments all_;
    Histogram hist_;
    std::optional<Record> prev_;
    double ipdv_abs_sum_ = 0.0;
    // replies not yet in arrival order: those that may still be overtaken
    std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
    bool have_arrival_ = false;
    Nanos last_arrival_rtt_{0};
    std::uint64_t next_exp_ = 0;
    double j3550_ = 0.0;
};

// Offline: every record of a span (sorted by send), windows from `origin` up to `end`
// (exclusive; ceil((end - origin) / window) windows, a trailing partial window included).
// Records outside [origin, end) are ignored. Windows and report points go to the out-params
// when given.
Summary summarize(std::span<const Record> records, Nanos origin, Nanos end,
                  const Config& cfg, std::vector<Window>* windows = nullptr,
                  std::vector<ReportPoint>* points = nullptr);

// RFC 3393 IPDV, consecutive-sequence selection: rtt[n+1] - rtt[n] for each pair of
// consecutive seqs both received, in seq order.
std::vector<Nanos> ipdv(std::span<const Record> by_seq);

// ---------------------------------------------------------------- thresholds
// One threshold checked. Durations in milliseconds, loss, ratios and drift as fractions,
// the alert in report points.
struct Outcome {
    std::string name;    // the threshold key: "p99_rtt_max", "loss_max", "alert", ...
    double value = 0.0;
    double limit = 0.0;
    bool pass = true;
    bool operator==(const Outcome&) const = default;
};
// Every configured threshold, in a fixed order. A value above its limit misses, except
// p99_drift_max which misses at >= (the ops rule reads "P99 RTT drift >= 200%").
// p99_rtt_max and p99_drift_max are skipped when nothing was received (no p99 to judge);
// p99_drift_max also without a positive baseline p99; it is relative to max(baseline p99,
// t.p99_drift_floor).
std::vector<Outcome> evaluate(const Summary& s, const profile::Thresholds& t, std::optional<Nanos> baseline_p99);
std::vector<Outcome> misses(const std::vector<Outcome>& all);

// The share of HTTP responses whose status is `key` ("429") or in its class ("5xx"); 0 with no
// HTTP response.
double status_ratio(const Summary& s, const std::string& key);

// "p99_rtt_max: 312.400 ms > 200.000 ms" (or <= when it passed).
std::string describe(const Outcome& o);

// ---------------------------------------------------------------- comparing series (fit, replay-check)
// Kolmogorov-Smirnov distance sup |F1 - F2| between the empirical CDFs of two samples (any
// order; copied and sorted here). 1 when either is empty.
double ks_two_sample(std::span<const double> a, std::span<const double> b);
// The same distance blind to differences up to `eps` (an instrument's resolution, same unit
// as the samples): D_eps = max(0, sup_x [F_a(x - eps) - F_b(x)], sup_x [F_b(x - eps) - F_a(x)]).
// A shift of either sample by at most eps gives 0; a shift beyond it, or a spread wider than
// eps can absorb, still shows. eps = 0 is ks_two_sample. 1 when either is empty.
double ks_two_sample_within(std::span<const double> a, std::span<const double> b, double eps);
// sup |F_n - cdf| of one sample against a model CDF. `sorted` ascending.
double ks_one_sample(std::span<const double> sorted, const std::function<double(double)>& cdf);
// The distance above which two samples of n and m differ at level alpha (asymptotic
// Smirnov: c(alpha) sqrt((n + m) / (n m)), c = sqrt(-ln(alpha / 2) / 2)); one sample: m = 0.
double ks_critical(std::size_t n, std::size_t m, double alpha);
// Pearson's r of paired values; 0 when fewer than 2 pairs or either side is constant.
double pearson(std::span<const double> x, std::span<const double> y);
// The jitter_1s series of a span of records (sorted by send): one value per window from
// `origin` up to `end`, NaN where a window has fewer than two replies. From summarize().
std::vector<double> jitter_series(std::span<const Record> records, Nanos origin, Nanos end, const Config& cfg);
// Lengths of the runs of consecutive lost probes, in seq order (a gap in seq is not a loss).
std::vector<std::uint64_t> loss_runs(std::span<const Record> by_seq);

}  // namespace netchaos::metrics
