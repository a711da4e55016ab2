// Mean loss and mean burst length of the loss models, and Gilbert-Elliott from intent.
#include "profile/loss.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace netchaos::profile {

namespace {

// Stationary distribution of a small chain (rows sum to 1), by solving pi (T - I) = 0 with
// sum(pi) = 1 in place of the last equation. nullopt when singular (more than one closed class).
template <std::size_t N>
std::optional<std::array<double, N>> stationary(const std::array<std::array<double, N>, N>& t) {
    std::array<std::array<double, N + 1>, N> a{};   // a[row][col], augmented
    for (std::size_t i = 0; i < N; ++i) {           // equation i: sum_s pi_s (T[s][i] - [s == i]) = 0
        for (std::size_t s = 0; s < N; ++s) a[i][s] = t[s][i] - (s == i ? 1.0 : 0.0);
        a[i][N] = 0;
    }
    for (std::size_t s = 0; s < N; ++s) a[N - 1][s] = 1.0;
    a[N - 1][N] = 1.0;
    for (std::size_t c = 0; c < N; ++c) {
        std::size_t piv = c;
        for (std::size_t r = c + 1; r < N; ++r)
            if (std::fabs(a[r][c]) > std::fabs(a[piv][c])) piv = r;
        if (std::fabs(a[piv][c]) < 1e-15) return std::nullopt;
        std::swap(a[c], a[piv]);
        for (std::size_t r = 0; r < N; ++r) {
            if (r == c) continue;
            double f = a[r][c] / a[c][c];
            for (std::size_t k = c; k <= N; ++k) a[r][k] -= f * a[c][k];
        }
    }
    std::array<double, N> pi{};
    for (std::size_t i = 0; i < N; ++i) pi[i] = std::max(0.0, a[i][N] / a[i][i]);
    return pi;
}

// A hidden Markov chain: state s loses a packet with probability loss[s].
template <std::size_t N>
LossSummary summarize_chain(const std::array<std::array<double, N>, N>& t, const std::array<double, N>& loss) {
    auto pi = stationary(t);
    if (!pi) return {};
    double lost = 0, starts = 0;
    for (std::size_t s = 0; s < N; ++s) {
        lost += (*pi)[s] * loss[s];
        for (std::size_t u = 0; u < N; ++u) starts += (*pi)[s] * (1 - loss[s]) * t[s][u] * loss[u];
    }
    LossSummary out{lost, std::nullopt};
    if (lost > 0 && starts > 0) out.mean_burst = lost / starts;
    return out;
}

}  // namespace

LossSummary summarize(const LossModel& m) {
    if (const auto* r = std::get_if<RandomLoss>(&m)) {
        // netem's correlated random loss has no closed form (and its long-run rate drifts from p).
        LossSummary out{r->p, std::nullopt};
        if (r->p > 0 && r->p < 1 && r->correlation == 0) out.mean_burst = 1.0 / (1.0 - r->p);
        return out;
    }
    if (const auto* g = std::get_if<GilbertElliott>(&m)) {
        if (g->p == 0) {   // never leaves the good state it starts in
            LossSummary out{g->one_minus_k, std::nullopt};
            if (g->one_minus_k > 0 && g->one_minus_k < 1) out.mean_burst = 1.0 / (1.0 - g->one_minus_k);
            return out;
        }
        if (g->r == 0) return {g->one_minus_h, std::nullopt};   // absorbed in the bad state
        // States good, bad; the loss is decided by the state the packet finds (netem, and
        // src/fault). Closed form of summarize_chain: pi_bad = p / (p + r).
        const double pib = g->p / (g->p + g->r), pig = 1 - pib, lk = g->one_minus_k, lh = g->one_minus_h;
        const double lost = pig * lk + pib * lh;
        const double starts = pig * (1 - lk) * ((1 - g->p) * lk + g->p * lh) + pib * (1 - lh) * (g->r * lk + (1 - g->r) * lh);
        LossSummary out{lost, std::nullopt};
        if (lost > 0 && starts > 0) out.mean_burst = lost / starts;
        return out;
    }
    const auto& s = std::get<Markov4>(m);
    if (s.p13 + s.p14 == 0) return {};   // state 1 (delivering) is never left
    // netem's states: 1 gap (delivered), 2 burst delivered, 3 burst lost, 4 isolated loss;
    // the loss is decided by the state a packet moves into, so that state is the packet's.
    return summarize_chain<4>({{{1 - s.p13 - s.p14, 0, s.p13, s.p14},
                                {0, 1 - s.p23, s.p23, 0},
                                {s.p31, s.p32, 1 - s.p31 - s.p32, 0},
                                {1, 0, 0, 0}}},
                              {0, 0, 1, 1});
}

Result<GilbertElliott> gilbert_elliott_for(double mean, double burst) {
    char buf[200];
    if (!(mean > 0 && mean < 1)) return make_error("mean loss must lie between 0% and 100% (exclusive)", ErrorKind::bad_input);
    if (!(burst >= 1)) {
        std::snprintf(buf, sizeof buf, "burst = %g: a burst is at least 1 packet (the mean number of consecutive losses)", burst);
        return make_error(buf, ErrorKind::bad_input);
    }
    GilbertElliott g;
    g.r = 1.0 / burst;
    g.p = mean * g.r / (1.0 - mean);
    g.one_minus_h = 1.0;
    g.one_minus_k = 0.0;
    if (g.p > 1.0) {
        std::snprintf(buf, sizeof buf, "mean %.4g%% in bursts of %g cannot be reached: it needs p = %.4g%% > 100%% (use longer bursts or less loss)",
                      mean * 100, burst, g.p * 100);
        return make_error(buf, ErrorKind::bad_input);
    }
    return g;
}

}  // namespace netchaos::profile
