#pragma once
// What `netchaos-fwd --metrics-listen` publishes (docs/monitoring.md). A Collectable, not
// prometheus-cpp Counters: the forwarding lcore keeps writing its own relaxed atomics
// (dpdk/stats.hpp) and never learns a scrape happened; Collect() runs on the HTTP server's
// thread (off the forwarding core), takes a snapshot and renders it. Counters are the raw
// ones, never the `reset` baselines of the control socket, so they only go up.
//
// The configured fault sits next to the observation: the active profile per direction as an
// info series (name and a hash of its normalized text) and its requested delay mean and
// sigma (experiment::delay_moments, the fidelity gate's "requested") as gauges.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stats.hpp"   // dpdk/: the forwarder's counters (no DPDK headers)

namespace netchaos::exporter {

struct FwdProfile {
    std::string name;                 // "payment-gateway-morning (egress)" or "passthrough"
    std::string text;                 // the normalized profile text of the direction
    std::optional<double> mean_s;     // requested delay moments; none when unknown
    std::optional<double> sigma_s;
};

// FNV-1a 64 of the normalized text, 16 hex digits: equal profiles, equal hashes.
std::string profile_hash(std::string_view text);

class FwdCollector final : public prometheus::Collectable {
public:
    FwdCollector(const std::array<fwd::DirStats, 2>& dir, const fwd::LoopStats& loop) : dir_(dir), loop_(loop) {}
    void set_profile(int direction, FwdProfile p);   // whoever switches models (the control thread)
    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    const std::array<fwd::DirStats, 2>& dir_;
    const fwd::LoopStats& loop_;
    mutable std::mutex m_;
    std::array<FwdProfile, 2> prof_{};
};

}  // namespace netchaos::exporter
