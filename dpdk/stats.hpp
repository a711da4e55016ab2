#pragma once
// Per-direction counters and the release-error histogram. The lcore is the only writer
// (plain load+store on relaxed atomics, i.e. ordinary movs on x86); the control thread
// reads them at any time. "reset" is a baseline the reader subtracts, so the hot path
// never takes a request for it.
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace netchaos::fwd {

inline void bump(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

// Counter names, declared once (X-macro) so the struct, the snapshot and the JSON agree.
#define NETCHAOS_FWD_COUNTERS(X) \
    X(rx) X(tx) X(dropped_fault) X(dropped_queue_full) X(dropped_tx) X(duplicated) \
    X(corrupted) X(ecn_marked) X(malformed) X(malformed_runt) X(malformed_truncated) \
    X(malformed_oversize) X(malformed_dropped) X(non_ip) X(late_after_stall) X(dropped_exit) \
    X(held) X(pushed_by_order) X(drawn_sum_us) X(drawn_sumsq_us2) X(held_sum_us) X(held_sumsq_us2) \
    X(err_sum_ns)

// Log-linear histogram of nanoseconds: 8 sub-buckets per power of two (<= 9% wide).
struct Histogram {
    static constexpr int sub_bits = 3;
    static constexpr int sub = 1 << sub_bits;
    static constexpr int buckets = 64 * sub;
    static int index(std::uint64_t v) {
        if (v < sub) return static_cast<int>(v);
        const int msb = 63 - __builtin_clzll(v);
        const int frac = static_cast<int>((v >> (msb - sub_bits)) & (sub - 1));
        return (msb - sub_bits + 1) * sub + frac;
    }
    // Largest value a bucket holds (percentiles report the upper edge: never flattering).
    static std::uint64_t upper(int i) {
        if (i < sub) return static_cast<std::uint64_t>(i);
        const int msb = i / sub + sub_bits - 1;
        const std::uint64_t base = std::uint64_t{1} << msb;
        const std::uint64_t step = base >> sub_bits;
        return base + step * static_cast<std::uint64_t>(i % sub + 1) - 1;
    }
};

struct DirStats {
#define X(n) std::atomic<std::uint64_t> n{0};
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    std::atomic<std::uint64_t> in_flight{0};     // gauge: queued in the release wheel
    std::atomic<std::uint64_t> err_max_ns{0};    // since the last reset
    std::array<std::atomic<std::uint64_t>, Histogram::buckets> err_hist{};
    // The same for the first release of each release instant only: with reorder = false, order
    // preservation makes many packets due at one instant (a clump waits for the slowest draw
    // ahead of it), and they leave one after the other; the first one's error is the release
    // logic's, the rest add the clump's serialization.
    std::array<std::atomic<std::uint64_t>, Histogram::buckets> first_err_hist{};
    // Ground truth for the fidelity gate, per packet the engine scheduled: the delay it drew
    // (checks the engine against the model) and the holding time it delivered (release - rx:
    // adds order preservation, rate and slot queueing). Sums in us for exact moments; the
    // histograms for the shape. `pushed_by_order` counts releases order preservation moved.
    std::array<std::atomic<std::uint64_t>, Histogram::buckets> drawn_hist{};
    std::array<std::atomic<std::uint64_t>, Histogram::buckets> held_hist{};
    // One release's error alone (a burst's go through ErrorSums, below).
    void record_error(std::uint64_t ns, bool first_of_instant);
};

// Counts into one histogram of a burst: consecutive values mostly land in the same bucket
// (a constant delay always, a jittered one in a handful), so a run is counted in a register
// and reaches the shared bucket once, when the bucket changes or the burst ends. Per value,
// a load-add-store on the bucket chained each packet to the previous one's store.
class BucketRuns {
public:
    using Buckets = std::array<std::atomic<std::uint64_t>, Histogram::buckets>;
    void add(Buckets& h, std::uint64_t v) {
        const int b = Histogram::index(v);
        if (b == bucket_) { ++run_; return; }
        flush(h);
        bucket_ = b;
        run_ = 1;
    }
    void flush(Buckets& h) {
        if (run_) bump(h[static_cast<std::size_t>(bucket_)], run_);
        run_ = 0;
    }
private:
    int bucket_ = -1;
    std::uint64_t run_ = 0;
};

// The release-error record of a tx burst (all releases, and the first of each instant),
// published once per burst as HoldSums is.
struct ErrorSums {
    BucketRuns all, first;
    std::uint64_t sum_ns = 0, max_ns = 0;
    void add(DirStats& st, std::uint64_t ns, bool first_of_instant) {
        all.add(st.err_hist, ns);
        if (first_of_instant) first.add(st.first_err_hist, ns);
        sum_ns += ns;
        max_ns = ns > max_ns ? ns : max_ns;
    }
    void publish(DirStats& st) {
        all.flush(st.err_hist);
        first.flush(st.first_err_hist);
        if (sum_ns) bump(st.err_sum_ns, sum_ns);   // the exporter's histogram _sum
        if (max_ns > st.err_max_ns.load(std::memory_order_relaxed)) st.err_max_ns.store(max_ns, std::memory_order_relaxed);
    }
};

inline void DirStats::record_error(std::uint64_t ns, bool first_of_instant) {
    ErrorSums e;
    e.add(*this, ns, first_of_instant);
    e.publish(*this);
}

// The holding-time record of a burst's packets (DirStats' sums and histograms). The sums
// stay in registers and reach the shared counters once per burst: per packet, each was a
// load-add-store on the same counter, a store-forwarding chain from one packet to the next.
struct HoldSums {
    std::uint64_t n = 0, drawn_us = 0, drawn_us2 = 0, held_us = 0, held_us2 = 0, pushed = 0;
    BucketRuns drawn_runs, held_runs;
    void add(DirStats& st, std::int64_t drawn_ns, std::int64_t held_ns, bool was_pushed) {
        const auto dn = static_cast<std::uint64_t>(drawn_ns > 0 ? drawn_ns : 0);
        const auto hn = static_cast<std::uint64_t>(held_ns > 0 ? held_ns : 0);
        const std::uint64_t du = (dn + 500) / 1000, hu = (hn + 500) / 1000;
        ++n;
        drawn_us += du;
        drawn_us2 += du * du;
        held_us += hu;
        held_us2 += hu * hu;
        pushed += was_pushed;
        drawn_runs.add(st.drawn_hist, dn);
        held_runs.add(st.held_hist, hn);
    }
    void publish(DirStats& st) {
        if (n == 0) return;
        drawn_runs.flush(st.drawn_hist);
        held_runs.flush(st.held_hist);
        bump(st.held, n);
        bump(st.drawn_sum_us, drawn_us);
        bump(st.drawn_sumsq_us2, drawn_us2);
        bump(st.held_sum_us, held_us);
        bump(st.held_sumsq_us2, held_us2);
        if (pushed) bump(st.pushed_by_order, pushed);
    }
};

struct LoopStats {
    std::atomic<std::uint64_t> iterations{0};
    std::atomic<std::uint64_t> stalls{0};          // loop gaps over the stall threshold
    std::atomic<std::uint64_t> stall_ns_total{0};
    std::atomic<std::uint64_t> stall_max_ns{0};
    // TSC ticks spent inside the PMD's rx and tx burst calls, and the packets they moved, on
    // one burst call in 64 (a sample: timing every call would cost two more TSC reads per
    // burst). Says how much of a packet's time is the driver's and how much the forwarder's.
    std::atomic<std::uint64_t> pmd_rx_ticks{0}, pmd_rx_pkts{0}, pmd_tx_ticks{0}, pmd_tx_pkts{0};
};

// A plain copy the control thread takes, subtracts baselines from, and renders.
struct Snapshot {
#define X(n) std::uint64_t n = 0;
    NETCHAOS_FWD_COUNTERS(X)
#undef X
    std::uint64_t in_flight = 0;
    std::uint64_t err_max_ns = 0;
    std::array<std::uint64_t, Histogram::buckets> err_hist{};
    std::array<std::uint64_t, Histogram::buckets> first_err_hist{};
    std::array<std::uint64_t, Histogram::buckets> drawn_hist{};
    std::array<std::uint64_t, Histogram::buckets> held_hist{};
};

Snapshot snapshot(const DirStats& s);
Snapshot minus(const Snapshot& now, const Snapshot& base);   // counters and histogram; gauges kept
// Two lcores' lanes of one direction as one (--lcores N): counters and histograms add, so
// do the packets in flight (each lane's wheel holds its own); the worst release error is
// the larger. Every reader (stats, show, the exporter) sees one direction, as with one lcore.
Snapshot merge(const Snapshot& a, const Snapshot& b);

// The loop's counters as a plain copy, merged across lanes the same way (stall max: the larger).
struct LoopSnapshot {
    std::uint64_t iterations = 0, stalls = 0, stall_ns_total = 0, stall_max_ns = 0;
    std::uint64_t pmd_rx_ticks = 0, pmd_rx_pkts = 0, pmd_tx_ticks = 0, pmd_tx_pkts = 0;
};
LoopSnapshot snapshot(const LoopStats& s);
LoopSnapshot merge(const LoopSnapshot& a, const LoopSnapshot& b);

// What a reader needs of one lane: its two directions and its loop.
struct LaneView {
    const std::array<DirStats, 2>* dir = nullptr;
    const LoopStats* loop = nullptr;
};
// The lanes summed: direction d over every lane, and the loops.
Snapshot snapshot(const std::vector<LaneView>& lanes, std::size_t d);
LoopSnapshot loop_snapshot(const std::vector<LaneView>& lanes);
// Percentile (0..1) of the histogram as the bucket's upper edge; 0 when empty.
std::uint64_t percentile(const std::array<std::uint64_t, Histogram::buckets>& h, double q);
nlohmann::json to_json(const Snapshot& s);

}  // namespace netchaos::fwd
