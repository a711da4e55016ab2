#include "experiment/fidelity.hpp"

#include <algorithm>
#include <cmath>

#include "common/clock.hpp"
#include "dist/table.hpp"

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
}  // namespace

Result<DelayMoments> delay_moments(const Delay& d, const std::filesystem::path& dir) {
    if (d.jitter.count() == 0) return DelayMoments{ms(d.mean), 0};
    auto tm = table_moments(d, dir);
    if (!tm) return tm.error();
    return DelayMoments{ms(d.mean) + ms(d.jitter) * tm->mean, ms(d.jitter) * tm->sd};
}

Prediction predict(const Profile& p, const Moments& base) {
    Prediction out{true, base.mean_ms, 0, ""};
    double var = base.sigma_ms * base.sigma_ms;
    for (const auto* imp : {p.egress ? &*p.egress : nullptr, p.ingress ? &*p.ingress : nullptr}) {
        if (!imp) continue;
        if (imp->slot || imp->reorder) {
            out.applicable = false;
            out.note = "slot/reorder change the delay distribution; not modelled";
        }
        if (imp->rate && out.note.empty()) out.note = "rate: serialization delay not modelled";
        if (!imp->delay) continue;
        if (imp->delay->order == JitterOrder::reorder && out.note.empty()) out.note = "reordering jitter";
        auto m = delay_moments(*imp->delay, dir_of(p));
        if (!m) {
            out.applicable = false;
            out.note = m.error().message;
            continue;
        }
        out.mean_ms += m->mean_ms;
        var += m->sigma_ms * m->sigma_ms;
    }
    out.sigma_ms = std::sqrt(var);
    return out;
}

report::Fidelity check_fidelity(const std::string& step, const Prediction& pred, const Moments& m, double tol,
                                double noise_ms) {
    report::Fidelity f;
    f.step = step;
    f.applicable = pred.applicable && m.n >= 2;
    f.predicted_mean_ms = pred.mean_ms;
    f.predicted_sigma_ms = pred.sigma_ms;
    f.measured_mean_ms = m.mean_ms;
    f.measured_sigma_ms = m.sigma_ms;
    f.tolerance = tol;
    f.note = m.n < 2 ? "too few received packets" : pred.note;
    auto rel = [](double meas, double want) {
        return want > 0 ? std::abs(meas - want) / want : (meas > 0 ? 1.0 : 0.0);
    };
    f.mean_error = rel(m.mean_ms, pred.mean_ms);
    f.sigma_error = rel(m.sigma_ms, pred.sigma_ms);
    auto allowed = [&](double want) { return std::max({tol * want, fidelity_floor_ms, noise_ms}); };
    f.allowed_mean_ms = allowed(pred.mean_ms);
    f.allowed_sigma_ms = allowed(pred.sigma_ms);
    f.pass = !f.applicable || (std::abs(m.mean_ms - pred.mean_ms) <= f.allowed_mean_ms &&
                               std::abs(m.sigma_ms - pred.sigma_ms) <= f.allowed_sigma_ms);
    return f;
}

namespace {
// One delay sample from the requested model, as netem computes it (no truncation).
struct Sampler {
    double mean = 0, jitter = 0;
    bool uniform = true;
    dist::Table table;
    double draw(Rng& rng) const {
        if (jitter == 0) return mean;
        if (uniform || table.empty()) return mean + jitter * (2 * rng.uniform() - 1);
        auto i = static_cast<std::size_t>(rng.uniform() * double(table.size()));
        return mean + jitter * table[std::min(i, table.size() - 1)] / double(dist::scale);
    }
};
}  // namespace

std::vector<std::pair<double, double>> predicted_density(const std::vector<std::pair<Profile, double>>& steps,
                                                         const Moments& base, int points) {
    std::vector<std::pair<double, double>> out;
    double wsum = 0;
    for (const auto& [p, w] : steps) wsum += w;
    if (steps.empty() || wsum <= 0) return out;
    Rng rng(12345);  // fixed: the same report renders the same curve
    const int total = 40000;
    std::vector<double> xs;
    xs.reserve(total);
    for (const auto& [p, w] : steps) {
        std::vector<Sampler> dirs;
        for (const auto* imp : {p.egress ? &*p.egress : nullptr, p.ingress ? &*p.ingress : nullptr}) {
            if (!imp || !imp->delay) continue;
            Sampler s{ms(imp->delay->mean), ms(imp->delay->jitter), imp->delay->distribution == Distribution::uniform, {}};
            if (!s.uniform && s.jitter > 0) {
                auto t = dist::for_delay(*imp->delay, dir_of(p));
                if (t) s.table = std::move(*t);
            }
            dirs.push_back(std::move(s));
        }
        int n = static_cast<int>(total * w / wsum);
        for (int i = 0; i < n; ++i) {
            // Box-Muller for the baseline RTT noise.
            double u1 = std::max(1e-12, rng.uniform()), u2 = rng.uniform();
            double x = base.mean_ms + base.sigma_ms * std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
            for (const auto& s : dirs) x += s.draw(rng);
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
