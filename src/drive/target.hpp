#pragma once
// The run's fault target, in process: each step goes to the netem backend's API (inside
// [target] netns, src/drive/netns.hpp), or as one normalized profile to the control socket
// of the forwarder or of the HTTP proxy. No step file, no child `netchaos apply`. Each switch is timed from the decision
// to the kernel's or the forwarder's acknowledgement (docs/performance.md).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiment/runner.hpp"
#include "profile/profile.hpp"

namespace netchaos::drive {

class InProcessTarget final : public experiment::FaultTarget {
public:
    explicit InProcessTarget(profile::Target t) : t_(std::move(t)) {}
    Result<void> apply(const profile::Profile& p) override;
    Result<void> clear() override;
    std::string describe() const override;
    std::optional<experiment::EmulatorTruth> truth() override;   // dpdk: the forwarder's stats

    // Every apply's time from the call to the acknowledgement, in order.
    const std::vector<std::int64_t>& switch_ns() const { return switch_ns_; }
    // "phase switches: 12, decision to ack median 0.84 ms, max 2.10 ms (netem over netlink)".
    std::string switch_summary() const;

private:
    std::filesystem::path control() const;
    std::string_view peer() const;   // who answers on control(), for errors
    profile::Target t_;
    std::vector<std::int64_t> switch_ns_;
};

// The forwarder's cumulative counters from a {"cmd":"stats"} reply; nullopt for a forwarder
// without ground-truth counters.
std::optional<experiment::EmulatorTruth> truth_of_stats(const nlohmann::json& reply);

}  // namespace netchaos::drive
