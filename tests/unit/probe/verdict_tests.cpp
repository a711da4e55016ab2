// Summary of a run and threshold evaluation.
#include <catch2/catch.hpp>

#include "probe/verdict.hpp"

using namespace netchaos;
using namespace netchaos::probe;
using namespace std::chrono_literals;

TEST_CASE("summary: loss, percentiles, IPDV, order, worst window") {
    std::vector<Record> recs;
    for (int i = 0; i < 10; ++i)
        recs.push_back({std::uint64_t(i), std::chrono::milliseconds(100 * i),
                        i == 4 ? std::nullopt : std::optional<Nanos>(std::chrono::milliseconds(i + 1))});
    std::vector<Arrival> arr;
    for (const auto& r : recs)
        if (r.rtt) arr.push_back({r.seq, *r.rtt});
    std::swap(arr[1], arr[2]);            // seq 2 before seq 1: one reordering
    arr.push_back(arr.back());            // one duplicate
    const auto w = compute_windows(recs, 0ns, 1, WindowConfig{});
    const Summary s = summarize(recs, arr, w, nullptr);
    CHECK(s.sent == 10);
    CHECK(s.received == 9);
    CHECK(s.lost == 1);
    CHECK(s.loss == Approx(0.1));
    CHECK(s.reordered == 1);
    CHECK(s.duplicates == 1);
    CHECK(s.p50 == 6ms);                  // sorted {1,2,3,4,6,7,8,9,10}: rank ceil(4.5) = 5
    CHECK(s.p90 == 10ms);                 // rank ceil(8.1) = 9
    CHECK(s.rtt_min == 1ms);
    CHECK(s.rtt_max == 10ms);
    CHECK(s.ipdv_mean_ns == Approx(1e6));  // pairs (0,1)(1,2)(2,3)(5,6)..(8,9): all +1 ms
    CHECK(s.jitter_1s_max_ns == Approx(w[0].jitter_ns));
}

TEST_CASE("thresholds: each miss named with value and limit") {
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
    CHECK(evaluate(s, t, std::nullopt).empty());  // nothing configured, target reachable

    t.jitter_1s_max = 80ms;
    t.spike_ratio_max = 0.6;
    t.p99_rtt_max = 200ms;
    t.loss_max = 0.005;
    t.p99_drift_max = 2.0;
    t.alert = profile::AlertRule{};
    const auto m = evaluate(s, t, 100ms);   // drift (250 - 100) / 100 = 1.5 < 2: passes
    REQUIRE(m.size() == 5);
    CHECK(m[0] == Miss{"jitter_1s_max", 90.0, 80.0});
    CHECK(m[1] == Miss{"spike_ratio_max", 0.7, 0.6});
    CHECK(m[2] == Miss{"p99_rtt_max", 250.0, 200.0});
    CHECK(m[3] == Miss{"loss_max", 0.01, 0.005});
    CHECK(m[4].name == "alert");
    CHECK(describe(m[2]) == "p99_rtt_max: 250.000 ms > 200.000 ms");

    // Limits are inclusive passes except drift, which misses at exactly 200%.
    profile::Thresholds edge;
    edge.p99_rtt_max = 250ms;
    edge.loss_max = 0.01;
    edge.p99_drift_max = 1.5;
    const auto e = evaluate(s, edge, 100ms);
    REQUIRE(e.size() == 1);
    CHECK(e[0].name == "p99_drift_max");
    CHECK(e[0].value == Approx(1.5));
    // No baseline: drift is not evaluated.
    CHECK(evaluate(s, edge, std::nullopt).empty());
}

TEST_CASE("an unreachable target always misses") {
    Summary s;
    s.sent = 50;
    s.received = 0;
    s.lost = 50;
    s.loss = 1.0;
    profile::Thresholds t;
    auto m = evaluate(s, t, std::nullopt);
    REQUIRE(m.size() == 1);
    CHECK(m[0].name == "reachable");
    t.loss_max = 0.01;
    t.p99_rtt_max = 1ms;   // not reported: p99 has no samples
    m = evaluate(s, t, std::nullopt);
    REQUIRE(m.size() == 2);
    CHECK(m[1].name == "loss_max");
    CHECK(m[1].value == 1.0);
}
