#include "probe/window.hpp"

#include <algorithm>
#include <string>

namespace netchaos::probe {

WindowResult WindowTracker::close(std::span<const Record> records) {
    WindowResult w;
    w.index = next_++;
    w.end = cfg_.window * static_cast<std::int64_t>(w.index + 1);
    std::vector<Nanos> rtts = received_rtts(records);
    w.sent = records.size();
    w.received = rtts.size();
    w.loss = w.sent ? 1.0 - static_cast<double>(w.received) / static_cast<double>(w.sent) : 0.0;
    const Moments m = moments(rtts);
    w.rtt_mean_ns = m.mean_ns;
    w.jitter_ns = m.stddev_ns;
    std::sort(rtts.begin(), rtts.end());
    w.p50 = percentile_sorted(rtts, 50);
    w.p99 = percentile_sorted(rtts, 99);
    w.spike = w.jitter_ns > static_cast<double>(cfg_.spike_level.count());

    recent_.push_back(w.spike);
    spiking_ += w.spike;
    while (static_cast<int>(recent_.size()) > std::max(cfg_.spike_windows, 1)) {
        spiking_ -= recent_.front();
        recent_.pop_front();
    }
    w.spike_ratio = static_cast<double>(spiking_) / static_cast<double>(recent_.size());
    return w;
}

std::vector<WindowResult> compute_windows(std::span<const Record> records, Nanos t0, std::size_t windows,
                                          WindowConfig cfg) {
    WindowTracker tracker(cfg);
    std::vector<WindowResult> out;
    out.reserve(windows);
    std::size_t i = 0;
    for (std::size_t k = 0; k < windows; ++k) {
        const Nanos end = t0 + cfg.window * static_cast<std::int64_t>(k + 1);
        const std::size_t first = i;
        while (i < records.size() && records[i].send < end) ++i;
        out.push_back(tracker.close(records.subspan(first, i - first)));
    }
    return out;
}

Result<AlertTracker> AlertTracker::make(const profile::AlertRule& rule, Nanos window) {
    if (window.count() <= 0 || rule.period.count() <= 0 || rule.period % window != Nanos{0})
        return make_error("alert period (" + std::to_string(rule.period.count()) +
                              " ns) must be a positive whole multiple of the window (" +
                              std::to_string(window.count()) + " ns)",
                          3);
    if (rule.periods < 1) return make_error("alert periods must be >= 1", 3);
    return AlertTracker(rule, static_cast<std::size_t>(rule.period / window));
}

std::optional<PeriodResult> AlertTracker::add(const WindowResult& w) {
    jitter_sum_ += w.jitter_ns;
    if (++in_period_ < per_period_) return std::nullopt;
    PeriodResult p;
    p.index = period_++;
    p.end = w.end;
    p.jitter_ns = jitter_sum_ / static_cast<double>(per_period_);
    p.spike_ratio = w.spike_ratio;
    p.hot = p.spike_ratio > rule_.spike_ratio && p.jitter_ns > static_cast<double>(rule_.jitter.count());
    consecutive_ = p.hot ? consecutive_ + 1 : 0;
    max_consecutive_ = std::max(max_consecutive_, consecutive_);
    p.consecutive = consecutive_;
    if (consecutive_ >= rule_.periods && !fired_at_) {
        fired_at_ = p.index;
        p.fired = true;
    }
    in_period_ = 0;
    jitter_sum_ = 0.0;
    return p;
}

}  // namespace netchaos::probe
