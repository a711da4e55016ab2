// Trace replay as a delay source: linear interpolation between recorded points, loop and hold
// after the last one, the engine following it per packet from the first packet after a model
// switch, netem's steps and the error a granularity costs.
#include <catch2/catch.hpp>

#include <cmath>

#include "fault/engine.hpp"
#include "fault/model.hpp"
#include "fault/trace_delay.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using profile::Duration;

namespace {
constexpr std::int64_t ms = 1'000'000;

// Points (t ms, delay ms); period in ms.
profile::DelayTrace make(std::vector<std::pair<double, double>> pts, double period_ms, profile::TraceEnd end = profile::TraceEnd::loop) {
    profile::DelayTrace tr;
    for (auto [t, d] : pts) tr.points.push_back({Duration{std::llround(t * 1e6)}, Duration{std::llround(d * 1e6)}});
    tr.period = Duration{std::llround(period_ms * 1e6)};
    tr.at_end = end;
    return tr;
}

// 20 ms for 5 s then 60 ms for 5 s, one point per 10 ms: the integration test's trace.
profile::DelayTrace two_level() {
    std::vector<std::pair<double, double>> pts;
    for (int i = 0; i < 1000; ++i) pts.push_back({i * 10.0, i < 500 ? 20.0 : 60.0});
    return make(pts, 10000);
}
}  // namespace

TEST_CASE("trace delay: linear interpolation between recorded points") {
    const auto td = fault::compile_trace(make({{0, 10}, {100, 30}, {300, 30}, {400, 10}}, 500));
    CHECK(td.at(0) == 10 * ms);
    CHECK(td.at(50 * ms) == 20 * ms);        // halfway from 10 to 30
    CHECK(td.at(25 * ms) == 15 * ms);
    CHECK(td.at(200 * ms) == 30 * ms);       // flat stretch
    CHECK(td.at(350 * ms) == 20 * ms);       // halfway down
    CHECK(td.at(-5 * ms) == 10 * ms);        // before the start counts as the start
    CHECK(td.at(99 * ms) == 29'800'000);
}

TEST_CASE("trace delay: loop goes back to the first delay over the last interval, hold keeps the last") {
    const auto loop = fault::compile_trace(make({{0, 10}, {100, 30}}, 200));
    CHECK(loop.loops());
    CHECK(loop.at(150 * ms) == 20 * ms);     // from 30 (at 100) back to 10 (at 200)
    CHECK(loop.at(200 * ms) == 10 * ms);     // the wrap
    CHECK(loop.at(250 * ms) == 20 * ms);     // second pass, as the first
    CHECK(loop.at(2000 * ms + 50 * ms) == 20 * ms);
    const auto hold = fault::compile_trace(make({{0, 10}, {100, 30}}, 200, profile::TraceEnd::hold));
    CHECK_FALSE(hold.loops());
    CHECK(hold.at(50 * ms) == 20 * ms);
    CHECK(hold.at(150 * ms) == 30 * ms);
    CHECK(hold.at(3600'000 * ms) == 30 * ms);
    // One point (a trace of one answered probe): a constant, loop or not.
    const auto one = fault::compile_trace(make({{0, 42}}, 0));
    CHECK(one.at(0) == 42 * ms);
    CHECK(one.at(5000 * ms) == 42 * ms);
}

TEST_CASE("trace delay: the engine follows the series per packet from the first packet after a switch") {
    profile::Impairment imp;
    imp.delay = profile::Delay{};
    imp.delay->trace = two_level();
    auto m = fault::compile(imp);
    REQUIRE(m);
    REQUIRE((*m)->trace);
    fault::Engine e(*m, 1);
    const std::int64_t t0 = 123'456'789;
    // Packets 1 ms apart, first one at t0 (the series' 0): release = rx + series(rx - t0).
    for (int i = 0; i < 20000; i += 7) {
        const std::int64_t rx = t0 + i * ms;
        const auto d = e.decide(rx, 100);
        const std::int64_t want = (*m)->trace->at(i * ms);
        REQUIRE(d.drawn_ns == want);
        if ((i % 10000) < 4990) CHECK(d.drawn_ns == 20 * ms);
        if ((i % 10000) >= 5000 && (i % 10000) < 9990) CHECK(d.drawn_ns == 60 * ms);
    }
    // A new model restarts the series at its first packet.
    e.switch_model(*m);
    const auto d = e.decide(t0 + 7777 * ms, 100);
    CHECK(d.drawn_ns == 20 * ms);
    CHECK(e.decide(t0 + 7777 * ms + 6000 * ms, 100).drawn_ns == 60 * ms);
}

TEST_CASE("trace delay: a falling delay keeps packet order unless reorder = true") {
    profile::Impairment imp;
    imp.delay = profile::Delay{};
    imp.delay->trace = make({{0, 100}, {10, 0}}, 1000, profile::TraceEnd::hold);
    auto m = fault::compile(imp);
    REQUIRE(m);
    fault::Engine e(*m, 1);
    const auto a = e.decide(0, 100);                 // leaves at 100 ms
    const auto b = e.decide(10 * ms, 100);           // asks for 0 ms: pushed behind a
    CHECK(a.release_ns == 100 * ms);
    CHECK(b.release_ns == 100 * ms);
    CHECK(b.pushed);
    imp.delay->order = profile::JitterOrder::reorder;
    fault::Engine r(*fault::compile(imp), 1);
    r.decide(0, 100);
    CHECK(r.decide(10 * ms, 100).release_ns == 10 * ms);
}

TEST_CASE("trace delay: netem steps take each interval's mean and sigma") {
    const auto td = fault::compile_trace(two_level());
    const auto steps = fault::trace_steps(td, 100ms, 12s);
    REQUIRE(steps.size() == 120);
    CHECK(steps[0].start == 0ms);
    CHECK(steps[0].length == 100ms);
    CHECK(steps[0].mean == 20ms);
    CHECK(steps[0].sigma == 0ms);
    CHECK(steps[60].mean == 60ms);
    // The step holding the 20 -> 60 ms edge (4.99 s .. 5.0 s) and the wrap back (9.99 .. 10 s).
    CHECK(steps[49].mean > 20ms);
    CHECK(steps[49].mean < 23ms);
    CHECK(steps[49].sigma > 0ms);
    CHECK(steps[110].mean == 20ms);   // looped: 11.0 s is 1.0 s into the second pass
    const auto last = fault::trace_steps(td, 250ms, 1100ms);
    REQUIRE(last.size() == 5);
    CHECK(last[4].length == 100ms);   // the remainder
}

TEST_CASE("trace delay: the error a granularity costs") {
    // A 20 -> 60 ms square wave costs only its edges.
    const auto sq = fault::step_error(fault::compile_trace(two_level()), 100ms);
    CHECK(sq.steps == 100);
    CHECK(sq.rms_ms < 2.0);
    CHECK(sq.max_ms <= 40.0);
    // A 1 Hz sine of amplitude 10 ms: a step of length g flattens it; the RMS error grows with g
    // and is close to the analytic A * sqrt(1/2 - sinc^2(g f)/2) (A sin over a step, its mean).
    std::vector<std::pair<double, double>> pts;
    for (int i = 0; i < 10000; ++i) pts.push_back({i * 1.0, 50 + 10 * std::sin(2 * M_PI * i / 1000.0)});
    const auto sine = fault::compile_trace(make(pts, 10000));
    double prev = 0;
    // Divisors of the period with >= 3 steps per cycle: the step centres average sin^2 to 1/2.
    for (double g : {100.0, 200.0, 250.0}) {
        const auto e = fault::step_error(sine, Duration{std::llround(g * 1e6)});
        const double x = M_PI * g / 1000.0, sinc = std::sin(x) / x;
        const double want = 10 * std::sqrt(0.5 - 0.5 * sinc * sinc);
        INFO("granularity " << g << " ms: rms " << e.rms_ms << " ms, analytic " << want);
        CHECK(e.rms_ms == Approx(want).epsilon(0.03));
        CHECK(e.rms_ms > prev);
        CHECK(e.ks > 0);
        prev = e.rms_ms;
    }
}
