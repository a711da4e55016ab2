#include <catch2/catch.hpp>
#include <sstream>

#include "experiment/fidelity.hpp"
#include "experiment/samples.hpp"
#include "fakes.hpp"

using namespace netchaos::experiment;
using namespace netchaos::profile;
using namespace std::chrono_literals;

TEST_CASE("prediction: base plus both directions' means; sigmas add in quadrature") {
    Profile p = fakes::delay_profile("p", 30ms, 20ms);
    p.ingress = Impairment{};
    p.ingress->delay = Delay{.mean = 5ms, .jitter = 15ms, .distribution = Distribution::normal};
    auto pr = predict(p, Moments{100, 12.0, 1.0});
    CHECK(pr.applicable);
    // netem's normal table has mean ~0 and sigma ~1 (8192): the model uses its real moments.
    CHECK(pr.mean_ms == Approx(12.0 + 30 + 5).margin(0.1));
    CHECK(pr.sigma_ms == Approx(std::sqrt(1.0 + 400 + 225)).epsilon(0.01));
}

TEST_CASE("prediction: uniform jitter is a half-width, sigma = w / sqrt(3)") {
    Profile p = fakes::delay_profile("u", 50ms, 30ms, Distribution::uniform);
    auto pr = predict(p, Moments{100, 0.0, 0.0});
    CHECK(pr.mean_ms == Approx(50));
    CHECK(pr.sigma_ms == Approx(30 / std::sqrt(3.0)));
}

TEST_CASE("prediction: slot and reorder are outside the model (n/a, never a false miss)") {
    Profile p = fakes::delay_profile("s", 10ms, 0ms);
    p.egress->slot = Slot{.min_delay = 1ms, .max_delay = 5ms};
    auto pr = predict(p, Moments{100, 0.1, 0.01});
    CHECK_FALSE(pr.applicable);
    auto f = check_fidelity("s", pr, Moments{100, 99, 99}, 0.1);
    CHECK(f.pass);
    CHECK_FALSE(f.applicable);
}

TEST_CASE("fidelity check: within tolerance passes, beyond fails, tiny values use the floor") {
    Prediction pr{true, 50, 20, ""};
    CHECK(check_fidelity("x", pr, Moments{1000, 54, 21}, 0.10).pass);
    auto miss = check_fidelity("x", pr, Moments{1000, 56, 20}, 0.10);
    CHECK_FALSE(miss.pass);
    CHECK(miss.mean_error == Approx(0.12));
    CHECK_FALSE(check_fidelity("x", pr, Moments{1000, 50, 15}, 0.10).pass);   // sigma 25% low
    // Baseline 0.1 ms, sigma 0.02: 0.3 ms measured is 200% off but 0.2 ms absolute: noise.
    CHECK(check_fidelity("x", Prediction{true, 0.1, 0.02, ""}, Moments{1000, 0.3, 0.05}, 0.10).pass);
}

TEST_CASE("density overlay integrates to ~1 and peaks near the predicted mean") {
    auto d = predicted_density({{fakes::delay_profile("p", 40ms, 10ms), 1.0}}, Moments{100, 1.0, 0.1});
    REQUIRE(d.size() == 120);
    double area = 0, peak_x = 0, peak = 0;
    for (std::size_t i = 1; i < d.size(); ++i) area += d[i].second * (d[i].first - d[i - 1].first);
    for (auto [x, y] : d)
        if (y > peak) peak = y, peak_x = x;
    CHECK(area == Approx(1.0).margin(0.03));
    CHECK(peak_x == Approx(41).margin(3));
}
