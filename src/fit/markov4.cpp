// The 4-state loss model (netem's `loss state p13 p31 p32 p23 p14`, Salsano et al.) by maximum
// likelihood, with EM over the loss runs.
//
// netem's states: 1 delivering in a gap, 2 delivering inside a burst, 3 losing inside a burst,
// 4 an isolated loss; a packet's fate is the state it moves into (src/fault/engine.cpp). Only
// delivered/lost is seen, so the chain is hidden, but its shape makes the hidden part small:
// 1 <-> 2 has no edge, so a run of delivered packets stays in 1 or in 2 throughout; 4 always
// goes to 1, so a loss run of 2 or more is all state 3, and only a single loss is ambiguous
// (3 or 4). The trace is therefore a chain of runs, each with one hidden type of two, and the
// run's length is its emission: type s of length L has likelihood a_ss^(L-1), the next run's
// type is reached with the one-step transition a_st. Forward-backward over the runs gives the
// expected transition counts, and the M step is their ratio (Baum-Welch with the emissions
// fixed); a step costs O(runs), so an hour at 100/s fits in microseconds per iteration.
//
// The likelihood is that of every packet after the first given the first (the first run's
// type drawn from the stationary law restricted to what the first packet shows), which is how
// fit_loss scores random and Gilbert-Elliott, so the three are compared on the same data.
// EM finds a local maximum: it starts from an RFC 3611-style split (a burst is a stretch
// whose gaps are shorter than Gmin = 16 packets, a single loss between longer gaps is
// isolated) and from the Gilbert-Elliott fit embedded in the 4-state chain, and keeps the
// better end.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "fit/fit.hpp"

namespace netchaos::fit {

namespace {

struct Run {
    bool lost;
    double len;
};

// Hidden type of a run: 0 or 1. Delivered runs: 0 = state 1, 1 = state 2. Lost runs: 0 =
// state 3, 1 = state 4.
struct Params {
    double p13, p14, p23, p31, p32;
};

// a[from][to] between consecutive runs (delivered -> lost, or lost -> delivered).
std::array<std::array<double, 2>, 2> delivered_to_lost(const Params& q) { return {{{q.p13, q.p14}, {q.p23, 0.0}}}; }
std::array<std::array<double, 2>, 2> lost_to_delivered(const Params& q) { return {{{q.p31, q.p32}, {1.0, 0.0}}}; }

double log_of(double x) { return x > 0 ? std::log(x) : -std::numeric_limits<double>::infinity(); }

// Log-likelihood of a run of length L in each hidden type (self-transitions only), from the
// logs of the self-transition probabilities (taken once per E step, not once per run).
struct SelfLogs {
    double s1, s2, s3;
    explicit SelfLogs(const Params& q)
        : s1(log_of(1 - q.p13 - q.p14)), s2(log_of(1 - q.p23)), s3(log_of(1 - q.p31 - q.p32)) {}
};
std::array<double, 2> run_loglik(const Run& r, const SelfLogs& l) {
    const double k = r.len - 1;
    if (k == 0) return {0.0, 0.0};
    if (!r.lost) return {k * l.s1, k * l.s2};
    return {k * l.s3, -std::numeric_limits<double>::infinity()};   // state 4 lasts one packet
}

// Stationary law of the chain restricted to the first packet's class, as a run type prior.
std::array<double, 2> first_prior(bool lost, const Params& q) {
    // pi1 = 1 (unnormalised), pi4 = p14, pi3 = p13 / p31, pi2 = p32 pi3 / p23 (flow balance).
    const double tiny = 1e-12;
    const double pi3 = q.p13 / std::max(q.p31, tiny), pi4 = q.p14, pi2 = q.p32 * pi3 / std::max(q.p23, tiny);
    std::array<double, 2> w = lost ? std::array<double, 2>{pi3, pi4} : std::array<double, 2>{1.0, pi2};
    const double s = w[0] + w[1];
    if (!(s > 0) || !std::isfinite(s)) return {0.5, 0.5};
    return {w[0] / s, w[1] / s};
}

struct EStep {
    double loglik = -std::numeric_limits<double>::infinity();
    // Expected transition counts.
    double n11 = 0, n13 = 0, n14 = 0, n22 = 0, n23 = 0, n33 = 0, n31 = 0, n32 = 0;
};

EStep expect(const std::vector<Run>& runs, const Params& q) {
    const std::size_t m = runs.size();
    std::vector<std::array<double, 2>> e(m), alpha(m), beta(m);
    EStep out;
    double ll = 0;
    const SelfLogs logs(q);
    for (std::size_t j = 0; j < m; ++j) {
        const auto le = run_loglik(runs[j], logs);
        const double mx = std::max(le[0], le[1]);
        if (!std::isfinite(mx)) return out;   // this run is impossible under q
        e[j] = le[0] == mx ? std::array<double, 2>{1.0, std::exp(le[1] - mx)} : std::array<double, 2>{std::exp(le[0] - mx), 1.0};
        ll += mx;
    }
    auto trans = [&](std::size_t j) {   // from run j to run j + 1
        return runs[j].lost ? lost_to_delivered(q) : delivered_to_lost(q);
    };
    const auto prior = first_prior(runs[0].lost, q);
    for (std::size_t j = 0; j < m; ++j) {
        std::array<double, 2> a{};
        if (j == 0) {
            a = {prior[0] * e[0][0], prior[1] * e[0][1]};
        } else {
            const auto t = trans(j - 1);
            for (int h = 0; h < 2; ++h) a[h] = (alpha[j - 1][0] * t[0][h] + alpha[j - 1][1] * t[1][h]) * e[j][h];
        }
        const double c = a[0] + a[1];
        if (!(c > 0)) return out;
        alpha[j] = {a[0] / c, a[1] / c};
        ll += std::log(c);
    }
    beta[m - 1] = {1.0, 1.0};
    for (std::size_t j = m - 1; j-- > 0;) {
        const auto t = trans(j);
        std::array<double, 2> b{};
        for (int h = 0; h < 2; ++h) b[h] = t[h][0] * e[j + 1][0] * beta[j + 1][0] + t[h][1] * e[j + 1][1] * beta[j + 1][1];
        const double s = std::max(b[0] + b[1], 1e-300);
        beta[j] = {b[0] / s, b[1] / s};
    }
    out.loglik = ll;
    for (std::size_t j = 0; j < m; ++j) {
        double g0 = alpha[j][0] * beta[j][0], g1 = alpha[j][1] * beta[j][1];
        const double gs = g0 + g1;
        g0 /= gs, g1 /= gs;
        const double k = runs[j].len - 1;
        if (runs[j].lost) {
            out.n33 += g0 * k;
        } else {
            out.n11 += g0 * k;
            out.n22 += g1 * k;
        }
        if (j + 1 == m) continue;
        const auto t = trans(j);
        std::array<std::array<double, 2>, 2> xi{};
        double xs = 0;
        for (int h = 0; h < 2; ++h)
            for (int g = 0; g < 2; ++g) xs += xi[h][g] = alpha[j][h] * t[h][g] * e[j + 1][g] * beta[j + 1][g];
        for (auto& row : xi)
            for (double& v : row) v /= xs;
        if (runs[j].lost) {   // 3 -> 1, 3 -> 2 (4 -> 1 is certain and carries no parameter)
            out.n31 += xi[0][0];
            out.n32 += xi[0][1];
        } else {
            out.n13 += xi[0][0];
            out.n14 += xi[0][1];
            out.n23 += xi[1][0];
        }
    }
    return out;
}

Params maximise(const EStep& s) {
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    Params q{};
    const double from1 = s.n11 + s.n13 + s.n14, from2 = s.n22 + s.n23, from3 = s.n33 + s.n31 + s.n32;
    q.p13 = ratio(s.n13, from1);
    q.p14 = ratio(s.n14, from1);
    q.p23 = from2 > 0 ? s.n23 / from2 : 1.0;   // state 2 unused: tc's default
    q.p31 = from3 > 0 ? s.n31 / from3 : 1.0;
    q.p32 = ratio(s.n32, from3);
    return q;
}

// Keeps every transition EM may need possible (EM never revives a probability that is 0).
Params open_up(Params q) {
    const double f = 1e-3;
    q.p13 = std::max(q.p13, f), q.p14 = std::max(q.p14, f), q.p32 = std::max(q.p32, f);
    q.p23 = std::clamp(q.p23, f, 1 - f), q.p31 = std::max(q.p31, f);
    if (const double out1 = q.p13 + q.p14; out1 > 1 - f) q.p13 *= (1 - f) / out1, q.p14 *= (1 - f) / out1;
    const double out3 = q.p31 + q.p32;
    if (out3 > 1) q.p31 /= out3, q.p32 /= out3;
    return q;
}

// RFC 3611's burst/gap split (Gmin = 16): hard types, then counts.
Params rfc3611_start(const std::vector<Run>& runs) {
    constexpr double gmin = 16;
    const std::size_t m = runs.size();
    std::vector<int> type(m, 0);
    for (std::size_t j = 0; j < m; ++j) {
        if (!runs[j].lost) continue;
        const bool long_before = j == 0 || runs[j - 1].len >= gmin, long_after = j + 1 == m || runs[j + 1].len >= gmin;
        if (runs[j].len == 1 && long_before && long_after) type[j] = 1;   // isolated: state 4
    }
    for (std::size_t j = 0; j < m; ++j)   // a short gap between two burst losses: state 2
        if (!runs[j].lost && runs[j].len < gmin && j > 0 && j + 1 < m && type[j - 1] == 0 && type[j + 1] == 0) type[j] = 1;
    EStep s;
    for (std::size_t j = 0; j < m; ++j) {
        const double k = runs[j].len - 1;
        if (runs[j].lost) s.n33 += type[j] == 0 ? k : 0;
        else (type[j] == 0 ? s.n11 : s.n22) += k;
        if (j + 1 == m) continue;
        const int a = type[j], b = type[j + 1];
        if (runs[j].lost) {
            if (a == 0) (b == 0 ? s.n31 : s.n32) += 1;
        } else if (a == 0) {
            (b == 0 ? s.n13 : s.n14) += 1;
        } else {
            s.n23 += 1;   // state 2 -> 4 is impossible; the split may say so, count it as a burst loss
        }
    }
    return open_up(maximise(s));
}

}  // namespace

Markov4Fit fit_markov4(std::span<const trace::Record> rs, double ge_p, double ge_r) {
    Markov4Fit out;
    std::vector<Run> runs;
    for (const auto& r : rs) {
        const bool lost = !r.rtt;
        if (runs.empty() || runs.back().lost != lost) runs.push_back({lost, 0});
        runs.back().len += 1;
    }
    if (runs.size() < 2) return out;
    const std::array<Params, 2> starts = {rfc3611_start(runs), open_up(Params{ge_p, 0.0, 0.5, ge_r, 0.0})};
    for (const auto& start : starts) {
        Params q = start;
        EStep s = expect(runs, q);
        int it = 0;
        // Stop when a step gains under 1e-3 nats: BIC weighs models in units of ~0.5 log n
        // (>= 3 nats), and on data with no 4-state structure the likelihood is flat along a ridge
        // EM crawls up for thousands of steps (a step is O(runs)).
        for (; it < 300 && std::isfinite(s.loglik); ++it) {
            const Params next = maximise(s);
            const EStep t = expect(runs, next);
            if (!(t.loglik > s.loglik - 1e-9)) break;   // the first packet's prior can cost a hair: stop there
            const bool done = t.loglik - s.loglik < 1e-3;
            q = next, s = t;
            if (done) break;
        }
        if (s.loglik > out.loglik) {
            out.loglik = s.loglik;
            out.model = profile::Markov4{q.p13, q.p31, q.p32, q.p23, q.p14};
            out.iterations = it;
        }
    }
    return out;
}

}  // namespace netchaos::fit
