// predict_grid: the fault engine over a probe's send grid.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>

#include "fault/grid.hpp"

using namespace netchaos;
using namespace std::chrono_literals;

namespace {
profile::Impairment jitter(profile::Duration mean, profile::Duration sd, profile::Distribution d,
                           profile::JitterOrder order) {
    profile::Impairment imp;
    imp.delay = profile::Delay{};
    imp.delay->mean = mean;
    imp.delay->jitter = sd;
    imp.delay->distribution = d;
    imp.delay->order = order;
    return imp;
}
}  // namespace

TEST_CASE("predict_grid: a constant delay is delivered as is, in order") {
    auto p = fault::predict_grid(jitter(40ms, 0ms, profile::Distribution::uniform, profile::JitterOrder::reorder), {});
    REQUIRE(p.ok());
    CHECK(p->delivered == 800);
    CHECK(p->mean_ms == Approx(40.0));
    CHECK(p->sigma_ms == Approx(0.0).margin(1e-9));
    CHECK(p->reordered == 0);
}

TEST_CASE("predict_grid: jitter narrower than the spacing neither reorders nor bunches") {
    // uniform +-2 ms at 5 ms spacing: no packet can reach the next one; sigma = 2/sqrt(3) ms.
    for (auto order : {profile::JitterOrder::preserve, profile::JitterOrder::reorder}) {
        auto p = fault::predict_grid(jitter(40ms, 2ms, profile::Distribution::uniform, order), {});
        REQUIRE(p.ok());
        CHECK(p->reordered == 0);
        CHECK(p->sigma_ms == Approx(2.0 / std::sqrt(3.0)).epsilon(0.03));
        CHECK(p->mean_ms == Approx(40.0).epsilon(0.005));
    }
}

TEST_CASE("predict_grid: normal(40 ms, 10 ms) at 200/s reorders i.i.d., and FIFO trades that for sigma") {
    auto iid = fault::predict_grid(jitter(40ms, 10ms, profile::Distribution::normal, profile::JitterOrder::reorder), {});
    auto fifo = fault::predict_grid(jitter(40ms, 10ms, profile::Distribution::normal, profile::JitterOrder::preserve), {});
    REQUIRE(iid.ok());
    REQUIRE(fifo.ok());
    // i.i.d.: the delays are the requested ones, and a packet 5 ms later overtakes often.
    CHECK(iid->sigma_ms == Approx(10.0).epsilon(0.03));
    CHECK(iid->mean_ms == Approx(40.0).epsilon(0.01));
    CHECK(iid->reordered_share > 0.3);
    CHECK(iid->reordered_share < 0.8);
    // FIFO: nothing overtakes; packets wait behind slow ones, so the mean rises and sigma falls.
    CHECK(fifo->reordered == 0);
    CHECK(fifo->mean_ms > iid->mean_ms + 2);
    CHECK(fifo->sigma_ms < 0.9 * iid->sigma_ms);
    CHECK(fifo->sigma_ms_sd > 0);
}

TEST_CASE("predict_grid: loss removes packets; a bad grid is bad input") {
    profile::Impairment imp;
    imp.loss = profile::Loss{profile::RandomLoss{0.5, 0}, false};
    auto p = fault::predict_grid(imp, {});
    REQUIRE(p.ok());
    CHECK(p->delivered == Approx(400).margin(20));
    fault::Grid none;
    none.count = 0;
    auto bad = fault::predict_grid(imp, none);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == netchaos::ErrorKind::bad_input);
}
