#pragma once
// The compiled, immutable form of one direction's Impairment. Everything the hot path needs
// is precomputed here (delay tables in ns, normal-score thresholds, ns per byte), so
// Engine::decide never allocates, divides by a rate or parses anything.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/clock.hpp"
#include "dist/normal.hpp"
#include "fault/mm_link.hpp"
#include "fault/trace_delay.hpp"

namespace netchaos::fault {

// Correlated randomness that keeps the marginal distribution (a Gaussian copula): a latent
// AR(1) series z' = rho*z + sqrt(1-rho^2)*e with e ~ N(0,1) stays N(0,1) and has lag-1
// correlation rho. An event of probability p fires when z < Phi^-1(p), so its rate is exactly
// p whatever rho is; a delay is F^-1(Phi(z)). netem's get_crandom (u' = (1-c)*u + c*u_last)
// instead shrinks the spread of u, which changes loss rates and delay sigma.
struct Correlation {
    double rho = 0.0;     // 0 = independent draws (no latent state used)
    double innov = 1.0;   // sqrt(1 - rho^2)
};

// Probability event (loss, duplicate, corrupt, reorder) with optional correlation.
struct Chance {
    double p = 0.0;
    std::uint64_t p_u64 = 0;   // p scaled to 2^64 for the independent case
    double z_threshold = 0.0;  // Phi^-1(p) for the correlated case
    Correlation corr;
    bool enabled() const { return p > 0.0; }
};

enum class SamplerKind : std::uint8_t { constant, uniform, normal, table };

// A delay distribution: value = mean + jitter * X, X per kind; negative results become 0.
struct Sampler {
    SamplerKind kind = SamplerKind::constant;
    std::int64_t mean_ns = 0;
    double jitter_ns = 0.0;           // sigma (normal, tables) or half-width (uniform)
    std::vector<std::int64_t> table;  // table kind: mean + jitter * t[i] / 8192, clamped at 0
    Correlation corr;
};

enum class LossKind : std::uint8_t { none, random, gilbert_elliott, markov4 };

struct GilbertElliottP {
    std::uint64_t p = 0, r = 0, loss_bad = 0, loss_good = 0;  // scaled to 2^64
};
struct Markov4P {
    std::uint64_t p13 = 0, p14 = 0, p23 = 0, p31 = 0, p32 = 0;  // scaled to 2^64
};

struct RateP {
    double ns_per_byte = 0.0;
    std::int32_t packet_overhead = 0;
    std::uint32_t cell_size = 0;
    std::int32_t cell_overhead = 0;
};

struct SlotP {
    bool dist = false;               // gap from `gap` sampler, else uniform in [min, max]
    std::int64_t min_ns = 0;
    std::int64_t span_ns = 0;        // max - min
    Sampler gap;
    std::int64_t max_packets = INT32_MAX;
    std::int64_t max_bytes = INT32_MAX;
};

struct Model {
    bool has_delay = false;
    Sampler delay;
    // Set: the delay follows this recorded series (time since the model took effect) instead
    // of `delay`. Shared: one series may be hundreds of kB and the model is copied per class.
    std::shared_ptr<const TraceDelay> trace;
    bool preserve_order = true;
    bool per_flow = false;           // preserve_order within each flow only (reorder = "flow")

    LossKind loss = LossKind::none;
    Chance random_loss;
    GilbertElliottP ge;
    Markov4P m4;
    bool ecn = false;

    Chance duplicate;
    Chance corrupt;

    bool has_reorder = false;
    Chance reorder;
    std::uint32_t reorder_gap = 1;

    bool has_rate = false;
    RateP rate;
    std::shared_ptr<const MmLink> mm_link;   // set: the rate follows these delivery opportunities

    bool has_slot = false;
    SlotP slot;

    // Not enforced here: the forwarder's release queue holds at most `limit` packets and
    // drops beyond it (netem's limit is a queue length too). Kept for reporting.
    std::uint32_t limit = 1000;
};

// ---------------------------------------------------------------- shared math (hot path)

// The standard normal's CDF and quantile are src/dist's (one of each in netchaos).
using dist::normal_cdf;
using dist::normal_quantile;

// normal_cdf by cubic Hermite interpolation on a 1/64 grid over [-8.5, 8.5] (values and
// densities are exact at the knots): max error ~2e-10, a few multiplies instead of an erfc.
struct NormalCdfTable {
    static constexpr double lo = -8.5;
    static constexpr int per_unit = 64;
    static constexpr int n = 17 * per_unit;  // intervals
    double f[n + 1];   // Phi at the knots
    double d[n + 1];   // phi at the knots, times the step
    NormalCdfTable();
    double operator()(double z) const {
        const double s = (z - lo) * per_unit;
        if (!(s > 0.0)) return 0.0;
        if (s >= n) return 1.0;
        const int i = static_cast<int>(s);
        const double t = s - i, t2 = t * t, t3 = t2 * t;
        return (2 * t3 - 3 * t2 + 1) * f[i] + (t3 - 2 * t2 + t) * d[i] + (3 * t2 - 2 * t3) * f[i + 1] +
               (t3 - t2) * d[i + 1];
    }
};
const NormalCdfTable& normal_cdf_table();

// Layer boundaries of a 128-layer ziggurat for N(0,1) (Marsaglia & Tsang 2000, in
// Doornik's 2005 "ZigNor" form): x[0] = v / f(r), x[1] = r, ..., x[128] = 0.
struct ZigguratTables {
    static constexpr int layers = 128;
    static constexpr double r = 3.442619855899;
    static constexpr double v = 9.91256303526217e-3;
    double x[layers + 1];
    double ratio[layers];  // x[i+1] / x[i]: below it the point is inside the curve
    ZigguratTables();
};
const ZigguratTables& ziggurat_tables();   // built once, before any Engine exists

// N(0,1), exact (ziggurat): ~99% of draws cost one 64-bit random, a multiply and a compare,
// versus a log and a sqrt per pair for Box-Muller or the polar method. That fast path is
// inline so a burst's loop keeps the generator's state in registers; the rest (~1%: the
// wedge test with its exps, the tail) is out of line and takes the same draws in the same
// order, so a seed gives the same sequence either way.
struct NormalGen {
    const ZigguratTables* z = &ziggurat_tables();
    double operator()(Rng& rng) const {
        const std::uint64_t bits = rng();
        const int i = static_cast<int>(bits & (ZigguratTables::layers - 1));
        const double u = 2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0;  // (-1, 1)
        if (std::abs(u) < z->ratio[i]) [[likely]] return u * z->x[i];
        // A copy goes out of line, so `rng` itself never has its address taken: in a loop
        // over a local generator its state stays in registers.
        Rng r = rng;
        const double x = rejected(r, i, u);
        rng = r;
        return x;
    }
private:
    // The draw (layer i, u) fell outside its layer's rectangle: the tail or the wedge decides,
    // and a rejection starts over.
    [[gnu::noinline]] double rejected(Rng& rng, int i, double u) const {
        for (;;) {
            if (i == 0) return tail(rng, u < 0);
            // Wedge between x[i+1] and x[i]: accept under the density.
            const double x = u * z->x[i];
            const double f0 = std::exp(-0.5 * (z->x[i] * z->x[i] - x * x));
            const double f1 = std::exp(-0.5 * (z->x[i + 1] * z->x[i + 1] - x * x));
            if (f1 + rng.uniform() * (f0 - f1) < 1.0) return x;
            const std::uint64_t bits = rng();
            i = static_cast<int>(bits & (ZigguratTables::layers - 1));
            u = 2.0 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1.0;
            if (std::abs(u) < z->ratio[i]) return u * z->x[i];
        }
    }
    static double tail(Rng& rng, bool negative) {  // beyond r (Marsaglia's tail method)
        double a, b;
        do {
            a = -std::log(1.0 - rng.uniform()) / ZigguratTables::r;
            b = -std::log(1.0 - rng.uniform());
        } while (b + b < a * a);
        return negative ? -(ZigguratTables::r + a) : ZigguratTables::r + a;
    }
};

// Probability in [0,1] -> threshold on a 64-bit uniform (p = 1 misses once in 2^64).
inline std::uint64_t scale_u64(double p) {
    if (p <= 0.0) return 0;
    if (p >= 1.0) return ~std::uint64_t{0};
    return static_cast<std::uint64_t>(std::ldexp(p, 64));
}

}  // namespace netchaos::fault
