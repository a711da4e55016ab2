// The promise issue 10 makes: `netchaos probe` and `netchaos run` give the same figures for
// the same packets. One record file goes through both paths:
//  - probe: records fed window by window into metrics::Accumulator as the prober closes
//    them (windows end at origin + k * window; the last one holds the last send), then
//    probe::outcomes and the summary JSON line;
//  - run:   the CSV read back by the runner's reader and judged by experiment::evaluate
//    (a baseline step and a fault phase, with p99 drift against the baseline).
// Every figure of the summary must be identical, and so must every threshold's verdict.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.hpp"
#include "experiment/runner.hpp"
#include "metrics/io.hpp"
#include "metrics/metrics.hpp"
#include "probe/output.hpp"
#include "probe/prober.hpp"
#include "../probe/scripted.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using metrics::Nanos;
using metrics::Record;

namespace {

const Nanos t0 = 5000s;   // the prober's grid slot 0 (arbitrary monotonic origin)

// 100/s for 10 s of a quiet 12 ms path, then 30 s of a bad morning (120 ms, sigma 100 ms,
// truncated at 0.2 ms, so replies overtake each other and the alert fires), with a burst of loss, a
// second where every probe is lost, a lone lost probe and a few duplicated replies. Sends
// land up to 200 us after their slot, as a real sender's do.
std::vector<Record> recording() {
    Rng rng(20261202);
    auto normal = [&] {
        const double u1 = std::max(1e-12, rng.uniform()), u2 = rng.uniform();
        return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
    };
    std::vector<Record> out;
    for (std::uint64_t i = 0; i < 4000; ++i) {
        Record r{i, t0 + Nanos(std::int64_t(i) * 10'000'000 + std::int64_t(rng.uniform() * 200'000)), std::nullopt, 0};
        const double ms = i < 1000 ? 12 + 0.5 * normal() : std::max(0.2, 120 + 100 * normal());
        const bool lost = (i >= 2000 && i < 2100) || (i >= 2500 && i < 2530 && i % 3) || i == 3333 ||
                          rng.uniform() < 0.002;
        if (!lost) r.rtt = Nanos(std::int64_t(ms * 1e6));
        if (r.rtt && rng.uniform() < 0.01) r.dups = 1 + std::uint32_t(rng.uniform() * 3);
        out.push_back(r);
    }
    return out;
}

profile::Thresholds thresholds() {
    profile::Thresholds th;
    th.jitter_1s_max = 60ms;        // misses in the morning
    th.spike_ratio_max = 0.9;       // passes
    th.p99_rtt_max = 250ms;         // depends on the tail
    th.loss_max = 0.01;             // misses in the morning (100 + 20 + 1 + random lost)
    th.p99_drift_max = 2.0;
    th.alert = profile::AlertRule{};   // ratio > 0.6 and jitter_1s > 80 ms at 3 points of 5 s
    th.spike_level = 50ms;
    return th;
}

experiment::Step step(experiment::Step::Kind kind, const char* phase, int index) {
    experiment::Step s;
    s.kind = kind;
    s.phase = phase;
    s.phase_index = index;
    return s;
}

struct ProbePath {
    metrics::Summary summary;
    std::vector<metrics::Outcome> outcomes;
    nlohmann::ordered_json json;
};

// What `netchaos probe` reports for the probes of one span, its grid starting at `origin`.
ProbePath probe_path(const std::vector<Record>& all, Nanos origin, Nanos end, const profile::Thresholds& th,
                     std::optional<Nanos> baseline_p99) {
    metrics::Accumulator acc(metrics::config_of(th), origin);
    std::vector<Record> span;
    for (const auto& r : all)
        if (r.send >= origin && r.send < end) span.push_back(r);
    REQUIRE_FALSE(span.empty());
    const auto windows = std::size_t((span.back().send - origin) / th.window) + 1;
    std::size_t i = 0;
    for (std::size_t k = 0; k < windows; ++k) {
        const bool last = k + 1 == windows;
        for (; i < span.size() && (last || span[i].send < acc.open_window_end()); ++i) acc.add(span[i]);
        acc.close_window();
    }
    ProbePath p;
    p.summary = acc.finish();
    p.outcomes = probe::outcomes(p.summary, th, baseline_p99);
    p.json = probe::summary_json(p.summary, probe::ProbeRun{}, p.outcomes, {});
    return p;
}

}  // namespace

TEST_CASE("probe and run agree on every figure and every verdict for one record file") {
    const auto recs = recording();
    const auto th = thresholds();

    // The file as `probe --csv` writes it, read back as `run` reads it.
    const auto file = std::filesystem::temp_directory_path() / ("netchaos-agreement-" + std::to_string(getpid()) + ".csv");
    {
        std::ofstream out(file);
        metrics::write_csv_header(out);
        for (const auto& r : recs) metrics::write_csv_row(out, r);
    }
    std::ifstream in(file);
    auto read = metrics::read_csv(in);
    std::filesystem::remove(file);
    REQUIRE(read);
    REQUIRE(*read == recs);

    // The run: a 10 s baseline, then one fault phase until the last probe.
    profile::Experiment e;
    e.name = "agreement";
    e.thresholds = th;
    profile::Phase morning;
    morning.name = "morning";
    morning.thresholds = th;
    e.phases.push_back(morning);
    experiment::Plan plan;
    plan.steps.push_back(step(experiment::Step::Kind::baseline, "steady-state", -1));
    plan.steps.push_back(step(experiment::Step::Kind::fault, "morning", 0));
    const Nanos split = t0 + 10s, end = recs.back().send + 1ns;
    const std::vector<experiment::StepSpan> spans{{0, t0.count(), split.count()}, {1, split.count(), end.count()}};
    const report::Report rep = experiment::evaluate(e, plan, spans, *read, t0.count());
    REQUIRE(rep.phases.size() == 2);

    // The same two spans as two probe runs; the second given the first's p99 as baseline.
    const ProbePath base = probe_path(recs, t0, split, th, std::nullopt);
    const ProbePath fault = probe_path(recs, split, end, th, base.summary.p99);

    for (const auto& [probe, phase] : {std::pair{&base, &rep.phases[0]}, std::pair{&fault, &rep.phases[1]}}) {
        INFO("phase " << phase->name);
        const metrics::Summary& p = probe->summary;
        const metrics::Summary& r = phase->stats;
        // Field by field for a readable failure, then the whole struct (nothing left out).
        CHECK(p.sent == r.sent);
        CHECK(p.received == r.received);
        CHECK(p.lost == r.lost);
        CHECK(p.loss == r.loss);
        CHECK(p.duplicates == r.duplicates);
        CHECK(p.reordered == r.reordered);
        CHECK(p.rtt_mean_ns == r.rtt_mean_ns);
        CHECK(p.rtt_stddev_ns == r.rtt_stddev_ns);
        CHECK(p.rtt_min == r.rtt_min);
        CHECK(p.rtt_max == r.rtt_max);
        CHECK(p.p50 == r.p50);
        CHECK(p.p90 == r.p90);
        CHECK(p.p99 == r.p99);
        CHECK(p.p999 == r.p999);
        CHECK(p.ipdv_mean_ns == r.ipdv_mean_ns);
        CHECK(p.jitter_rfc3550_ns == r.jitter_rfc3550_ns);
        CHECK(p.windows == r.windows);
        CHECK(p.jitter_1s_max_ns == r.jitter_1s_max_ns);
        CHECK(p.spike_ratio == r.spike_ratio);
        CHECK(p.report_points == r.report_points);
        CHECK(p.alert_fired == r.alert_fired);
        CHECK(p.alert_max_consecutive == r.alert_max_consecutive);
        CHECK(p == r);

        // Verdicts: the probe's outcomes (after its own "reachable") are the run's checks,
        // in the same order, with the same values (the report shows loss and drift in %).
        REQUIRE(probe->outcomes.size() == phase->checks.size() + 1);
        CHECK(probe->outcomes[0].name == "reachable");
        for (std::size_t k = 0; k < phase->checks.size(); ++k) {
            const auto& o = probe->outcomes[k + 1];
            const auto& c = phase->checks[k];
            INFO(o.name);
            CHECK(o.name == c.name);
            CHECK(o.pass == c.pass);
            const double scale = c.unit == "%" ? 100.0 : 1.0;
            CHECK(o.value * scale == c.value);
            CHECK(o.limit * scale == c.limit);
        }
        // The JSON line the probe prints carries the same numbers.
        CHECK(probe->json["p99_ms"].get<double>() == double(r.p99.count()) / 1e6);
        CHECK(probe->json["jitter_1s_max_ms"].get<double>() == r.jitter_1s_max_ns / 1e6);
        CHECK(probe->json["duplicates"].get<std::uint64_t>() == r.duplicates);
    }

    // The file exercises what it claims to: the morning misses, the alert fires, replies
    // overtake each other, duplicates and losses are there; the quiet baseline passes.
    const auto& m = fault.summary;
    CHECK(m.alert_fired);
    CHECK(m.reordered > 0);
    CHECK(m.duplicates > 0);
    CHECK(m.loss > 0.01);
    CHECK(m.jitter_1s_max_ns > 60e6);
    CHECK(m.ipdv_mean_ns > 0);
    CHECK(metrics::misses(base.outcomes).empty());
    CHECK_FALSE(metrics::misses(fault.outcomes).empty());
}

TEST_CASE("the real prober replaying the recording and `run` reading its CSV agree") {
    // The prober itself (grid, windows, records, duplicates) on a ManualClock, its replies
    // scripted from the recording's RTTs and duplicate counts; its CSV through `run`.
    const auto rec = recording();
    const auto th = thresholds();
    ManualClock clock;
    clock.set(std::chrono::steady_clock::time_point(t0));
    probe_test::Scripted t(clock, [&](std::uint64_t seq) { return rec.at(seq).rtt; });
    t.dups = [&](std::uint64_t seq) { return rec.at(seq).dups; };
    probe::ProbeOptions o;
    o.rate_hz = 100;
    o.duration = 40s;
    o.timeout = 1s;
    o.metrics = metrics::config_of(th);
    std::stringstream csv;
    metrics::write_csv_header(csv);
    probe::ProbeCallbacks cb;
    cb.record = [&](const metrics::Record& r) { metrics::write_csv_row(csv, r); };
    std::atomic<bool> stop{false};
    auto run = probe::run_probe(o, t, clock, stop, cb);
    REQUIRE(run);
    const auto outcomes = probe::outcomes(run->summary, th, std::nullopt);

    auto read = metrics::read_csv(csv);
    REQUIRE(read);
    REQUIRE(read->size() == rec.size());
    profile::Experiment e;
    e.name = "agreement";
    e.thresholds = th;
    experiment::Plan plan;
    plan.steps.push_back(step(experiment::Step::Kind::baseline, "steady-state", -1));
    const std::vector<experiment::StepSpan> spans{{0, run->t0_ns, read->back().send.count() + 1}};
    const report::Report rep = experiment::evaluate(e, plan, spans, *read, run->t0_ns);
    REQUIRE(rep.phases.size() == 1);
    const auto& r = rep.phases[0].stats;
    CHECK(run->summary == r);
    CHECK(r.duplicates > 0);
    CHECK(r.alert_fired);
    REQUIRE(outcomes.size() == rep.phases[0].checks.size() + 1);
    for (std::size_t k = 0; k < rep.phases[0].checks.size(); ++k) {
        INFO(outcomes[k + 1].name);
        CHECK(outcomes[k + 1].name == rep.phases[0].checks[k].name);
        CHECK(outcomes[k + 1].pass == rep.phases[0].checks[k].pass);
    }
}
