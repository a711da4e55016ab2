#include <catch2/catch.hpp>
#include <random>
#include <sstream>

#include "experiment/fidelity.hpp"
#include "experiment/samples.hpp"
#include "fakes.hpp"

using namespace netchaos::experiment;
using namespace netchaos::profile;
using namespace std::chrono_literals;

namespace {
const std::array<Arrivals, 2> grid100{Arrivals{100, 0}, Arrivals{100, 0}};
const std::array<Arrivals, 2> grid1{Arrivals{1, 0}, Arrivals{1, 0}};

Profile reordering(Profile p) {
    for (auto* imp : {p.egress ? &*p.egress : nullptr, p.ingress ? &*p.ingress : nullptr})
        if (imp && imp->delay) imp->delay->order = JitterOrder::reorder;
    return p;
}

// release_i = max(release_{i-1}, arrival_i + d_i), d ~ max(0, N(mean, sigma)): written out
// here with the standard library, independent of fault::Engine.
DelayMoments direct_fifo(double mean_ms, double sigma_ms, double probe_hz, double cross_hz, std::size_t n) {
    std::mt19937_64 rng(42);
    std::normal_distribution<double> d(mean_ms, sigma_ms);
    std::exponential_distribution<double> gap(cross_hz > 0 ? cross_hz / 1e3 : 1.0);
    double next_probe = 0, next_cross = cross_hz > 0 ? gap(rng) : INFINITY, last = -1e300;
    double sum = 0, sq = 0, k = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const bool probe = next_probe <= next_cross;
        const double t = probe ? next_probe : next_cross;
        if (probe) next_probe += 1e3 / probe_hz;
        else next_cross += gap(rng);
        const double rel = std::max(last, t + std::max(0.0, d(rng)));
        last = rel;
        if (!probe) continue;
        sum += rel - t, sq += (rel - t) * (rel - t), k += 1;
    }
    const double m = sum / k;
    return {m, std::sqrt(sq / k - m * m)};
}
}  // namespace

TEST_CASE("FIFO prediction: the engine's Monte Carlo matches a direct 10^6-packet simulation within 1%") {
    Impairment imp;
    imp.delay = Delay{.mean = 80ms, .jitter = 25ms, .distribution = Distribution::normal};
    struct Case { double probe_hz, cross_hz; };
    for (Case c : {Case{10, 0}, Case{50, 0}, Case{100, 0}, Case{200, 0}, Case{50, 30}, Case{50, 150}}) {
        INFO("probe " << c.probe_hz << "/s, cross " << c.cross_hz << "/s");
        auto sim = simulate(imp, Arrivals{c.probe_hz, c.cross_hz}, 1'000'000);
        REQUIRE(sim);
        auto ref = direct_fifo(80, 25, c.probe_hz, c.cross_hz, 1'000'000);
        CHECK(sim->delivered.mean_ms == Approx(ref.mean_ms).epsilon(0.01));
        CHECK(sim->delivered.sigma_ms == Approx(ref.sigma_ms).epsilon(0.01));
        // The engine draws the model (no queueing in the draws).
        CHECK(sim->drawn.mean_ms == Approx(80).epsilon(0.01));
        CHECK(sim->drawn.sigma_ms == Approx(25).epsilon(0.01));
    }
    // The documented direction of the effect: the denser the arrivals, the higher the mean
    // and the lower the sigma.
    auto slow = simulate(imp, Arrivals{10, 0}, 200'000), fast = simulate(imp, Arrivals{100, 0}, 200'000);
    REQUIRE((slow && fast));
    CHECK(fast->delivered.mean_ms > slow->delivered.mean_ms + 5);
    CHECK(fast->delivered.sigma_ms < slow->delivered.sigma_ms - 3);
    CHECK(fast->pushed > slow->pushed);
}

TEST_CASE("reorder = flow: a probe beside heavy cross traffic is predicted as its own grid alone") {
    Impairment whole;
    whole.delay = Delay{.mean = 40ms, .jitter = 10ms, .distribution = Distribution::normal};
    Impairment flow = whole;
    flow.delay->order = JitterOrder::flow;
    auto alone = simulate(whole, Arrivals{50, 0}, 300'000);
    auto bunched = simulate(whole, Arrivals{50, 5000}, 300'000);
    auto per_flow = simulate(flow, Arrivals{50, 5000}, 300'000);
    REQUIRE((alone && bunched && per_flow));
    // One order for the direction: 5000/s of other traffic pushes the probe behind slow
    // packets (mean up, sigma down). Per flow the probe sees what 50/s alone delivers.
    CHECK(bunched->delivered.mean_ms > alone->delivered.mean_ms + 10);
    CHECK(bunched->delivered.sigma_ms < alone->delivered.sigma_ms / 2);
    CHECK(per_flow->delivered.mean_ms == Approx(alone->delivered.mean_ms).epsilon(0.01));
    CHECK(per_flow->delivered.sigma_ms == Approx(alone->delivered.sigma_ms).epsilon(0.02));
    CHECK(per_flow->drawn.sigma_ms == Approx(10).epsilon(0.02));
}

TEST_CASE("prediction: reordering jitter delivers the requested model; both directions add") {
    Profile p = fakes::delay_profile("p", 60ms, 20ms);
    p.ingress = Impairment{};
    p.ingress->delay = Delay{.mean = 5ms, .jitter = 1ms, .distribution = Distribution::normal};
    auto pr = predict(reordering(p), Moments{100, 12.0, 1.0}, grid100, 300'000);
    CHECK(pr.applicable);
    CHECK(pr.fault);
    CHECK(pr.requested.mean_ms == Approx(12.0 + 60 + 5).margin(0.1));
    CHECK(pr.mean_ms == Approx(12.0 + 60 + 5).margin(0.3));   // P(N(60,20) < 0) = 0.13%: no visible truncation
    CHECK(pr.sigma_ms == Approx(std::sqrt(1.0 + 400 + 1)).epsilon(0.03));
    CHECK(pr.pushed == 0);
}

TEST_CASE("prediction: truncation at zero is predicted by the engine (normal 10 ms +- 30 ms)") {
    auto pr = predict(reordering(fakes::delay_profile("t", 10ms, 30ms)), Moments{100, 0, 0}, grid1, 300'000);
    CHECK(pr.requested.mean_ms == Approx(10).margin(0.1));
    // E[max(0, N(10, 30))] = 10 Phi(1/3) + 30 phi(1/3) = 17.6 ms.
    CHECK(pr.drawn.mean_ms == Approx(17.6).margin(0.3));
    CHECK(pr.mean_ms == Approx(17.6).margin(0.3));
}

TEST_CASE("prediction: uniform jitter is a half-width, sigma = w / sqrt(3)") {
    auto pr = predict(reordering(fakes::delay_profile("u", 50ms, 30ms, Distribution::uniform)), Moments{100, 0.0, 0.0},
                      grid100, 300'000);
    CHECK(pr.requested.sigma_ms == Approx(30 / std::sqrt(3.0)));
    CHECK(pr.mean_ms == Approx(50).margin(0.2));
    CHECK(pr.sigma_ms == Approx(30 / std::sqrt(3.0)).epsilon(0.02));
}

TEST_CASE("prediction: a step that requests nothing predicts the baseline and is never a failure") {
    Profile quiet;
    quiet.name = "quiet";
    auto pr = predict(quiet, Moments{100, 0.15, 0.02}, grid100);
    CHECK_FALSE(pr.fault);
    // 1 ms of CPU noise on a sub-ms path: not an emulator failure, whatever the mode.
    auto f = check_fidelity("quiet", pr, Moments{500, 1.2, 1.0}, std::nullopt, 0.1, Margins{}, FidelityMode::gate);
    CHECK(f.pass);
    CHECK_FALSE(f.applicable);
    CHECK(f.rule.find("no fault requested") != std::string::npos);
}

TEST_CASE("fidelity check (netem: model only): tolerance, then materiality, then the mode") {
    auto pr = predict(reordering(fakes::delay_profile("x", 50ms, 20ms)), Moments{100, 0, 0}, grid100, 300'000);
    auto at = [&](double mean, double sigma, Margins mg = {}, FidelityMode mode = FidelityMode::gate) {
        return check_fidelity("x", pr, Moments{1000, mean, sigma}, std::nullopt, 0.10, mg, mode);
    };
    CHECK(at(pr.mean_ms + 4, pr.sigma_ms).pass);                 // within 10%
    CHECK_FALSE(at(pr.mean_ms + 6, pr.sigma_ms).pass);           // 12% and > 25% of the 20 ms jitter
    CHECK_FALSE(at(pr.mean_ms, pr.sigma_ms * 0.7).pass);         // sigma 30% low: 6 ms > 5 ms
    // Far from any threshold: 6 ms of mean cannot move a p99 whose margin is 200 ms...
    // ...but materiality is "either": the requested jitter still makes it material.
    CHECK_FALSE(at(pr.mean_ms + 6, pr.sigma_ms, Margins{200.0, std::nullopt}).pass);
    // A constant delay (no jitter) far from its threshold: not material, passes with the reason.
    auto constant = predict(fakes::delay_profile("c", 50ms, 0ms), Moments{100, 0, 0}, grid100, 10'000);
    auto f = check_fidelity("c", constant, Moments{1000, 57, 1}, std::nullopt, 0.10, Margins{200.0, std::nullopt},
                            FidelityMode::gate);
    CHECK(f.pass);
    CHECK(f.rule.find("not material") != std::string::npos);
    // The same near the threshold: material.
    CHECK_FALSE(check_fidelity("c", constant, Moments{1000, 57, 1}, std::nullopt, 0.10, Margins{20.0, std::nullopt},
                               FidelityMode::gate).pass);
    auto w = at(pr.mean_ms + 6, pr.sigma_ms, {}, FidelityMode::warn);
    CHECK(w.pass);
    CHECK(w.warning);
    CHECK_FALSE(at(pr.mean_ms + 6, pr.sigma_ms, {}, FidelityMode::off).applicable);
}

TEST_CASE("fidelity check (forwarder counters): the engine's draws decide; queueing and path noise do not") {
    Profile p = fakes::delay_profile("j", 80ms, 25ms);   // order-preserving
    const std::array<Arrivals, 2> arr{Arrivals{50, 20}, Arrivals{50, 20}};
    auto pr = predict(p, Moments{100, 0.2, 0.05}, arr, 300'000);
    CHECK(pr.mean_ms > 85);      // order preservation at 70 packets/s raises the mean...
    CHECK(pr.sigma_ms < 22);     // ...and shrinks sigma
    // Counters: 1000 packets drawn N(80, 25) exactly, held as predicted.
    auto truth_with = [&](double drawn_sigma) {
        EmulatorTruth t;
        t.seconds = 14;
        double n = 1000, m = 80'000, s = drawn_sigma * 1000;
        t.dir[0] = {1000, 1000, 300, n * m, n * (s * s + m * m), n * pr.dir[0]->delivered.mean_ms * 1000,
                    n * (std::pow(pr.dir[0]->delivered.sigma_ms * 1000, 2) + std::pow(pr.dir[0]->delivered.mean_ms * 1000, 2))};
        return t;
    };
    // The path added 12 ms and 8 ms of sigma (a loaded bench): not the engine's fault.
    auto ok = check_fidelity("j", pr, Moments{800, pr.mean_ms + 12, pr.sigma_ms + 8}, truth_with(25), 0.10,
                             Margins{60.0, std::nullopt}, FidelityMode::gate);
    INFO(ok.rule);
    CHECK(ok.pass);
    REQUIRE(ok.engine);
    CHECK(ok.engine->pass);
    CHECK(ok.engine->path_ms == Approx(12).margin(0.5));
    CHECK(ok.rule.find("engine drew the model") == 0);
    // An engine that draws half the sigma: exit 2, named.
    auto broken = check_fidelity("j", pr, Moments{800, pr.mean_ms, pr.sigma_ms}, truth_with(12.5), 0.10,
                                 Margins{60.0, std::nullopt}, FidelityMode::gate);
    INFO(broken.rule);
    CHECK_FALSE(broken.pass);
    CHECK_FALSE(broken.engine->pass);
    CHECK(broken.rule.find("engine: egress drew") == 0);
}

TEST_CASE("density overlay integrates to ~1 and peaks near the predicted mean") {
    auto d = predicted_density({{reordering(fakes::delay_profile("p", 40ms, 10ms)), 1.0}}, Moments{100, 1.0, 0.1}, grid100);
    REQUIRE(d.size() == 120);
    double area = 0, peak_x = 0, peak = 0;
    for (std::size_t i = 1; i < d.size(); ++i) area += d[i].second * (d[i].first - d[i - 1].first);
    for (auto [x, y] : d)
        if (y > peak) peak = y, peak_x = x;
    CHECK(area == Approx(1.0).margin(0.03));
    CHECK(peak_x == Approx(41).margin(3));
}

TEST_CASE("prediction: a trace held at its end is predicted over one pass, not over its held last delay") {
    // 12 ms for 29 s, a 1 s ramp, 83 ms to 59 s, then held: the series' time-weighted mean
    // over its pass is (29 x 12 + 47.5 + 29 x 83) / 59 = 47.5 ms. A million probes at 100/s
    // would be 10,000 s, nearly all of them at the held 83 ms (~82.8 ms).
    DelayTrace tr;
    for (int s = 0; s <= 59; ++s) tr.points.push_back({std::chrono::seconds(s), s < 30 ? 12ms : 83ms});
    tr.at_end = TraceEnd::hold;
    Profile p;
    p.name = "held";
    p.egress = Impairment{};
    p.egress->delay = Delay{};
    p.egress->delay->trace = tr;
    const auto pr = predict(p, Moments{100, 0, 0}, grid100);
    REQUIRE(pr.applicable);
    CHECK(pr.fault);
    CHECK(pr.requested.mean_ms == Approx(47.5).margin(0.1));
    CHECK(pr.mean_ms == Approx(47.5).margin(0.5));
    // Looping, the same series repeats: a million packets are many passes of it.
    tr.at_end = TraceEnd::loop;
    tr.period = 60s;
    p.egress->delay->trace = tr;
    const auto lp = predict(p, Moments{100, 0, 0}, grid100);
    CHECK(lp.mean_ms == Approx(lp.requested.mean_ms).margin(0.5));
}
