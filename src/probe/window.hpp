#pragma once
// Windowed ops metrics: jitter_1s, spike ratio, and the consecutive-period alert rule.
//
// Definitions (docs/performance.md "Probe" cites them):
//  - Windows are [t0 + k*W, t0 + (k+1)*W) on the client's send time, t0 = the first grid
//    slot. A probe belongs to the window it was sent in, whenever its reply comes back.
//  - jitter_1s of a window = sample standard deviation (n - 1) of the RTTs received for
//    the probes sent in it; 0 when fewer than 2 replies.
//  - A window "spikes" when its jitter_1s > spike_level (strictly).
//  - spike_ratio after window k = spiking windows / windows among the last min(k+1, N)
//    windows (N = spike_windows, 60 by default). Early on the denominator is the number of
//    windows seen so far, so a short run that spikes throughout reads 1.0, not 10/60.
//  - Alert periods are [t0 + m*P, t0 + (m+1)*P), P a whole multiple of W. A period's
//    jitter is the MEAN of the jitter_1s of its P/W windows (what a 5 s reporting period
//    of a 1 s gauge averages to); its spike_ratio is the value after its last window (the
//    ratio is already a 60-window aggregate). The period is "hot" when spike_ratio >
//    rule.spike_ratio AND jitter > rule.jitter. The alert fires at the end of the
//    rule.periods-th consecutive hot period, and stays fired for the run.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "probe/stats.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

struct WindowConfig {
    Nanos window{std::chrono::seconds(1)};
    Nanos spike_level{std::chrono::milliseconds(50)};
    int spike_windows = 60;
};

struct WindowResult {
    std::size_t index = 0;
    Nanos end{0};                 // relative to t0
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    double loss = 0.0;            // fraction of `sent`
    double rtt_mean_ns = 0.0;
    double jitter_ns = 0.0;       // jitter_1s
    Nanos p50{0};
    Nanos p99{0};
    bool spike = false;
    double spike_ratio = 0.0;
};

// Closes windows one after another and keeps the spike history.
class WindowTracker {
public:
    explicit WindowTracker(WindowConfig cfg) : cfg_(cfg) {}
    // `records` are the probes sent in the next window (any order).
    WindowResult close(std::span<const Record> records);
    const WindowConfig& config() const { return cfg_; }
private:
    WindowConfig cfg_;
    std::size_t next_ = 0;
    std::deque<bool> recent_;
    int spiking_ = 0;
};

// Offline: windows over a whole run. `records` sorted by send time; t0 = first grid slot;
// `windows` = how many windows to close (a trailing partial window is included by the caller
// rounding up).
std::vector<WindowResult> compute_windows(std::span<const Record> records, Nanos t0, std::size_t windows,
                                          WindowConfig cfg);

struct PeriodResult {
    std::size_t index = 0;
    Nanos end{0};                 // relative to t0
    double jitter_ns = 0.0;       // mean jitter_1s of the period's windows
    double spike_ratio = 0.0;     // after the period's last window
    bool hot = false;
    int consecutive = 0;          // hot periods in a row, this one included
    bool fired = false;           // the alert fired at the end of this period
};

class AlertTracker {
public:
    // Error (code 3) unless rule.period is a positive whole multiple of `window`.
    static Result<AlertTracker> make(const profile::AlertRule& rule, Nanos window);
    // Feed every window in order; returns a period result when `w` completes a period.
    std::optional<PeriodResult> add(const WindowResult& w);
    bool fired() const { return fired_at_.has_value(); }
    std::optional<std::size_t> fired_at_period() const { return fired_at_; }
    int max_consecutive() const { return max_consecutive_; }
    const profile::AlertRule& rule() const { return rule_; }
private:
    AlertTracker(const profile::AlertRule& rule, std::size_t per_period) : rule_(rule), per_period_(per_period) {}
    profile::AlertRule rule_;
    std::size_t per_period_;
    std::size_t in_period_ = 0;
    std::size_t period_ = 0;
    double jitter_sum_ = 0.0;
    int consecutive_ = 0;
    int max_consecutive_ = 0;
    std::optional<std::size_t> fired_at_;
};

}  // namespace netchaos::probe
