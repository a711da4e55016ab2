#include "fit/fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

#include "dist/moments.hpp"
#include "dist/normal.hpp"
#include "dist/shapes.hpp"
#include "metrics/metrics.hpp"

namespace netchaos::fit {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

double ms_of(Nanos d) { return static_cast<double>(d.count()) / 1e6; }

double law_ks(const LawFit& f, std::span<const double> sorted) {
    return metrics::ks_one_sample(sorted, [&](double x) {
        return dist::shape_cdf(f.law, (x - f.mean_ms) / f.jitter_ms);
    });
}

// Per-sample log-likelihood of mean + jitter * X over xs.
double loglik(Distribution law, std::span<const double> xs, double mean, double jitter) {
    if (!(jitter > 0)) return -inf;
    double s = 0;
    for (double x : xs) s += dist::shape_log_pdf(law, (x - mean) / jitter);
    return s / static_cast<double>(xs.size()) - std::log(jitter);
}

}  // namespace

LawFit fit_normal(std::span<const double> sorted) {
    LawFit f;
    f.law = Distribution::normal;
    const auto m = dist::moments(sorted);
    const double n = static_cast<double>(m.n);
    f.mean_ms = m.mean;
    f.jitter_ms = m.stddev * std::sqrt(std::max(n - 1, 1.0) / n);   // the MLE divides by n
    f.loglik = f.jitter_ms > 0 ? -0.5 * std::log(2 * M_PI * f.jitter_ms * f.jitter_ms) - 0.5 : -inf;
    f.ks = f.jitter_ms > 0 ? law_ks(f, sorted) : 1.0;
    return f;
}

LawFit fit_pareto(std::span<const double> sorted) {
    // delay = loc + s P, P ~ Pareto(1, 3): f = 3 s^3 / (x - loc)^4 on x >= loc + s. For a given
    // loc the likelihood grows with s up to s = min - loc, so only loc is free:
    //   l(d) = 3 n log d - 4 sum log(x_i - min + d),  d = min - loc > 0,
    // and dl/dd = 3n/d - 4 sum 1/(x_i - min + d) changes sign once (from + to -): bisection.
    LawFit f;
    f.law = Distribution::pareto;
    const double mn = sorted.front();
    const double n = static_cast<double>(sorted.size());
    auto slope = [&](double d) {
        double s = 0;
        for (double x : sorted) s += 1.0 / (x - mn + d);
        return 3.0 * n / d - 4.0 * s;
    };
    const double spread = std::max(sorted.back() - mn, 1e-9);
    double lo = spread * 1e-9, hi = spread;
    for (int i = 0; i < 200 && slope(hi) > 0; ++i) hi *= 2;
    if (slope(lo) <= 0 || slope(hi) > 0) {
        f.loglik = -inf;
        return f;
    }
    for (int i = 0; i < 100; ++i) {
        const double mid = std::sqrt(lo * hi);
        (slope(mid) > 0 ? lo : hi) = mid;
    }
    const double d = std::sqrt(lo * hi);
    // s = d = 4 jitter / 3 and loc = mean - 2 jitter (dist/shapes.hpp's X = 4/3 (P - 3/2)).
    f.jitter_ms = 0.75 * d;
    f.mean_ms = mn - d + 2.0 * f.jitter_ms;
    double sum_log = 0;
    for (double x : sorted) sum_log += std::log(x - mn + d);
    f.loglik = std::log(3.0) + 3.0 * std::log(d) - 4.0 * sum_log / n;
    f.ks = law_ks(f, sorted);
    return f;
}

LawFit fit_paretonormal(std::span<const double> sorted, std::size_t max_samples) {
    LawFit f;
    f.law = Distribution::paretonormal;
    // The optimiser sees an even stride of the sorted sample: its quantiles, so the shape is kept.
    std::vector<double> xs;
    const std::size_t stride = std::max<std::size_t>(1, (sorted.size() + max_samples - 1) / std::max<std::size_t>(max_samples, 1));
    for (std::size_t i = stride / 2; i < sorted.size(); i += stride) xs.push_back(sorted[i]);
    const auto m = dist::moments(sorted);
    if (!(m.stddev > 0)) {
        f.loglik = -inf;
        return f;
    }
    // Nelder-Mead on (mean, log jitter), from the moments (X has mean ~0 and sd ~1).
    auto nll = [&](const std::array<double, 2>& v) { return -loglik(Distribution::paretonormal, xs, v[0], std::exp(v[1])); };
    std::array<std::array<double, 2>, 3> s = {{{m.mean, std::log(m.stddev)},
                                               {m.mean + 0.5 * m.stddev, std::log(m.stddev)},
                                               {m.mean, std::log(m.stddev) + 0.3}}};
    std::array<double, 3> fv{};
    for (int i = 0; i < 3; ++i) fv[i] = nll(s[i]);
    for (int it = 0; it < 300; ++it) {
        std::array<int, 3> o = {0, 1, 2};
        std::sort(o.begin(), o.end(), [&](int a, int b) { return fv[a] < fv[b]; });
        const int best = o[0], mid = o[1], worst = o[2];
        if (std::abs(fv[worst] - fv[best]) < 1e-10 && std::abs(s[worst][0] - s[best][0]) < 1e-6 * m.stddev) break;
        std::array<double, 2> c{}, r{}, e{}, k{};
        for (int j = 0; j < 2; ++j) c[j] = 0.5 * (s[best][j] + s[mid][j]);
        for (int j = 0; j < 2; ++j) r[j] = c[j] + (c[j] - s[worst][j]);
        const double fr = nll(r);
        if (fr < fv[best]) {
            for (int j = 0; j < 2; ++j) e[j] = c[j] + 2 * (c[j] - s[worst][j]);
            const double fe = nll(e);
            if (fe < fr) s[worst] = e, fv[worst] = fe;
            else s[worst] = r, fv[worst] = fr;
        } else if (fr < fv[mid]) {
            s[worst] = r, fv[worst] = fr;
        } else {
            for (int j = 0; j < 2; ++j) k[j] = c[j] + 0.5 * (s[worst][j] - c[j]);
            const double fk = nll(k);
            if (fk < fv[worst]) {
                s[worst] = k, fv[worst] = fk;
            } else {   // shrink towards the best
                for (int i : {mid, worst}) {
                    for (int j = 0; j < 2; ++j) s[i][j] = s[best][j] + 0.5 * (s[i][j] - s[best][j]);
                    fv[i] = nll(s[i]);
                }
            }
        }
    }
    const int best = static_cast<int>(std::min_element(fv.begin(), fv.end()) - fv.begin());
    f.mean_ms = s[best][0];
    f.jitter_ms = std::exp(s[best][1]);
    f.loglik = loglik(Distribution::paretonormal, sorted, f.mean_ms, f.jitter_ms);
    f.ks = law_ks(f, sorted);
    return f;
}

namespace {
// The Gaussian (mean and variance change) cost of a piece x[a, b): its length times the log
// of its variance, from prefix sums in O(1).
class GaussCost {
public:
    explicit GaussCost(std::span<const double> x) : s1_(x.size() + 1, 0.0), s2_(x.size() + 1, 0.0) {
        const std::size_t n = x.size();
        // Prefix sums of x - x[0] (shifted: the variance is a difference of large sums otherwise).
        for (std::size_t i = 0; i < n; ++i) {
            const double v = x[i] - x[0];
            s1_[i + 1] = s1_[i] + v;
            s2_[i + 1] = s2_[i] + v * v;
        }
        const double total_var = n ? std::max((s2_[n] - s1_[n] * s1_[n] / n) / n, 0.0) : 0.0;
        floor_ = std::max(total_var * 1e-9, 1e-18);
    }
    double operator()(std::size_t a, std::size_t b) const {
        const double len = static_cast<double>(b - a);
        const double mean = (s1_[b] - s1_[a]) / len;
        const double var = std::max((s2_[b] - s2_[a]) / len - mean * mean, floor_);
        return len * std::log(var);
    }

private:
    std::vector<double> s1_, s2_;
    double floor_ = 1e-18;
};

// The split t of x[a, b) into two pieces of at least min_len with the least
// cost(a, t) + cost(t, b), and that cost; b - a >= 2 min_len.
std::pair<std::size_t, double> best_split(const GaussCost& cost, std::size_t a, std::size_t b, std::size_t min_len) {
    std::size_t best_t = a + min_len;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t t = a + min_len; t + min_len <= b; ++t)
        if (const double c = cost(a, t) + cost(t, b); c < best) best = c, best_t = t;
    return {best_t, best};
}
}  // namespace

void refine(std::span<const double> x, std::vector<std::size_t>& bounds, std::size_t min_len, int passes) {
    if (bounds.size() < 3) return;
    min_len = std::max<std::size_t>(min_len, 2);
    const GaussCost cost(x);
    for (int pass = 0; pass < passes; ++pass) {
        bool moved = false;
        for (std::size_t i = 1; i + 1 < bounds.size(); ++i) {
            const std::size_t a = bounds[i - 1], b = bounds[i + 1];
            if (b - a < 2 * min_len) continue;
            const auto [t, c] = best_split(cost, a, b, min_len);
            // Ties stay put; a bound that leaves a piece under min_len always moves.
            const bool legal = bounds[i] >= a + min_len && bounds[i] + min_len <= b;
            if (!legal || c < cost(a, bounds[i]) + cost(bounds[i], b)) {
                moved = moved || t != bounds[i];
                bounds[i] = t;
            }
        }
        if (!moved) break;
    }
}

std::vector<std::size_t> segment(std::span<const double> x, std::size_t min_len, double penalty) {
    const std::size_t n = x.size();
    min_len = std::max<std::size_t>(min_len, 2);
    if (n < 2 * min_len) return {};
    const GaussCost cost(x);
    // Binary segmentation: O(n log n) whatever the trace (PELT degrades to O(n^2) on a long
    // stationary trace, which is the common case for an hour of a quiet path).
    std::vector<std::size_t> cps;
    std::vector<std::pair<std::size_t, std::size_t>> todo{{0, n}};
    while (!todo.empty()) {
        const auto [a, b] = todo.back();
        todo.pop_back();
        if (b - a < 2 * min_len) continue;
        const auto [best_t, split_cost] = best_split(cost, a, b, min_len);
        if (cost(a, b) - split_cost > penalty) {
            cps.push_back(best_t);
            todo.push_back({a, best_t});
            todo.push_back({best_t, b});
        }
    }
    std::sort(cps.begin(), cps.end());
    return cps;
}

LossFit fit_loss(std::span<const trace::Record> rs) {
    LossFit out;
    out.sent = rs.size();
    std::uint64_t rr = 0, rl = 0, lr = 0, ll = 0;
    for (std::size_t i = 0; i < rs.size(); ++i) {
        if (!rs[i].rtt) ++out.lost;
        if (i == 0) continue;
        const bool a = !rs[i - 1].rtt, b = !rs[i].rtt;
        (a ? (b ? ll : lr) : (b ? rl : rr))++;
    }
    if (out.lost == 0) {
        out.why = "no loss in " + std::to_string(out.sent) + " probes";
        return out;
    }
    auto xlogy = [](double k, double p) { return k > 0 ? k * std::log(p) : 0.0; };
    const double n1 = static_cast<double>(rr + rl + lr + ll);   // transitions
    const double lost_t = static_cast<double>(rl + ll);
    const double p_rand = lost_t / n1;
    const double ll_rand = xlogy(lost_t, p_rand) + xlogy(n1 - lost_t, 1 - p_rand);
    const double p_ge = rr + rl ? static_cast<double>(rl) / static_cast<double>(rr + rl) : 0.0;
    const double r_ge = lr + ll ? static_cast<double>(lr) / static_cast<double>(lr + ll) : 1.0;
    const double ll_ge = xlogy(static_cast<double>(rl), p_ge) + xlogy(static_cast<double>(rr), 1 - p_ge) +
                         xlogy(static_cast<double>(lr), r_ge) + xlogy(static_cast<double>(ll), 1 - r_ge);
    const auto m4 = fit_markov4(rs, p_ge, r_ge);
    // BIC: each model's log-likelihood less (k / 2) log n for its k parameters.
    const double per_param = 0.5 * std::log(std::max(n1, 2.0));
    const double score_rand = ll_rand - per_param, score_ge = ll_ge - 2 * per_param, score_m4 = m4.loglik - 5 * per_param;
    const auto runs = metrics::loss_runs(rs);
    const double mean_run = static_cast<double>(out.lost) / static_cast<double>(std::max<std::size_t>(runs.size(), 1));
    char head[160], tail[200];
    std::snprintf(tail, sizeof tail,
                  "log-likelihood gain over random: gilbert-elliott %.1f (BIC cost %.1f), markov4 %.1f (BIC cost %.1f)",
                  ll_ge - ll_rand, per_param, m4.loglik - ll_rand, 4 * per_param);
    profile::Loss l;
    if (score_m4 > score_ge && score_m4 > score_rand) {
        const auto& q = m4.model;
        l.model = q;
        std::snprintf(head, sizeof head, "markov4 p13 %.4f%% p31 %.2f%% p32 %.2f%% p23 %.2f%% p14 %.4f%% (%d EM steps)",
                      q.p13 * 100, q.p31 * 100, q.p32 * 100, q.p23 * 100, q.p14 * 100, m4.iterations);
    } else if (score_ge > score_rand) {
        l.model = profile::GilbertElliott{p_ge, r_ge, 1.0, 0.0};
        std::snprintf(head, sizeof head, "gilbert-elliott (1/r = %.2f)", 1.0 / r_ge);
    } else {
        l.model = profile::RandomLoss{static_cast<double>(out.lost) / static_cast<double>(out.sent), 0.0};
        std::snprintf(head, sizeof head, "random");
    }
    char buf[512];
    std::snprintf(buf, sizeof buf, "%s: %llu lost of %llu in %zu runs (mean run %.2f); %s", head,
                  (unsigned long long)out.lost, (unsigned long long)out.sent, runs.size(), mean_run, tail);
    out.loss = l;
    out.why = buf;
    return out;
}

double copula_correlation(std::span<const trace::Record> rs) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < rs.size(); ++i)
        if (rs[i].rtt) idx.push_back(i);
    if (idx.size() < 3) return 0.0;
    std::vector<std::size_t> order(idx.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return *rs[idx[a]].rtt < *rs[idx[b]].rtt; });
    std::vector<double> z(idx.size());
    const double n = static_cast<double>(idx.size());
    for (std::size_t k = 0; k < order.size(); ++k) z[order[k]] = dist::normal_quantile((static_cast<double>(k) + 0.5) / n);
    std::vector<double> a, b;
    for (std::size_t k = 1; k < idx.size(); ++k)
        if (rs[idx[k]].seq == rs[idx[k - 1]].seq + 1) a.push_back(z[k - 1]), b.push_back(z[k]);
    return std::clamp(metrics::pearson(a, b), 0.0, 0.99);
}

namespace {

// One direction's delay (or the RTT's) from its sorted samples (ms): every law tried, best
// first, and what the profile gets: the best law, or an empirical table when even the best is
// further than custom_ks from the data.
struct DelayFit {
    std::vector<LawFit> laws;
    profile::Delay delay;
    double ks = 1;
};
DelayFit fit_delay(const std::vector<double>& sorted, const Options& o) {
    DelayFit d;
    d.laws = {fit_normal(sorted), fit_pareto(sorted), fit_paretonormal(sorted, o.mle_samples)};
    std::stable_sort(d.laws.begin(), d.laws.end(), [](const LawFit& a, const LawFit& b) { return a.loglik > b.loglik; });
    auto us = [](double ms) { return Nanos{std::llround(ms * 1000.0) * 1000}; };   // profiles in whole us
    d.delay.order = profile::JitterOrder::reorder;   // per-probe delays are independent draws
    const LawFit& best = d.laws.front();
    if (best.ks <= o.custom_ks && best.jitter_ms > 0 && best.mean_ms >= 0) {
        d.delay.distribution = best.law;
        d.delay.mean = us(best.mean_ms);
        d.delay.jitter = us(best.jitter_ms);
        d.ks = best.ks;
    } else {
        // The empirical law: custom_points quantiles, as samples (dist::from_samples makes the table).
        profile::CustomTable tab;
        const std::size_t q = std::min(o.custom_points, sorted.size());
        for (std::size_t i = 0; i < q; ++i) {
            const auto j = static_cast<std::size_t>((static_cast<double>(i) + 0.5) / static_cast<double>(q) *
                                                    static_cast<double>(sorted.size()));
            tab.samples_ms.push_back(std::round(sorted[std::min(j, sorted.size() - 1)] * 1000.0) / 1000.0);
        }
        const auto tm = dist::moments(tab.samples_ms);
        d.delay.distribution = Distribution::custom;
        d.delay.mean = us(tm.mean);
        d.delay.jitter = us(tm.stddev);
        std::vector<double> qs = tab.samples_ms;   // sorted already
        d.ks = metrics::ks_two_sample(qs, sorted);
        d.delay.table = std::move(tab);
    }
    return d;
}

}  // namespace

Result<Floor> bench_floor(const trace::Trace& t) {
    std::vector<Nanos> v;
    for (const auto& r : t.records)
        if (r.rtt) v.push_back(*r.rtt);
    if (v.size() < 10)
        return trace::bad_input("the floor trace has " + std::to_string(v.size()) + " answered probes; at least 10 are needed");
    std::sort(v.begin(), v.end());
    auto q = [&](double p) { return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]; };
    return Floor{q(0.5), q(0.01), q(0.99), v.size()};
}

Result<Fit> fit(const trace::Trace& t, const Options& o) {
    const auto& rs = t.records;
    std::vector<double> x;          // received RTTs, ms, in send order
    std::vector<std::size_t> at;    // their record index
    for (std::size_t i = 0; i < rs.size(); ++i)
        if (rs[i].rtt) x.push_back(ms_of(*rs[i].rtt)), at.push_back(i);
    if (x.size() < 10)
        return trace::bad_input("the trace has " + std::to_string(x.size()) + " answered probes; fit needs at least 10");
    Fit out;
    out.one_way = (t.flags & trace::flag_one_way) != 0;
    // Split per direction when one-way times were kept for at least 90% of the answered probes.
    if (t.one_way.size() == rs.size()) {
        std::size_t known = 0;
        for (std::size_t i = 0; i < rs.size(); ++i) known += rs[i].rtt && t.one_way[i].known();
        out.split = known >= 0.9 * static_cast<double>(x.size());
    }
    out.records = rs.size();
    if (t.one_way.size() == rs.size()) {
        std::size_t lost = 0, known = 0;
        for (std::size_t i = 0; i < rs.size(); ++i)
            if (!rs[i].rtt) ++lost, known += t.one_way[i].lost != trace::LostWay::unknown;
        out.loss_split = lost > 0 && static_cast<double>(known) >= 0.9 * static_cast<double>(lost);
    }
    out.floor = std::max(o.floor, Nanos{0});
    // The bench floor off each fitted sample (ms), clamped at 0.
    auto off = [](std::vector<double>& ms, Nanos floor) {
        const double f = ms_of(floor);
        for (auto& v : ms) v = std::max(0.0, v - f);
    };

    // The minimum length in samples, from the trace's rate.
    const double span_s = std::max(std::chrono::duration<double>(trace::span(t)).count(), 1e-9);
    const double rate = static_cast<double>(rs.size() - 1) / span_s;
    const auto min_len = static_cast<std::size_t>(std::max(10.0, std::chrono::duration<double>(o.min_segment).count() * rate *
                                                                      static_cast<double>(x.size()) / rs.size()));
    const double penalty = o.penalty > 0 ? o.penalty : 10.0 * std::log(static_cast<double>(x.size()));
    auto cps = segment(x, min_len, penalty);

    // Merge neighbours the KS test cannot tell apart, the closest pair first.
    std::vector<std::size_t> bounds{0};
    bounds.insert(bounds.end(), cps.begin(), cps.end());
    bounds.push_back(x.size());
    auto piece_ks = [&](std::size_t i) {   // pieces i and i + 1
        const std::span<const double> a(x.data() + bounds[i], bounds[i + 1] - bounds[i]);
        const std::span<const double> b(x.data() + bounds[i + 1], bounds[i + 2] - bounds[i + 1]);
        const double d = metrics::ks_two_sample(a, b);
        const double crit = std::max(metrics::ks_critical(a.size(), b.size(), o.merge_alpha), o.merge_ks);
        return d / crit;   // < 1: merge
    };
    std::vector<double> ratio;
    for (std::size_t i = 0; i + 2 < bounds.size(); ++i) ratio.push_back(piece_ks(i));
    while (!ratio.empty()) {
        const auto it = std::min_element(ratio.begin(), ratio.end());
        if (*it >= 1.0) break;
        const auto i = static_cast<std::size_t>(it - ratio.begin());
        bounds.erase(bounds.begin() + static_cast<std::ptrdiff_t>(i) + 1);
        ratio.erase(ratio.begin() + static_cast<std::ptrdiff_t>(i));
        if (i > 0) ratio[i - 1] = piece_ks(i - 1);
        if (i < ratio.size()) ratio[i] = piece_ks(i);
    }
    refine(x, bounds, min_len);

    const Nanos origin = rs.front().send;
    const Nanos period{static_cast<std::int64_t>(1e9 / std::max(rate, 1e-9))};
    for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
        Piece p;
        // Records from the first answered probe of this piece (the first piece from record 0)
        // to the first of the next: losses belong to the piece they fall in.
        p.begin = k == 0 ? 0 : at[bounds[k]];
        p.end = k + 2 == bounds.size() ? rs.size() : at[bounds[k + 1]];
        p.start = rs[p.begin].send - origin;
        p.duration = (p.end < rs.size() ? rs[p.end].send : rs.back().send + period) - rs[p.begin].send;
        std::vector<double> sorted(x.begin() + static_cast<std::ptrdiff_t>(bounds[k]),
                                   x.begin() + static_cast<std::ptrdiff_t>(bounds[k + 1]));
        std::sort(sorted.begin(), sorted.end());
        const auto mom = dist::moments(sorted);
        p.received = sorted.size();
        p.rtt_mean_ms = mom.mean;
        p.rtt_sd_ms = mom.stddev;
        const std::span<const trace::Record> prs(rs.data() + p.begin, p.end - p.begin);
        if (!out.split) {
            std::vector<double> path = sorted;
            off(path, out.floor);
            auto d = fit_delay(path, o);
            p.laws = std::move(d.laws), p.delay = std::move(d.delay), p.ks = d.ks;
            p.delay.correlation = std::round(copula_correlation(prs) * 1000.0) / 1000.0;
        } else {
            // Each direction from its own one-way delays (records with both known), its
            // correlation from its own series.
            for (int dir = 0; dir < 2; ++dir) {
                std::vector<trace::Record> one;
                std::vector<double> ms;
                for (std::size_t i = p.begin; i < p.end; ++i) {
                    trace::Record r{rs[i].seq, rs[i].send, std::nullopt};
                    if (rs[i].rtt && t.one_way[i].known()) {
                        r.rtt = dir == 0 ? t.one_way[i].fwd : t.one_way[i].rev;
                        ms.push_back(ms_of(*r.rtt));
                    }
                    one.push_back(r);
                }
                if (ms.size() < 10) return trace::bad_input("piece " + std::to_string(k + 1) + " has " + std::to_string(ms.size()) +
                                                            " probes with one-way times; fit needs at least 10");
                std::sort(ms.begin(), ms.end());
                off(ms, out.floor / 2);
                auto d = fit_delay(ms, o);
                d.delay.correlation = std::round(copula_correlation(one) * 1000.0) / 1000.0;
                if (dir == 0) p.laws = std::move(d.laws), p.delay = std::move(d.delay), p.ks = d.ks;
                else p.ingress_laws = std::move(d.laws), p.ingress = std::move(d.delay), p.ingress_ks = d.ks;
            }
        }
        if (!out.loss_split) {
            p.loss = fit_loss(prs);
        } else {
            // Egress sees every probe and loses those lost on the way up (and those of unknown
            // way); ingress sees, in order, the probes that reached the server, and loses those
            // lost on the way down. Only received/lost matters to fit_loss.
            std::vector<trace::Record> up, down;
            for (std::size_t i = p.begin; i < p.end; ++i) {
                const bool lost_down = !rs[i].rtt && t.one_way[i].lost == trace::LostWay::down;
                const bool lost_up = !rs[i].rtt && !lost_down;
                up.push_back({rs[i].seq, rs[i].send, lost_up ? std::nullopt : std::optional<Nanos>(Nanos{0})});
                if (!lost_up)
                    down.push_back({down.size(), rs[i].send, lost_down ? std::nullopt : std::optional<Nanos>(Nanos{0})});
            }
            p.loss = fit_loss(up);
            p.ingress_loss = fit_loss(down);
        }
        out.pieces.push_back(std::move(p));
    }
    return out;
}

}  // namespace netchaos::fit
