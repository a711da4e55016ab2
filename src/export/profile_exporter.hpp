#pragma once
// The configured fault as Prometheus series, for whoever holds a profile: the forwarder
// (per port direction) and `netchaos run` (egress / ingress). Only publishes: the moments
// come from experiment::delay_moments, computed by the caller.
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netchaos::exporter {

// The profile in force on one direction, as the exporters publish it.
struct ActiveProfile {
    std::string name;                 // "payment-gateway-morning (egress)" or "passthrough"
    std::string text;                 // the normalized profile text of the direction
    std::optional<double> mean_s;     // requested delay moments; none when unknown
    std::optional<double> sigma_s;
};

// FNV-1a 64 of the normalized text, 16 hex digits: equal profiles, equal hashes.
std::string profile_hash(std::string_view text);

// PREFIX_profile_info{direction,hash,profile} 1, PREFIX_requested_delay_mean_seconds and
// PREFIX_requested_delay_stddev_seconds{direction}: the configured fault, next to the
// observation. Whoever applies profiles sets them (any thread); scrapes read them.
class ProfileCollector final : public prometheus::Collectable {
public:
    ProfileCollector(std::string prefix, std::array<std::string, 2> directions)
        : prefix_(std::move(prefix)), dirs_(std::move(directions)) {}
    void set_profile(int direction, ActiveProfile p);
    std::vector<prometheus::MetricFamily> Collect() const override;

private:
    std::string prefix_;
    std::array<std::string, 2> dirs_;
    mutable std::mutex m_;
    std::array<ActiveProfile, 2> prof_{};
};

}  // namespace netchaos::exporter
