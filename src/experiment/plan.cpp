#include <algorithm>
#include "experiment/plan.hpp"

#include "profile/units.hpp"
#include "fault/trace_delay.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace netchaos::experiment {

using namespace profile;

const char* distribution_name(Distribution d) { return profile::to_string(d).data(); }

std::string format_duration(Duration d) { return profile::format_duration(d); }

std::string Step::label() const {
    if (steps <= 1) return phase;
    return phase + " " + std::to_string(step + 1) + "/" + std::to_string(steps);
}

namespace {
double lerp(double a, double b, double t) { return a + (b - a) * t; }
Duration lerp(Duration a, Duration b, double t) {
    // Round to whole microseconds: that is what the TOML writer and netem carry.
    double ns = lerp(static_cast<double>(a.count()), static_cast<double>(b.count()), t);
    return Duration(static_cast<std::int64_t>(std::llround(ns / 1000.0) * 1000));
}

double loss_p(const std::optional<Loss>& l) {
    if (!l) return 0;
    if (auto* r = std::get_if<RandomLoss>(&l->model)) return r->p;
    if (auto* g = std::get_if<GilbertElliott>(&l->model)) return g->p;
    return 0;
}

std::optional<Impairment> lerp_imp(const std::optional<Impairment>& a, const std::optional<Impairment>& b, double t) {
    if (!a && !b) return std::nullopt;
    Impairment none;
    const Impairment& ia = a ? *a : none;
    const Impairment& ib = b ? *b : none;
    Impairment out = t < 0.5 ? ia : ib;
    if (ia.delay || ib.delay) {
        Delay da = ia.delay.value_or(Delay{}), db = ib.delay.value_or(Delay{});
        Delay d = t < 0.5 ? (ia.delay ? da : db) : (ib.delay ? db : da);
        d.mean = lerp(da.mean, db.mean, t);
        d.jitter = lerp(da.jitter, db.jitter, t);
        d.correlation = lerp(da.correlation, db.correlation, t);
        // A step with no jitter has nothing to reorder; keeping the other end's choice would
        // only make the step's profile warn "reorder = true has no effect without jitter".
        if (d.jitter.count() == 0) d.order = JitterOrder::preserve;
        out.delay = d;
    }
    if (ia.loss || ib.loss) {
        Loss l = t < 0.5 ? ia.loss.value_or(*ib.loss) : ib.loss.value_or(*ia.loss);
        double p = lerp(loss_p(ia.loss), loss_p(ib.loss), t);
        if (auto* r = std::get_if<RandomLoss>(&l.model)) r->p = p;
        else if (auto* g = std::get_if<GilbertElliott>(&l.model)) g->p = p;
        out.loss = l;
    }
    if (ia.rate && ib.rate) {
        Rate r = t < 0.5 ? *ia.rate : *ib.rate;
        r.bytes_per_sec = static_cast<std::uint64_t>(
            std::llround(lerp(double(ia.rate->bytes_per_sec), double(ib.rate->bytes_per_sec), t)));
        out.rate = r;
    }
    return out;
}
}  // namespace

Profile interpolate(const Profile& a, const Profile& b, double t) {
    Profile p = t < 0.5 ? a : b;
    p.egress = lerp_imp(a.egress, b.egress, t);
    p.ingress = lerp_imp(a.ingress, b.ingress, t);
    // Classes are interpolated pairwise when both ends have the same classes (same names and
    // matches, e.g. one [match] ramped); otherwise the nearer end's classes apply as they are.
    const bool same = a.classes.size() == b.classes.size() &&
                      std::equal(a.classes.begin(), a.classes.end(), b.classes.begin(), [](const FlowClass& x, const FlowClass& y) {
                          return x.name == y.name && x.match == y.match;
                      });
    if (same)
        for (std::size_t i = 0; i < p.classes.size(); ++i) {
            p.classes[i].egress = lerp_imp(a.classes[i].egress, b.classes[i].egress, t);
            p.classes[i].ingress = lerp_imp(a.classes[i].ingress, b.classes[i].ingress, t);
        }
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.0f%%", t * 100);
    p.name = a.name + " -> " + b.name + " @" + pct;
    return p;
}

bool has_trace_delay(const Profile& p) {
    auto has = [](const std::optional<Impairment>& imp) { return imp && imp->delay && imp->delay->trace; };
    if (has(p.egress) || has(p.ingress)) return true;
    return std::any_of(p.classes.begin(), p.classes.end(), [&](const FlowClass& c) { return has(c.egress) || has(c.ingress); });
}

std::vector<std::pair<Duration, Profile>> trace_step_profiles(const Profile& p, Duration total) {
    // Every trace delay of the profile, compiled once; the steps follow the smallest granularity.
    Duration g = fault::min_granularity;
    bool any = false;
    auto each = [&](auto&& f) {
        for (auto* imp : {&p.egress, &p.ingress}) f(*imp);
        for (const auto& c : p.classes) f(c.egress), f(c.ingress);
    };
    each([&](const std::optional<Impairment>& imp) {
        if (imp && imp->delay && imp->delay->trace) g = any ? std::min(g, imp->delay->trace->granularity) : imp->delay->trace->granularity, any = true;
    });
    std::vector<std::pair<Duration, Profile>> out;
    if (!any) return out;
    const std::int64_t n = std::max<std::int64_t>(1, (total.count() + g.count() - 1) / g.count());
    for (std::int64_t k = 0; k < n; ++k) out.emplace_back(k + 1 == n ? total - g * (n - 1) : g, p);
    auto fix = [&](auto get) {
        const std::optional<Impairment>& imp = get(p);
        if (!(imp && imp->delay && imp->delay->trace)) return;
        const auto steps = fault::trace_steps(fault::compile_trace(*imp->delay->trace), g, total);
        for (std::size_t k = 0; k < out.size() && k < steps.size(); ++k) {
            Delay& d = *get(out[k].second)->delay;
            d.trace.reset();
            d.mean = Duration{std::llround(static_cast<double>(steps[k].mean.count()) / 1e3) * 1000};   // whole us, as netem carries
            d.jitter = Duration{std::llround(static_cast<double>(steps[k].sigma.count()) / 1e3) * 1000};
            d.distribution = Distribution::normal;
            if (d.jitter.count() == 0) d.order = JitterOrder::preserve;
        }
    };
    fix([](auto& q) -> auto& { return q.egress; });
    fix([](auto& q) -> auto& { return q.ingress; });
    for (std::size_t c = 0; c < p.classes.size(); ++c) {
        fix([c](auto& q) -> auto& { return q.classes[c].egress; });
        fix([c](auto& q) -> auto& { return q.classes[c].ingress; });
    }
    return out;
}

Plan make_plan(const Experiment& e) {
    Plan plan;
    Duration at{0};
    auto push = [&](Step s) {
        s.start = at;
        at += s.duration;
        plan.steps.push_back(std::move(s));
    };
    push(Step{.kind = Step::Kind::baseline, .phase = "steady-state", .duration = e.baseline, .profile = {}});
    for (std::size_t i = 0; i < e.phases.size(); ++i) {
        const Phase& ph = e.phases[i];
        // netem replays a trace delay as in-place switches, one step per granularity; the
        // forwarder follows it per packet (docs/replay.md).
        const bool netem = std::any_of(e.targets.begin(), e.targets.end(), [](const Target& t) { return t.backend == Backend::netem; }) ||
                           (e.targets.empty() && e.target.backend == Backend::netem);
        if (!ph.ramp && netem && has_trace_delay(ph.profile)) {
            auto steps = trace_step_profiles(ph.profile, ph.duration);
            const int n = static_cast<int>(steps.size());
            for (int k = 0; k < n; ++k)
                push(Step{.kind = Step::Kind::fault, .phase = ph.name, .phase_index = int(i), .step = k, .steps = n,
                          .duration = steps[std::size_t(k)].first, .profile = std::move(steps[std::size_t(k)].second)});
            continue;
        }
        if (!ph.ramp) {
            push(Step{.kind = Step::Kind::fault, .phase = ph.name, .phase_index = int(i), .duration = ph.duration,
                      .profile = ph.profile});
            continue;
        }
        int n = std::max(1, ph.ramp->steps);
        // Split the duration evenly; the last step takes the rounding remainder.
        Duration each = ph.duration / n;
        for (int k = 0; k < n; ++k) {
            double t = n == 1 ? 1.0 : double(k) / double(n - 1);
            push(Step{.kind = Step::Kind::fault, .phase = ph.name, .phase_index = int(i), .step = k, .steps = n,
                      .duration = k + 1 == n ? ph.duration - each * (n - 1) : each,
                      .profile = interpolate(ph.ramp->from, ph.ramp->to, t)});
        }
    }
    push(Step{.kind = Step::Kind::recovery, .phase = "steady-state-after", .duration = e.baseline, .profile = {}});
    plan.total = at;
    return plan;
}

namespace {
std::string pct(double p) {
    char b[32];
    std::snprintf(b, sizeof b, "%.4g%%", p * 100);
    return b;
}

void describe_imp(std::ostringstream& o, const char* dir, const Impairment& imp) {
    o << dir << ":";
    bool any = false;
    if (imp.delay && imp.delay->trace) {
        const auto& tr = *imp.delay->trace;
        o << " delay trace " << (tr.file.empty() ? std::string("(inline)") : tr.file.filename().string()) << " ("
          << tr.points.size() << " points, " << (tr.at_end == TraceEnd::loop ? "loop" : "hold") << ")";
        any = true;
    } else if (imp.delay) {
        const auto& d = *imp.delay;
        o << " delay " << format_duration(d.mean);
        if (d.jitter.count())
            o << " " << distribution_name(d.distribution) << " "
              << (d.distribution == Distribution::uniform ? "+-" : "sigma ") << format_duration(d.jitter);
        if (d.correlation > 0) o << " corr " << pct(d.correlation);
        if (d.order == JitterOrder::reorder) o << " (reordering)";
        if (d.order == JitterOrder::flow) o << " (order kept per flow)";
        any = true;
    }
    if (imp.loss) {
        if (auto* r = std::get_if<RandomLoss>(&imp.loss->model)) o << (any ? ";" : "") << " loss " << pct(r->p);
        else if (auto* g = std::get_if<GilbertElliott>(&imp.loss->model))
            o << (any ? ";" : "") << " loss gilbert-elliott p " << pct(g->p) << " r " << pct(g->r);
        else o << (any ? ";" : "") << " loss markov4";
        any = true;
    }
    if (imp.rate) {
        o << (any ? ";" : "") << " rate " << imp.rate->bytes_per_sec * 8 / 1000 << "kbit";
        any = true;
    }
    if (imp.duplicate) o << (any ? ";" : "") << " duplicate " << pct(imp.duplicate->p), any = true;
    if (imp.corrupt) o << (any ? ";" : "") << " corrupt " << pct(imp.corrupt->p), any = true;
    if (imp.reorder) o << (any ? ";" : "") << " reorder " << pct(imp.reorder->p), any = true;
    if (imp.slot) o << (any ? ";" : "") << " slot", any = true;
    if (!any) o << " none";
}
}  // namespace

std::string describe(const Profile& p) {
    std::ostringstream o;
    const auto& egress = main_egress(p);
    const auto& ingress = main_ingress(p);
    if (egress) describe_imp(o, "egress", *egress);
    if (ingress) {
        if (egress) o << " | ";
        describe_imp(o, "ingress", *ingress);
    }
    if (!egress && !ingress) o << "no fault";
    if (!p.classes.empty()) o << " (" << p.classes.size() << (p.classes.size() == 1 ? " flow class" : " flow classes") << ")";
    return o.str();
}

std::string describe(const Experiment& e, const Plan& plan) {
    std::ostringstream o;
    o << "experiment " << e.name;
    if (!e.source.empty()) o << " (" << e.source.string() << ")";
    o << "\n";
    if (!e.description.empty()) o << "  " << e.description << "\n";
    const auto targets = e.targets.empty() ? std::vector<Target>{e.target} : e.targets;
    for (const auto& t : targets) {
        o << (targets.size() > 1 ? "target " + t.name + ": " : "target: ");
        if (t.backend == Backend::http)
            o << "http proxy, control " << t.control.string();
        else if (t.backend == Backend::dpdk)
            o << "dpdk forwarder, control " << (t.control.empty() ? "(default)" : t.control.string());
        else
            o << "netem on " << t.dev << (t.direction == Direction::ingress ? " ingress" : " egress")
              << (t.pid > 0 ? " in pid " + std::to_string(t.pid) : t.netns.empty() ? "" : " in netns " + t.netns);
        for (const auto& [phase, p] : t.phase_profiles) o << "\n  in phase " << phase << ": " << describe(p);
        if (&t != &targets.back()) o << "\n";
    }
    if (targets.size() > 1) o << "\n(every phase switches all targets together)";
    o << "\nprobe: " << to_string(e.probe.mode)
      << " " << e.probe.target << " at " << e.probe.rate_hz << " Hz"
      << (e.probe.netns.empty() ? "" : " in netns " + e.probe.netns) << ", one probe for the whole run\n";
    o << "timeline (total " << format_duration(plan.total) << "):\n";
    for (const auto& s : plan.steps) {
        char head[160];
        std::snprintf(head, sizeof head, "  %8s +%-8s %-28s ", format_duration(s.start).c_str(),
                      format_duration(s.duration).c_str(), s.label().c_str());
        o << head;
        switch (s.kind) {
        case Step::Kind::baseline: o << "steady state, no fault"; break;
        case Step::Kind::recovery: o << "rollback, then steady state again"; break;
        case Step::Kind::fault: o << "apply (replace) " << describe(s.profile); break;
        }
        o << "\n";
    }
    return o.str();
}

}  // namespace netchaos::experiment
