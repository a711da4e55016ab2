// The runner against fakes: verdicts (pass, SLO miss, fidelity miss, command failure), the
// order of apply/clear (replace, never clear-then-apply), and rollback on stop and failure.
#include <catch2/catch.hpp>
#include <csignal>
#include <cstring>

#include "cli/exit_codes.hpp"
#include "fakes.hpp"
#include "trace/trace.hpp"

#include <filesystem>
#include <unistd.h>

using namespace fakes;
using namespace netchaos::profile;

namespace {

// The exit code `netchaos run` ends with: the runner's Ending through the CLI's one mapping.
int code(const netchaos::experiment::RunOutcome& o) { return netchaos::cli::exit_code(o.ending); }
struct Bench {
    FakeTimer timer;
    FakeTarget target{timer};
    FakeProbe probe{timer, target};
    FakeCommand command{timer, 5'000'000'000, 0};
    Runner runner{target, probe, command, timer};
    std::atomic<int> stop{0};
    std::vector<std::string> progress;
    RunOutcome run(const Experiment& e, std::vector<std::string> cmd = {}) {
        RunOptions o;
        o.command = std::move(cmd);
        o.on_progress = [this](const std::string& l) { progress.push_back(l); };
        return runner.run(e, make_plan(e), o, stop);
    }
    int clears_between_applies() const {
        int n = 0;
        for (std::size_t i = 1; i + 1 < target.history.size(); ++i)
            n += !target.history[i].applied && target.history[i - 1].applied && target.history[i + 1].applied;
        return n;
    }
};

// Reordering jitter: the RTTs are the requested normal(35, 10) itself (order preservation
// at 100/s would shift them; that is tested in fidelity_test.cpp).
Experiment two_phases() {
    auto e = make_experiment({Phase{.name = "morning", .duration = 10s, .profile = delay_profile("pgm", 35ms, 10ms)},
                              Phase{.name = "calm", .duration = 5s, .profile = delay_profile("calm", 5ms, 1ms)}});
    for (auto& ph : e.phases) ph.profile.egress->delay->order = JitterOrder::reorder;
    return e;
}
}  // namespace

TEST_CASE("runner: a faithful emulator and met thresholds pass (exit 0)") {
    Bench b;
    auto out = b.run(two_phases());
    INFO(netchaos::report::summary_table(out.report));
    CHECK(code(out) == 0);
    REQUIRE(out.report.phases.size() == 4);
    CHECK(out.report.phases[1].name == "morning");
    CHECK(out.report.phases[1].stats.rtt_mean_ns / 1e6 == Approx(35.2).margin(1.0));
    REQUIRE(out.report.phases[1].fidelity.size() == 1);
    CHECK(out.report.phases[1].fidelity[0].pass);
    CHECK(out.report.phases[3].kind == "recovery");
    CHECK(out.report.phases[3].fidelity[0].pass);   // back to baseline
    REQUIRE(b.progress.size() == 4);                 // one line per phase
    INFO(b.progress[1]);
    CHECK(b.progress[1].find("fidelity ok") != std::string::npos);   // live estimate after the settle period
    // apply, apply (replace), clear: never a clear between two faults.
    REQUIRE(b.target.history.size() == 3);
    CHECK(b.clears_between_applies() == 0);
    CHECK_FALSE(b.target.history.back().applied);
    CHECK(out.report.duration_s == Approx(21.0).margin(0.01));
}

TEST_CASE("runner: an SLO miss exits 1 and names the threshold") {
    Bench b;
    auto e = two_phases();
    e.phases[0].thresholds.p99_rtt_max = 40ms;   // normal(35, 10) has p99 ~ 58 ms
    auto out = b.run(e);
    CHECK(code(out) == 1);
    CHECK(out.report.verdict == "SLO missed");
    bool found = false;
    for (const auto& c : out.report.phases[1].checks) found |= c.name == "p99_rtt_max" && !c.pass;
    CHECK(found);
}

TEST_CASE("runner: the live fidelity estimate leaves out windows that straddle a switch") {
    Bench b;
    auto e = two_phases();
    e.baseline = 2500ms;   // the switch to 35 ms falls inside the probe's window [2 s, 3 s)
    auto out = b.run(e);
    REQUIRE(b.progress.size() == 4);
    INFO(b.progress[1]);
    CHECK(b.progress[1].find("fidelity ok") != std::string::npos);
    CHECK(out.report.phases[1].fidelity.at(0).pass);
    // ...and so do its rtt and sigma: normal(35 ms, 10 ms), not a mix with the 0.2 ms baseline.
    auto field = [&](const char* name) {
        auto at = b.progress[1].find(name);
        REQUIRE(at != std::string::npos);
        return std::stod(b.progress[1].substr(at + std::strlen(name)));
    };
    CHECK(field(" rtt ") == Approx(35).margin(1.5));
    CHECK(field(" sigma ") == Approx(10).margin(1.0));
}

TEST_CASE("runner: p99_drift_max compares with the steady state, or with the phase drift_baseline names") {
    auto e = two_phases();
    e.phases[1].thresholds.p99_drift_max = 2.0;   // calm (5 ms) against...
    auto drift_of = [](const RunOutcome& o, std::size_t phase) -> const netchaos::report::Check* {
        for (const auto& c : o.report.phases[phase].checks)
            if (c.name == "p99_drift_max") return &c;
        return nullptr;
    };
    Bench steady;
    auto a = steady.run(e);   // ...the fault-free steady state: far more than 200%
    REQUIRE(drift_of(a, 2));
    CHECK_FALSE(drift_of(a, 2)->pass);
    e.drift_baseline = "morning";
    e.phases[0].thresholds.p99_drift_max = 2.0;   // the reference phase is not checked against itself
    Bench phase;
    auto b = phase.run(e);    // ...the morning phase (35 ms +- 10 ms): calm's p99 is below it
    REQUIRE(drift_of(b, 2));
    CHECK(drift_of(b, 2)->pass);
    CHECK(drift_of(b, 2)->value < 0);
    CHECK_FALSE(drift_of(b, 1));
}

TEST_CASE("runner: truncation at zero is predicted (exit 0); an emulator that delivers half the jitter exits 2") {
    auto e = make_experiment({Phase{.name = "wide", .duration = 20s, .profile = delay_profile("x", 10ms, 50ms)}});
    Bench b;
    auto out = b.run(e);
    INFO(netchaos::report::summary_table(out.report));
    CHECK(code(out) == 0);
    const auto& f = out.report.phases[1].fidelity.at(0);
    CHECK(f.predicted_mean_ms > f.requested_mean_ms * 1.5);   // E[max(0,N(10,50))] ~ 25 ms, and FIFO on top
    auto j = make_experiment({Phase{.name = "jitter", .duration = 20s, .profile = delay_profile("j", 80ms, 25ms)}});
    Bench half;
    half.probe.jitter_scale = 0.5;
    auto h = half.run(j);
    INFO(netchaos::report::summary_table(h.report));
    CHECK(code(h) == 2);
    CHECK_FALSE(h.report.phases[1].fidelity.at(0).pass);
    // A no-fault step whose path got noisier is never exit 2 (the recovery here is quiet).
    Bench same;
    CHECK(code(same.run(j)) == 0);
    // fidelity = "warn" (per phase) reports the miss and keeps the exit code.
    j.phases[0].fidelity = FidelityMode::warn;
    Bench warned;
    warned.probe.jitter_scale = 0.5;
    auto w = warned.run(j);
    CHECK(code(w) == 0);
    CHECK(w.report.phases[1].fidelity.at(0).warning);
}

TEST_CASE("runner: fidelity outranks SLO (exit 2 when both miss)") {
    Bench b;
    b.probe.jitter_scale = 0.5;
    auto e = make_experiment({Phase{.name = "jitter", .duration = 20s, .profile = delay_profile("j", 80ms, 25ms)}});
    e.phases[0].thresholds.p99_rtt_max = 1ms;
    CHECK(code(b.run(e)) == 2);
}

TEST_CASE("runner: the command runs under chaos; its failure exits 1; a long command holds the last phase") {
    Bench b;
    b.command.status = 3;
    b.command.runtime_ns = 40'000'000'000;   // longer than the 15 s of phases
    auto out = b.run(two_phases(), {"make", "test"});
    CHECK(code(out) == 1);
    REQUIRE(out.report.command);
    CHECK(out.report.command->exit_code == 3);
    CHECK(out.report.command->duration_s == Approx(40).margin(1.1));
    CHECK(b.command.started == 1'000'000'000'000 + 3'000'000'000);   // from the first phase on
    CHECK(out.report.phases[2].end_s - out.report.phases[2].start_s == Approx(30).margin(1.1));   // 3 s + 40 s - 13 s
    CHECK_FALSE(b.target.history.back().applied);   // cleared only after the command finished
    CHECK(b.target.history.back().t >= b.command.started + b.command.runtime_ns);
}

TEST_CASE("runner: a stop request rolls back, stops the command and exits 128+signal") {
    Bench b;
    b.command.runtime_ns = 1'000'000'000'000;
    b.timer.on_sleep = [&](std::int64_t t) {
        if (t >= 1'000'000'000'000 + 6'000'000'000) b.stop = SIGTERM;
    };
    auto out = b.run(two_phases(), {"sleep", "1000"});
    CHECK(code(out) == 143);
    CHECK(b.command.terminated);
    REQUIRE_FALSE(b.target.history.empty());
    CHECK_FALSE(b.target.history.back().applied);   // rolled back
    CHECK(out.report.verdict == "interrupted (SIGTERM)");
    CHECK(out.report.phases.size() == 2);          // baseline + the interrupted phase
}

TEST_CASE("runner: a lost watchdog lease stops the timeline, rolls back and exits 4 with the reason") {
    Bench b;
    RunOptions o;
    int ticks = 0;
    // The third renewal within the first phase finds the watchdog gone (it fired, rolled back).
    o.on_tick = [&] {
        if (!b.target.history.empty() && ++ticks == 3) b.stop = stop_lease_lost;
    };
    const Experiment e = two_phases();
    auto out = b.runner.run(e, make_plan(e), o, b.stop);
    CHECK(code(out) == 4);
    CHECK(out.report.verdict == "system error (watchdog lease lost)");
    REQUIRE_FALSE(out.report.notes.empty());
    CHECK(out.report.notes.back().find("lease was lost") != std::string::npos);
    REQUIRE_FALSE(b.target.history.empty());
    CHECK_FALSE(b.target.history.back().applied);   // rolled back again
    int applies = 0;
    for (const auto& h : b.target.history) applies += h.applied.has_value();
    CHECK(applies == 1);                            // "calm" was never applied
    CHECK(b.timer.t < 1'000'000'000'000 + 15'000'000'000);   // it did not sit out the plan
}

TEST_CASE("runner: a failed apply rolls back whatever was applied and exits with its code") {
    Bench b;
    b.target.fail_on_apply = 1;   // the second phase
    auto out = b.run(two_phases());
    CHECK(code(out) == 4);
    CHECK_FALSE(b.target.history.back().applied);
    CHECK(out.report.notes.at(0).find("boom") != std::string::npos);
}

TEST_CASE("runner: a ramp gets one fidelity entry per step") {
    Bench b;
    Profile a = delay_profile("a", 10ms, 2ms), z = delay_profile("z", 50ms, 10ms);
    a.egress->delay->order = z.egress->delay->order = JitterOrder::reorder;
    auto e = make_experiment({Phase{.name = "ramp", .duration = 20s, .profile = a, .ramp = Ramp{a, z, 4}}});
    auto out = b.run(e);
    CHECK(code(out) == 0);
    REQUIRE(out.report.phases[1].fidelity.size() == 4);
    CHECK(out.report.phases[1].fidelity[3].predicted_mean_ms == Approx(50.2).margin(0.2));
    CHECK(b.target.history.size() == 5);   // 4 applies, 1 clear
}

TEST_CASE("runner: a no-fault phase with 1 ms of CPU noise is never exit 2; exit 1 only when a threshold says so") {
    Phase quiet{.name = "quiet", .duration = 5s};
    quiet.profile.name = "quiet";
    auto e = make_experiment({Phase{.name = "jitter", .duration = 10s, .profile = delay_profile("j", 20ms, 2ms)}, quiet});
    Bench b;
    b.probe.idle_noise_ms = 1.0;
    b.probe.noise_from = 1'000'000'000'000 + 3'000'000'000;   // after the steady state
    auto out = b.run(e);
    INFO(netchaos::report::summary_table(out.report));
    CHECK(code(out) == 0);
    REQUIRE(out.report.phases.size() == 4);
    CHECK(out.report.phases[2].stats.rtt_mean_ns > 0.7e6);   // the noise is there (0.2 ms quiet path + ~0.8)
    for (std::size_t i : {2, 3}) {
        REQUIRE(out.report.phases[i].fidelity.size() == 1);
        CHECK_FALSE(out.report.phases[i].fidelity[0].applicable);
        CHECK(out.report.phases[i].fidelity[0].rule.find("no fault requested") == 0);
    }
    // A recovery SLO that the noise breaks: exit 1, an SLO finding.
    e.phases[1].thresholds.p99_rtt_max = 1ms;
    Bench c;
    c.probe.idle_noise_ms = 1.0;
    c.probe.noise_from = b.probe.noise_from;
    CHECK(code(c.run(e)) == 1);
}

// Issue 18 item 1: fail fast. Each case ran blind before: every phase "passed" with 0 replies.
namespace {
bool has_note(const RunOutcome& o, const std::string& text) {
    for (const auto& n : o.report.notes)
        if (n.find(text) != std::string::npos) return true;
    return false;
}
std::string notes_of(const RunOutcome& o) {
    std::string s;
    for (const auto& n : o.report.notes) s += n + "\n";
    return s;
}
}  // namespace

TEST_CASE("runner: no reply in the steady state stops before the first fault (exit 4, nothing applied)") {
    Bench b;
    b.probe.deaf_after_ns = 0;
    auto out = b.run(two_phases());
    INFO(notes_of(out));
    CHECK(code(out) == 4);
    CHECK(out.report.verdict == "system error");
    CHECK(b.target.history.empty());   // no fault, nothing to roll back
    CHECK(has_note(out, "no reply in the steady state"));
    // It waited one window + one timeout + 1 s past the 3 s baseline, not the 21 s plan.
    CHECK(double(b.timer.t - 1'000'000'000'000) / 1e9 < 7.0);
    // The steady-state row does not pass on 100% loss: it failed, and says why.
    REQUIRE_FALSE(out.report.phases.empty());
    const auto& steady = out.report.phases.front();
    CHECK(steady.kind == "baseline");
    CHECK(steady.stats.sent > 0);
    CHECK(steady.stats.received == 0);
    CHECK_FALSE(steady.pass());
    CHECK(std::any_of(steady.checks.begin(), steady.checks.end(), [](const auto& c) {
        return c.name == "replies" && !c.pass && c.detail.find("none answered") != std::string::npos;
    }));
}

TEST_CASE("runner: a probe that dies during a phase rolls back and exits 4 with its reason") {
    Bench b;
    b.probe.dies_after_ns = 6'000'000'000;   // 3 s into "morning"
    auto out = b.run(two_phases());
    INFO(notes_of(out));
    CHECK(code(out) == 4);
    CHECK(has_note(out, "port unreachable (during 'morning')"));
    REQUIRE_FALSE(b.target.history.empty());
    CHECK_FALSE(b.target.history.back().applied);   // rolled back
    CHECK(double(b.timer.t - 1'000'000'000'000) / 1e9 < 8.0);
}

TEST_CASE("runner: no reply for max_silence during a phase rolls back and exits 4; a blackhole phase is exempt") {
    Bench b;
    b.probe.deaf_after_ns = 5'000'000'000;   // 2 s into "morning"
    auto e = two_phases();
    e.probe.max_silence = 3s;
    auto out = b.run(e);
    INFO(notes_of(out));
    CHECK(code(out) == 4);
    CHECK(has_note(out, "no reply for 3.0 s during 'morning' (max_silence 3.0 s)"));
    CHECK_FALSE(b.target.history.back().applied);

    Bench hole;
    hole.probe.deaf_after_ns = 5'000'000'000;
    auto blackhole = two_phases();
    blackhole.probe.max_silence = 3s;
    blackhole.phases[0].profile.egress->loss = Loss{RandomLoss{1.0, 0}};
    blackhole.phases.resize(1);
    blackhole.baseline = 0s;   // no steady state after: the fake stays deaf
    auto fine = hole.run(blackhole);
    INFO(notes_of(fine));
    CHECK_FALSE(has_note(fine, "no reply for"));
}

TEST_CASE("runner: recovery statistics leave out a settle time, written in the report (issue 18 item 6)") {
    Bench b;
    auto out = b.run(two_phases());
    REQUIRE(out.report.phases.size() == 4);
    const auto& rec = out.report.phases[3];
    CHECK(rec.kind == "recovery");
    CHECK(rec.settle_s == Approx(0.5));
    CHECK(out.report.phases[1].settle_s == 0);
    CHECK(rec.stats.sent == 250);   // 3 s at 100/s, less the first 0.5 s
    CHECK_THAT(netchaos::report::summary_table(out.report), Catch::Matchers::Contains("steady-state-after: the first 0.50 s are left out"));
}

TEST_CASE("runner: [phase] replay_check passes a replay of the recorded phase and misses a different one") {
    // Record the morning phase of one run as a trace ...
    Bench first;
    auto rec = first.run(two_phases());
    const auto& morning = rec.report.phases[1];
    netchaos::trace::Trace t;
    std::uint64_t seq = 0;
    for (const auto& p : rec.report.timeline)
        if (p.t_s >= morning.start_s && p.t_s < morning.end_s)
            t.records.push_back({seq++, std::chrono::nanoseconds(std::llround(p.t_s * 1e9)),
                                 p.lost ? std::nullopt : std::optional(std::chrono::nanoseconds(std::llround(p.rtt_ms * 1e6)))});
    const auto file = std::filesystem::temp_directory_path() / ("nc-replay-gate-" + std::to_string(::getpid()) + ".ncr");
    REQUIRE(netchaos::trace::write(file, t));
    // ... and gate a second run's morning on it: ~1000 probes a side, so D's 0.1% critical value
    // is 0.087; the limit here is 0.1.
    Bench same;
    auto e = two_phases();
    e.phases[0].replay_check = ReplayCheckSpec{file, 0.1, 0.9};
    auto ok = same.run(e);
    const auto* c = [&]() -> const netchaos::report::Check* {
        for (const auto& x : ok.report.phases[1].checks)
            if (x.name == "replay_check") return &x;
        return nullptr;
    }();
    REQUIRE(c);
    INFO(c->detail);
    CHECK(c->pass);
    CHECK(c->value < 0.1);
    CHECK_FALSE(ok.report.phases[1].replay_jitter_original_ms.empty());
    CHECK(code(ok) == 0);
    CHECK(netchaos::report::to_html(ok.report).find("class=\"plot replay-jitter\"") != std::string::npos);

    Bench other;
    auto slower = two_phases();
    slower.phases[0].profile.egress->delay->mean = 55ms;
    slower.phases[0].replay_check = ReplayCheckSpec{file, 0.1, 0.9};
    auto miss = other.run(slower);
    CHECK(code(miss) == 1);
    bool missed = false;
    for (const auto& x : miss.report.phases[1].checks) missed |= x.name == "replay_check" && !x.pass && x.value > 0.5;
    CHECK(missed);
    // A resolution of 1 ms (replay_check = { ..., resolution = "1ms" }) does not hide a 20 ms
    // shift: the gated D_eps still misses.
    Bench third;
    slower.phases[0].replay_check = ReplayCheckSpec{file, 0.1, 0.9, 1ms};
    auto still = third.run(slower);
    CHECK(code(still) == 1);
    bool missed_within = false;
    for (const auto& x : still.report.phases[1].checks)
        missed_within |= x.name == "replay_check" && !x.pass && x.value > 0.5 && x.detail.find("within 1.000 ms") != std::string::npos;
    CHECK(missed_within);
    std::filesystem::remove(file);
}
