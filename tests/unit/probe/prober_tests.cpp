// The prober itself on a ManualClock and a scripted transport: its send grid, its windows
// and what it hands to the metrics module, deterministically.
#include <catch2/catch.hpp>
#include <cmath>

#include "probe/prober.hpp"
#include "scripted.hpp"

using namespace netchaos;
using namespace std::chrono_literals;

namespace {
probe::ProbeOptions options(double rate, Nanos duration, Nanos timeout) {
    probe::ProbeOptions o;
    o.rate_hz = rate;
    o.duration = duration;
    o.timeout = timeout;
    return o;
}
}  // namespace

TEST_CASE("prober: sends land on the grid; windows hold the probes sent in them") {
    ManualClock clock;
    clock.set(std::chrono::steady_clock::time_point(1000s));
    // RTT alternates 10 / 30 ms; every 10th probe is lost; probe 5 is answered three times.
    probe_test::Scripted t(clock, [](std::uint64_t seq) -> std::optional<Nanos> {
        if (seq % 10 == 9) return std::nullopt;
        return seq % 2 ? 30ms : 10ms;
    });
    t.dups = [](std::uint64_t seq) { return seq == 5 ? 2u : 0u; };
    std::vector<metrics::Record> recs;
    std::vector<metrics::Window> windows;
    probe::ProbeCallbacks cb;
    cb.record = [&](const metrics::Record& r) { recs.push_back(r); };
    cb.window = [&](const metrics::Window& w, std::int64_t) { windows.push_back(w); };
    std::atomic<bool> stop{false};
    auto run = probe::run_probe(options(100, 3s, 500ms), t, clock, stop, cb);
    REQUIRE(run);

    // The grid: slot i at t0 + i * 10 ms, exactly (no drift, no timer error).
    REQUIRE(recs.size() == 300);
    const std::int64_t t0 = run->t0_ns;
    CHECK(t0 == Nanos(1000s + 20ms).count());
    for (std::size_t i = 0; i < recs.size(); ++i) {
        CHECK(recs[i].seq == i);
        CHECK(recs[i].send.count() == t0 + std::int64_t(i) * 10'000'000);
        CHECK(t.sends[i] == recs[i].send.count());
    }
    CHECK(run->timing.error_max_ns == 0.0);
    CHECK(run->timing.late_by_a_period == 0);

    // Three 1 s windows of 100 probes, 90 answered: 50 at 10 ms and 40 at 30 ms (the lost
    // ones are odd). Sample sd: mean 170/9 ms, squares 50 (80/9)^2 + 40 (100/9)^2 over 89.
    REQUIRE(windows.size() == 3);
    const double sd = std::sqrt((50 * std::pow(80.0 / 9, 2) + 40 * std::pow(100.0 / 9, 2)) / 89) * 1e6;
    for (const auto& w : windows) {
        CHECK(w.sent == 100);
        CHECK(w.received == 90);
        CHECK(w.loss == Approx(0.1));
        REQUIRE(w.jitter_ns);
        CHECK(*w.jitter_ns == Approx(sd).epsilon(1e-12));
    }
    CHECK(recs[9].rtt == std::nullopt);
    CHECK(recs[1].rtt == 30ms);
    CHECK(recs[5].dups == 2);
    const auto& s = run->summary;
    CHECK(s.sent == 300);
    CHECK(s.lost == 30);
    CHECK(s.duplicates == 2);
    CHECK(s.p50 == metrics::quantize(10ms));
    CHECK(s.p99 == metrics::quantize(30ms));
    // Each answered odd probe (30 ms) is overtaken by the next one (sent 10 ms later, back
    // in 10 ms): 40 reordered replies per window.
    CHECK(s.reordered == 120);
    // The summary is exactly what metrics::summarize says about the records.
    CHECK(s == metrics::summarize(recs, Nanos{t0}, recs.back().send + 1ns, metrics::Config{}));
}

TEST_CASE("prober: a reply after the timeout is a loss; a stop request ends the run early") {
    ManualClock clock;
    std::atomic<bool> stop{false};
    probe_test::Scripted t(clock, [&](std::uint64_t seq) -> std::optional<Nanos> {
        if (seq == 150) stop = true;   // like SIGINT mid-run, seen by the sender's next slot
        return seq == 3 ? 600ms : 1ms;
    });
    std::vector<metrics::Record> recs;
    probe::ProbeCallbacks cb;
    cb.record = [&](const metrics::Record& r) { recs.push_back(r); };
    auto run = probe::run_probe(options(100, 10s, 500ms), t, clock, stop, cb);
    REQUIRE(run);
    CHECK(run->interrupted);
    CHECK(recs.at(3).rtt == std::nullopt);   // 600 ms > 500 ms timeout
    CHECK(run->summary.sent == 151);
    CHECK(run->summary.sent == recs.size());
    CHECK(run->summary.lost == 1);
}
