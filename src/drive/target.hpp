#pragma once
// The run's fault target, in process: each step goes to the netem backend's API (inside
// [target] netns, src/drive/netns.hpp), or as one normalized profile to the control socket
// of the forwarder or of the HTTP proxy. No step file, no child `netchaos apply`. Each switch is timed from the decision
// to the kernel's or the forwarder's acknowledgement (docs/performance.md).
#include <cstdint>
#include <functional>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "drive/netns.hpp"
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

    // The target's namespace ([target] netns or pid) disappeared, or now names another one:
    // its faults went with it. apply() then fails with why; clear() discards its ledgers.
    bool gone() const { return !gone_why_.empty(); }
    const std::string& gone_why() const { return gone_why_; }
    const profile::Target& config() const { return t_; }
    NetnsRef where() const;

private:
    // Pins the namespace for one apply or clear, checked against the one first applied to.
    Result<PinnedNetns> pin();
    std::filesystem::path control() const;
    std::string_view peer() const;   // who answers on control(), for errors
    profile::Target t_;
    std::vector<std::int64_t> switch_ns_;
    std::optional<NetnsIdentity> identity_;   // of the namespace first applied to
    std::string gone_why_;
};

// Every [[target]] of an experiment as one fault target: each step is applied to all of them
// at once (one thread each), the spread of their acknowledgements is the switch skew; the
// rollback clears them all. A target whose namespace disappears mid-run ends there ("target
// gone"), the others go on.
class TargetSet final : public experiment::FaultTarget {
public:
    explicit TargetSet(const std::vector<profile::Target>& ts);
    Result<void> apply(const profile::Profile& p) override;
    Result<void> apply_step(const experiment::Step& s) override;
    Result<void> clear() override;
    std::string describe() const override;
    std::optional<experiment::EmulatorTruth> truth() override;
    void fill_report(report::Report& r) const override;
    // One line per target ("phase switches: ..."), and the skew line with two targets or more.
    std::vector<std::string> switch_summary() const;

private:
    Result<void> apply_each(const std::function<const profile::Profile&(std::size_t)>& pick, const std::string& label);
    struct Entry {
        InProcessTarget target;
        bool applied = false;
        std::string rollback = "not applied";
        std::string gone_note;
    };
    std::vector<Entry> entries_;
    std::vector<std::int64_t> skew_ns_;
};

// The forwarder's cumulative counters from a {"cmd":"stats"} reply; nullopt for a forwarder
// without ground-truth counters.
std::optional<experiment::EmulatorTruth> truth_of_stats(const nlohmann::json& reply);

}  // namespace netchaos::drive
