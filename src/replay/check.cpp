#include "replay/check.hpp"

#include <algorithm>
#include <optional>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "dist/moments.hpp"

namespace netchaos::replay {

namespace {

using Nanos = std::chrono::nanoseconds;

struct Span {
    std::vector<double> rtt_ms;
    std::uint64_t sent = 0, lost = 0;
    std::uint64_t after_received = 0, lost_after_received = 0, after_lost = 0, lost_after_lost = 0;   // transitions
};

// Records of `t` whose send, from t's first send, is in [from, to).
Span select(const trace::Trace& t, Nanos from, Nanos to) {
    Span s;
    const Nanos o = t.records.front().send;
    std::optional<bool> prev_lost;
    for (const auto& r : t.records) {
        const Nanos at = r.send - o;
        if (at < from || at >= to) continue;
        ++s.sent;
        if (r.rtt) s.rtt_ms.push_back(static_cast<double>(r.rtt->count()) / 1e6);
        else ++s.lost;
        if (prev_lost) {
            (*prev_lost ? s.after_lost : s.after_received) += 1;
            if (!r.rtt) (*prev_lost ? s.lost_after_lost : s.lost_after_received) += 1;
        }
        prev_lost = !r.rtt;
    }
    return s;
}

double frac(std::uint64_t k, std::uint64_t n) { return n ? static_cast<double>(k) / static_cast<double>(n) : 0.0; }

std::string fmt(const char* f, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, f, args...);
    return buf;
}

}  // namespace

Result<CheckResult> check(const trace::Trace& original, const trace::Trace& replayed, const CheckOptions& o) {
    auto f = fit::fit(original, o.segmentation);
    if (!f) return f.error();
    CheckResult out;
    const Nanos o_span = trace::span(original);
    for (std::size_t i = 0; i < f->pieces.size(); ++i) {
        const auto& p = f->pieces[i];
        // The last piece runs to the end of whichever trace is longer.
        const Nanos end = i + 1 == f->pieces.size() ? Nanos::max() : p.start + p.duration;
        const Span a = select(original, p.start, end), b = select(replayed, p.start, end);
        PieceCheck c;
        c.start_s = std::chrono::duration<double>(p.start).count();
        c.end_s = std::chrono::duration<double>(i + 1 == f->pieces.size() ? o_span : p.start + p.duration).count();
        c.n_original = a.rtt_ms.size();
        c.n_replayed = b.rtt_ms.size();
        c.ks = metrics::ks_two_sample(a.rtt_ms, b.rtt_ms);
        c.ks_critical_1pct = metrics::ks_critical(a.rtt_ms.size(), b.rtt_ms.size(), 0.01);
        c.ks_resolved = o.resolution_ms > 0 ? metrics::ks_two_sample_within(a.rtt_ms, b.rtt_ms, o.resolution_ms) : c.ks;
        c.ks_pass = c.ks_resolved <= o.ks_max;
        c.loss_original = frac(a.lost, a.sent);
        c.loss_replayed = frac(b.lost, b.sent);
        const double pooled = frac(a.lost + b.lost, a.sent + b.sent);
        // Losses in bursts are not independent: for a 2-state chain the variance of the mean
        // is the binomial one times (1 + lambda) / (1 - lambda), lambda = P(lost | lost) -
        // P(lost | received) (its lag-1 correlation; Gilbert-Elliott's 1 - p - r), pooled
        // over both traces. Without it, "3 SE" was ~1.3 true SE for GE p 1%, r 30%.
        // Clamped at 0: never tighter than the binomial.
        const double lambda = std::clamp(frac(a.lost_after_lost + b.lost_after_lost, a.after_lost + b.after_lost) -
                                             frac(a.lost_after_received + b.lost_after_received, a.after_received + b.after_received),
                                         0.0, 0.99);
        c.loss_se = a.sent && b.sent ? std::sqrt(pooled * (1 - pooled) * (1.0 / a.sent + 1.0 / b.sent) * (1 + lambda) / (1 - lambda))
                                     : 0.0;
        c.loss_pass = std::abs(c.loss_original - c.loss_replayed) <= o.loss_se * c.loss_se;
        if (!c.ks_pass)
            out.misses.push_back(o.resolution_ms > 0
                                     ? fmt("piece %zu (%.1f-%.1f s): RTT KS D within %.3f ms %.4f > %.4f (plain D %.4f)", i + 1,
                                           c.start_s, c.end_s, o.resolution_ms, c.ks_resolved, o.ks_max, c.ks)
                                     : fmt("piece %zu (%.1f-%.1f s): RTT KS D %.4f > %.4f", i + 1, c.start_s, c.end_s, c.ks, o.ks_max));
        if (!c.loss_pass)
            out.misses.push_back(fmt("piece %zu (%.1f-%.1f s): loss %.4f%% vs %.4f%%, %.1f standard errors apart (> %.1f)",
                                     i + 1, c.start_s, c.end_s, c.loss_original * 100, c.loss_replayed * 100,
                                     std::abs(c.loss_original - c.loss_replayed) / std::max(c.loss_se, 1e-300), o.loss_se));
        out.pieces.push_back(c);
    }

    // jitter_1s series, each from its own first send, over the shorter of the two.
    metrics::Config cfg;
    cfg.window = o.window;
    const Nanos len = std::min(o_span, trace::span(replayed));
    const auto ja = metrics::jitter_series(original.records, original.records.front().send,
                                           original.records.front().send + len, cfg);
    const auto jb = metrics::jitter_series(replayed.records, replayed.records.front().send,
                                           replayed.records.front().send + len, cfg);
    std::vector<double> xa, xb;
    for (std::size_t i = 0; i < std::min(ja.size(), jb.size()); ++i)
        if (!std::isnan(ja[i]) && !std::isnan(jb[i])) xa.push_back(ja[i]), xb.push_back(jb[i]);
    if (xa.size() >= 3) out.jitter_r = metrics::pearson(xa, xb);
    out.jitter_original_ns = ja;
    out.jitter_replayed_ns = jb;
    out.jitter_gated = f->pieces.size() > 1;
    if (out.jitter_gated) {
        out.jitter_pass = out.jitter_r && *out.jitter_r >= o.r_min;
        if (!out.jitter_pass)
            out.misses.push_back(out.jitter_r ? fmt("jitter_1s series correlation r %.3f < %.3f", *out.jitter_r, o.r_min)
                                              : std::string("jitter_1s series: fewer than 3 windows to correlate"));
    }

    // Loss runs.
    const auto ra = metrics::loss_runs(original.records), rb = metrics::loss_runs(replayed.records);
    out.runs_original = ra.size();
    out.runs_replayed = rb.size();
    auto as_double = [](const std::vector<std::uint64_t>& v) { return std::vector<double>(v.begin(), v.end()); };
    const auto da = as_double(ra), db = as_double(rb);
    const auto ma = dist::moments(da), mb = dist::moments(db);
    out.run_mean_original = ma.mean;
    out.run_mean_replayed = mb.mean;
    if (!ra.empty() && !rb.empty()) out.runs_ks = metrics::ks_two_sample(da, db);
    out.runs_gated = ra.size() >= 10 && rb.size() >= 10;
    if (out.runs_gated) {
        out.run_se = std::sqrt(ma.stddev * ma.stddev / ra.size() + mb.stddev * mb.stddev / rb.size());
        // Runs of length 1 only on both sides: sd 0; equal means pass.
        out.runs_pass = std::abs(ma.mean - mb.mean) <= o.loss_se * out.run_se;
        if (!out.runs_pass)
            out.misses.push_back(fmt("loss runs: mean length %.3f vs %.3f, more than %.1f standard errors (%.3f) apart",
                                     ma.mean, mb.mean, o.loss_se, out.run_se));
    }
    out.pass = out.misses.empty();
    return out;
}

std::string to_text(const CheckResult& r, const CheckOptions& o) {
    std::ostringstream s;
    const bool eps = o.resolution_ms > 0;
    if (eps)
        s << fmt("resolution %.3f ms: the gated KS D_eps counts RTT differences up to it as equal (plain D beside it)\n",
                 o.resolution_ms);
    s << fmt("%-7s %-17s %9s %9s %8s %8s %8s %9s %9s  %s\n", "piece", "span (s)", "n orig", "n repl", "KS D", eps ? "D_eps" : "",
             "D(1%)", "loss orig", "loss repl", "verdict");
    for (std::size_t i = 0; i < r.pieces.size(); ++i) {
        const auto& c = r.pieces[i];
        s << fmt("%-7zu %7.1f - %7.1f %9zu %9zu %8.4f %8s %8.4f %8.3f%% %8.3f%%  %s\n", i + 1, c.start_s, c.end_s, c.n_original,
                 c.n_replayed, c.ks, eps ? fmt("%.4f", c.ks_resolved).c_str() : "", c.ks_critical_1pct, c.loss_original * 100,
                 c.loss_replayed * 100, c.ks_pass && c.loss_pass ? "pass" : "MISS");
    }
    if (r.jitter_r)
        s << fmt("jitter_1s series: r = %.3f (%s)\n", *r.jitter_r,
                 r.jitter_gated ? (r.jitter_pass ? "pass" : "MISS") : "not gated: one stationary piece");
    else
        s << "jitter_1s series: too few windows to correlate\n";
    s << fmt("loss runs: %zu vs %zu, mean length %.3f vs %.3f, KS D %.3f (%s)\n", r.runs_original, r.runs_replayed,
             r.run_mean_original, r.run_mean_replayed, r.runs_ks,
             r.runs_gated ? (r.runs_pass ? "pass" : "MISS") : "not gated: fewer than 10 runs on a side");
    s << fmt("gates: KS %s <= %.3f per piece, jitter_1s r >= %.2f, loss within %.1f SE: %s\n", eps ? "D_eps" : "D", o.ks_max,
             o.r_min, o.loss_se, r.pass ? "PASS" : "FAIL");
    for (const auto& m : r.misses) s << "  missed " << m << "\n";
    return s.str();
}

nlohmann::ordered_json to_json(const CheckResult& r, const CheckOptions& o) {
    nlohmann::ordered_json j;
    j["pass"] = r.pass;
    j["ks_max"] = o.ks_max;
    j["resolution_ms"] = o.resolution_ms;
    j["r_min"] = o.r_min;
    j["loss_se"] = o.loss_se;
    auto& ps = j["pieces"] = nlohmann::ordered_json::array();
    for (const auto& c : r.pieces)
        ps.push_back({{"start_s", c.start_s}, {"end_s", c.end_s}, {"n_original", c.n_original}, {"n_replayed", c.n_replayed},
                      {"ks", c.ks}, {"ks_resolved", c.ks_resolved}, {"ks_critical_1pct", c.ks_critical_1pct}, {"loss_original", c.loss_original},
                      {"loss_replayed", c.loss_replayed}, {"loss_se", c.loss_se}, {"ks_pass", c.ks_pass},
                      {"loss_pass", c.loss_pass}});
    j["jitter_1s_r"] = r.jitter_r ? nlohmann::ordered_json(*r.jitter_r) : nlohmann::ordered_json(nullptr);
    j["jitter_gated"] = r.jitter_gated;
    j["loss_runs"] = {{"original", r.runs_original}, {"replayed", r.runs_replayed}, {"mean_original", r.run_mean_original},
                      {"mean_replayed", r.run_mean_replayed}, {"ks", r.runs_ks}, {"gated", r.runs_gated},
                      {"pass", r.runs_pass}};
    j["misses"] = r.misses;
    return j;
}

}  // namespace netchaos::replay
