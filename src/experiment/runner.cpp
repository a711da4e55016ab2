#include "experiment/runner.hpp"

#include <algorithm>
#include <csignal>

#include "experiment/fidelity.hpp"
#include "profile/loss.hpp"
#include "replay/check.hpp"
#include "trace/trace.hpp"

namespace netchaos::experiment {

using namespace profile;

namespace {
// Packets sent in the first moments of a step still carry the previous step's queueing:
// leave them out of the fidelity moments (not out of the SLO stats: the service sees them).
std::int64_t settle_ns(std::int64_t span_ns) { return std::min<std::int64_t>(500'000'000, span_ns / 5); }

FidelityMode mode_of(const Experiment& e, const Step& s) {
    if (s.phase_index >= 0 && e.phases[std::size_t(s.phase_index)].fidelity) return *e.phases[std::size_t(s.phase_index)].fidelity;
    return e.fidelity;
}

// What each direction of the emulator saw: the probe's grid (both ways: request and reply)
// plus the cross traffic its counters show beyond it.
std::array<Arrivals, 2> arrivals_of(const Experiment& e, const std::optional<EmulatorTruth>& t) {
    std::array<Arrivals, 2> a;
    for (std::size_t d = 0; d < 2; ++d) {
        a[d].probe_hz = e.probe.rate_hz;
        if (t && t->seconds > 0) a[d].cross_hz = std::max(0.0, double(t->dir[d].rx) / t->seconds - e.probe.rate_hz);
    }
    return a;
}

double tolerance_of(const Experiment& e, const Step& s) {
    if (s.phase_index >= 0 && e.phases[std::size_t(s.phase_index)].thresholds.fidelity_tolerance)
        return *e.phases[std::size_t(s.phase_index)].thresholds.fidelity_tolerance;
    return e.thresholds.fidelity_tolerance.value_or(0.10);
}

const Thresholds& thresholds_of(const Experiment& e, const Step& s) {
    return s.phase_index >= 0 ? e.phases[std::size_t(s.phase_index)].thresholds : e.thresholds;
}

// A metrics::Outcome as the report shows it: loss and drift in percent.
report::Check to_check(const metrics::Outcome& o) {
    const bool percent = o.name == "loss_max" || o.name == "p99_drift_max";
    const char* unit = percent ? "%" : o.name == "alert" ? "report points" : o.name == "spike_ratio_max" ? "" : "ms";
    const double k = percent ? 100.0 : 1.0;
    return report::Check{report::Check::Kind::slo, o.name, o.value * k, o.limit * k, unit, o.pass, metrics::describe(o)};
}

// The live windows' figures (metrics::from_windows) for the progress line.
report::Stats from_windows(const std::vector<Window>& ws) {
    std::vector<metrics::Window> w;
    w.reserve(ws.size());
    for (const auto& t : ws) w.push_back(t.window);
    return metrics::from_windows(w);
}

const char* kind_name(Step::Kind k) {
    return k == Step::Kind::baseline ? "baseline" : k == Step::Kind::recovery ? "recovery" : "phase";
}

// Steps grouped by phase, in order: baseline, each phase, recovery.
struct Group {
    std::vector<std::size_t> steps;   // indices into plan.steps with a span
};
std::vector<Group> group_steps(const Plan& plan, const std::vector<StepSpan>& spans) {
    std::vector<Group> g;
    for (std::size_t i = 0; i < spans.size(); ++i) {
        const Step& s = plan.steps[spans[i].step];
        if (!g.empty()) {
            const Step& prev = plan.steps[spans[g.back().steps.back()].step];
            if (prev.kind == s.kind && prev.phase_index == s.phase_index) {
                g.back().steps.push_back(i);
                continue;
            }
        }
        g.push_back({{i}});
    }
    return g;
}

std::string model_text(const Plan& plan, const std::vector<StepSpan>& spans, const Group& g) {
    const Step& first = plan.steps[spans[g.steps.front()].step];
    if (first.kind != Step::Kind::fault) return "";
    if (g.steps.size() == 1) return describe(first.profile);
    const Step& last = plan.steps[spans[g.steps.back()].step];
    return "ramp " + describe(first.profile) + "  ->  " + describe(last.profile);
}
}  // namespace

namespace {
// [phase] replay_check: the phase's records against the trace it replays (src/replay). The
// one file read in evaluate(): the trace, which the parser has seen exists.
void check_replay(const profile::ReplayCheckSpec& spec, std::span<const Record> records, report::Phase& ph) {
    report::Check c{report::Check::Kind::slo, "replay_check", 1.0, spec.ks_max, "", false, ""};
    auto original = trace::load(spec.trace);
    trace::Trace replayed;
    replayed.records.assign(records.begin(), records.end());
    if (!original) {
        c.detail = "replay_check: " + original.error().message;
    } else if (replayed.records.empty()) {
        c.detail = "replay_check: the phase has no probe records";
    } else {
        replay::CheckOptions o;
        o.ks_max = spec.ks_max;
        o.r_min = spec.r_min;
        o.resolution_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(spec.resolution).count()) / 1e6;
        auto r = replay::check(*original, replayed, o);
        if (!r) {
            c.detail = "replay_check: " + r.error().message;
        } else {
            c.value = 0;
            for (const auto& p : r->pieces) c.value = std::max(c.value, p.ks_resolved);   // the gated D
            c.pass = r->pass;
            char buf[224];
            const std::string within = o.resolution_ms > 0 ? " within " + std::to_string(o.resolution_ms).substr(0, 5) + " ms" : "";
            std::snprintf(buf, sizeof buf, "replay_check %s: %zu pieces, worst KS D%s %.4f (max %.3f), jitter_1s r %s",
                          spec.trace.filename().c_str(), r->pieces.size(), within.c_str(), c.value, spec.ks_max,
                          r->jitter_r ? std::to_string(*r->jitter_r).substr(0, 5).c_str() : "n/a");
            c.detail = buf;
            for (const auto& m : r->misses) c.detail += "; " + m;
            ph.replay_trace = spec.trace.string();
            for (double v : r->jitter_original_ns) ph.replay_jitter_original_ms.push_back(v / 1e6);
            for (double v : r->jitter_replayed_ns) ph.replay_jitter_replayed_ms.push_back(v / 1e6);
        }
    }
    ph.checks.push_back(std::move(c));
}
}  // namespace

report::Report evaluate(const Experiment& e, const Plan& plan, const std::vector<StepSpan>& spans,
                        const std::vector<Record>& samples, std::int64_t t0_ns) {
    report::Report r;
    r.name = e.name;
    r.description = e.description;
    r.source = e.source.string();
    auto sec = [&](std::int64_t ns) { return double(ns - t0_ns) / 1e9; };
    for (const auto& s : samples)
        r.timeline.push_back({sec(s.send.count()), s.rtt ? static_cast<double>(s.rtt->count()) / 1e6 : -1e-6, !s.rtt});
    if (!spans.empty()) r.duration_s = sec(spans.back().end_ns);

    auto groups = group_steps(plan, spans);
    Moments base{};
    report::Stats base_stats{};
    bool have_base = false;
    // p99_drift_max compares with the steady state, or with the phase drift_baseline names
    // (from the phase after it on): "recovery P99 back near the quiet baseline phase".
    std::optional<report::Stats> drift_ref;
    for (const auto& g : groups) {
        const StepSpan& a = spans[g.steps.front()];
        const StepSpan& b = spans[g.steps.back()];
        const Step& first = plan.steps[a.step];
        const Thresholds& th = thresholds_of(e, first);
        report::Phase ph;
        ph.name = first.phase;
        ph.kind = kind_name(first.kind);
        ph.profile = first.kind == Step::Kind::fault ? first.profile.name : "none";
        if (first.kind == Step::Kind::fault && first.steps > 1 && !e.phases[std::size_t(first.phase_index)].ramp)
            ph.profile = e.phases[std::size_t(first.phase_index)].profile.name + " (trace, " + std::to_string(first.steps) + " netem steps)";
        else if (first.kind == Step::Kind::fault && first.steps > 1)
            ph.profile = e.phases[std::size_t(first.phase_index)].ramp->from.name + " -> " +
                         e.phases[std::size_t(first.phase_index)].ramp->to.name;
        ph.model = model_text(plan, spans, g);
        ph.start_s = sec(a.start_ns);
        ph.end_s = sec(b.end_ns);
        // Recovery: packets sent just after the rollback still queue behind those the fault
        // delayed (order-preserving jitter), so its statistics start after the settle time
        // the fidelity check uses too, and the report says so.
        std::int64_t from = a.start_ns;
        if (first.kind == Step::Kind::recovery) {
            from += settle_ns(b.end_ns - a.start_ns);
            ph.settle_s = double(from - a.start_ns) / 1e9;
        }
        const auto records = slice(samples, from, b.end_ns);
        ph.stats = metrics::summarize(records, metrics::Nanos{from}, metrics::Nanos{b.end_ns}, metrics::config_of(th));
        for (const auto& s : records)
            if (s.rtt) ph.rtt_ms.push_back(static_cast<double>(s.rtt->count()) / 1e6);
        const report::Stats* ref = nullptr;
        if (e.drift_baseline.empty()) ref = have_base && first.kind != Step::Kind::baseline ? &base_stats : nullptr;
        else if (drift_ref && first.kind == Step::Kind::fault) ref = &*drift_ref;
        for (const auto& o : metrics::evaluate(ph.stats, th, ref ? std::optional(ref->p99) : std::nullopt))
            ph.checks.push_back(to_check(o));
        // A steady state (or recovery) with probes sent and none answered shows nothing: a
        // row that passes on 100% loss would hide a dead probe or reflector. A fault phase
        // may ask for total loss, so it is not held to this.
        if (first.kind != Step::Kind::fault && ph.stats.sent > 0 && ph.stats.received == 0)
            ph.checks.push_back({report::Check::Kind::slo, "replies", 0, 1, "", false,
                                 std::to_string(ph.stats.sent) + " probes sent, none answered: the " +
                                     std::string(first.kind == Step::Kind::baseline ? "steady state" : "recovery") +
                                     " could not be measured"});
        if (first.kind == Step::Kind::fault && ph.name == e.drift_baseline) drift_ref = ph.stats;
        if (first.kind == Step::Kind::fault && e.phases[std::size_t(first.phase_index)].replay_check)
            check_replay(*e.phases[std::size_t(first.phase_index)].replay_check, records, ph);

        std::vector<std::pair<Profile, double>> mixture;
        std::array<Arrivals, 2> mix_arrivals = arrivals_of(e, std::nullopt);
        const Margins margins = margins_of(ph.stats, th, ref);
        for (std::size_t k : g.steps) {
            const StepSpan& sp = spans[k];
            const Step& st = plan.steps[sp.step];
            auto m = rtt_moments(slice(samples, sp.start_ns + settle_ns(sp.end_ns - sp.start_ns), sp.end_ns));
            double tol = tolerance_of(e, st);
            if (st.kind == Step::Kind::baseline) {
                base = m;
                base_stats = ph.stats;
                have_base = m.n >= 2;
                mixture.emplace_back(Profile{}, 1.0);
                continue;
            }
            // Recovery and fault steps alike: predicted under the profile's semantics (a
            // step that requests nothing predicts the baseline and is never a failure).
            const auto arr = arrivals_of(e, sp.truth);
            Prediction p = predict(st.kind == Step::Kind::recovery ? Profile{} : st.profile, base, arr);
            if (!have_base && p.fault) p.applicable = false, p.note = "no baseline";
            ph.fidelity.push_back(check_fidelity(st.kind == Step::Kind::recovery ? "steady state" : st.label(), p, m,
                                                 sp.truth, tol, margins, mode_of(e, st)));
            if (ph.fidelity.back().engine) ph.fidelity.back().engine->cross_hz = arr[0].cross_hz;
            mixture.emplace_back(st.kind == Step::Kind::recovery ? Profile{} : st.profile, double(sp.end_ns - sp.start_ns));
            if (sp.truth) mix_arrivals = arr;
        }
        if (base.n >= 2) ph.density = predicted_density(mixture, base, mix_arrivals);
        r.phases.push_back(std::move(ph));
    }
    return r;
}

Ending verdict_of(const report::Report& r, std::string& verdict) {
    bool fidelity = false, slo = false, engine = false;
    for (const auto& p : r.phases) {
        for (const auto& f : p.fidelity) {
            fidelity |= !f.pass;
            engine |= !f.pass && f.engine && !f.engine->pass;
        }
        for (const auto& c : p.checks) {
            if (c.pass) continue;
            if (c.kind == report::Check::Kind::fidelity) fidelity = true;
            else slo = true;
        }
    }
    bool cmd = r.command && r.command->exit_code != 0;
    if (fidelity) {
        verdict = engine ? "fidelity missed: the forwarder's engine did not draw the requested delay model"
                         : "fidelity missed: the emulator did not deliver the requested delay model";
        return {Ending::Kind::fidelity_missed};
    }
    if (slo || cmd) {
        verdict = slo && cmd ? "SLO missed and command failed" : slo ? "SLO missed" : "command failed under chaos";
        return {Ending::Kind::slo_missed};
    }
    verdict = "pass";
    return {Ending::Kind::pass};
}

RunOutcome Runner::run(const Experiment& e, const Plan& plan, const RunOptions& opt, const std::atomic<int>& stop) {
    RunOutcome out;
    std::vector<StepSpan> spans;
    std::vector<Window> windows;
    std::vector<std::string> notes;
    bool applied = false, command_started = false, failed = false;
    std::optional<int> command_status;
    std::int64_t command_start = 0, command_end = 0;
    std::optional<ErrorKind> fail;   // why the run could not be carried out, first cause kept
    const std::int64_t t0 = timer_.now_ns();

    // Fail fast: a probe that died or hears nothing makes the run blind. Windows carry the
    // probe's own time; silence is measured in reported windows, so report lag is no silence.
    std::int64_t last_reply_ns = 0, last_window_ns = t0, window_arrived_ns = t0;
    std::size_t current_step = 0;
    auto blind = [&](std::string why) {
        notes.push_back(std::move(why));
        failed = true;
        fail = ErrorKind::system;
    };
    auto poll_probe = [&] {
        auto w = probe_.poll();
        for (const auto& x : w) {
            last_window_ns = std::max(last_window_ns, x.t_end_ns);
            if (x.window.received > 0) last_reply_ns = std::max(last_reply_ns, x.t_end_ns);
        }
        if (!w.empty()) window_arrived_ns = timer_.now_ns();
        windows.insert(windows.end(), w.begin(), w.end());
    };
    auto check_probe = [&] {
        if (failed) return;
        const Step& s = plan.steps[current_step];
        if (auto why = probe_.failure()) return blind(*why + " (during '" + s.phase + "')");
        const std::int64_t max_silence = e.probe.max_silence.count();
        if (max_silence <= 0) return;
        bool drops_all = false;   // a blackhole phase is silent on purpose
        if (s.kind == Step::Kind::fault)
            for (const auto* imp : {&main_egress(s.profile), &main_ingress(s.profile)})
                drops_all |= *imp && (*imp)->loss && summarize((*imp)->loss->model).mean_loss >= 0.99;
        const std::int64_t since = std::max(last_reply_ns, spans.empty() ? t0 : spans.back().start_ns);
        char buf[160];
        if (!drops_all && last_window_ns - since >= max_silence) {
            std::snprintf(buf, sizeof buf, "the probe got no reply for %.1f s during '%s' (max_silence %.1f s): it is blind, so the run stops",
                          double(last_window_ns - since) / 1e9, s.phase.c_str(), double(max_silence) / 1e9);
            return blind(buf);
        }
        const std::int64_t quiet = timer_.now_ns() - window_arrived_ns;
        if (quiet >= max_silence + 5'000'000'000) {
            std::snprintf(buf, sizeof buf, "the probe reported nothing for %.1f s during '%s': it is stuck or gone", double(quiet) / 1e9, s.phase.c_str());
            return blind(buf);
        }
    };
    auto poll_command = [&] {
        if (command_started && !command_status) {
            command_status = command_.poll();
            if (command_status) command_end = timer_.now_ns();
        }
    };
    // Sleep to `until` in ticks, renewing the lease and collecting windows.
    auto wait = [&](std::int64_t until) {
        while (!stop.load() && !failed) {
            std::int64_t now = timer_.now_ns();
            if (now >= until) break;
            timer_.sleep_until(std::min(until, now + opt.tick_ns), stop);
            if (opt.on_tick) opt.on_tick();
            poll_probe();
            poll_command();
            check_probe();
        }
    };
    // Before the first fault: the probe must have heard a reply in the steady state, or
    // every phase would "pass" with sent N received 0. Its first window reports one window
    // plus one timeout after the start, so wait that long for it at most.
    auto steady_state_heard = [&] {
        const std::int64_t window_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(e.thresholds.window).count();
        const std::int64_t deadline = timer_.now_ns() + window_ns + e.probe.timeout.count() + 1'000'000'000;
        poll_probe();
        while (last_reply_ns == 0 && !failed && !stop.load() && timer_.now_ns() < deadline) {
            timer_.sleep_until(std::min(deadline, timer_.now_ns() + 100'000'000), stop);
            if (opt.on_tick) opt.on_tick();
            poll_probe();
            if (auto why = probe_.failure()) blind(*why + " (before the first fault)");
        }
        if (failed || stop.load()) return false;
        if (last_reply_ns == 0) {
            char buf[300];
            std::snprintf(buf, sizeof buf, "the probe got no reply in the steady state (%.1f s, before any fault): check that a reflector answers at %s (netchaos reflect)%s; no fault was applied",
                          double(timer_.now_ns() - t0) / 1e9, e.probe.target.c_str(), e.probe.netns.empty() ? "" : (" from netns " + e.probe.netns).c_str());
            blind(buf);
            return false;
        }
        return true;
    };
    auto progress = [&](std::size_t first_span) {
        if (!opt.on_progress || spans.empty()) return;
        const Step& s = plan.steps[spans[first_span].step];
        const std::int64_t window_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(thresholds_of(e, s).window).count();
        // Windows wholly inside the phase, as the final per-packet figures are; a window that
        // straddles the switch mixes both phases' RTTs (0 and 12 ms: a 6 ms sigma). A phase
        // shorter than a window falls back to the windows that end in it.
        std::vector<Window> in, ending;
        for (const auto& w : windows) {
            if (w.t_end_ns <= spans[first_span].start_ns || w.t_end_ns > spans.back().end_ns + 50'000'000) continue;
            ending.push_back(w);
            if (w.t_end_ns - window_ns >= spans[first_span].start_ns - 50'000'000) in.push_back(w);
        }
        if (in.empty()) in = std::move(ending);
        report::Phase ph;
        ph.name = s.phase;
        ph.kind = kind_name(s.kind);
        ph.stats = from_windows(in);
        // Live fidelity estimate from windows; the final verdict uses per-packet samples
        // (and checks each ramp step on its own, which windows cannot).
        // Like the final check, it leaves out the settle period: windows that began before it
        // hold packets still carrying the previous step's delay (a 0 -> 12 ms switch alone
        // gives a 6 ms sigma).
        if (s.kind == Step::Kind::fault && s.steps == 1 && !windows.empty()) {
            const std::int64_t span_ns = spans.back().end_ns - spans[first_span].start_ns;
            const std::int64_t from = spans[first_span].start_ns + settle_ns(span_ns) + window_ns;
            std::vector<Window> bw, settled;
            for (const auto& w : windows)
                if (w.t_end_ns <= spans.front().end_ns) bw.push_back(w);
            for (const auto& w : in)
                if (w.t_end_ns >= from) settled.push_back(w);
            auto bs = from_windows(bw);
            auto ms = from_windows(settled);
            // The step's emulator counters are read by now (the phase just ended), so the live
            // line decides by the same rule as the final table (the engine's draws, when the
            // forwarder has counters), not by the bench's noise.
            const auto& truth = spans.back().truth;
            Prediction p = predict(s.profile, to_ms({bs.received, bs.rtt_mean_ns, bs.rtt_stddev_ns}),
                                   arrivals_of(e, truth), 200'000);
            if (!settled.empty())
                ph.fidelity.push_back(check_fidelity(s.label(), p, to_ms({ms.received, ms.rtt_mean_ns, ms.rtt_stddev_ns}),
                                                     truth, tolerance_of(e, s), margins_of(ph.stats, thresholds_of(e, s), nullptr),
                                                     mode_of(e, s)));
        }
        opt.on_progress(report::progress_line(ph, double(spans.back().end_ns - t0) / 1e9, double(plan.total.count()) / 1e9));
    };

    if (auto r = probe_.start(); !r) {
        out.report.notes.push_back("probe: " + r.error().message);
        out.report.verdict = "system error";
        out.ending = Ending::failure(r.error().kind);
        return out;
    }

    std::size_t phase_first_span = 0;
    bool heard = false;
    // Steps of one phase (a ramp, a trace's netem steps) end on the phase's own schedule, so the
    // time each apply takes does not accumulate over hundreds of 100 ms steps.
    std::int64_t phase_t0 = 0;
    Duration phase_plan0{0};
    for (std::size_t i = 0; i < plan.steps.size() && !stop.load() && !failed; ++i) {
        const Step& s = plan.steps[i];
        current_step = i;
        if (s.kind == Step::Kind::fault && !heard && !(heard = steady_state_heard())) break;
        std::int64_t start = timer_.now_ns();
        if (s.step == 0) phase_t0 = start, phase_plan0 = s.start;
        if (s.kind == Step::Kind::fault) {
            if (auto r = target_.apply_step(s); !r) {
                notes.push_back("apply '" + s.label() + "' failed: " + r.error().message);
                failed = true;
                fail = r.error().kind;
                applied = true;  // a half-applied profile must be rolled back too
                break;
            }
            applied = true;
        }
        bool last_fault = s.kind == Step::Kind::fault &&
                          (i + 1 == plan.steps.size() || plan.steps[i + 1].kind != Step::Kind::fault);
        bool run_command_here = !opt.command.empty() && !command_started &&
                                (s.kind == Step::Kind::fault || s.kind == Step::Kind::recovery);
        if (s.kind == Step::Kind::recovery && applied) {
            if (auto r = target_.clear(); !r) notes.push_back("rollback failed: " + r.error().message), fail = fail.value_or(ErrorKind::system), failed = true;
            applied = false;
            start = timer_.now_ns();
        }
        if (run_command_here && s.kind == Step::Kind::fault) {
            if (auto r = command_.start(opt.command); !r) {
                notes.push_back("command: " + r.error().message);
                command_status = 127;
            }
            command_started = true;
            command_start = timer_.now_ns();
        }
        spans.push_back({i, start, start, std::nullopt});
        // The emulator's counters over the same span as the fidelity moments: from the end
        // of the settle period to the end of the step.
        std::optional<EmulatorTruth> truth_from;
        if (s.kind != Step::Kind::baseline) {
            wait(start + settle_ns(s.duration.count()));
            truth_from = target_.truth();
            if (truth_from) truth_from->seconds = double(timer_.now_ns()) / 1e9;
        }
        wait(s.step == 0 ? start + s.duration.count() : phase_t0 + (s.start - phase_plan0 + s.duration).count());
        // The command outlives the timeline: hold the last fault until it is done.
        if (last_fault && command_started)
            while (!stop.load() && !command_status) wait(timer_.now_ns() + opt.tick_ns);
        spans.back().end_ns = timer_.now_ns();
        if (truth_from) {
            if (auto t = target_.truth()) {
                t->seconds = double(timer_.now_ns()) / 1e9;
                spans.back().truth = *t - *truth_from;
            }
        }
        bool phase_ends = i + 1 == plan.steps.size() || plan.steps[i + 1].kind != s.kind ||
                          plan.steps[i + 1].phase_index != s.phase_index;
        if (phase_ends) {
            poll_probe();
            progress(phase_first_span);
            phase_first_span = spans.size();
        }
    }

    // Rollback first, whatever happened; then stop the command and the probe.
    if (command_started && !command_status) {
        command_status = command_.terminate();
        command_end = timer_.now_ns();
    }
    if (applied) {
        if (auto r = target_.clear(); !r) {
            notes.push_back("rollback failed: " + r.error().message);
            if (!fail) fail = ErrorKind::system;
        }
    }
    auto samples = probe_.stop();
    if (!samples) notes.push_back("probe: " + samples.error().message);

    out.report = evaluate(e, plan, spans, samples ? *samples : std::vector<Record>{}, t0);
    out.report.target = target_.describe();
    target_.fill_report(out.report);
    out.report.probe = probe_.describe();
    out.report.notes.insert(out.report.notes.end(), notes.begin(), notes.end());
    if (command_started) {
        report::CommandResult c{opt.command, command_status.value_or(-1), double(command_end - command_start) / 1e9,
                                double(command_start - t0) / 1e9, {}, 0};
        c.output_tail = command_.output_tail(c.output_lines);
        out.report.command = std::move(c);
    }
    if (stop.load() == stop_lease_lost) {
        out.report.notes.push_back("the watchdog's lease was lost (no renewal reached it in time): it rolled back, "
                                   "the timeline was stopped and the rollback repeated");
        out.report.verdict = "system error (watchdog lease lost)";
        out.ending = {Ending::Kind::lease_lost};
    } else if (int sig = stop.load()) {
        out.report.notes.push_back(std::string("interrupted by signal ") + std::to_string(sig) + ", rolled back");
        out.report.verdict = sig == SIGINT ? "interrupted (SIGINT)" : sig == SIGTERM ? "interrupted (SIGTERM)" : "interrupted";
        out.ending = {Ending::Kind::interrupted, ErrorKind::system, sig};
    } else if (failed || !samples) {
        out.report.verdict = "system error";
        out.ending = Ending::failure(fail.value_or(ErrorKind::system));
    } else {
        out.ending = verdict_of(out.report, out.report.verdict);
        if (fail) out.ending = Ending::failure(*fail), out.report.verdict = "system error (rollback)";
    }
    return out;
}

}  // namespace netchaos::experiment
