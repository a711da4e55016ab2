#include "export/fwd_exporter.hpp"

#include "export/families.hpp"

#include <cstdio>
#include <limits>

namespace netchaos::exporter {

namespace {
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

const char* dir_label(int d) { return d == 0 ? "0to1" : "1to0"; }

// The lcore's log-linear nanosecond histogram (8 sub-buckets per power of two) regrouped at
// powers of two, where its edges fall: le = 2^k ns, 128 ns to 17 s, cumulative counts
// exact (a value of exactly 2^k ns lands in the next bucket, as the lcore's edges are 2^k - 1).
ClientMetric::Histogram regroup(const std::array<std::uint64_t, fwd::Histogram::buckets>& h, std::uint64_t sum_ns) {
    ClientMetric::Histogram out;
    std::uint64_t total = 0;
    for (auto c : h) total += c;
    int i = 0;
    std::uint64_t cum = 0;
    for (int k = 7; k <= 34; ++k) {
        const std::uint64_t edge = std::uint64_t{1} << k;
        for (; i < fwd::Histogram::buckets && fwd::Histogram::upper(i) < edge; ++i) cum += h[static_cast<std::size_t>(i)];
        out.bucket.push_back({cum, static_cast<double>(edge) / 1e9});
    }
    out.bucket.push_back({total, std::numeric_limits<double>::infinity()});
    out.sample_count = total;
    out.sample_sum = static_cast<double>(sum_ns) / 1e9;
    return out;
}
}  // namespace

std::vector<MetricFamily> FwdCollector::Collect() const {
    const std::array<fwd::Snapshot, 2> s{fwd::snapshot(lanes_, 0), fwd::snapshot(lanes_, 1)};
    const fwd::LoopSnapshot loop = fwd::loop_snapshot(lanes_);
    auto per_dir = [&](const char* name, const char* help, std::uint64_t fwd::Snapshot::*field) {
        auto f = family(name, help, MetricType::Counter);
        for (int d = 0; d < 2; ++d) add_counter(f, {{"direction", dir_label(d)}}, static_cast<double>(s[d].*field));
        return f;
    };
    std::vector<MetricFamily> out;
    out.push_back(per_dir("netchaos_fwd_rx_packets_total", "Frames received, by direction (0to1: port 0 -> port 1)", &fwd::Snapshot::rx));
    out.push_back(per_dir("netchaos_fwd_tx_packets_total", "Frames sent, by direction", &fwd::Snapshot::tx));
    auto dropped = family("netchaos_fwd_dropped_packets_total",
                          "Frames dropped, by direction and reason: fault (the profile's loss), queue_full (the "
                          "profile's limit or the release queue), tx (the port's tx ring refused them), exit (freed "
                          "at shutdown), malformed (--malformed drop)",
                          MetricType::Counter);
    for (int d = 0; d < 2; ++d) {
        const auto& x = s[static_cast<std::size_t>(d)];
        for (auto [reason, v] : {std::pair{"fault", x.dropped_fault}, {"queue_full", x.dropped_queue_full}, {"tx", x.dropped_tx},
                                 {"exit", x.dropped_exit}, {"malformed", x.malformed_dropped}})
            add_counter(dropped, {{"direction", dir_label(d)}, {"reason", reason}}, static_cast<double>(v));
    }
    out.push_back(std::move(dropped));
    out.push_back(per_dir("netchaos_fwd_duplicated_packets_total", "Extra copies the profile's duplicate made", &fwd::Snapshot::duplicated));
    out.push_back(per_dir("netchaos_fwd_corrupted_packets_total", "Frames the profile's corrupt flipped a bit in", &fwd::Snapshot::corrupted));
    out.push_back(per_dir("netchaos_fwd_ecn_marked_packets_total", "Frames marked CE instead of dropped (ecn = true)", &fwd::Snapshot::ecn_marked));
    out.push_back(per_dir("netchaos_fwd_malformed_packets_total", "Runt, truncated or oversize frames seen (forwarded or dropped per --malformed)", &fwd::Snapshot::malformed));
    auto inflight = family("netchaos_fwd_in_flight_packets", "Frames held in the release queue now", MetricType::Gauge);
    for (int d = 0; d < 2; ++d) add_gauge(inflight, {{"direction", dir_label(d)}}, static_cast<double>(s[d].in_flight));
    out.push_back(std::move(inflight));
    auto err = family("netchaos_fwd_release_error_seconds",
                      "How late each frame left against its scheduled release time", MetricType::Histogram);
    for (int d = 0; d < 2; ++d) {
        auto m = labelled({{"direction", dir_label(d)}});
        m.histogram = regroup(s[d].err_hist, s[d].err_sum_ns);
        err.metric.push_back(std::move(m));
    }
    out.push_back(std::move(err));
    auto stalls = family("netchaos_fwd_stalls_total", "Forwarding loop gaps over the stall threshold (500 us)", MetricType::Counter);
    add_counter(stalls, {}, static_cast<double>(loop.stalls));
    out.push_back(std::move(stalls));
    auto stall_s = family("netchaos_fwd_stall_seconds_total", "Time lost in those gaps", MetricType::Counter);
    add_counter(stall_s, {}, static_cast<double>(loop.stall_ns_total) / 1e9);
    out.push_back(std::move(stall_s));
    for (auto& f : profile_.Collect()) out.push_back(std::move(f));
    return out;
}

}  // namespace netchaos::exporter
