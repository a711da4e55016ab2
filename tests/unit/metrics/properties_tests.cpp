// Properties of the metrics over edge cases and random series: window edges, empty windows,
// loss-only windows, and invariants that hold for any input.
#include <catch2/catch.hpp>

#include "common/clock.hpp"
#include "helpers.hpp"

using namespace metrics_test;
namespace profile = netchaos::profile;

TEST_CASE("window edges: [start, end) by send time, whatever the RTT") {
    const Nanos t0 = 7s;
    std::vector<Record> recs{
        {0, t0 - 1ns, 1ms, 0},         // before the origin: in no window
        {1, t0, 1ms, 0},               // the origin itself: window 0
        {2, t0 + 1s - 1ns, 900ms, 0},  // last nanosecond of window 0; its reply comes in window 1
        {3, t0 + 1s, 3ms, 0},          // exactly at the boundary: window 1
        {4, t0 + 2s - 1ns, 4ms, 0},
        {5, t0 + 2500ms, 5ms, 0},      // at or after `end`: in no window
    };
    const auto r = run(recs, t0, t0 + 2500ms);
    REQUIRE(r.windows.size() == 3);    // ceil(2.5 s / 1 s): the partial last window counts
    CHECK(r.windows[0].sent == 2);
    CHECK(r.windows[1].sent == 2);
    CHECK(r.windows[2].sent == 0);
    CHECK(r.windows[2].end == 3s);
    CHECK(r.s.sent == 4);
    CHECK(r.s.rtt_max == 900ms);       // the late reply still belongs to its send's window
    CHECK(*r.windows[0].jitter_ns == Approx(std::sqrt((899.0 * 899.0) / 2) * 1e6));
    // A span shorter than a window still has one window; an empty span has none.
    CHECK(run(recs, t0, t0 + 1ns).windows.size() == 1);
    CHECK(run(recs, t0, t0).windows.empty());
    CHECK(run(recs, t0, t0 - 1s).windows.empty());
}

TEST_CASE("empty windows: no jitter_1s, not counted in the spike ratio, no report point is hot") {
    Config cfg;
    cfg.alert = profile::AlertRule{.spike_ratio = 0.5, .jitter = 10ms, .periods = 1, .period = 2s};
    // Window 0 spikes ({0, 200} ms), windows 1-3 are empty.
    std::vector<Record> recs{{0, 0ms, 0ms, 0}, {1, 500ms, 200ms, 0}};
    const auto r = run(recs, 0ns, 4s, cfg);
    REQUIRE(r.windows.size() == 4);
    for (std::size_t k = 1; k < 4; ++k) {
        CHECK(r.windows[k].sent == 0);
        CHECK_FALSE(r.windows[k].jitter_ns);
        CHECK_FALSE(r.windows[k].spike);
        CHECK(r.windows[k].spike_ratio == Approx(1.0));   // still 1 of 1 window with a value
        CHECK(r.windows[k].loss == 0.0);
    }
    REQUIRE(r.points.size() == 2);
    CHECK_FALSE(r.points[0].jitter_ns);   // the window ending at 2 s is empty
    CHECK_FALSE(r.points[0].hot);
    CHECK_FALSE(r.s.alert_fired);
    // No records at all.
    const auto none = run({}, 0ns, 3s, cfg);
    CHECK(none.windows.size() == 3);
    CHECK(none.s == Summary{.windows = 3, .report_points = 1});
}

TEST_CASE("loss-only windows: loss 1, no jitter_1s, and the ratio is the other windows'") {
    Config cfg;
    cfg.spike_windows = 3;
    std::vector<Record> recs;
    std::uint64_t seq = 0;
    // Window 0 calm {10, 10}, window 1 all lost (10 probes), window 2 spiky {0, 200}.
    recs.push_back({seq++, 0ms, 10ms, 0});
    recs.push_back({seq++, 500ms, 10ms, 0});
    for (int i = 0; i < 10; ++i) recs.push_back({seq++, 1s + i * 100ms, std::nullopt, 0});
    recs.push_back({seq++, 2s, 0ms, 0});
    recs.push_back({seq++, 2500ms, 200ms, 0});
    const auto r = run(recs, 0ns, 3s, cfg);
    REQUIRE(r.windows.size() == 3);
    CHECK(r.windows[1].sent == 10);
    CHECK(r.windows[1].received == 0);
    CHECK(r.windows[1].loss == 1.0);
    CHECK_FALSE(r.windows[1].jitter_ns);
    CHECK(r.windows[1].rtt_mean_ns == 0.0);
    CHECK(r.windows[1].p99 == 0ns);
    CHECK(r.windows[1].spike_ratio == 0.0);   // 0 of 1
    CHECK(r.windows[2].spike_ratio == 0.5);   // 1 of 2: the lost window is in neither count
    CHECK(r.s.loss == Approx(10.0 / 14.0));
    CHECK(r.s.ipdv_pairs == 2);               // (0,1) and (12,13): the lost run breaks pairs
    // All lost: every RTT figure is 0, none is made up.
    std::vector<Record> dead;
    for (std::uint64_t i = 0; i < 50; ++i) dead.push_back({i, std::chrono::milliseconds(20 * i), std::nullopt, 0});
    const auto d = run(dead, 0ns, 1s).s;
    CHECK(d.loss == 1.0);
    CHECK(d.received == 0);
    CHECK(d.p99 == 0ns);
    CHECK(d.rtt_max == 0ns);
    CHECK(d.jitter_1s_max_ns == 0.0);
    CHECK(d.jitter_rfc3550_ns == 0.0);
}

TEST_CASE("invariants on random series") {
    netchaos::Rng rng(GENERATE(1, 2, 3, 4, 5));
    std::vector<Record> recs;
    Nanos t{0};
    for (std::uint64_t i = 0; i < 3000; ++i) {
        t += Nanos(static_cast<std::int64_t>(rng.uniform() * 8e6));   // ~250/s, irregular
        Record r{i, t, std::nullopt, 0};
        if (rng.uniform() > 0.1) r.rtt = Nanos(static_cast<std::int64_t>(rng.uniform() * rng.uniform() * 3e8));
        if (r.rtt && rng.uniform() < 0.02) r.dups = 1;
        recs.push_back(r);
    }
    Config cfg;
    cfg.alert = profile::AlertRule{};
    const Nanos end = t + 1ns;
    const auto r = run(recs, 0ns, end, cfg);
    const Summary& s = r.s;
    // Counts add up, window by window and overall.
    std::uint64_t sent = 0, received = 0;
    for (const auto& w : r.windows) {
        sent += w.sent;
        received += w.received;
        CHECK(w.spike_ratio >= 0.0);
        CHECK(w.spike_ratio <= 1.0);
        CHECK(w.jitter_ns.has_value() == (w.received >= 2));
    }
    CHECK(sent == s.sent);
    CHECK(received == s.received);
    CHECK(s.sent == recs.size());
    CHECK(s.lost + s.received == s.sent);
    // Percentiles are ordered and inside [min, max] on the grid.
    CHECK(quantize(s.rtt_min) <= s.p50);
    CHECK(s.p50 <= s.p90);
    CHECK(s.p90 <= s.p99);
    CHECK(s.p99 <= s.p999);
    CHECK(s.p999 <= s.rtt_max);
    // The windows' moments pool to the run's (what the live progress line relies on).
    std::vector<Window> ws = r.windows;
    const Summary live = from_windows(ws);
    CHECK(live.rtt_mean_ns == Approx(s.rtt_mean_ns).epsilon(1e-9));
    CHECK(live.rtt_stddev_ns == Approx(s.rtt_stddev_ns).epsilon(1e-9));
    CHECK(live.jitter_1s_max_ns == s.jitter_1s_max_ns);
    CHECK(live.spike_ratio == s.spike_ratio);
    CHECK(live.loss == s.loss);
    // Feeding window by window (the probe) equals summarize (the run).
    Accumulator acc(cfg, 0ns);
    std::size_t i = 0;
    std::vector<Window> inc;
    while (acc.open_window_end() < end + cfg.window) {
        for (; i < recs.size() && recs[i].send < acc.open_window_end(); ++i) acc.add(recs[i]);
        inc.push_back(acc.close_window().window);
    }
    CHECK(inc == r.windows);
    CHECK(acc.finish() == s);
    // Splitting the span at a window boundary: the halves' counts add up to the whole.
    const Nanos mid = std::chrono::seconds(3);
    const auto a = run(recs, 0ns, mid, cfg).s, b = run(recs, mid, end, cfg).s;
    CHECK(a.sent + b.sent == s.sent);
    CHECK(a.duplicates + b.duplicates == s.duplicates);
    CHECK(a.windows + b.windows == s.windows);
}
