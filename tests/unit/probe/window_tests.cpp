// Windowing, spike ratio and the consecutive-period alert rule on synthetic series.
#include <catch2/catch.hpp>

#include "probe/window.hpp"

using namespace netchaos;
using namespace netchaos::probe;
using namespace std::chrono_literals;

TEST_CASE("windows split probes by send time; jitter_1s is the sample stddev") {
    const Nanos t0 = 100s;  // arbitrary monotonic origin
    std::vector<Record> recs{
        {0, t0 + 100ms, 10ms},  {1, t0 + 500ms, 20ms},                       // w0
        {2, t0 + 1000ms, 10ms}, {3, t0 + 1300ms, std::nullopt},              // w1 (1.000 s is w1)
        {4, t0 + 1400ms, 10ms}, {5, t0 + 1999ms, 100ms},                     // w1
    };                                                                       // w2: nothing sent
    WindowConfig cfg;  // 1 s, spike level 50 ms, 60 windows
    const auto w = compute_windows(recs, t0, 3, cfg);
    REQUIRE(w.size() == 3);
    CHECK(w[0].sent == 2);
    CHECK(w[0].received == 2);
    CHECK(w[0].jitter_ns == Approx(std::sqrt(50.0) * 1e6));   // {10,20}: var = 50 ms^2
    CHECK(w[0].rtt_mean_ns == Approx(15e6));
    CHECK_FALSE(w[0].spike);
    CHECK(w[0].end == 1s);

    CHECK(w[1].sent == 4);
    CHECK(w[1].received == 3);
    CHECK(w[1].loss == Approx(0.25));
    CHECK(w[1].jitter_ns == Approx(std::sqrt(2700.0) * 1e6));  // {10,10,100}: 5400/2 ms^2 = 51.96 ms
    CHECK(w[1].spike);
    CHECK(w[1].p50 == 10ms);
    CHECK(w[1].p99 == 100ms);
    CHECK(w[1].spike_ratio == Approx(0.5));                  // 1 of the 2 windows so far

    CHECK(w[2].sent == 0);
    CHECK(w[2].jitter_ns == 0.0);
    CHECK(w[2].loss == 0.0);
    CHECK(w[2].spike_ratio == Approx(1.0 / 3.0));
    CHECK(w[2].end == 3s);
}

TEST_CASE("spike ratio looks at the last N windows only") {
    WindowConfig cfg;
    cfg.spike_windows = 2;
    WindowTracker t(cfg);
    std::vector<Record> spiky{{0, 0ms, 0ms}, {1, 0ms, 200ms}};  // stddev 141 ms > 50 ms
    std::vector<Record> calm{{0, 0ms, 10ms}, {1, 0ms, 10ms}};
    CHECK(t.close(spiky).spike_ratio == Approx(1.0));
    CHECK(t.close(calm).spike_ratio == Approx(0.5));
    CHECK(t.close(calm).spike_ratio == Approx(0.0));   // the spike left the 2-window span
    CHECK(t.close(spiky).spike_ratio == Approx(0.5));
    // Exactly at the spike level is not a spike (strictly greater): {10, 20, 30} ms has a
    // sample stddev of exactly 10 ms.
    WindowConfig edge;
    edge.spike_level = 10ms;
    WindowTracker e(edge);
    std::vector<Record> at{{0, 0ms, 10ms}, {1, 0ms, 20ms}, {2, 0ms, 30ms}};
    std::vector<Record> above{{0, 0ms, 10ms}, {1, 0ms, 20ms}, {2, 0ms, 31ms}};
    CHECK(e.close(at).jitter_ns == 10e6);
    CHECK_FALSE(e.close(at).spike);
    CHECK(e.close(above).spike);
}

namespace {
WindowResult win(double jitter_ms, double ratio) {
    WindowResult w;
    w.jitter_ns = jitter_ms * 1e6;
    w.spike_ratio = ratio;
    return w;
}
}  // namespace

TEST_CASE("alert fires exactly at the end of the third consecutive hot 5 s period") {
    profile::AlertRule rule;  // ratio > 0.6, jitter > 80 ms, 3 periods of 5 s
    auto made = AlertTracker::make(rule, 1s);
    REQUIRE(made.ok());
    AlertTracker a = *made;
    std::vector<PeriodResult> periods;
    // 15 hot windows: jitter 100 ms, ratio 0.9.
    for (int i = 0; i < 15; ++i) {
        auto p = a.add(win(100, 0.9));
        if (p) periods.push_back(*p);
        if (i < 14) CHECK_FALSE(a.fired());
    }
    REQUIRE(periods.size() == 3);
    CHECK_FALSE(periods[0].fired);
    CHECK_FALSE(periods[1].fired);
    CHECK(periods[1].consecutive == 2);
    CHECK(periods[2].fired);
    CHECK(periods[2].consecutive == 3);
    CHECK(a.fired());
    CHECK(a.fired_at_period() == 2u);
    // It fires once; later hot periods do not fire again.
    for (int i = 0; i < 5; ++i) {
        auto p = a.add(win(100, 0.9));
        if (p) CHECK_FALSE(p->fired);
    }
    CHECK(a.max_consecutive() == 4);
}

TEST_CASE("alert: a period's jitter is the mean of its windows; a cold period resets the count") {
    profile::AlertRule rule;
    AlertTracker a = *AlertTracker::make(rule, 1s);
    auto feed_period = [&](std::initializer_list<double> jit, double ratio) {
        std::optional<PeriodResult> p;
        for (double j : jit) p = a.add(win(j, ratio));
        REQUIRE(p);
        return *p;
    };
    // Mean of {200, 20, 20, 20, 20} = 56 ms < 80: cold, even with one big window.
    auto p0 = feed_period({200, 20, 20, 20, 20}, 0.9);
    CHECK(p0.jitter_ns == Approx(56e6));
    CHECK_FALSE(p0.hot);
    // Mean of {100, 100, 100, 100, 20} = 84 > 80: hot.
    CHECK(feed_period({100, 100, 100, 100, 20}, 0.9).hot);
    CHECK(feed_period({100, 100, 100, 100, 100}, 0.9).consecutive == 2);
    // Ratio exactly 0.6 is not > 0.6: cold, streak broken before it reached 3.
    auto cold = feed_period({100, 100, 100, 100, 100}, 0.6);
    CHECK_FALSE(cold.hot);
    CHECK(cold.consecutive == 0);
    CHECK_FALSE(a.fired());
    CHECK_FALSE(feed_period({100, 100, 100, 100, 100}, 0.61).fired);
    CHECK_FALSE(feed_period({100, 100, 100, 100, 100}, 0.61).fired);
    auto third = feed_period({100, 100, 100, 100, 100}, 0.61);
    CHECK(third.fired);
    CHECK(third.index == 6);
}

TEST_CASE("alert end to end: spike ratio must build up before periods count as hot") {
    // 5 calm windows then hot ones ({0, 200} ms: jitter 141 ms). Spike ratio after each
    // period: 0/5, 5/10 = 0.5 (cold), 10/15 = 0.67 (hot 1), 15/20 (hot 2), 20/25 (hot 3).
    std::vector<Record> recs;
    std::uint64_t seq = 0;
    for (int w = 0; w < 30; ++w) {
        const Nanos start = std::chrono::seconds(w);
        const bool hot = w >= 5;
        recs.push_back({seq++, start + 100ms, hot ? 0ms : 10ms});
        recs.push_back({seq++, start + 600ms, hot ? 200ms : 10ms});
    }
    const auto windows = compute_windows(recs, 0ns, 30, WindowConfig{});
    AlertTracker a = *AlertTracker::make(profile::AlertRule{}, 1s);
    std::vector<PeriodResult> ps;
    for (const auto& w : windows)
        if (auto p = a.add(w)) ps.push_back(*p);
    REQUIRE(ps.size() == 6);
    CHECK_FALSE(ps[0].hot);
    CHECK(ps[1].spike_ratio == Approx(0.5));
    CHECK_FALSE(ps[1].hot);
    CHECK(ps[2].hot);
    CHECK_FALSE(ps[3].fired);
    CHECK(ps[4].fired);
    CHECK(ps[4].end == 25s);
    CHECK(a.fired_at_period() == 4u);
}

TEST_CASE("alert period must be a whole number of windows") {
    profile::AlertRule rule;
    rule.period = 2500ms;
    auto bad = AlertTracker::make(rule, 1s);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code == 3);
    CHECK(AlertTracker::make(rule, 500ms).ok());
    rule.periods = 0;
    CHECK_FALSE(AlertTracker::make(rule, 500ms).ok());
}
