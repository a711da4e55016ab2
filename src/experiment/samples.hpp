#pragma once
// Probe output as the runner consumes it: per-packet samples (the probe's --csv) and live
// window lines (its -j JSON), plus the statistics and threshold checks computed from them.
// Pure functions over vectors; the probe process itself lives in process.hpp.
#include <cstdint>
#include <istream>
#include <optional>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"
#include "report/report.hpp"

namespace netchaos::experiment {

struct Sample {
    enum class Status { ok, lost, dup };
    std::int64_t seq = 0;
    std::int64_t send_ns = 0;    // CLOCK_MONOTONIC
    std::int64_t rtt_ns = -1;    // -1 when lost
    Status status = Status::ok;
};

// `seq,send_ns,rtt_ns,status` with a header line. Errors name the line.
Result<std::vector<Sample>> parse_csv(std::istream& in);

struct Window {                  // one {"type":"window",...} line
    std::int64_t t_ns = 0;       // end of window, CLOCK_MONOTONIC
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    double loss = 0;
    double rtt_mean_ms = 0;
    double jitter_1s_ms = 0;
    double spike_ratio = 0;
    double p99_ms = 0;
};
std::optional<Window> parse_window_line(std::string_view line);

// Samples sent in [from_ns, to_ns) (sorted by send time or not, duplicates ignored).
std::vector<Sample> slice(const std::vector<Sample>& all, std::int64_t from_ns, std::int64_t to_ns);

struct Moments {
    std::uint64_t n = 0;
    double mean_ms = 0;
    double sigma_ms = 0;   // population standard deviation
};
Moments moments(const std::vector<Sample>& s);

// Per-window jitter (sigma of the RTTs sent in each window of th.window), in time order.
std::vector<double> window_jitter_ms(const std::vector<Sample>& s, std::int64_t from_ns, std::int64_t to_ns,
                                     profile::Duration window);

// Spike ratio over a phase: the largest fraction, over any run of th.spike_windows windows
// (or all windows when the phase has fewer), of windows whose jitter exceeds spike_level.
double spike_ratio(const std::vector<double>& jitter_ms, double spike_level_ms, int spike_windows);

report::Stats compute_stats(const std::vector<Sample>& s, std::int64_t from_ns, std::int64_t to_ns,
                            const profile::Thresholds& th);

// Live estimate from window lines (progress output before the CSV exists): pooled mean and
// sigma (within-window variance plus between-window spread), max jitter, loss.
report::Stats stats_from_windows(const std::vector<Window>& w);

// SLO checks of one phase against its thresholds. `baseline` feeds p99_drift_max.
std::vector<report::Check> slo_checks(const report::Stats& s, const std::vector<double>& jitter_ms,
                                      const profile::Thresholds& th, const report::Stats* baseline);

}  // namespace netchaos::experiment
