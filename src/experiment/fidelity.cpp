#include "experiment/fidelity.hpp"

#include <algorithm>
#include <cmath>

#include "common/clock.hpp"
#include "dist/table.hpp"
#include "fault/engine.hpp"
#include "fault/grid.hpp"
#include "fault/trace_delay.hpp"
#include "metrics/metrics.hpp"

namespace netchaos::experiment {

using namespace profile;

namespace {
double ms(Duration d) { return static_cast<double>(d.count()) / 1e6; }

struct TableMoments {
    double mean = 0, sd = 1;   // in units of one jitter
};

Result<TableMoments> table_moments(const Delay& d, const std::filesystem::path& dir) {
    if (d.distribution == Distribution::uniform) return TableMoments{0, 1.0 / std::sqrt(3.0)};
    auto t = dist::for_delay(d, dir);
    if (!t) return t.error();
    if (t->empty()) return TableMoments{0, 1.0 / std::sqrt(3.0)};
    const dist::TableMoments m = dist::table_moments(*t);
    return TableMoments{m.mean, m.sd};
}

std::filesystem::path dir_of(const Profile& p) { return p.source.empty() ? std::filesystem::path{} : p.source.parent_path(); }

DelayMoments in_ms(const metrics::Moments& m) { return {m.mean / 1e6, m.stddev / 1e6}; }

bool requests_fault(const Impairment& i) {
    return i.delay || i.loss || i.duplicate || i.corrupt || i.reorder || i.rate || i.slot;
}

// A table distribution read relative to the profile's own directory (the engine reads the
// path as given).
Impairment resolved(const Impairment& imp, const Profile& p) {
    Impairment q = imp;
    if (q.delay && q.delay->table && !q.delay->table->file.empty() && q.delay->table->file.is_relative() && !p.source.empty())
        q.delay->table->file = dir_of(p) / q.delay->table->file;
    return q;
}

DelayMoments rtt(const Moments& base, const std::array<DelayMoments, 2>& dirs) {
    double mean = base.mean_ms, var = base.sigma_ms * base.sigma_ms;
    for (const auto& d : dirs) mean += d.mean_ms, var += d.sigma_ms * d.sigma_ms;
    return {mean, std::sqrt(var)};
}
}  // namespace

Result<DelayMoments> delay_moments(const Delay& d, const std::filesystem::path& dir) {
    if (d.trace) {   // the series' time-weighted moments over one pass (a step of the whole pass)
        const fault::TraceDelay td = fault::compile_trace(*d.trace);
        const auto pass = profile::Duration{std::max<std::int64_t>(td.loops() ? td.period : td.t.back(), 1)};
        const auto st = fault::trace_steps(td, pass, pass);
        return DelayMoments{ms(st[0].mean), ms(st[0].sigma)};
    }
    if (d.jitter.count() == 0) return DelayMoments{ms(d.mean), 0};
    auto tm = table_moments(d, dir);
    if (!tm) return tm.error();
    return DelayMoments{ms(d.mean) + ms(d.jitter) * tm->mean, ms(d.jitter) * tm->sd};
}

DelayMoments moments_from_sums(double n, double sum, double sumsq, double unit_ms) {
    if (n <= 0) return {};
    const double mean = sum / n;
    return {mean * unit_ms, std::sqrt(std::max(0.0, sumsq / n - mean * mean)) * unit_ms};
}

// A delay trace held at its end plays its series once, then its last delay for ever: a
// million packets at 100/s would predict 10,000 s of which the phase (about as long as the
// recording) plays the first few dozen. Such a trace is simulated over one pass of it; a
// looping one, or none, over `packets`.
namespace {
std::size_t one_pass(const Impairment& imp, double arrivals_hz, std::size_t packets) {
    if (!imp.delay || !imp.delay->trace || imp.delay->trace->at_end != profile::TraceEnd::hold) return packets;
    const auto& points = imp.delay->trace->points;   // the pass ends at the last point's time
    const double pass_s = points.empty() ? 0.0 : std::chrono::duration<double>(points.back().at).count();
    const auto n = static_cast<std::size_t>(std::ceil(pass_s * arrivals_hz));
    return std::clamp<std::size_t>(n, 1, packets);
}
}  // namespace

Result<DirSim> simulate(const Impairment& imp, const Arrivals& a, std::size_t packets, std::uint64_t seed,
                        std::vector<double>* held_ms) {
    auto model = fault::compile(imp);
    if (!model) return model.error();
    // Arrivals: the probe's grid merged with a Poisson stream of cross traffic. Without
    // either, the probe alone at 1/s (only the drawn moments matter then).
    const double probe_hz = a.probe_hz > 0 ? a.probe_hz : (a.cross_hz > 0 ? 0 : 1);
    packets = one_pass(imp, probe_hz + a.cross_hz, packets);
    const fault::Traffic t{std::chrono::nanoseconds(probe_hz > 0 ? std::int64_t(1e9 / probe_hz) : 0), a.cross_hz, 64, 600};
    metrics::RunningMoments held;
    if (held_ms) held_ms->reserve(std::min<std::size_t>(packets, 200'000));
    auto run = fault::run_traffic(*model, t, packets, seed, [&](std::uint32_t, std::int64_t tx, const fault::Decision& d) {
        if (d.drop) return;
        const double h = double(d.release_ns - tx);
        held.add(h);
        if (held_ms && held_ms->size() < 200'000) held_ms->push_back(h / 1e6);
    });
    if (!run) return run.error();
    return DirSim{in_ms(run->drawn), in_ms(held.get()), run->decided ? double(run->pushed) / double(run->decided) : 0.0};
}

EmulatorTruth operator-(const EmulatorTruth& b, const EmulatorTruth& a) {
    EmulatorTruth o;
    o.seconds = b.seconds - a.seconds;
    for (std::size_t d = 0; d < 2; ++d) {
        const auto &x = b.dir[d], &y = a.dir[d];
        o.dir[d] = {x.rx - y.rx, x.held - y.held, x.pushed - y.pushed, x.drawn_sum_us - y.drawn_sum_us,
                    x.drawn_sumsq_us2 - y.drawn_sumsq_us2, x.held_sum_us - y.held_sum_us,
                    x.held_sumsq_us2 - y.held_sumsq_us2};
    }
    return o;
}

Prediction predict(const Profile& p, const Moments& base, const std::array<Arrivals, 2>& arrivals, std::size_t packets) {
    Prediction out;
    std::array<DelayMoments, 2> req{}, drawn{}, held{};
    out.fault = false;
    const std::array<const Impairment*, 2> imps{main_egress(p) ? &*main_egress(p) : nullptr, main_ingress(p) ? &*main_ingress(p) : nullptr};
    for (std::size_t d = 0; d < 2; ++d) {
        if (!imps[d] || !requests_fault(*imps[d])) continue;
        out.fault = true;
        if (imps[d]->delay) {
            auto m = delay_moments(*imps[d]->delay, dir_of(p));
            if (m) req[d] = *m;
        }
        auto sim = simulate(resolved(*imps[d], p), arrivals[d], packets, 0x5eed + d);
        if (!sim) {
            out.applicable = false;
            out.note = sim.error().message;
            continue;
        }
        drawn[d] = sim->drawn;
        held[d] = sim->delivered;
        out.pushed = std::max(out.pushed, sim->pushed);
        out.dir[d] = *sim;
    }
    out.requested = rtt(base, req);
    out.drawn = rtt(base, drawn);
    const auto sem = rtt(base, held);
    out.mean_ms = sem.mean_ms;
    out.sigma_ms = sem.sigma_ms;
    if (out.pushed > 0.001 && out.note.empty()) {
        char b[160];
        std::snprintf(b, sizeof b, "order preservation pushed %.0f%% of releases", out.pushed * 100);
        out.note = b;
    }
    return out;
}

Margins margins_of(const report::Stats& s, const Thresholds& th, const report::Stats* ref) {
    Margins m;
    auto to_ms = [](metrics::Nanos n) { return static_cast<double>(n.count()) / 1e6; };
    const double p99 = to_ms(s.p99);
    std::optional<double> p99_limit;
    if (th.p99_rtt_max) p99_limit = ms(*th.p99_rtt_max);
    if (th.p99_drift_max && ref && ref->p99.count() > 0) {
        const double l = to_ms(ref->p99) * (1 + *th.p99_drift_max);
        p99_limit = p99_limit ? std::min(*p99_limit, l) : l;
    }
    if (p99_limit) m.p99_ms = std::abs(*p99_limit - p99);
    if (th.jitter_1s_max) m.jitter_ms = std::abs(ms(*th.jitter_1s_max) - s.jitter_1s_max_ns / 1e6);
    return m;
}

namespace {
// Could a deviation (dmean, dsigma) change a verdict? Material when it exceeds
// material_share of the nearest delay threshold's margin (a p99 moves by about dmean +
// 2.33 dsigma, a jitter_1s by dsigma) or of the requested jitter. Nothing to compare with
// (constant delay, no delay threshold): material, so the tolerance alone decides.
std::pair<bool, std::string> material(double dmean, double dsigma, const Margins& mg, double requested_sigma) {
    dmean = std::abs(dmean), dsigma = std::abs(dsigma);
    char b[200];
    std::string why;
    bool any = false;
    auto test = [&](double impact, double scale, const char* what) {
        any = true;
        if (impact > material_share * scale) {
            std::snprintf(b, sizeof b, "material: %.2f ms > %.0f%% of %s %.2f ms", impact, material_share * 100, what, scale);
            why = b;
            return true;
        }
        if (why.empty() || scale < 0) {
            std::snprintf(b, sizeof b, "not material: %.2f ms <= %.0f%% of %s %.2f ms", impact, material_share * 100, what, scale);
            why = b;
        }
        return false;
    };
    if (mg.p99_ms && test(dmean + 2.33 * dsigma, *mg.p99_ms, "the p99 threshold's margin")) return {true, why};
    if (mg.jitter_ms && test(dsigma, *mg.jitter_ms, "the jitter_1s threshold's margin")) return {true, why};
    if (requested_sigma > 0 && test(std::max(dmean, dsigma), requested_sigma, "the requested jitter")) return {true, why};
    if (!any) return {true, "material: no delay threshold or jitter to compare with"};
    return {false, why};
}

std::string fmt2(const char* f, double a, double b) {
    char o[200];
    std::snprintf(o, sizeof o, f, a, b);
    return o;
}
}  // namespace

report::Fidelity check_fidelity(const std::string& step, const Prediction& pred, const Moments& m,
                                const std::optional<EmulatorTruth>& truth, double tol, const Margins& mg,
                                FidelityMode mode) {
    report::Fidelity f;
    f.step = step;
    f.mode = mode == FidelityMode::gate ? "gate" : mode == FidelityMode::warn ? "warn" : "off";
    f.requested_mean_ms = pred.requested.mean_ms;
    f.requested_sigma_ms = pred.requested.sigma_ms;
    f.predicted_mean_ms = pred.mean_ms;
    f.predicted_sigma_ms = pred.sigma_ms;
    f.measured_mean_ms = m.mean_ms;
    f.measured_sigma_ms = m.sigma_ms;
    f.tolerance = tol;
    f.note = pred.note;
    auto rel = [](double meas, double want) {
        return want > 0 ? std::abs(meas - want) / want : (meas > 0 ? 1.0 : 0.0);
    };
    f.mean_error = rel(m.mean_ms, pred.mean_ms);
    f.sigma_error = rel(m.sigma_ms, pred.sigma_ms);
    auto allowed = [&](double want) { return std::max(tol * want, fidelity_floor_ms); };
    f.allowed_mean_ms = allowed(pred.mean_ms);
    f.allowed_sigma_ms = allowed(pred.sigma_ms);
    // The requested jitter on the round trip (the baseline's own sigma taken out).
    double req_var = 0;
    for (const auto& d : pred.dir)
        if (d) req_var += d->drawn.sigma_ms * d->drawn.sigma_ms;
    const double req_sigma = std::sqrt(req_var);

    if (mode == FidelityMode::off) {
        f.applicable = false;
        f.rule = "fidelity = \"off\"";
        return f;
    }
    if (!pred.fault) {
        f.applicable = false;
        f.rule = "no fault requested: never an emulator failure (" +
                 fmt2("the path is %+.2f ms mean, %+.2f ms sigma off the baseline", m.mean_ms - pred.mean_ms,
                      m.sigma_ms - pred.sigma_ms) +
                 "; recovery SLOs such as p99_drift_max judge it)";
        return f;
    }
    if (!pred.applicable || m.n < 2) {
        f.applicable = false;
        f.rule = m.n < 2 ? "too few received packets" : "no prediction: " + pred.note;
        return f;
    }

    bool miss = false;
    if (truth) {
        // Ground truth: the engine's draws against the same engine's simulated draws (exact
        // per direction), the holding times against the semantics, the rest is the path.
        report::EngineTruth e;
        std::array<DelayMoments, 2> dr{}, hd{}, sim_dr{};
        bool engine_ok = true;
        std::string worst;
        for (std::size_t d = 0; d < 2; ++d) {
            const DirTruth& t = truth->dir[d];
            if (!pred.dir[d]) continue;
            dr[d] = moments_from_sums(double(t.held), t.drawn_sum_us, t.drawn_sumsq_us2, 1e-3);
            hd[d] = moments_from_sums(double(t.held), t.held_sum_us, t.held_sumsq_us2, 1e-3);
            sim_dr[d] = pred.dir[d]->drawn;
            if (t.held < 2) continue;
            const double dm = dr[d].mean_ms - sim_dr[d].mean_ms, ds = dr[d].sigma_ms - sim_dr[d].sigma_ms;
            const double am = std::max(tol * sim_dr[d].mean_ms, fidelity_floor_ms);
            const double as = std::max(tol * sim_dr[d].sigma_ms, fidelity_floor_ms);
            e.share = std::max({e.share, std::abs(dm) / am, std::abs(ds) / as});
            const bool over = std::abs(dm) > am || std::abs(ds) > as;
            if (over) {
                auto [mat, why] = material(dm, ds, mg, sim_dr[d].sigma_ms);
                if (mat) engine_ok = false;
                worst = std::string(d == 0 ? "egress" : "ingress") + " drew " +
                        fmt2("mean %.2f ms sigma %.2f ms", dr[d].mean_ms, dr[d].sigma_ms) + " vs the model's " +
                        fmt2("%.2f / %.2f ms", sim_dr[d].mean_ms, sim_dr[d].sigma_ms) + " (" + why + ")";
            }
        }
        // The baseline the prediction started from, recovered from it, to put the engine's
        // figures on the same RTT scale.
        const double base_mean = pred.mean_ms - (pred.dir[0] ? pred.dir[0]->delivered.mean_ms : 0) -
                                 (pred.dir[1] ? pred.dir[1]->delivered.mean_ms : 0);
        double base_var = pred.sigma_ms * pred.sigma_ms;
        for (const auto& d : pred.dir)
            if (d) base_var -= d->delivered.sigma_ms * d->delivered.sigma_ms;
        const Moments bm{2, base_mean, std::sqrt(std::max(0.0, base_var))};
        const auto rd = rtt(bm, dr), rh = rtt(bm, hd);
        e.drawn_mean_ms = rd.mean_ms;
        e.drawn_sigma_ms = rd.sigma_ms;
        e.predicted_drawn_mean_ms = pred.drawn.mean_ms;
        e.predicted_drawn_sigma_ms = pred.drawn.sigma_ms;
        e.delivered_mean_ms = rh.mean_ms;
        e.delivered_sigma_ms = rh.sigma_ms;
        for (std::size_t d = 0; d < 2; ++d)
            if (pred.dir[d] && truth->dir[d].held)
                e.pushed = std::max(e.pushed, double(truth->dir[d].pushed) / double(truth->dir[d].held));
        e.path_ms = m.mean_ms - rh.mean_ms;
        e.cross_hz = 0;
        e.pass = engine_ok;
        f.engine = e;
        if (!engine_ok) {
            miss = true;
            f.rule = "engine: " + worst;
        } else {
            f.rule = "engine drew the model" + (worst.empty() ? std::string() : " (" + worst + ")");
            f.rule += "; " + fmt2("held %.2f ms mean vs %.2f ms predicted under its semantics", rh.mean_ms, pred.mean_ms) +
                      fmt2("; the path added %+.2f ms mean (%.2f ms sigma measured)", e.path_ms, m.sigma_ms);
        }
    } else {
        // netem: the model prediction alone.
        const double dm = m.mean_ms - pred.mean_ms, ds = m.sigma_ms - pred.sigma_ms;
        const bool over = std::abs(dm) > f.allowed_mean_ms || std::abs(ds) > f.allowed_sigma_ms;
        if (!over) {
            f.rule = "within tolerance of the prediction under the profile's semantics";
        } else {
            auto [mat, why] = material(dm, ds, mg, req_sigma);
            miss = mat;
            f.rule = (mat ? "beyond tolerance, " : "beyond tolerance but ") + why;
        }
    }
    if (miss && mode == FidelityMode::warn) {
        f.warning = true;
        f.rule = "fidelity = \"warn\": " + f.rule;
        miss = false;
    }
    f.pass = !miss;
    return f;
}

std::vector<std::pair<double, double>> predicted_density(const std::vector<std::pair<Profile, double>>& steps,
                                                         const Moments& base, const std::array<Arrivals, 2>& arrivals,
                                                         int points) {
    std::vector<std::pair<double, double>> out;
    double wsum = 0;
    for (const auto& [p, w] : steps) wsum += w;
    if (steps.empty() || wsum <= 0) return out;
    Rng rng(12345);  // fixed: the same report renders the same curve
    const int total = 40000;
    std::vector<double> xs;
    xs.reserve(total);
    for (const auto& [p, w] : steps) {
        const int n = static_cast<int>(total * w / wsum);
        // Each direction's holding times from the engine (a long run, subsampled evenly so
        // the FIFO's slow swings are all represented).
        std::vector<std::vector<double>> dirs;
        const std::array<const Impairment*, 2> imps{main_egress(p) ? &*main_egress(p) : nullptr, main_ingress(p) ? &*main_ingress(p) : nullptr};
        for (std::size_t d = 0; d < 2; ++d) {
            if (!imps[d] || !requests_fault(*imps[d])) continue;
            std::vector<double> held;
            if (simulate(resolved(*imps[d], p), arrivals[d], 200'000, 0xd15 + d, &held) && !held.empty())
                dirs.push_back(std::move(held));
        }
        for (int i = 0; i < n; ++i) {
            // Box-Muller for the baseline RTT noise.
            double u1 = std::max(1e-12, rng.uniform()), u2 = rng.uniform();
            double x = base.mean_ms + base.sigma_ms * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
            for (const auto& h : dirs) x += h[std::size_t(i) * h.size() / std::size_t(std::max(1, n))];
            xs.push_back(x);
        }
    }
    if (xs.size() < 2) return out;
    std::sort(xs.begin(), xs.end());
    double lo = xs[xs.size() / 1000], hi = xs[xs.size() - 1 - xs.size() / 1000];
    if (hi - lo < 1e-3) lo -= 0.05, hi += 0.05;
    double bw = (hi - lo) / points;
    std::vector<double> c(points, 0);
    for (double x : xs) {
        int b = int((x - lo) / bw);
        if (b >= 0 && b < points) c[b] += 1;
    }
    for (int b = 0; b < points; ++b) out.emplace_back(lo + (b + 0.5) * bw, c[b] / (double(xs.size()) * bw));
    return out;
}

}  // namespace netchaos::experiment
