#include "experiment/samples.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace netchaos::experiment {

Result<std::vector<Sample>> parse_csv(std::istream& in) {
    std::vector<Sample> out;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (lineno == 1 && line.rfind("seq", 0) == 0)) continue;
        std::string f[4];
        std::size_t pos = 0;
        for (int i = 0; i < 4; ++i) {
            auto c = line.find(',', pos);
            f[i] = line.substr(pos, i == 3 ? std::string::npos : c - pos);
            if (i < 3 && c == std::string::npos) return make_error("probe csv line " + std::to_string(lineno) + ": expected 4 fields: " + line, 4);
            pos = c + 1;
        }
        Sample s;
        try {
            s.seq = std::stoll(f[0]);
            s.send_ns = std::stoll(f[1]);
            s.rtt_ns = f[2].empty() ? -1 : std::stoll(f[2]);
        } catch (const std::exception&) {
            return make_error("probe csv line " + std::to_string(lineno) + ": not a number: " + line, 4);
        }
        if (f[3] == "ok") s.status = Sample::Status::ok;
        else if (f[3] == "lost") s.status = Sample::Status::lost, s.rtt_ns = -1;
        else if (f[3] == "dup") s.status = Sample::Status::dup;
        else return make_error("probe csv line " + std::to_string(lineno) + ": unknown status '" + f[3] + "'", 4);
        if (s.status == Sample::Status::ok && s.rtt_ns < 0) s.status = Sample::Status::lost;
        out.push_back(s);
    }
    return out;
}

std::optional<Window> parse_window_line(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "window") return std::nullopt;
    Window w;
    auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
    w.t_ns = j.contains("t_ns") && j["t_ns"].is_number() ? j["t_ns"].get<std::int64_t>() : 0;
    w.sent = static_cast<std::uint64_t>(num("sent"));
    w.received = static_cast<std::uint64_t>(num("received"));
    w.loss = num("loss");
    w.rtt_mean_ms = num("rtt_mean_ms");
    w.jitter_1s_ms = num("jitter_1s_ms");
    w.spike_ratio = num("spike_ratio");
    w.p99_ms = num("p99_ms");
    return w;
}

std::vector<Sample> slice(const std::vector<Sample>& all, std::int64_t from_ns, std::int64_t to_ns) {
    std::vector<Sample> out;
    for (const auto& s : all)
        if (s.status != Sample::Status::dup && s.send_ns >= from_ns && s.send_ns < to_ns) out.push_back(s);
    return out;
}

Moments moments(const std::vector<Sample>& s) {
    // Welford: stable for many samples of similar size.
    Moments m;
    double mean = 0, m2 = 0;
    for (const auto& x : s) {
        if (x.status != Sample::Status::ok) continue;
        double v = x.rtt_ns / 1e6;
        ++m.n;
        double d = v - mean;
        mean += d / double(m.n);
        m2 += d * (v - mean);
    }
    if (m.n) m.mean_ms = mean, m.sigma_ms = std::sqrt(m2 / double(m.n));
    return m;
}

std::vector<double> window_jitter_ms(const std::vector<Sample>& s, std::int64_t from_ns, std::int64_t to_ns,
                                     profile::Duration window) {
    std::vector<double> out;
    const std::int64_t w = std::max<std::int64_t>(1, window.count());
    for (std::int64_t t = from_ns; t + w <= to_ns || (out.empty() && t < to_ns); t += w) {
        auto m = moments(slice(s, t, std::min(t + w, to_ns)));
        if (m.n >= 2) out.push_back(m.sigma_ms);
    }
    return out;
}

double spike_ratio(const std::vector<double>& j, double level_ms, int n) {
    if (j.empty()) return 0;
    std::size_t run = std::min<std::size_t>(j.size(), std::size_t(std::max(1, n)));
    std::size_t over = 0, best = 0;
    for (std::size_t i = 0; i < j.size(); ++i) {
        over += j[i] > level_ms;
        if (i >= run) over -= j[i - run] > level_ms;
        if (i + 1 >= run) best = std::max(best, over);
    }
    return double(best) / double(run);
}

namespace {
double percentile(std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    double pos = q * double(sorted.size() - 1);
    auto lo = static_cast<std::size_t>(std::floor(pos));
    auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - double(lo));
}
std::string num(double v) {
    char b[48];
    std::snprintf(b, sizeof b, "%.4g", v);
    return b;
}
}  // namespace

report::Stats compute_stats(const std::vector<Sample>& all, std::int64_t from_ns, std::int64_t to_ns,
                            const profile::Thresholds& th) {
    auto s = slice(all, from_ns, to_ns);
    report::Stats st;
    std::vector<double> rtt;
    for (const auto& x : s) {
        ++st.sent;
        if (x.status == Sample::Status::ok) rtt.push_back(x.rtt_ns / 1e6);
    }
    st.received = rtt.size();
    st.loss = st.sent ? double(st.sent - st.received) / double(st.sent) : 0;
    auto m = moments(s);
    st.mean_ms = m.mean_ms;
    st.sigma_ms = m.sigma_ms;
    std::sort(rtt.begin(), rtt.end());
    st.p50_ms = percentile(rtt, 0.5);
    st.p90_ms = percentile(rtt, 0.9);
    st.p99_ms = percentile(rtt, 0.99);
    st.max_ms = rtt.empty() ? 0 : rtt.back();
    auto j = window_jitter_ms(all, from_ns, to_ns, th.window);
    st.jitter_1s_max_ms = j.empty() ? 0 : *std::max_element(j.begin(), j.end());
    st.spike_ratio = spike_ratio(j, th.spike_level.count() / 1e6, th.spike_windows);
    return st;
}

report::Stats stats_from_windows(const std::vector<Window>& ws) {
    report::Stats st;
    double sum = 0, sumsq = 0;
    for (const auto& w : ws) {
        st.sent += w.sent;
        st.received += w.received;
        sum += w.rtt_mean_ms * double(w.received);
        // E[x^2] per window = sigma^2 + mean^2: pooled variance from window moments.
        sumsq += (w.jitter_1s_ms * w.jitter_1s_ms + w.rtt_mean_ms * w.rtt_mean_ms) * double(w.received);
        st.jitter_1s_max_ms = std::max(st.jitter_1s_max_ms, w.jitter_1s_ms);
        st.spike_ratio = w.spike_ratio;
        st.p99_ms = std::max(st.p99_ms, w.p99_ms);
    }
    if (st.received) {
        st.mean_ms = sum / double(st.received);
        st.sigma_ms = std::sqrt(std::max(0.0, sumsq / double(st.received) - st.mean_ms * st.mean_ms));
    }
    st.loss = st.sent ? double(st.sent - std::min(st.sent, st.received)) / double(st.sent) : 0;
    return st;
}

std::vector<report::Check> slo_checks(const report::Stats& s, const std::vector<double>& jitter_ms,
                                      const profile::Thresholds& th, const report::Stats* baseline) {
    using report::Check;
    std::vector<Check> out;
    auto add = [&](const char* name, double value, double limit, const char* unit, bool pass, const std::string& what) {
        out.push_back(Check{Check::Kind::slo, name, value, limit, unit, pass,
                            what + " " + num(value) + unit + (pass ? " <= " : " > ") + num(limit) + unit});
    };
    if (th.jitter_1s_max) {
        double lim = th.jitter_1s_max->count() / 1e6;
        add("jitter_1s_max", s.jitter_1s_max_ms, lim, "ms", s.jitter_1s_max_ms <= lim, "jitter_1s max");
    }
    if (th.spike_ratio_max)
        add("spike_ratio_max", s.spike_ratio, *th.spike_ratio_max, "", s.spike_ratio <= *th.spike_ratio_max,
            "spike ratio");
    if (th.p99_rtt_max) {
        double lim = th.p99_rtt_max->count() / 1e6;
        add("p99_rtt_max", s.p99_ms, lim, "ms", s.p99_ms <= lim, "p99 rtt");
    }
    if (th.loss_max) add("loss_max", s.loss * 100, *th.loss_max * 100, "%", s.loss <= *th.loss_max + 1e-12, "loss");
    if (th.p99_drift_max && baseline && baseline->p99_ms > 0) {
        double drift = (s.p99_ms - baseline->p99_ms) / baseline->p99_ms;
        add("p99_drift_max", drift * 100, *th.p99_drift_max * 100, "%", drift <= *th.p99_drift_max,
            "p99 drift vs baseline");
    }
    if (th.alert) {
        // The ops alert: spike_ratio > r AND jitter_1s > j at the end of `periods` consecutive
        // reporting periods. Windows are th.window long; a period holds period/window of them.
        const auto& a = *th.alert;
        int per = std::max<int>(1, int(a.period.count() / std::max<std::int64_t>(1, th.window.count())));
        double lvl = th.spike_level.count() / 1e6, jit = a.jitter.count() / 1e6;
        int consecutive = 0, worst = 0;
        for (std::size_t end = std::size_t(per); end <= jitter_ms.size(); end += std::size_t(per)) {
            std::vector<double> upto(jitter_ms.begin(), jitter_ms.begin() + long(end));
            std::vector<double> last(upto.end() - std::min<long>(long(upto.size()), th.spike_windows), upto.end());
            double ratio = spike_ratio(last, lvl, int(last.size()));
            bool firing = ratio > a.spike_ratio && upto.back() > jit;
            consecutive = firing ? consecutive + 1 : 0;
            worst = std::max(worst, consecutive);
        }
        out.push_back(Check{Check::Kind::slo, "alert", double(worst), double(a.periods), "periods",
                            worst < a.periods,
                            "alert rule (spike_ratio > " + num(a.spike_ratio) + " and jitter_1s > " + num(jit) +
                                "ms) held for " + std::to_string(worst) + " consecutive periods, fires at " +
                                std::to_string(a.periods)});
    }
    return out;
}

}  // namespace netchaos::experiment
