// Loss models, ECN, duplicate and corrupt against their models over >= 10^6 decisions.
#include <catch2/catch.hpp>

#include <array>
#include <cmath>

#include "helpers.hpp"

using namespace fault_test;

namespace {

profile::Impairment with_loss(profile::LossModel m, bool ecn = false) {
    profile::Impairment imp;
    imp.loss = profile::Loss{m, ecn};
    return imp;
}

// 1.0 per dropped packet, 0.0 per forwarded one.
std::vector<double> losses(const profile::Impairment& imp, std::uint64_t seed, std::size_t n = N) {
    fault::Engine e(must(imp), seed);
    std::vector<double> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = e.decide(static_cast<std::int64_t>(i) * 1000, 100).drop ? 1.0 : 0.0;
    return out;
}

double rate(const std::vector<double>& x) { return moments(x).mean; }

// Mean length of runs of consecutive losses.
double mean_burst(const std::vector<double>& x) {
    std::size_t bursts = 0, lost = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        lost += x[i] > 0;
        bursts += x[i] > 0 && (i == 0 || x[i - 1] == 0);
    }
    return bursts ? double(lost) / bursts : 0;
}

void check_within_3se(double got, double expect, double se) {
    INFO("got " << got << " expected " << expect << " se " << se);
    CHECK(std::abs(got - expect) <= 3 * se);
}

}  // namespace

TEST_CASE("random loss rate within 3 standard errors") {
    for (double p : {0.001, 0.01, 0.1, 0.5}) {
        const auto x = losses(with_loss(profile::RandomLoss{p, 0}), 11);
        check_within_3se(rate(x), p, std::sqrt(p * (1 - p) / x.size()));
    }
}

TEST_CASE("correlated random loss keeps the mean rate and makes bursts") {
    const double p = 0.05;
    const auto iid = losses(with_loss(profile::RandomLoss{p, 0}), 12);
    const auto x = losses(with_loss(profile::RandomLoss{p, 0.75}), 12, 4 * N);
    // Serially correlated: standard error by batch means.
    check_within_3se(rate(x), p, batch_se(x));
    // P(loss | previous lost) well above p (netem's own correlation barely moves it).
    std::size_t both = 0, prev = 0;
    for (std::size_t i = 1; i < x.size(); ++i) {
        prev += x[i - 1] > 0;
        both += x[i - 1] > 0 && x[i] > 0;
    }
    CHECK(double(both) / prev > 3 * p);
    CHECK(mean_burst(x) > 1.5 * mean_burst(iid));
}

TEST_CASE("why not netem's correlation: u' = (1-c) u + c u_last loses far less than p") {
    // netem's get_crandom, in doubles: the documented reason for the Gaussian copula.
    netchaos::Rng rng(35);
    const double p = 0.01, c = 0.25;
    double last = rng.uniform();
    std::size_t lost = 0;
    for (std::size_t i = 0; i < N; ++i) {
        last = (1 - c) * rng.uniform() + c * last;
        lost += last < p;
    }
    INFO("netem-style correlated 1% loss rate: " << lost / double(N));
    CHECK(lost / double(N) < 0.5 * p);
    const auto ours = losses(with_loss(profile::RandomLoss{p, c}), 35);
    check_within_3se(rate(ours), p, batch_se(ours));
}

TEST_CASE("Gilbert-Elliott: burst length 1/r and the stationary loss rate") {
    SECTION("simple Gilbert (1-h = 100%, 1-k = 0): bursts are bad-state runs") {
        const double p = 0.01, r = 0.3;
        const auto x = losses(with_loss(profile::GilbertElliott{p, r, 1.0, 0.0}), 13);
        INFO("mean burst " << mean_burst(x));
        CHECK(std::abs(mean_burst(x) - 1 / r) <= 0.05 / r);
        check_within_3se(rate(x), p / (p + r), batch_se(x));
    }
    SECTION("full Gilbert-Elliott with loss in both states") {
        const double p = 0.02, r = 0.25, loss_bad = 0.7, loss_good = 0.005;
        const auto x = losses(with_loss(profile::GilbertElliott{p, r, loss_bad, loss_good}), 14, 2 * N);
        const double pi_bad = p / (p + r);
        check_within_3se(rate(x), (1 - pi_bad) * loss_good + pi_bad * loss_bad, batch_se(x));
    }
}

TEST_CASE("4-state Markov loss matches the chain's stationary solution") {
    const profile::Markov4 q{0.02, 0.3, 0.1, 0.05, 0.01};  // p13 p31 p32 p23 p14
    // Transition matrix of netem's loss_4state; states 1..4 -> index 0..3. A packet is lost
    // when the chain moves into state 3 or 4.
    const double P[4][4] = {
        {1 - q.p13 - q.p14, 0, q.p13, q.p14},
        {0, 1 - q.p23, q.p23, 0},
        {q.p31, q.p32, 1 - q.p31 - q.p32, 0},
        {1, 0, 0, 0},
    };
    std::array<double, 4> pi{1, 0, 0, 0};
    for (int it = 0; it < 200000; ++it) {
        std::array<double, 4> nx{};
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 4; ++j) nx[j] += pi[i] * P[i][j];
        pi = nx;
    }
    const double expect = pi[2] + pi[3];
    const auto x = losses(with_loss(q), 15, 2 * N);
    check_within_3se(rate(x), expect, batch_se(x));
}

TEST_CASE("ECN: loss marks ECN-capable packets instead of dropping them") {
    fault::Engine e(must(with_loss(profile::RandomLoss{0.2, 0}, true)), 16);
    std::size_t marked = 0, dropped = 0;
    for (std::size_t i = 0; i < N; ++i) {
        const bool ect = i % 2 == 0;
        const auto d = e.decide(static_cast<std::int64_t>(i), 100, ect);
        if (ect) {
            REQUIRE(!d.drop);
            marked += d.ecn_mark;
        } else {
            REQUIRE(!d.ecn_mark);
            dropped += d.drop;
        }
    }
    const double half = N / 2.0, se = std::sqrt(0.2 * 0.8 / half);
    check_within_3se(marked / half, 0.2, se);
    check_within_3se(dropped / half, 0.2, se);
}

TEST_CASE("duplicate probability, and a duplicated lost packet still leaves once (netem count)") {
    profile::Impairment imp;
    imp.duplicate = profile::Duplicate{0.05, 0};
    fault::Engine e(must(imp), 17);
    std::size_t dups = 0;
    for (std::size_t i = 0; i < N; ++i) dups += e.decide(static_cast<std::int64_t>(i), 100).copies == 2;
    check_within_3se(dups / double(N), 0.05, std::sqrt(0.05 * 0.95 / N));

    imp.loss = profile::Loss{profile::RandomLoss{1.0, 0}, false};
    fault::Engine all_lost(must(imp), 18);
    std::size_t singles = 0, drops = 0;
    for (std::size_t i = 0; i < 100000; ++i) {
        const auto d = all_lost.decide(static_cast<std::int64_t>(i), 100);
        singles += !d.drop && d.copies == 1;
        drops += d.drop;
    }
    CHECK(singles + drops == 100000);
    check_within_3se(singles / 1e5, 0.05, std::sqrt(0.05 * 0.95 / 1e5));
}

TEST_CASE("correlated duplicate keeps its rate") {
    profile::Impairment imp;
    imp.duplicate = profile::Duplicate{0.1, 0.5};
    fault::Engine e(must(imp), 19);
    std::vector<double> x(N);
    for (std::size_t i = 0; i < N; ++i) x[i] = e.decide(static_cast<std::int64_t>(i), 100).copies == 2;
    check_within_3se(rate(x), 0.1, batch_se(x));
}

TEST_CASE("corrupt probability and a bit inside the frame, uniformly placed") {
    profile::Impairment imp;
    imp.corrupt = profile::Corrupt{0.1, 0};
    fault::Engine e(must(imp), 20);
    std::size_t hits = 0;
    std::array<std::size_t, 8> octile{};
    for (std::size_t i = 0; i < N; ++i) {
        const std::uint32_t len = 60 + static_cast<std::uint32_t>(i % 1441);
        const auto d = e.decide(static_cast<std::int64_t>(i), len);
        if (!d.corrupt) continue;
        ++hits;
        REQUIRE(d.corrupt_bit < len * 8);
        ++octile[d.corrupt_bit * 8 / (len * 8)];
    }
    check_within_3se(hits / double(N), 0.1, std::sqrt(0.1 * 0.9 / N));
    for (auto c : octile) check_within_3se(c / double(hits), 0.125, std::sqrt(0.125 * 0.875 / hits) * 1.01);
}
