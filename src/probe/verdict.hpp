#pragma once
// A run's summary and its verdict against profile::Thresholds. Pure.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "probe/stats.hpp"
#include "probe/window.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

struct Summary {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;    // distinct probes answered within the timeout
    std::uint64_t lost = 0;
    double loss = 0.0;
    std::uint64_t duplicates = 0;
    std::uint64_t reordered = 0;
    double rtt_mean_ns = 0.0;
    double rtt_stddev_ns = 0.0;
    Nanos rtt_min{0}, rtt_max{0};
    Nanos p50{0}, p90{0}, p99{0}, p999{0};
    double ipdv_mean_ns = 0.0;     // mean |IPDV| over consecutive received pairs
    double jitter_rfc3550_ns = 0.0;
    double jitter_1s_max_ns = 0.0; // worst window
    double spike_ratio = 0.0;      // after the last window
    bool alert_fired = false;
    int alert_max_consecutive = 0;
};

// records: one per probe sent, sorted by seq; arrivals: in-time replies in arrival order.
Summary summarize(std::span<const Record> records, std::span<const Arrival> arrivals,
                  std::span<const WindowResult> windows, const AlertTracker* alert);

// A missed threshold. Durations are in milliseconds, ratios and loss as fractions.
struct Miss {
    std::string name;    // the threshold key: "p99_rtt_max", "loss_max", "alert", ...
    double value = 0.0;
    double limit = 0.0;
    bool operator==(const Miss&) const = default;
};

// Every configured threshold is checked; a value above its limit is a miss, except
// p99_drift_max which misses at >= (the ops rule reads "P99 RTT drift >= 200%").
// drift = (p99 - baseline_p99) / baseline_p99, only when a baseline is given.
// A run with probes sent and none answered always misses "reachable" (value 0, limit 1),
// with or without thresholds: an unreachable target never passes.
std::vector<Miss> evaluate(const Summary& s, const profile::Thresholds& t, std::optional<Nanos> baseline_p99);

// One line per miss: "p99_rtt_max: 312.4 > 200" (units in the name's convention).
std::string describe(const Miss& m);

}  // namespace netchaos::probe
