// Impairment -> immutable Model: validation, tables in nanoseconds, thresholds. Runs off the
// hot path (the forwarder's control thread), so it may allocate and fail.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "dist/table.hpp"
#include "fault/engine.hpp"
#include "fault/model.hpp"

namespace netchaos::fault {

ZigguratTables::ZigguratTables() {
    auto f = [](double t) { return std::exp(-0.5 * t * t); };
    x[0] = v / f(r);
    x[1] = r;
    for (int i = 2; i < layers; ++i) x[i] = std::sqrt(-2.0 * std::log(v / x[i - 1] + f(x[i - 1])));
    x[layers] = 0.0;
    for (int i = 0; i < layers; ++i) ratio[i] = x[i + 1] / x[i];
}

const ZigguratTables& ziggurat_tables() {
    static const ZigguratTables t;
    return t;
}

NormalCdfTable::NormalCdfTable() {
    const double h = 1.0 / per_unit;
    for (int i = 0; i <= n; ++i) {
        const double z = lo + i * h;
        f[i] = normal_cdf(z);
        d[i] = std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI) * h;
    }
}

const NormalCdfTable& normal_cdf_table() {
    static const NormalCdfTable t;
    return t;
}

namespace {

Error bad(std::string msg) { return make_error(std::move(msg), ErrorKind::bad_input); }

bool is_fraction(double v) { return std::isfinite(v) && v >= 0.0 && v <= 1.0; }

Result<Correlation> make_corr(double rho, const char* what) {
    if (!is_fraction(rho)) return bad(std::string(what) + " correlation must be in [0, 1]");
    return Correlation{rho, std::sqrt(1.0 - rho * rho)};
}

Result<Chance> make_chance(double p, double rho, const char* what) {
    if (!is_fraction(p)) return bad(std::string(what) + " probability must be in [0, 1]");
    auto c = make_corr(rho, what);
    if (!c) return c.error();
    Chance ch;
    ch.p = p;
    ch.p_u64 = scale_u64(p);
    ch.z_threshold = normal_quantile(p);
    ch.corr = *c;
    return ch;
}

// mean + jitter * X for a named distribution; tables come from the dist module (netem's own
// tables for pareto/paretonormal, so both backends draw the same shape).
Result<Sampler> make_sampler(profile::Distribution dist, profile::Duration mean, profile::Duration jitter,
                             double rho, const dist::Table* custom, const char* what) {
    if (mean.count() < 0 || jitter.count() < 0) return bad(std::string(what) + " must not be negative");
    auto c = make_corr(rho, what);
    if (!c) return c.error();
    Sampler s;
    s.mean_ns = mean.count();
    s.jitter_ns = static_cast<double>(jitter.count());
    s.corr = *c;
    if (jitter.count() == 0 && dist != profile::Distribution::custom) {
        s.kind = SamplerKind::constant;
        return s;
    }
    switch (dist) {
        case profile::Distribution::uniform: s.kind = SamplerKind::uniform; return s;
        case profile::Distribution::normal: s.kind = SamplerKind::normal; return s;
        case profile::Distribution::pareto:
        case profile::Distribution::paretonormal:
        case profile::Distribution::custom: break;
    }
    dist::Table owned;
    if (!custom) {
        auto t = dist::for_distribution(dist);
        if (!t) return t.error();
        owned = std::move(*t);
        custom = &owned;
    }
    if (custom->empty()) return bad(std::string(what) + ": empty distribution table");
    s.kind = SamplerKind::table;
    s.table.reserve(custom->size());
    for (std::int16_t v : *custom) {
        const double ns = static_cast<double>(s.mean_ns) + s.jitter_ns * v / dist::scale;
        s.table.push_back(std::max<std::int64_t>(0, std::llround(ns)));  // never a negative delay
    }
    return s;
}

Result<Sampler> make_delay_as_asked(const profile::Delay& d) {
    if (d.distribution != profile::Distribution::custom) {
        return make_sampler(d.distribution, d.mean, d.jitter, d.correlation, nullptr, "delay");
    }
    if (!d.table) return bad("delay: distribution = \"custom\" needs a table file or samples");
    profile::Duration mean = d.mean, jitter = d.jitter;
    dist::Table table;
    if (d.table->file.empty()) {
        auto fs = dist::from_samples(d.table->samples_ms);
        if (!fs) return fs.error();
        table = std::move(fs->table);
        // Samples alone define the whole distribution; explicit mean/jitter rescale it.
        if (mean.count() == 0 && jitter.count() == 0) {
            mean = std::chrono::nanoseconds(std::llround(fs->mean_ms * 1e6));
            jitter = std::chrono::nanoseconds(std::llround(fs->sigma_ms * 1e6));
        }
    } else {
        auto t = dist::load_file(d.table->file);
        if (!t) return t.error();
        table = std::move(*t);
    }
    return make_sampler(profile::Distribution::custom, mean, jitter, d.correlation, &table, "delay");
}

Result<Sampler> make_delay(const profile::Delay& d) {
    auto s = make_delay_as_asked(d);
    if (s && test_sigma_scale() != 1.0) {
        // A broken engine on purpose (test hook): tables are mean + jitter * t, so move each
        // entry toward the mean; the other kinds scale their jitter.
        s->jitter_ns *= test_sigma_scale();
        for (auto& v : s->table)
            v = std::max<std::int64_t>(0, s->mean_ns + std::llround(static_cast<double>(v - s->mean_ns) * test_sigma_scale()));
    }
    return s;
}

Result<void> set_loss(Model& m, const profile::Loss& loss) {
    m.ecn = loss.ecn;
    if (const auto* r = std::get_if<profile::RandomLoss>(&loss.model)) {
        auto c = make_chance(r->p, r->correlation, "loss");
        if (!c) return c.error();
        m.random_loss = *c;
        m.loss = r->p > 0 ? LossKind::random : LossKind::none;
        return {};
    }
    if (const auto* g = std::get_if<profile::GilbertElliott>(&loss.model)) {
        for (double v : {g->p, g->r, g->one_minus_h, g->one_minus_k}) {
            if (!is_fraction(v)) return bad("gilbert-elliott: p, r, 1-h and 1-k must be in [0, 1]");
        }
        m.loss = LossKind::gilbert_elliott;
        m.ge = {scale_u64(g->p), scale_u64(g->r), scale_u64(g->one_minus_h), scale_u64(g->one_minus_k)};
        return {};
    }
    const auto& q = std::get<profile::Markov4>(loss.model);
    for (double v : {q.p13, q.p31, q.p32, q.p23, q.p14}) {
        if (!is_fraction(v)) return bad("markov4: p13, p31, p32, p23 and p14 must be in [0, 1]");
    }
    if (q.p13 + q.p14 > 1.0 + 1e-12) return bad("markov4: p13 + p14 must not exceed 1");
    if (q.p31 + q.p32 > 1.0 + 1e-12) return bad("markov4: p31 + p32 must not exceed 1");
    m.loss = LossKind::markov4;
    m.m4 = {scale_u64(q.p13), scale_u64(q.p14), scale_u64(q.p23), scale_u64(q.p31), scale_u64(q.p32)};
    return {};
}

Result<void> set_slot(Model& m, const profile::Slot& s) {
    if (s.min_delay.count() < 0 || s.max_delay.count() < 0) return bad("slot: delays must not be negative");
    if (s.max_delay < s.min_delay) return bad("slot: max_delay is below min_delay");
    if (s.max_packets && *s.max_packets < 0) return bad("slot: packets must not be negative");
    if (s.max_bytes && *s.max_bytes < 0) return bad("slot: bytes must not be negative");
    m.has_slot = true;
    m.slot.min_ns = s.min_delay.count();
    m.slot.span_ns = (s.max_delay - s.min_delay).count();
    // netem: 0 packets/bytes means no budget.
    if (s.max_packets && *s.max_packets > 0) m.slot.max_packets = *s.max_packets;
    if (s.max_bytes && *s.max_bytes > 0) m.slot.max_bytes = *s.max_bytes;
    if (s.distribution) {
        if (*s.distribution == profile::Distribution::custom) return bad("slot: custom distribution is not supported");
        auto g = make_sampler(*s.distribution, s.dist_delay, s.dist_jitter, 0.0, nullptr, "slot delay");
        if (!g) return g.error();
        m.slot.dist = true;
        m.slot.gap = std::move(*g);
    }
    return {};
}

}  // namespace

Result<ModelPtr> compile(const profile::Impairment& imp) {
    auto m = std::make_shared<Model>();
    m->limit = imp.limit;
    if (imp.delay) {
        if (imp.delay->trace) {   // a recorded series instead of a distribution (trace_delay.hpp)
            if (imp.delay->trace->points.empty()) return bad("delay: the trace has no answered probe");
            m->trace = std::make_shared<const TraceDelay>(compile_trace(*imp.delay->trace));
        } else {
            auto s = make_delay(*imp.delay);
            if (!s) return s.error();
            m->delay = std::move(*s);
        }
        m->has_delay = true;
        m->preserve_order = imp.delay->order != profile::JitterOrder::reorder;
        m->per_flow = imp.delay->order == profile::JitterOrder::flow;
    }
    if (imp.loss) {
        auto r = set_loss(*m, *imp.loss);
        if (!r) return r.error();
    }
    if (imp.duplicate) {
        auto c = make_chance(imp.duplicate->p, imp.duplicate->correlation, "duplicate");
        if (!c) return c.error();
        m->duplicate = *c;
    }
    if (imp.corrupt) {
        auto c = make_chance(imp.corrupt->p, imp.corrupt->correlation, "corrupt");
        if (!c) return c.error();
        m->corrupt = *c;
    }
    if (imp.reorder) {
        if (!m->has_delay) return bad("reorder needs a delay (packets are reordered by skipping it)");
        auto c = make_chance(imp.reorder->p, imp.reorder->correlation, "reorder");
        if (!c) return c.error();
        m->has_reorder = imp.reorder->gap > 0;   // netem: gap 0 = no reordering
        m->reorder = *c;
        m->reorder_gap = imp.reorder->gap;
    }
    if (imp.rate) {
        const auto& r = *imp.rate;
        if (r.bytes_per_sec == 0) return bad("rate must be positive");
        m->has_rate = true;
        m->rate = {1e9 / static_cast<double>(r.bytes_per_sec), r.packet_overhead, r.cell_size, r.cell_overhead};
        if (r.mm_link) {   // delivery opportunities instead of a constant rate (mm_link.hpp)
            if (r.mm_link->ms.empty()) return bad("rate: the mm-link trace has no delivery opportunity");
            m->mm_link = std::make_shared<const MmLink>(compile_mm_link(r.mm_link->ms));
        }
    }
    if (imp.slot) {
        auto r = set_slot(*m, *imp.slot);
        if (!r) return r.error();
    }
    return ModelPtr(std::move(m));
}

double test_sigma_scale() {
#ifdef NETCHAOS_TEST_HOOKS
    static const double scale = [] {
        const char* e = std::getenv("NETCHAOS_TEST_ENGINE_SIGMA_SCALE");
        if (!e || !*e) return 1.0;
        char* end = nullptr;
        const double v = std::strtod(e, &end);
        return end && *end == '\0' && std::isfinite(v) && v >= 0 ? v : 1.0;
    }();
    return scale;
#else
    return 1.0;
#endif
}

ModelPtr passthrough() {
    static const ModelPtr none = std::make_shared<const Model>();
    return none;
}

}  // namespace netchaos::fault
