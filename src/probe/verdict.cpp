#include "probe/verdict.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace netchaos::probe {

namespace {
double ms(double ns) { return ns / 1e6; }
double ms(Nanos d) { return static_cast<double>(d.count()) / 1e6; }
}  // namespace

Summary summarize(std::span<const Record> records, std::span<const Arrival> arrivals,
                  std::span<const WindowResult> windows, const AlertTracker* alert) {
    Summary s;
    std::vector<Nanos> rtts = received_rtts(records);
    s.sent = records.size();
    s.received = rtts.size();
    s.lost = s.sent - s.received;
    s.loss = s.sent ? static_cast<double>(s.lost) / static_cast<double>(s.sent) : 0.0;
    const Moments m = moments(rtts);
    s.rtt_mean_ns = m.mean_ns;
    s.rtt_stddev_ns = m.stddev_ns;
    std::sort(rtts.begin(), rtts.end());
    if (!rtts.empty()) {
        s.rtt_min = rtts.front();
        s.rtt_max = rtts.back();
    }
    s.p50 = percentile_sorted(rtts, 50);
    s.p90 = percentile_sorted(rtts, 90);
    s.p99 = percentile_sorted(rtts, 99);
    s.p999 = percentile_sorted(rtts, 99.9);

    double abs_sum = 0.0;
    const auto v = ipdv(records);
    for (Nanos d : v) abs_sum += std::abs(static_cast<double>(d.count()));
    s.ipdv_mean_ns = v.empty() ? 0.0 : abs_sum / static_cast<double>(v.size());
    s.jitter_rfc3550_ns = rfc3550_jitter_ns(arrivals);
    const OrderCounts oc = order_counts(arrivals);
    s.duplicates = oc.duplicates;
    s.reordered = oc.reordered;

    for (const WindowResult& w : windows) s.jitter_1s_max_ns = std::max(s.jitter_1s_max_ns, w.jitter_ns);
    if (!windows.empty()) s.spike_ratio = windows.back().spike_ratio;
    if (alert) {
        s.alert_fired = alert->fired();
        s.alert_max_consecutive = alert->max_consecutive();
    }
    return s;
}

std::vector<Miss> evaluate(const Summary& s, const profile::Thresholds& t, std::optional<Nanos> baseline_p99) {
    std::vector<Miss> out;
    if (s.sent > 0 && s.received == 0) out.push_back({"reachable", 0.0, 1.0});
    if (t.jitter_1s_max && s.jitter_1s_max_ns > static_cast<double>(t.jitter_1s_max->count()))
        out.push_back({"jitter_1s_max", ms(s.jitter_1s_max_ns), ms(*t.jitter_1s_max)});
    if (t.spike_ratio_max && s.spike_ratio > *t.spike_ratio_max)
        out.push_back({"spike_ratio_max", s.spike_ratio, *t.spike_ratio_max});
    // With nothing received p99 is meaningless; "reachable" already says why.
    if (t.p99_rtt_max && s.received > 0 && s.p99 > *t.p99_rtt_max)
        out.push_back({"p99_rtt_max", ms(s.p99), ms(*t.p99_rtt_max)});
    if (t.loss_max && s.loss > *t.loss_max) out.push_back({"loss_max", s.loss, *t.loss_max});
    if (t.p99_drift_max && baseline_p99 && baseline_p99->count() > 0 && s.received > 0) {
        const double drift = static_cast<double>((s.p99 - *baseline_p99).count()) /
                             static_cast<double>(baseline_p99->count());
        if (drift >= *t.p99_drift_max) out.push_back({"p99_drift_max", drift, *t.p99_drift_max});
    }
    if (t.alert && s.alert_fired)
        out.push_back({"alert", static_cast<double>(s.alert_max_consecutive), static_cast<double>(t.alert->periods)});
    return out;
}

std::string describe(const Miss& m) {
    char buf[160];
    if (m.name == "reachable")
        std::snprintf(buf, sizeof buf, "reachable: no reply to any probe (100%% loss)");
    else if (m.name == "alert")
        std::snprintf(buf, sizeof buf, "alert: rule held for %g consecutive periods (fires at %g)", m.value, m.limit);
    else if (m.name == "p99_drift_max")
        std::snprintf(buf, sizeof buf, "p99_drift_max: drift %.1f%% >= %.1f%%", m.value * 100, m.limit * 100);
    else if (m.name == "loss_max")
        std::snprintf(buf, sizeof buf, "loss_max: %.4g%% > %.4g%%", m.value * 100, m.limit * 100);
    else if (m.name == "spike_ratio_max")
        std::snprintf(buf, sizeof buf, "spike_ratio_max: %.3f > %.3f", m.value, m.limit);
    else
        std::snprintf(buf, sizeof buf, "%s: %.3f ms > %.3f ms", m.name.c_str(), m.value, m.limit);
    return buf;
}

}  // namespace netchaos::probe
