// Per-packet decisions. Follows netem's enqueue order (duplicate, loss/ECN, corrupt, reorder,
// delay, rate) and its dequeue slotting, but computes the release time up front because the
// forwarder schedules each packet on a timing wheel. No allocation, no exceptions.
#include <algorithm>
#include <limits>
#include <vector>

#include "fault/engine.hpp"
#include "fault/model.hpp"

namespace netchaos::fault {

namespace {
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();

// The rate's tail drop: the link is booked max_backlog_ns (limit packets of this one's
// serialization) or more beyond rx. busy == never: it has carried nothing yet (and
// never - rx_ns would overflow). max_backlog_ns <= 0: no limit.
bool backlog_full(std::int64_t busy, std::int64_t rx_ns, std::int64_t max_backlog_ns) {
    return max_backlog_ns > 0 && busy != never && busy - rx_ns >= max_backlog_ns;
}

// Uniform integer in [0, n) without division (Lemire's multiply-shift).
std::uint64_t below(Rng& rng, std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}
}  // namespace

struct Engine::State {
    NormalGen normal;
    const NormalCdfTable* cdf = &normal_cdf_table();
    // Latent N(0,1) states of the Gaussian-copula correlations (see model.hpp).
    double z_delay = 0, z_loss = 0, z_dup = 0, z_corrupt = 0, z_reorder = 0;
    bool ge_bad = false;
    int m4_state = 1;               // netem's TX_IN_GAP_PERIOD
    std::uint32_t reorder_counter = 0;
    std::int64_t last_release = never;   // latest release handed out (order preservation)
    // reorder = "flow": the latest release per flow slot (flow id modulo the table size; two
    // flows that share a slot keep order between them too). Sized once, off the hot path.
    std::vector<std::int64_t> flow_last;
    void ensure_flows() {
        // Started at the direction's last release: no packet overtakes across a switch.
        if (flow_last.empty()) flow_last.assign(flow_slots, last_release);
    }
    std::int64_t busy_until = never;     // rate: the link is serializing until then
    std::int64_t slot_next = never;      // slot: start of the current slot
    std::int64_t slot_packets = 0, slot_bytes = 0;
    // A trace delay's t = 0: the first packet decided under the model (the forwarder switches
    // models when a load reaches the lcore; the first packet after it starts the series).
    std::int64_t trace_origin = never;
    MmCursor mm;   // mm_link: the opportunity being filled (restarted by a model switch)
    // mm_link: the release times of the last `limit` packets given to the link. A packet that
    // finds `limit` still queued is dropped here, before it takes an opportunity: a dropped
    // packet that kept its opportunity would push the link ahead of itself (netem checks its
    // limit before it computes a send time too). Sized at a model switch, off the hot path.
    std::vector<std::int64_t> mm_queue;
    std::size_t mm_head = 0;
    void mm_reset(const Model& m) {
        mm = MmCursor{};
        if (m.mm_link) mm_queue.assign(std::max<std::uint32_t>(m.limit, 1), never);
        else mm_queue.clear();
        mm_head = 0;
    }
    std::int64_t trace_delay(const TraceDelay& td, std::int64_t rx) {
        if (trace_origin == never) trace_origin = rx;
        return td.at(rx - trace_origin);
    }

    // Start each latent series in its stationary distribution.
    void init(Rng& rng) {
        for (double* z : {&z_delay, &z_loss, &z_dup, &z_corrupt, &z_reorder}) *z = normal(rng);
    }

    bool draw(const Chance& c, double& z, Rng& rng) {
        if (!c.enabled()) return false;
        if (c.corr.rho == 0.0) return rng() < c.p_u64;
        z = c.corr.rho * z + c.corr.innov * normal(rng);
        return z < c.z_threshold;
    }

    // Uniform in [0,1) for a delay quantile: Phi of the latent series when correlated.
    double quantile(const Correlation& c, double& z, Rng& rng) {
        if (c.rho == 0.0) return rng.uniform();
        z = c.rho * z + c.innov * normal(rng);
        return std::min((*cdf)(z), 0x1.fffffffffffffp-1);  // stay below 1 for the table index
    }

    std::int64_t sample(const Sampler& s, double& z, Rng& rng) {
        double v;
        switch (s.kind) {
            case SamplerKind::constant: return s.mean_ns;
            case SamplerKind::normal: {
                double x;
                if (s.corr.rho == 0.0) {
                    x = normal(rng);
                } else {
                    z = s.corr.rho * z + s.corr.innov * normal(rng);
                    x = z;
                }
                v = static_cast<double>(s.mean_ns) + s.jitter_ns * x;
                break;
            }
            case SamplerKind::uniform: {  // netem: [mean - jitter, mean + jitter)
                const double u = quantile(s.corr, z, rng);
                v = static_cast<double>(s.mean_ns) + s.jitter_ns * (2.0 * u - 1.0);
                break;
            }
            case SamplerKind::table: {
                const std::size_t n = s.table.size();
                std::size_t i;
                if (s.corr.rho == 0.0) {
                    i = static_cast<std::size_t>(below(rng, n));
                } else {
                    i = std::min(n - 1, static_cast<std::size_t>(quantile(s.corr, z, rng) * static_cast<double>(n)));
                }
                return s.table[i];  // clamped at compile time
            }
            default: return s.mean_ns;
        }
        if (!(v > 0.0)) return 0;   // never a negative delay (and NaN-safe)
        if (v > 9.0e18) return std::numeric_limits<std::int64_t>::max() / 2;
        return static_cast<std::int64_t>(v + 0.5);
    }

    // netem loss_gilb_ell: the loss draw uses the state before this packet's transition.
    bool gilbert_elliott(const GilbertElliottP& g, Rng& rng) {
        if (!ge_bad) {
            if (rng() < g.p) ge_bad = true;
            return rng() < g.loss_good;
        }
        if (rng() < g.r) ge_bad = false;
        return rng() < g.loss_bad;
    }

    // netem loss_4state: 1 = tx in gap, 2 = tx in burst, 3 = lost in burst, 4 = lost in gap.
    // A packet is lost when the chain enters (or stays in) 3, or enters 4.
    bool markov4(const Markov4P& q, Rng& rng) {
        const std::uint64_t u = rng();
        switch (m4_state) {
            case 1:
                if (u < q.p14) { m4_state = 4; return true; }
                if (u - q.p14 < q.p13) { m4_state = 3; return true; }
                return false;
            case 2:
                if (u < q.p23) { m4_state = 3; return true; }
                return false;
            case 3:
                if (u < q.p32) { m4_state = 2; return false; }
                if (u - q.p32 < q.p31) { m4_state = 1; return false; }
                return true;
            default:
                m4_state = 1;
                return false;
        }
    }

    void new_slot(const SlotP& s, std::int64_t now, Rng& rng) {
        double unused = 0;  // slot gaps are uncorrelated
        std::int64_t gap = s.dist ? sample(s.gap, unused, rng)
                                  : s.min_ns + static_cast<std::int64_t>(below(rng, static_cast<std::uint64_t>(s.span_ns) + 1));
        slot_next = now + std::max<std::int64_t>(0, gap);
        slot_packets = s.max_packets;
        slot_bytes = s.max_bytes;
    }

    // netem dequeue with slots: a packet due after the current slot start opens a new slot
    // one gap later; packets due before it leave at the slot start until the slot's packet
    // or byte budget is spent, which opens the next slot one gap after this one.
    std::int64_t slot_release(const SlotP& s, std::int64_t t, std::uint32_t len, Rng& rng) {
        if (slot_next < t) new_slot(s, t, rng);
        const std::int64_t rel = slot_next;
        slot_packets -= 1;
        slot_bytes -= len;
        if (slot_packets <= 0 || slot_bytes <= 0) new_slot(s, rel, rng);
        return rel;
    }
};

Engine::Engine(ModelPtr model, std::uint64_t seed)
    : model_(model ? std::move(model) : passthrough()), rng_(seed), st_(std::make_shared<State>()) {
    st_->init(rng_);
    if (model_->per_flow) st_->ensure_flows();
    st_->mm_reset(*model_);
}

bool reads_ecn(const Model& m) { return m.ecn && m.loss != LossKind::none; }
bool per_flow(const Model& m) { return m.per_flow; }
bool Engine::per_flow() const { return model_->per_flow; }
bool Engine::reads_ecn() const { return fault::reads_ecn(*model_); }

namespace {
// Nothing but an uncorrelated (or no) delay and order: decide() would draw exactly one delay
// per packet (or none) and touch no other state, which decide_burst then does in loops.
bool delay_only(const Model& m) {
    if (m.loss != LossKind::none || m.duplicate.enabled() || m.corrupt.enabled() || m.has_reorder || m.has_rate ||
        m.has_slot || m.per_flow || m.trace)   // a trace's delay is a function of time, not a draw
        return false;
    if (!m.has_delay) return true;
    const Sampler& s = m.delay;
    return s.kind == SamplerKind::constant || (s.corr.rho == 0.0 && s.kind != SamplerKind::uniform);
}
}  // namespace

void Engine::decide_burst(std::size_t n, const std::int64_t* rx_ns, const std::uint32_t* len,
                          const std::uint8_t* ecn_capable, const std::uint32_t* flow, BurstDecisions& out) {
    out.any_action = false;
    const Model& m = *model_;
    if (!delay_only(m)) {
        for (std::size_t i = 0; i < n; ++i)
            out.put(i, decide(rx_ns[i], len[i], ecn_capable && ecn_capable[i], flow ? flow[i] : 0));
        return;
    }
    State& s = *st_;
    std::int64_t* drawn = out.drawn_ns;
    if (!m.has_delay) {
        for (std::size_t i = 0; i < n; ++i) drawn[i] = 0;
    } else if (m.delay.kind == SamplerKind::constant) {
        for (std::size_t i = 0; i < n; ++i) drawn[i] = m.delay.mean_ns;
    } else if (m.delay.kind == SamplerKind::table) {
        const std::size_t size = m.delay.table.size();
        for (std::size_t i = 0; i < n; ++i) drawn[i] = m.delay.table[static_cast<std::size_t>(below(rng_, size))];
    } else {
        // The draws are serial (one RNG state); their conversion to ns has no branch that
        // depends on the RNG and runs over the array, as sample() computes it per packet.
        double x[BurstDecisions::max];
        // A local copy of the generator: its state stays in registers across the loop (the
        // member, reached through `this`, would be stored and reloaded on every draw).
        Rng r = rng_;
        for (std::size_t i = 0; i < n; ++i) x[i] = s.normal(r);
        rng_ = r;
        const double mean = static_cast<double>(m.delay.mean_ns), jit = m.delay.jitter_ns;
        for (std::size_t i = 0; i < n; ++i) {
            const double v = mean + jit * x[i];
            drawn[i] = !(v > 0.0) ? 0 : v > 9.0e18 ? std::numeric_limits<std::int64_t>::max() / 2 : static_cast<std::int64_t>(v + 0.5);
        }
    }
    // Order: a running maximum, as decide() keeps it in last_release.
    std::int64_t last = s.last_release;
    for (std::size_t i = 0; i < n; ++i) {
        std::int64_t t = rx_ns[i] + drawn[i];
        const bool pushed = m.preserve_order && last > t;
        if (pushed) t = last;
        out.release_ns[i] = t;
        out.corrupt_bit[i] = 0;
        out.flags[i] = pushed ? BurstDecisions::pushed : 0;
        last = std::max(last, t);
    }
    s.last_release = last;
}

void Engine::switch_model(ModelPtr model) {
    if (!model) model = passthrough();
    // A different loss model starts in its good state; everything that orders packets in time
    // (last release, link busy-until, slot, reorder counter, correlation memories) carries over.
    if (model->loss != model_->loss) {
        st_->ge_bad = false;
        st_->m4_state = 1;
    }
    model_ = std::move(model);
    st_->trace_origin = never;   // a new profile replays its trace from its start
    st_->mm_reset(*model_);
    if (model_->per_flow) {
        // Back into flow mode: no flow may overtake what a whole-direction order held back.
        if (!st_->flow_last.empty())
            for (auto& v : st_->flow_last) v = std::max(v, st_->last_release);
        st_->ensure_flows();
    }
}

std::int64_t claim_link(std::atomic<std::int64_t>& busy, std::int64_t rx_ns, std::int64_t ready_ns, std::int64_t ser_ns,
                        std::int64_t max_backlog_ns) {
    std::int64_t cur = busy.load(std::memory_order_relaxed);
    for (;;) {
        if (backlog_full(cur, rx_ns, max_backlog_ns)) return link_full;
        const std::int64_t end = std::max(ready_ns, cur) + ser_ns;
        // Relaxed: the word orders nothing but itself; a failed CAS reloads cur and retries.
        if (busy.compare_exchange_weak(cur, end, std::memory_order_relaxed)) return end;
    }
}

// Serialization time on the emulated link, as netem's packet_time_ns.
static std::int64_t serialization_ns(const RateP& r, std::uint32_t len) {
    std::int64_t bytes = static_cast<std::int64_t>(len) + r.packet_overhead;
    if (bytes < 0) bytes = 0;
    if (r.cell_size) {
        // An integer divide, but only with cells configured (ATM-style links).
        const std::int64_t cells = (bytes + r.cell_size - 1) / r.cell_size;
        bytes = cells * (static_cast<std::int64_t>(r.cell_size) + r.cell_overhead);
    }
    return static_cast<std::int64_t>(static_cast<double>(bytes) * r.ns_per_byte + 0.5);
}

Decision Engine::decide(std::int64_t rx_ns, std::uint32_t len, bool ecn_capable, std::uint32_t flow) {
    const Model& m = *model_;
    State& s = *st_;
    Decision d;
    d.release_ns = rx_ns;

    // netem: count = 1 (+1 if duplicated) (-1 if lost and not ECN-marked); 0 = drop.
    if (s.draw(m.duplicate, s.z_dup, rng_)) d.copies = 2;
    bool lost = false;
    switch (m.loss) {
        case LossKind::none: break;
        case LossKind::random: lost = s.draw(m.random_loss, s.z_loss, rng_); break;
        case LossKind::gilbert_elliott: lost = s.gilbert_elliott(m.ge, rng_); break;
        case LossKind::markov4: lost = s.markov4(m.m4, rng_); break;
    }
    if (lost) {
        if (m.ecn && ecn_capable) {
            d.ecn_mark = true;
        } else if (--d.copies == 0) {
            d.drop = true;
            return d;
        }
    }
    if (s.draw(m.corrupt, s.z_corrupt, rng_) && len > 0) {
        d.corrupt = true;
        d.corrupt_bit = static_cast<std::uint32_t>(below(rng_, std::uint64_t{len} * 8));
    }

    // netem reorder: once `gap - 1` packets have been delayed, each packet is a candidate to
    // skip the delay (and the rate and slot queues) with probability p.
    if (m.has_reorder) {
        if (s.reorder_counter + 1 >= m.reorder_gap && s.draw(m.reorder, s.z_reorder, rng_)) {
            s.reorder_counter = 0;
            return d;  // released at rx: overtakes on purpose
        }
        ++s.reorder_counter;
    }

    std::int64_t t = rx_ns;
    if (m.has_delay) {
        d.drawn_ns = m.trace ? s.trace_delay(*m.trace, rx_ns) : s.sample(m.delay, s.z_delay, rng_);
        t += d.drawn_ns;
    }
    std::int64_t* last = nullptr;   // the order this packet keeps: its flow's, or the direction's
    if (m.preserve_order) {
        last = m.per_flow ? &s.flow_last[flow & (flow_slots - 1)] : &s.last_release;
        if (*last > t) {
            t = *last;
            d.pushed = true;
        }
    }
    if (m.mm_link) {
        // The link is FIFO: a packet is ready when it has been delayed and the one before it
        // has been given its opportunity.
        std::int64_t& oldest = s.mm_queue[s.mm_head];
        if (oldest > rx_ns) {   // `limit` packets still wait for the link: tail drop
            d.drop = true;
            return d;
        }
        t = s.mm.release(*m.mm_link, std::max(t, s.busy_until), len);
        s.busy_until = t;
        oldest = t;
        if (++s.mm_head == s.mm_queue.size()) s.mm_head = 0;
    } else if (m.has_rate && link_) {
        // Several lcores: one link for all, its tail drop at the profile's limit.
        const std::int64_t ser = serialization_ns(m.rate, len);
        t = claim_link(link_->busy_until, rx_ns, t, ser, static_cast<std::int64_t>(m.limit) * ser);
        if (t == link_full) {
            d.drop = true;
            return d;
        }
    } else if (m.has_rate) {
        // The link is busy until the previous packet has been serialized (netem's rate uses
        // the tail's send time as "now"), so rate also keeps order. At the limit, the tail
        // drop comes first: a packet dropped later (by the forwarder's queue) would have
        // taken its link time from the ones that pass, and a saturated link sent ~1/200 of
        // its rate.
        const std::int64_t ser = serialization_ns(m.rate, len);
        if (backlog_full(s.busy_until, rx_ns, static_cast<std::int64_t>(m.limit) * ser)) {
            d.drop = true;
            return d;
        }
        t = std::max(t, s.busy_until) + ser;
        s.busy_until = t;
    }
    if (m.has_slot) t = s.slot_release(m.slot, t, len, rng_);
    s.last_release = std::max(s.last_release, t);
    if (last) *last = std::max(*last, t);
    d.release_ns = t;
    return d;
}

}  // namespace netchaos::fault
