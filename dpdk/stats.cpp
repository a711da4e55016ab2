#include "stats.hpp"

#include <algorithm>

namespace netchaos::fwd {

Snapshot snapshot(const DirStats& s) {
    Snapshot o;
#define X(n) o.n = s.n.load(std::memory_order_relaxed);
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    o.in_flight = s.in_flight.load(std::memory_order_relaxed);
    o.err_max_ns = s.err_max_ns.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < o.err_hist.size(); ++i) {
        o.err_hist[i] = s.err_hist[i].load(std::memory_order_relaxed);
        o.first_err_hist[i] = s.first_err_hist[i].load(std::memory_order_relaxed);
        o.drawn_hist[i] = s.drawn_hist[i].load(std::memory_order_relaxed);
        o.held_hist[i] = s.held_hist[i].load(std::memory_order_relaxed);
    }
    return o;
}

Snapshot minus(const Snapshot& now, const Snapshot& base) {
    Snapshot o = now;
#define X(n) o.n = now.n - base.n;
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    for (std::size_t i = 0; i < o.err_hist.size(); ++i) {
        o.err_hist[i] = now.err_hist[i] - base.err_hist[i];
        o.first_err_hist[i] = now.first_err_hist[i] - base.first_err_hist[i];
        o.drawn_hist[i] = now.drawn_hist[i] - base.drawn_hist[i];
        o.held_hist[i] = now.held_hist[i] - base.held_hist[i];
    }
    return o;
}

Snapshot merge(const Snapshot& a, const Snapshot& b) {
    Snapshot o;
#define X(n) o.n = a.n + b.n;
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    o.in_flight = a.in_flight + b.in_flight;
    o.err_max_ns = std::max(a.err_max_ns, b.err_max_ns);
    for (std::size_t i = 0; i < o.err_hist.size(); ++i) {
        o.err_hist[i] = a.err_hist[i] + b.err_hist[i];
        o.first_err_hist[i] = a.first_err_hist[i] + b.first_err_hist[i];
        o.drawn_hist[i] = a.drawn_hist[i] + b.drawn_hist[i];
        o.held_hist[i] = a.held_hist[i] + b.held_hist[i];
    }
    return o;
}

LoopSnapshot snapshot(const LoopStats& s) {
    constexpr auto r = std::memory_order_relaxed;
    return {s.iterations.load(r),   s.stalls.load(r),      s.stall_ns_total.load(r), s.stall_max_ns.load(r),
            s.pmd_rx_ticks.load(r), s.pmd_rx_pkts.load(r), s.pmd_tx_ticks.load(r),   s.pmd_tx_pkts.load(r)};
}

LoopSnapshot merge(const LoopSnapshot& a, const LoopSnapshot& b) {
    return {a.iterations + b.iterations,     a.stalls + b.stalls,           a.stall_ns_total + b.stall_ns_total,
            std::max(a.stall_max_ns, b.stall_max_ns), a.pmd_rx_ticks + b.pmd_rx_ticks, a.pmd_rx_pkts + b.pmd_rx_pkts,
            a.pmd_tx_ticks + b.pmd_tx_ticks, a.pmd_tx_pkts + b.pmd_tx_pkts};
}

Snapshot snapshot(const std::vector<LaneView>& lanes, std::size_t d) {
    Snapshot o;
    for (const auto& l : lanes) o = merge(o, snapshot((*l.dir)[d]));
    return o;
}

LoopSnapshot loop_snapshot(const std::vector<LaneView>& lanes) {
    LoopSnapshot o;
    for (const auto& l : lanes) o = merge(o, snapshot(*l.loop));
    return o;
}

std::uint64_t percentile(const std::array<std::uint64_t, Histogram::buckets>& h, double q) {
    std::uint64_t total = 0;
    for (auto c : h) total += c;
    if (total == 0) return 0;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total));
    if (rank >= total) rank = total - 1;
    std::uint64_t seen = 0;
    for (int i = 0; i < Histogram::buckets; ++i) {
        seen += h[static_cast<std::size_t>(i)];
        if (seen > rank) return Histogram::upper(i);
    }
    return Histogram::upper(Histogram::buckets - 1);
}

namespace {
nlohmann::json buckets_json(const std::array<std::uint64_t, Histogram::buckets>& h) {
    nlohmann::json b = nlohmann::json::array();
    for (int i = 0; i < Histogram::buckets; ++i)
        if (const auto c = h[static_cast<std::size_t>(i)]) b.push_back({{"le_ns", Histogram::upper(i)}, {"count", c}});
    return b;
}

// A release-error histogram's count and percentiles (bucket upper edges).
nlohmann::json error_json(const std::array<std::uint64_t, Histogram::buckets>& h) {
    std::uint64_t count = 0;
    for (const auto c : h) count += c;
    return {{"count", count},
            {"p50", percentile(h, 0.50)},
            {"p90", percentile(h, 0.90)},
            {"p99", percentile(h, 0.99)},
            {"p999", percentile(h, 0.999)}};
}
}  // namespace

nlohmann::json to_json(const Snapshot& s) {
    nlohmann::json j;
#define X(n) j[#n] = s.n;
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    j["in_flight"] = s.in_flight;
    j["release_error_ns"] = error_json(s.err_hist);
    j["release_error_ns"]["max"] = s.err_max_ns;
    j["release_error_ns"]["buckets"] = buckets_json(s.err_hist);
    j["release_error_first_ns"] = error_json(s.first_err_hist);
    // What the engine drew and what the wheel held (netchaos run's fidelity table).
    j["drawn_ns"] = {{"p50", percentile(s.drawn_hist, 0.50)}, {"p99", percentile(s.drawn_hist, 0.99)},
                     {"buckets", buckets_json(s.drawn_hist)}};
    j["held_ns"] = {{"p50", percentile(s.held_hist, 0.50)}, {"p99", percentile(s.held_hist, 0.99)},
                    {"buckets", buckets_json(s.held_hist)}};
    return j;
}

}  // namespace netchaos::fwd
