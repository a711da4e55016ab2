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

#include "export/profile_exporter.hpp"
#include "stats.hpp"   // dpdk/: the forwarder's counters (no DPDK headers)

namespace netchaos::exporter {

class FwdCollector final : public prometheus::Collectable {
public:
    FwdCollector(const std::array<fwd::DirStats, 2>& dir, const fwd::LoopStats& loop) : lanes_{{&dir, &loop}} {}
    // --lcores N: every lane's counters, published summed (one series per direction, as with one).
    explicit FwdCollector(std::vector<fwd::LaneView> lanes) : lanes_(std::move(lanes)) {}
    void set_profile(int direction, ActiveProfile p) { profile_.set_profile(direction, std::move(p)); }   // the control thread
    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    std::vector<fwd::LaneView> lanes_;
    ProfileCollector profile_{"netchaos_fwd", {"0to1", "1to0"}};
};

}  // namespace netchaos::exporter
