// Hand-computed sequences for every metric src/metrics defines (docs/metrics.md).
#include <catch2/catch.hpp>
#include <cmath>

#include "common/clock.hpp"
#include "helpers.hpp"

using namespace metrics_test;
namespace profile = netchaos::profile;

namespace {
std::vector<Nanos> ms_list(std::initializer_list<int> v) {
    std::vector<Nanos> out;
    for (int x : v) out.push_back(std::chrono::milliseconds(x));
    return out;
}
// Records sent 100 ms apart from t = 0, RTTs in ms (nullopt = lost).
std::vector<Record> series(std::initializer_list<std::optional<int>> rtts) {
    std::vector<Record> out;
    std::uint64_t seq = 0;
    for (auto r : rtts) {
        out.push_back({seq, std::chrono::milliseconds(100 * seq), ms(r), 0});
        ++seq;
    }
    return out;
}
}  // namespace

TEST_CASE("the RTT grid: exact below 2048 ns, then under 0.1% and never above the value") {
    for (std::int64_t v : {0, 1, 999, 2047}) CHECK(quantize(Nanos(v)) == Nanos(v));
    CHECK(quantize(Nanos(2048)) == Nanos(2048));
    CHECK(quantize(Nanos(2049)) == Nanos(2048));   // step 2 from 2048 to 4095
    CHECK(quantize(Nanos(4095)) == Nanos(4094));
    CHECK(quantize(Nanos(-5)) == Nanos(0));
    std::int64_t prev = -1;
    for (std::int64_t v = 1; v < 4'000'000'000'000; v = v * 3 / 2 + 7) {
        const std::int64_t q = quantize(Nanos(v)).count();
        CHECK(q <= v);
        CHECK(double(v - q) / double(v) < 1.0 / 1024);
        CHECK(quantize(Nanos(q)).count() == q);   // grid points map to themselves
        CHECK(q >= prev);                          // monotone
        prev = q;
    }
}

TEST_CASE("percentiles are nearest-rank on the samples, reported on the grid") {
    const auto ten = ms_list({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(percentile_sorted(ten, 50) == quantize(5ms));
    CHECK(percentile_sorted(ten, 90) == quantize(9ms));
    CHECK(percentile_sorted(ten, 91) == quantize(10ms));
    CHECK(percentile_sorted(ten, 99.9) == quantize(10ms));
    CHECK(percentile_sorted(ten, 100) == quantize(10ms));
    CHECK(percentile_sorted(ten, 0.0001) == quantize(1ms));

    std::vector<Nanos> thousand;
    Histogram h;
    for (int i = 1; i <= 1000; ++i) thousand.push_back(Nanos(i)), h.add(Nanos(i));
    CHECK(percentile_sorted(thousand, 50) == Nanos(500));
    CHECK(percentile_sorted(thousand, 99) == Nanos(990));
    CHECK(percentile_sorted(thousand, 99.9) == Nanos(999));  // not 1000: rank is ceil(999.0)
    for (double p : {0.1, 50.0, 90.0, 99.0, 99.9, 100.0}) CHECK(h.percentile(p) == percentile_sorted(thousand, p));

    CHECK(percentile_sorted({}, 99) == 0ns);
    CHECK(Histogram{}.percentile(99) == 0ns);
    const auto one = ms_list({7});
    CHECK(percentile_sorted(one, 50) == quantize(7ms));
}

TEST_CASE("the histogram and the sorted samples agree on any series") {
    netchaos::Rng rng(3);
    std::vector<Nanos> xs;
    Histogram h;
    for (int i = 0; i < 20000; ++i) {
        const Nanos v{static_cast<std::int64_t>(rng.uniform() * rng.uniform() * 3e8)};
        xs.push_back(v);
        h.add(v);
    }
    std::sort(xs.begin(), xs.end());
    for (double p : {1.0, 25.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) CHECK(h.percentile(p) == percentile_sorted(xs, p));
}

TEST_CASE("moments: mean and sample standard deviation; pooling is exact") {
    const auto xs = ms_list({2, 4, 4, 4, 5, 5, 7, 9});
    const Moments m = moments(xs);
    CHECK(m.n == 8);
    CHECK(m.mean == Approx(5e6));
    CHECK(m.stddev == Approx(std::sqrt(32.0 / 7.0) * 1e6));  // sum of squares 32, n-1 = 7
    CHECK(moments(ms_list({3})).stddev == 0.0);
    CHECK(moments(std::span<const Nanos>{}).n == 0);
    // Welford stays exact on large equal offsets, where sum-of-squares would cancel.
    std::vector<Nanos> big{Nanos(1'000'000'000'001), Nanos(1'000'000'000'003)};
    CHECK(moments(big).stddev == Approx(std::sqrt(2.0)));
    // Groups {2,4,4}, {4}, {}, {5,5,7,9} pool to the moments of all eight.
    const std::vector<Moments> groups{moments(ms_list({2, 4, 4})), moments(ms_list({4})), Moments{},
                                      moments(ms_list({5, 5, 7, 9}))};
    const Moments p = pool(groups);
    CHECK(p.n == 8);
    CHECK(p.mean == Approx(m.mean));
    CHECK(p.stddev == Approx(m.stddev));
}

TEST_CASE("IPDV uses consecutive sequence numbers both received (RFC 3393)") {
    const auto recs = series({10, 12, std::nullopt, 11, 15});
    const auto v = ipdv(recs);
    REQUIRE(v.size() == 2);  // (0,1) and (3,4); 2 is lost so (1,2), (2,3) have no value
    CHECK(v[0] == 2ms);
    CHECK(v[1] == 4ms);
    const auto s = run(recs, 0ns, 1s).s;
    CHECK(s.ipdv_pairs == 2);
    CHECK(s.ipdv_mean_ns == Approx(3e6));   // mean |IPDV|
    // Signed: a falling RTT gives a negative IPDV.
    CHECK(ipdv(series({20, 14}))[0] == -6ms);
}

TEST_CASE("RFC 3550 interarrival jitter, J += (|D| - J)/16, by hand") {
    // RTTs 10, 12, 11, 15 ms in arrival order: D = +2, -1, +4 ms.
    // J1 = 2/16 = 0.125; J2 = 0.125 + (1 - 0.125)/16 = 0.1796875;
    // J3 = 0.1796875 + (4 - 0.1796875)/16 = 0.41845703125 ms.
    CHECK(run(series({10, 12, 11, 15}), 0ns, 1s).s.jitter_rfc3550_ns == Approx(418457.03125).epsilon(1e-12));
    CHECK(run(series({10}), 0ns, 1s).s.jitter_rfc3550_ns == 0.0);
    // Losses are skipped: the next reply is compared with the last one that arrived.
    CHECK(run(series({10, std::nullopt, 12}), 0ns, 1s).s.jitter_rfc3550_ns == Approx(2e6 / 16));
    // Steady alternation converges to |D|: J_n = d * (1 - (15/16)^n).
    std::vector<Record> alt;
    for (int i = 0; i < 201; ++i) alt.push_back({std::uint64_t(i), i * 20ms, i % 2 ? 11ms : 10ms, 0});
    CHECK(run(alt, 0ns, 5s).s.jitter_rfc3550_ns == Approx(1e6 * (1 - std::pow(15.0 / 16.0, 200))));
}

TEST_CASE("arrival order is send + RTT: reordering per RFC 4737 and RFC 3550 follow it") {
    // seq 1 is overtaken by 2 and 3 (arrives at 160 ms, after 21 and 31 ms).
    std::vector<Record> recs{{0, 0ms, 1ms, 0}, {1, 10ms, 150ms, 0}, {2, 20ms, 1ms, 0}, {3, 30ms, 1ms, 0},
                             {4, 200ms, 1ms, 0}};
    auto s = run(recs, 0ns, 1s).s;
    CHECK(s.reordered == 1);
    // Arrival order 0, 2, 3, 1, 4: D = 0, 0, +149, -149 ms.
    double j = 0;
    for (double d : {0.0, 0.0, 149e6, 149e6}) j += (d - j) / 16;
    CHECK(s.jitter_rfc3550_ns == Approx(j));
    // 0, 3, 1, 2 by arrival: both 1 and 2 arrive below NextExp = 4.
    std::vector<Record> b{{0, 0ms, 1ms, 0}, {1, 1ms, 20ms, 0}, {2, 2ms, 20ms, 0}, {3, 3ms, 1ms, 0}};
    CHECK(run(b, 0ns, 1s).s.reordered == 2);
    // A loss is not a reordering.
    CHECK(run(series({1, std::nullopt, 1, 1}), 0ns, 1s).s.reordered == 0);
    // Equal arrival times keep seq order.
    std::vector<Record> tie{{0, 0ms, 10ms, 0}, {1, 5ms, 5ms, 0}};
    CHECK(run(tie, 0ns, 1s).s.reordered == 0);
}

TEST_CASE("a recorded arrival time decides the order, not send + RTT") {
    // Behind an order-keeping emulator two probes leave back to back; with the reflector's
    // processing time taken out, send + rtt puts seq 1 (10 ms + 29.990 ms) before seq 0
    // (0 + 40 ms). They arrived 0 then 1: nothing was reordered.
    std::vector<Record> bunched{{0, 0ms, 40ms, 0, Nanos{40'000'020}}, {1, 10ms, 29'990us, 0, Nanos{40'000'030}}};
    CHECK(run(bunched, 0ns, 1s).s.reordered == 0);
    // Without the arrival times the same pair reads as reordered.
    std::vector<Record> estimated{{0, 0ms, 40ms, 0}, {1, 10ms, 29'990us, 0}};
    CHECK(run(estimated, 0ns, 1s).s.reordered == 1);
    // And a real overtake, recorded, still counts.
    std::vector<Record> overtaken{{0, 0ms, 40ms, 0, Nanos{40'000'040}}, {1, 10ms, 30ms, 0, Nanos{40'000'030}}};
    CHECK(run(overtaken, 0ns, 1s).s.reordered == 1);
}

TEST_CASE("duplicates are counted on their probe's record and summed") {
    auto recs = series({1, 2, std::nullopt, 4});
    recs[1].dups = 3;
    recs[3].dups = 1;
    auto s = run(recs, 0ns, 1s).s;
    CHECK(s.duplicates == 4);
    CHECK(s.received == 3);   // a duplicate is not a second reply
    CHECK(s.sent == 4);
    CHECK(s.lost == 1);
}

TEST_CASE("windows split probes by send time; jitter_1s is the sample sd of the window's RTTs") {
    const Nanos t0 = 100s;  // arbitrary monotonic origin
    std::vector<Record> recs{
        {0, t0 + 100ms, 10ms, 0},  {1, t0 + 500ms, 20ms, 0},                  // w0
        {2, t0 + 1000ms, 10ms, 0}, {3, t0 + 1300ms, std::nullopt, 0},         // w1 (1.000 s is w1)
        {4, t0 + 1400ms, 10ms, 0}, {5, t0 + 1999ms, 100ms, 0},                // w1
    };                                                                        // w2: nothing sent
    const auto r = run(recs, t0, t0 + 3s);
    const auto& w = r.windows;
    REQUIRE(w.size() == 3);
    CHECK(w[0].sent == 2);
    CHECK(w[0].received == 2);
    CHECK(*w[0].jitter_ns == Approx(std::sqrt(50.0) * 1e6));   // {10,20}: var = 50 ms^2
    CHECK(w[0].rtt_mean_ns == Approx(15e6));
    CHECK_FALSE(w[0].spike);
    CHECK(w[0].end == 1s);

    CHECK(w[1].sent == 4);
    CHECK(w[1].received == 3);
    CHECK(w[1].loss == Approx(0.25));
    CHECK(*w[1].jitter_ns == Approx(std::sqrt(2700.0) * 1e6));  // {10,10,100}: 5400/2 ms^2 = 51.96 ms
    CHECK(w[1].spike);
    CHECK(w[1].p50 == quantize(10ms));
    CHECK(w[1].p99 == quantize(100ms));
    CHECK(w[1].spike_ratio == Approx(0.5));                  // 1 of the 2 windows so far

    CHECK(w[2].sent == 0);
    CHECK_FALSE(w[2].jitter_ns);                             // no jitter_1s without two RTTs
    CHECK(w[2].loss == 0.0);
    CHECK(w[2].spike_ratio == Approx(0.5));                  // an empty window does not dilute
    CHECK(w[2].end == 3s);
    CHECK(r.s.windows == 3);
    CHECK(r.s.jitter_1s_max_ns == Approx(std::sqrt(2700.0) * 1e6));
    CHECK(r.s.spike_ratio == Approx(0.5));
}

TEST_CASE("spike ratio looks at the last N windows only; the level is strict") {
    Config cfg;
    cfg.spike_windows = 2;
    // One window a second: spiky {0, 200} ms (sd 141 ms), calm {10, 10}.
    auto window_of = [](int k, bool spiky) {
        return std::vector<Record>{{std::uint64_t(2 * k), std::chrono::seconds(k), spiky ? 0ms : 10ms, 0},
                                   {std::uint64_t(2 * k + 1), std::chrono::seconds(k) + 500ms, spiky ? 200ms : 10ms, 0}};
    };
    std::vector<Record> recs;
    for (auto [k, spiky] : {std::pair{0, true}, {1, false}, {2, false}, {3, true}})
        for (auto& r : window_of(k, spiky)) recs.push_back(r);
    const auto w = run(recs, 0ns, 4s, cfg).windows;
    REQUIRE(w.size() == 4);
    CHECK(w[0].spike_ratio == Approx(1.0));
    CHECK(w[1].spike_ratio == Approx(0.5));
    CHECK(w[2].spike_ratio == Approx(0.0));   // the spike left the 2-window span
    CHECK(w[3].spike_ratio == Approx(0.5));
    // Exactly at the spike level is not a spike: {10, 20, 30} ms has a sample sd of 10 ms.
    Config edge;
    edge.spike_level = 10ms;
    std::vector<Record> at{{0, 0ms, 10ms, 0}, {1, 1ms, 20ms, 0}, {2, 2ms, 30ms, 0},
                           {3, 1s, 10ms, 0},  {4, 1001ms, 20ms, 0}, {5, 1002ms, 31ms, 0}};
    const auto e = run(at, 0ns, 2s, edge).windows;
    CHECK(*e[0].jitter_ns == 10e6);
    CHECK_FALSE(e[0].spike);
    CHECK(e[1].spike);
}

namespace {
// `n` windows of 1 s; window k has RTTs {0, 2*j_k} ms (sample sd = sqrt(2) * j_k ms).
std::vector<Record> windows_with_sd(const std::vector<double>& sd_ms) {
    std::vector<Record> out;
    std::uint64_t seq = 0;
    for (std::size_t k = 0; k < sd_ms.size(); ++k) {
        const Nanos start = std::chrono::seconds(k);
        const auto spread = Nanos(static_cast<std::int64_t>(sd_ms[k] * std::sqrt(2.0) * 1e6));
        out.push_back({seq++, start + 100ms, 1ms, 0});
        out.push_back({seq++, start + 600ms, 1ms + spread, 0});
    }
    return out;
}
}  // namespace

TEST_CASE("alert fires exactly at the third consecutive hot 5 s report point, once") {
    Config cfg;
    cfg.alert = profile::AlertRule{};   // ratio > 0.6, jitter > 80 ms, 3 points of 5 s
    const auto r = run(windows_with_sd(std::vector<double>(20, 100.0)), 0ns, 20s, cfg);
    REQUIRE(r.points.size() == 4);
    CHECK(r.points[0].end == 5s);
    CHECK_FALSE(r.points[0].fired);
    CHECK(r.points[1].consecutive == 2);
    CHECK_FALSE(r.points[1].fired);
    CHECK(r.points[2].fired);
    CHECK(r.points[2].end == 15s);
    CHECK_FALSE(r.points[3].fired);   // it fires once
    CHECK(r.s.alert_fired);
    CHECK(r.s.alert_max_consecutive == 4);
    CHECK(r.s.report_points == 4);
}

TEST_CASE("alert: jitter_1s at a report point is the window ending there, not the period's mean") {
    Config cfg;
    cfg.alert = profile::AlertRule{};
    cfg.spike_level = 10ms;   // every window below spikes, so the ratio is 1
    // Period 1: four windows of 200 ms then one of 20 ms: the point reads 20 ms, cold.
    // Periods 2-4: four windows of 20 ms then one of 100 ms: each point reads 100 ms, hot.
    std::vector<double> sd{200, 200, 200, 200, 20};
    for (int p = 0; p < 3; ++p)
        for (double x : {20.0, 20.0, 20.0, 20.0, 100.0}) sd.push_back(x);
    const auto r = run(windows_with_sd(sd), 0ns, 20s, cfg);
    REQUIRE(r.points.size() == 4);
    CHECK(*r.points[0].jitter_ns == Approx(20e6).epsilon(1e-6));
    CHECK_FALSE(r.points[0].hot);
    CHECK(r.points[1].hot);
    CHECK(r.points[3].fired);
    // Ratio exactly 0.6 is not > 0.6.
    Config at;
    at.alert = profile::AlertRule{.spike_ratio = 0.6, .jitter = 80ms, .periods = 1, .period = 5s};
    const auto r2 = run(windows_with_sd({100, 100, 100, 10, 10}), 0ns, 5s, at);   // 3 of 5 spike
    CHECK(r2.points.at(0).spike_ratio == Approx(0.6));
    CHECK_FALSE(r2.points[0].hot);   // (and its last window is calm anyway)
}

TEST_CASE("alert end to end: spike ratio must build up before points count as hot") {
    // 5 calm windows then hot ones. Spike ratio at each point: 0/5, 5/10 = 0.5 (cold),
    // 10/15 = 0.67 (hot 1), 15/20 (hot 2), 20/25 (hot 3: fires at 25 s).
    std::vector<double> sd(5, 5.0);
    sd.resize(30, 100.0);
    Config cfg;
    cfg.alert = profile::AlertRule{};
    const auto r = run(windows_with_sd(sd), 0ns, 30s, cfg);
    REQUIRE(r.points.size() == 6);
    CHECK_FALSE(r.points[0].hot);
    CHECK(r.points[1].spike_ratio == Approx(0.5));
    CHECK_FALSE(r.points[1].hot);
    CHECK(r.points[2].hot);
    CHECK_FALSE(r.points[3].fired);
    CHECK(r.points[4].fired);
    CHECK(r.points[4].end == 25s);
}

TEST_CASE("config: the alert period must be a whole number of windows") {
    Config c;
    c.alert = profile::AlertRule{};
    c.alert->period = 2500ms;
    CHECK_FALSE(check(c).empty());
    c.window = 500ms;
    CHECK(check(c).empty());
    c.alert->periods = 0;
    CHECK_FALSE(check(c).empty());
    Config w;
    w.window = 0ns;
    CHECK_FALSE(check(w).empty());
    Config n;
    n.spike_windows = 0;
    CHECK_FALSE(check(n).empty());
}

TEST_CASE("thresholds: every configured one checked, misses named with value and limit") {
    Summary s;
    s.sent = 1000;
    s.received = 990;
    s.loss = 0.01;
    s.p99 = 250ms;
    s.jitter_1s_max_ns = 90e6;
    s.spike_ratio = 0.7;
    s.alert_fired = true;
    s.alert_max_consecutive = 3;

    profile::Thresholds t;
    CHECK(evaluate(s, t, std::nullopt).empty());

    t.jitter_1s_max = 80ms;
    t.spike_ratio_max = 0.6;
    t.p99_rtt_max = 200ms;
    t.loss_max = 0.005;
    t.p99_drift_max = 2.0;
    t.alert = profile::AlertRule{};
    const auto all = evaluate(s, t, 100ms);   // drift (250 - 100) / 100 = 1.5 < 2: passes
    REQUIRE(all.size() == 6);
    CHECK(all[4] == Outcome{"p99_drift_max", 1.5, 2.0, true});
    const auto m = misses(all);
    REQUIRE(m.size() == 5);
    CHECK(m[0] == Outcome{"jitter_1s_max", 90.0, 80.0, false});
    CHECK(m[1] == Outcome{"spike_ratio_max", 0.7, 0.6, false});
    CHECK(m[2] == Outcome{"p99_rtt_max", 250.0, 200.0, false});
    CHECK(m[3] == Outcome{"loss_max", 0.01, 0.005, false});
    CHECK(m[4].name == "alert");
    CHECK(describe(m[2]) == "p99_rtt_max: 250.000 ms > 200.000 ms");

    // Limits are inclusive passes except drift, which misses at exactly its limit.
    profile::Thresholds edge;
    edge.p99_rtt_max = 250ms;
    edge.loss_max = 0.01;
    edge.p99_drift_max = 1.5;
    const auto e = misses(evaluate(s, edge, 100ms));
    REQUIRE(e.size() == 1);
    CHECK(e[0].name == "p99_drift_max");
    CHECK(e[0].value == Approx(1.5));
    // No baseline: drift is not evaluated. Nothing received: no p99 to judge.
    CHECK(evaluate(s, edge, std::nullopt).size() == 2);
    Summary dead;
    dead.sent = 10;
    dead.lost = 10;
    dead.loss = 1.0;
    const auto d = evaluate(dead, edge, 100ms);
    REQUIRE(d.size() == 1);
    CHECK(d[0].name == "loss_max");
}

TEST_CASE("p99_drift_floor: drift is relative to max(baseline p99, floor) (issue 18 item 6)") {
    Summary s;
    s.sent = 1000;
    s.received = 1000;
    s.p99 = std::chrono::microseconds(5843);   // the user's run: 0.1 ms baseline, 5.84 ms p99
    profile::Thresholds t;
    t.p99_drift_max = 2.0;
    const std::optional<std::chrono::nanoseconds> base = std::chrono::microseconds(100);
    auto without = evaluate(s, t, base);
    REQUIRE(without.size() == 1);
    CHECK(without[0].value == Approx(57.43));   // "5743% > 200%"
    CHECK_FALSE(without[0].pass);
    t.p99_drift_floor = 5ms;
    auto with = evaluate(s, t, base);
    REQUIRE(with.size() == 1);
    CHECK(with[0].value == Approx(5.743 / 5.0));   // 115%: growth of 5.74 ms over a 5 ms floor
    CHECK(with[0].pass);
    s.p99 = 20ms;                                  // a real drift still misses
    CHECK_FALSE(evaluate(s, t, base)[0].pass);
    s.p99 = 250ms;                                 // above the floor, the baseline rules
    CHECK(evaluate(s, t, std::optional<std::chrono::nanoseconds>(100ms))[0].value == Approx(1.5));
}

TEST_CASE("accumulator: add returns the record's RTT and IPDV; totals are the running counts") {
    using namespace std::chrono_literals;
    netchaos::metrics::Accumulator acc(netchaos::metrics::Config{}, Nanos{0});
    using R = netchaos::metrics::Record;
    // seq 0: 10 ms, seq 1: 13 ms, seq 2 lost, seq 3: 12 ms (no IPDV: seq 2 is missing), seq 4: 9 ms, 1 dup.
    const auto a0 = acc.add(R{0, 0ms, 10ms, 0});
    const auto a1 = acc.add(R{1, 10ms, 13ms, 0});
    const auto a2 = acc.add(R{2, 20ms, std::nullopt, 0});
    const auto a3 = acc.add(R{3, 30ms, 12ms, 0});
    const auto a4 = acc.add(R{4, 40ms, 9ms, 1});
    CHECK(a0.rtt == Nanos(10ms));
    CHECK(!a0.ipdv);
    CHECK(a1.ipdv == Nanos(3ms));
    CHECK(!a2.rtt);   // lost: no RTT, never 0
    CHECK(!a2.ipdv);
    CHECK(!a3.ipdv);
    CHECK(a4.ipdv == Nanos(-3ms));
    const auto t = acc.totals();
    CHECK(t.sent == 5);
    CHECK(t.received == 4);
    CHECK(t.lost == 1);
    CHECK(t.duplicates == 1);
    acc.close_window();
    const auto s = acc.finish();
    CHECK(s.ipdv_pairs == 2);
    CHECK(s.ipdv_mean_ns == Approx(3e6));
}
