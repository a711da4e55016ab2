#include "metrics/metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace netchaos::metrics {

// ---------------------------------------------------------------- moments
Moments moments(std::span<const Nanos> xs) {
    RunningMoments r;
    for (Nanos x : xs) r.add(static_cast<double>(x.count()));
    return r.get();
}

// ---------------------------------------------------------------- percentiles
namespace {
constexpr int sub_bits = 10;                         // 1024 steps per power of two
constexpr std::uint64_t exact_below = 2u << sub_bits;   // 2048 ns

std::size_t bucket_of(std::uint64_t v) {
    if (v < exact_below) return static_cast<std::size_t>(v);
    const int shift = std::bit_width(v) - (sub_bits + 1);
    return static_cast<std::size_t>(shift) * (1u << sub_bits) + static_cast<std::size_t>(v >> shift);
}

std::uint64_t bucket_floor(std::size_t idx) {
    if (idx < exact_below) return idx;
    const std::size_t shift = idx / (1u << sub_bits) - 1;
    const std::uint64_t mant = idx - shift * (1u << sub_bits);
    return mant << shift;
}

std::uint64_t clamp_ns(Nanos d) { return d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0; }

std::uint64_t nearest_rank(std::uint64_t n, double p) {
    // 1e-9 keeps 99.9% of 1000 samples at rank 999, not 1000 (0.999 * 1000 = 999.0000000000001).
    auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n) - 1e-9));
    return std::clamp<std::uint64_t>(rank, 1, n);
}
}  // namespace

Nanos quantize(Nanos rtt) { return Nanos{static_cast<std::int64_t>(bucket_floor(bucket_of(clamp_ns(rtt))))}; }

Nanos percentile_sorted(std::span<const Nanos> sorted, double p) {
    if (sorted.empty()) return Nanos{0};
    return quantize(sorted[nearest_rank(sorted.size(), p) - 1]);
}

void Histogram::add(Nanos rtt) {
    const std::size_t b = bucket_of(clamp_ns(rtt));
    if (b >= buckets_.size()) buckets_.resize(b + 1, 0);
    ++buckets_[b];
    ++n_;
}

Nanos Histogram::percentile(double p) const {
    if (n_ == 0) return Nanos{0};
    const std::uint64_t rank = nearest_rank(n_, p);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= rank) return Nanos{static_cast<std::int64_t>(bucket_floor(i))};
    }
    return Nanos{static_cast<std::int64_t>(bucket_floor(buckets_.size() - 1))};
}

// ---------------------------------------------------------------- config
Config config_of(const profile::Thresholds& t) { return Config{t.window, t.spike_level, t.spike_windows, t.alert}; }

std::string check(const Config& c) {
    if (c.window.count() <= 0) return "window must be > 0";
    if (c.spike_windows < 1) return "spike_windows must be >= 1";
    if (c.alert) {
        if (c.alert->period.count() <= 0 || c.alert->period % c.window != Nanos{0})
            return "alert period (" + std::to_string(c.alert->period.count()) +
                   " ns) must be a positive whole multiple of the window (" + std::to_string(c.window.count()) +
                   " ns)";
        if (c.alert->periods < 1) return "alert periods must be >= 1";
    }
    return "";
}

// ---------------------------------------------------------------- accumulator
Accumulator::Accumulator(Config cfg, Nanos origin) : cfg_(std::move(cfg)), origin_(origin) {}

Nanos Accumulator::open_window_end() const {
    return origin_ + cfg_.window * static_cast<std::int64_t>(index_ + 1);
}

void Accumulator::arrive(const Pending& p) {
    // RFC 4737 3.3: below NextExp (highest seq so far + 1) is reordered.
    if (p.seq < next_exp_)
        ++s_.reordered;
    else
        next_exp_ = p.seq + 1;
    // RFC 3550 6.4.1: a round trip's transit is its RTT, so D = rtt_i - rtt_(i-1).
    if (have_arrival_) {
        const double d = static_cast<double>((p.rtt - last_arrival_rtt_).count());
        j3550_ += (std::abs(d) - j3550_) / 16.0;
    }
    have_arrival_ = true;
    last_arrival_rtt_ = p.rtt;
}

void Accumulator::drain_arrivals(std::optional<Nanos> before) {
    // A reply arriving at or before `before` (the next send) cannot be overtaken any more:
    // everything sent later arrives later.
    while (!pending_.empty() && (!before || pending_.top().arrival <= *before)) {
        arrive(pending_.top());
        pending_.pop();
    }
}

Added Accumulator::add(const Record& r) {
    Added out;
    ++win_sent_;
    ++s_.sent;
    s_.duplicates += r.dups;
    drain_arrivals(r.send);
    if (prev_ && r.seq == prev_->seq + 1 && r.rtt && prev_->rtt) {
        out.ipdv = *r.rtt - *prev_->rtt;
        ipdv_abs_sum_ += std::abs(static_cast<double>(out.ipdv->count()));
        ++s_.ipdv_pairs;
    }
    prev_ = r;
    if (!r.rtt) return out;
    if (r.http_status) ++s_.http_status[r.http_status];
    const Nanos rtt = *r.rtt;
    out.rtt = rtt;
    win_rtts_.push_back(rtt);
    all_.add(static_cast<double>(rtt.count()));
    hist_.add(rtt);
    if (s_.received == 0 || rtt < s_.rtt_min) s_.rtt_min = rtt;
    if (s_.received == 0 || rtt > s_.rtt_max) s_.rtt_max = rtt;
    ++s_.received;
    pending_.push({r.arrival.value_or(r.send + rtt), r.seq, rtt});
    return out;
}

Totals Accumulator::totals() const {
    return {s_.sent, s_.received, s_.sent - s_.received, s_.duplicates, s_.reordered};
}

Accumulator::Closed Accumulator::close_window() {
    Closed out;
    Window& w = out.window;
    w.index = index_++;
    w.end = cfg_.window * static_cast<std::int64_t>(w.index + 1);
    w.sent = win_sent_;
    w.received = win_rtts_.size();
    w.loss = w.sent ? 1.0 - static_cast<double>(w.received) / static_cast<double>(w.sent) : 0.0;
    const Moments m = moments(std::span<const Nanos>(win_rtts_));
    w.rtt_mean_ns = m.mean;
    if (m.n >= 2) w.jitter_ns = m.stddev;
    std::sort(win_rtts_.begin(), win_rtts_.end());
    w.p50 = percentile_sorted(win_rtts_, 50);
    w.p99 = percentile_sorted(win_rtts_, 99);
    w.spike = w.jitter_ns && *w.jitter_ns > static_cast<double>(cfg_.spike_level.count());

    // The last spike_windows windows in time; those without a jitter_1s (fewer than two
    // replies) are in neither the numerator nor the denominator.
    recent_.push_back(w.jitter_ns ? static_cast<signed char>(w.spike) : static_cast<signed char>(-1));
    while (static_cast<int>(recent_.size()) > cfg_.spike_windows) recent_.pop_front();
    int spikes = 0, counted = 0;
    for (signed char c : recent_)
        if (c >= 0) ++counted, spikes += c;
    w.spike_ratio = counted ? static_cast<double>(spikes) / static_cast<double>(counted) : 0.0;

    ++s_.windows;
    if (w.jitter_ns) s_.jitter_1s_max_ns = std::max(s_.jitter_1s_max_ns, *w.jitter_ns);
    s_.spike_ratio = w.spike_ratio;

    if (cfg_.alert) {
        const auto per = static_cast<std::size_t>(cfg_.alert->period / cfg_.window);
        if (per > 0 && (w.index + 1) % per == 0) {
            ReportPoint p;
            p.index = s_.report_points++;
            p.end = w.end;
            p.jitter_ns = w.jitter_ns;
            p.spike_ratio = w.spike_ratio;
            p.hot = p.spike_ratio > cfg_.alert->spike_ratio && p.jitter_ns &&
                    *p.jitter_ns > static_cast<double>(cfg_.alert->jitter.count());
            consecutive_ = p.hot ? consecutive_ + 1 : 0;
            p.consecutive = consecutive_;
            s_.alert_max_consecutive = std::max(s_.alert_max_consecutive, consecutive_);
            if (consecutive_ >= cfg_.alert->periods && !s_.alert_fired) {
                s_.alert_fired = true;
                p.fired = true;
            }
            out.point = p;
        }
    }
    win_rtts_.clear();
    win_sent_ = 0;
    return out;
}

Summary Accumulator::finish() {
    drain_arrivals(std::nullopt);
    Summary s = s_;
    s.lost = s.sent - s.received;
    s.loss = s.sent ? static_cast<double>(s.lost) / static_cast<double>(s.sent) : 0.0;
    const Moments m = all_.get();
    s.rtt_mean_ns = m.mean;
    s.rtt_stddev_ns = m.stddev;
    s.p50 = hist_.percentile(50);
    s.p90 = hist_.percentile(90);
    s.p99 = hist_.percentile(99);
    s.p999 = hist_.percentile(99.9);
    s.ipdv_mean_ns = s.ipdv_pairs ? ipdv_abs_sum_ / static_cast<double>(s.ipdv_pairs) : 0.0;
    s.jitter_rfc3550_ns = j3550_;
    return s;
}

Summary summarize(std::span<const Record> records, Nanos origin, Nanos end,
                  const Config& cfg, std::vector<Window>* windows, std::vector<ReportPoint>* points) {
    Accumulator acc(cfg, origin);
    const std::int64_t span = std::max<std::int64_t>(0, (end - origin).count());
    const std::int64_t count = (span + cfg.window.count() - 1) / cfg.window.count();
    std::size_t i = 0;
    while (i < records.size() && records[i].send < origin) ++i;
    for (std::int64_t k = 0; k < count; ++k) {
        const Nanos wend = std::min(end, acc.open_window_end());
        for (; i < records.size() && records[i].send < wend; ++i) acc.add(records[i]);
        auto c = acc.close_window();
        if (windows) windows->push_back(c.window);
        if (points && c.point) points->push_back(*c.point);
    }
    return acc.finish();
}

Summary from_windows(std::span<const Window> windows) {
    Summary s;
    std::vector<Moments> groups;
    groups.reserve(windows.size());
    for (const Window& w : windows) {
        s.sent += w.sent;
        s.received += w.received;
        groups.push_back({w.received, w.rtt_mean_ns, w.jitter_ns.value_or(0.0)});
        if (w.jitter_ns) s.jitter_1s_max_ns = std::max(s.jitter_1s_max_ns, *w.jitter_ns);
        s.spike_ratio = w.spike_ratio;
        ++s.windows;
    }
    const Moments m = pool(groups);
    s.rtt_mean_ns = m.mean;
    s.rtt_stddev_ns = m.stddev;
    s.lost = s.sent - std::min(s.sent, s.received);
    s.loss = s.sent ? static_cast<double>(s.lost) / static_cast<double>(s.sent) : 0.0;
    return s;
}

std::vector<Nanos> ipdv(std::span<const Record> by_seq) {
    std::vector<Nanos> out;
    for (std::size_t i = 1; i < by_seq.size(); ++i) {
        const Record& a = by_seq[i - 1];
        const Record& b = by_seq[i];
        if (b.seq == a.seq + 1 && a.rtt && b.rtt) out.push_back(*b.rtt - *a.rtt);
    }
    return out;
}

// ---------------------------------------------------------------- thresholds
namespace {
double ms(double ns) { return ns / 1e6; }
double ms(Nanos d) { return static_cast<double>(d.count()) / 1e6; }
}  // namespace

std::vector<Outcome> evaluate(const Summary& s, const profile::Thresholds& t, std::optional<Nanos> baseline_p99) {
    std::vector<Outcome> out;
    auto above = [&](const char* name, double value, double limit) {
        out.push_back({name, value, limit, !(value > limit)});
    };
    if (t.jitter_1s_max) above("jitter_1s_max", ms(s.jitter_1s_max_ns), ms(*t.jitter_1s_max));
    if (t.spike_ratio_max) above("spike_ratio_max", s.spike_ratio, *t.spike_ratio_max);
    if (t.p99_rtt_max && s.received > 0) above("p99_rtt_max", ms(s.p99), ms(*t.p99_rtt_max));
    // The slack forgives the rounding of a loss fraction that equals its limit (1 in 100 vs "1%").
    if (t.loss_max) out.push_back({"loss_max", s.loss, *t.loss_max, !(s.loss > *t.loss_max + 1e-12)});
    // The reference is max(baseline p99, p99_drift_floor): growth is judged against at least
    // the floor, so a sub-ms baseline cannot turn a few ms into thousands of percent.
    const auto reference = baseline_p99 ? std::max(*baseline_p99, t.p99_drift_floor.value_or(Nanos{0})) : Nanos{0};
    if (t.p99_drift_max && baseline_p99 && reference.count() > 0 && s.received > 0) {
        const double drift = static_cast<double>((s.p99 - *baseline_p99).count()) / static_cast<double>(reference.count());
        out.push_back({"p99_drift_max", drift, *t.p99_drift_max, drift < *t.p99_drift_max});
    }
    for (const auto& [key, limit] : t.status_ratio_max) {
        const double v = status_ratio(s, key);
        out.push_back({"status_ratio_max." + key, v, limit, !(v > limit + 1e-12)});
    }
    if (t.alert)
        out.push_back({"alert", static_cast<double>(s.alert_max_consecutive), static_cast<double>(t.alert->periods),
                       !s.alert_fired});
    return out;
}

double status_ratio(const Summary& s, const std::string& key) {
    std::uint64_t all = 0, hit = 0;
    for (const auto& [code, n] : s.http_status) {
        all += n;
        const std::string c = std::to_string(code);
        if (c == key || (key.size() == 3 && key.substr(1) == "xx" && c[0] == key[0])) hit += n;
    }
    return all ? static_cast<double>(hit) / static_cast<double>(all) : 0.0;
}

std::vector<Outcome> misses(const std::vector<Outcome>& all) {
    std::vector<Outcome> out;
    for (const Outcome& o : all)
        if (!o.pass) out.push_back(o);
    return out;
}

std::string describe(const Outcome& o) {
    char buf[200];
    const char* cmp = o.pass ? "<=" : ">";
    if (o.name == "reachable")
        std::snprintf(buf, sizeof buf, "reachable: %s", o.pass ? "replies received" : "no reply to any probe (100% loss)");
    else if (o.name == "alert")
        std::snprintf(buf, sizeof buf, "alert: rule held for %g consecutive report points (fires at %g)", o.value,
                      o.limit);
    else if (o.name == "p99_drift_max")
        std::snprintf(buf, sizeof buf, "p99_drift_max: drift %.1f%% %s %.1f%%", o.value * 100, o.pass ? "<" : ">=",
                      o.limit * 100);
    else if (o.name == "loss_max")
        std::snprintf(buf, sizeof buf, "loss_max: %.4g%% %s %.4g%%", o.value * 100, cmp, o.limit * 100);
    else if (o.name.starts_with("status_ratio_max."))
        std::snprintf(buf, sizeof buf, "%s: %.4g%% of responses %s %.4g%%", o.name.c_str(), o.value * 100, cmp, o.limit * 100);
    else if (o.name == "spike_ratio_max")
        std::snprintf(buf, sizeof buf, "spike_ratio_max: %.3f %s %.3f", o.value, cmp, o.limit);
    else
        std::snprintf(buf, sizeof buf, "%s: %.3f ms %s %.3f ms", o.name.c_str(), o.value, cmp, o.limit);
    return buf;
}

// ---------------------------------------------------------------- comparing series
double ks_two_sample(std::span<const double> a, std::span<const double> b) {
    if (a.empty() || b.empty()) return 1.0;
    std::vector<double> x(a.begin(), a.end()), y(b.begin(), b.end());
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    const double n = static_cast<double>(x.size()), m = static_cast<double>(y.size());
    std::size_t i = 0, j = 0;
    double d = 0.0;
    while (i < x.size() && j < y.size()) {
        // Step past every copy of the smaller value on both sides before comparing: ties
        // move both CDFs at once.
        const double v = std::min(x[i], y[j]);
        while (i < x.size() && x[i] == v) ++i;
        while (j < y.size() && y[j] == v) ++j;
        d = std::max(d, std::abs(static_cast<double>(i) / n - static_cast<double>(j) / m));
    }
    return d;
}

namespace {
// sup over x of F_x(x - eps) - F_y(x), both sorted: attained where F_x(. - eps) steps up, at
// x = x_i + eps, against every y <= that (F_y is right-continuous).
double ks_one_side(const std::vector<double>& x, const std::vector<double>& y, double eps) {
    const double n = static_cast<double>(x.size()), m = static_cast<double>(y.size());
    double d = 0.0;
    std::size_t j = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        if (i + 1 < x.size() && x[i + 1] == x[i]) continue;   // the last copy of a tie: F_x counts all
        const double at = x[i] + eps;
        while (j < y.size() && y[j] <= at) ++j;
        d = std::max(d, static_cast<double>(i + 1) / n - static_cast<double>(j) / m);
    }
    return d;
}
}  // namespace

double ks_two_sample_within(std::span<const double> a, std::span<const double> b, double eps) {
    if (a.empty() || b.empty()) return 1.0;
    std::vector<double> x(a.begin(), a.end()), y(b.begin(), b.end());
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return std::max(ks_one_side(x, y, eps), ks_one_side(y, x, eps));
}

double ks_one_sample(std::span<const double> sorted, const std::function<double(double)>& cdf) {
    if (sorted.empty()) return 1.0;
    const double n = static_cast<double>(sorted.size());
    double d = 0.0;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        const double f = cdf(sorted[i]);
        d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    return d;
}

double ks_critical(std::size_t n, std::size_t m, double alpha) {
    const double c = std::sqrt(-std::log(alpha / 2.0) / 2.0);
    if (n == 0) return 1.0;
    if (m == 0) return c / std::sqrt(static_cast<double>(n));
    const double dn = static_cast<double>(n), dm = static_cast<double>(m);
    return c * std::sqrt((dn + dm) / (dn * dm));
}

double pearson(std::span<const double> x, std::span<const double> y) {
    const std::size_t n = std::min(x.size(), y.size());
    if (n < 2) return 0.0;
    double mx = 0, my = 0;
    for (std::size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
    mx /= static_cast<double>(n);
    my /= static_cast<double>(n);
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    if (sxx <= 0 || syy <= 0) return 0.0;
    return sxy / std::sqrt(sxx * syy);
}

std::vector<double> jitter_series(std::span<const Record> records, Nanos origin, Nanos end, const Config& cfg) {
    std::vector<Window> windows;
    summarize(records, origin, end, cfg, &windows);
    std::vector<double> out;
    out.reserve(windows.size());
    for (const auto& w : windows) out.push_back(w.jitter_ns ? *w.jitter_ns : std::nan(""));
    return out;
}

std::vector<std::uint64_t> loss_runs(std::span<const Record> by_seq) {
    std::vector<std::uint64_t> runs;
    std::uint64_t run = 0;
    for (std::size_t i = 0; i < by_seq.size(); ++i) {
        const bool lost = !by_seq[i].rtt;
        if (lost) ++run;
        if ((!lost || i + 1 == by_seq.size()) && run > 0) {
            runs.push_back(run);
            run = 0;
        }
    }
    return runs;
}

}  // namespace netchaos::metrics
