// KS distances, Pearson's r, the jitter_1s series and loss runs (fit and replay-check use them).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "dist/normal.hpp"
#include "metrics/metrics.hpp"

using namespace netchaos;
using namespace std::chrono_literals;

TEST_CASE("ks_two_sample: exact on small samples, ties move both sides") {
    const std::vector<double> a{1, 2, 3, 4}, b{3, 4, 5, 6};
    CHECK(metrics::ks_two_sample(a, b) == Approx(0.5));
    CHECK(metrics::ks_two_sample(a, a) == 0.0);
    const std::vector<double> c{1, 1, 2, 2}, d{1, 2};
    CHECK(metrics::ks_two_sample(c, d) == 0.0);
    CHECK(metrics::ks_two_sample(a, {}) == 1.0);
}

TEST_CASE("ks_two_sample_within: a shift up to eps is 0, beyond it shows; eps 0 is plain KS") {
    const std::vector<double> a{1, 2, 3, 4}, b{1.5, 2.5, 3.5, 4.5};
    CHECK(metrics::ks_two_sample(a, b) == Approx(0.25));
    CHECK(metrics::ks_two_sample_within(a, b, 0.0) == Approx(0.25));
    CHECK(metrics::ks_two_sample_within(a, b, 0.5) == 0.0);
    CHECK(metrics::ks_two_sample_within(b, a, 0.6) == 0.0);
    CHECK(metrics::ks_two_sample_within(a, b, 0.4) == Approx(0.25));
    // A spread the resolution cannot absorb: {2.5 x4} against {1, 2, 3, 4} within 0.6.
    const std::vector<double> c{2.5, 2.5, 2.5, 2.5};
    CHECK(metrics::ks_two_sample_within(a, c, 0.6) == Approx(0.25));
    CHECK(metrics::ks_two_sample_within(a, c, 1.5) == 0.0);
    const std::vector<double> e{1, 1, 2, 2}, f{1, 2};   // ties, as ks_two_sample
    CHECK(metrics::ks_two_sample_within(e, f, 0.0) == 0.0);
    CHECK(metrics::ks_two_sample_within(a, {}, 1.0) == 1.0);
    // Random samples: eps 0 agrees with ks_two_sample exactly; D_eps never exceeds D.
    std::mt19937_64 rng(5);
    std::normal_distribution<double> g(0, 1);
    std::vector<double> x(3000), y(2000);
    for (auto& v : x) v = g(rng);
    for (auto& v : y) v = 0.3 + 1.2 * g(rng);
    CHECK(metrics::ks_two_sample_within(x, y, 0.0) == Approx(metrics::ks_two_sample(x, y)));
    CHECK(metrics::ks_two_sample_within(x, y, 0.1) < metrics::ks_two_sample(x, y));
}

TEST_CASE("ks_one_sample: a normal sample against its own CDF stays under the 1% critical value") {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> g(0, 1);
    std::vector<double> x(5000);
    for (auto& v : x) v = g(rng);
    std::sort(x.begin(), x.end());
    const double d = metrics::ks_one_sample(x, dist::normal_cdf);
    CHECK(d < metrics::ks_critical(x.size(), 0, 0.01));
    CHECK(metrics::ks_critical(x.size(), 0, 0.01) == Approx(1.628 / std::sqrt(5000.0)).epsilon(0.002));
    // shifted by half a sigma: far outside
    CHECK(metrics::ks_one_sample(x, [](double v) { return dist::normal_cdf(v - 0.5); }) > 0.15);
}

TEST_CASE("pearson and loss runs") {
    const std::vector<double> x{1, 2, 3, 4}, y{2, 4, 6, 8}, z{4, 3, 2, 1}, k{5, 5, 5, 5};
    CHECK(metrics::pearson(x, y) == Approx(1.0));
    CHECK(metrics::pearson(x, z) == Approx(-1.0));
    CHECK(metrics::pearson(x, k) == 0.0);
    std::vector<metrics::Record> rs;
    const char* pattern = "oxxoxoooxxx";   // runs 2, 1, 3 (the last one open at the end)
    for (std::uint64_t i = 0; pattern[i]; ++i)
        rs.push_back({i, std::chrono::milliseconds(i), pattern[i] == 'o' ? std::optional<std::chrono::nanoseconds>(1ms) : std::nullopt});
    CHECK(metrics::loss_runs(rs) == std::vector<std::uint64_t>{2, 1, 3});
}

TEST_CASE("jitter_series: one value per window, NaN with fewer than two replies") {
    std::vector<metrics::Record> rs;
    for (std::uint64_t i = 0; i < 20; ++i) rs.push_back({i, std::chrono::milliseconds(100 * i), std::chrono::milliseconds(i % 2 ? 12 : 10)});
    rs[15].rtt.reset();
    rs[16].rtt.reset();
    rs[17].rtt.reset();
    rs[18].rtt.reset();
    rs[19].rtt.reset();
    const auto j = metrics::jitter_series(rs, 0ns, 3s, metrics::Config{});
    REQUIRE(j.size() == 3);
    CHECK(j[0] == Approx(1.0540925e6).epsilon(1e-6));   // sd of 5 x 10 and 5 x 12 ms (n - 1)
    CHECK(std::isnan(j[2]));
}
