#pragma once
// The run's probe as a thread of the controller: the prober (src/probe) sends on its grid
// from inside [probe] netns, and every resolved probe and closed window goes straight into
// memory for the metrics module. Nothing is written to a CSV or parsed back from JSON.
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "experiment/runner.hpp"
#include "probe/prober.hpp"
#include "profile/profile.hpp"

namespace netchaos::drive {

class ThreadProbe final : public experiment::ProbeSource {
public:
    // `expected`: the planned timeline; the probe runs until stop(), an hour longer at most
    // (the timeline may be held while the command under chaos finishes).
    ThreadProbe(profile::ProbeConfig c, profile::Duration expected) : c_(std::move(c)), expected_(expected) {}
    ~ThreadProbe() override;
    Result<void> start() override;
    std::vector<experiment::Window> poll() override;
    Result<std::vector<experiment::Record>> stop() override;
    std::string describe() const override;
    std::optional<std::string> failure() override;

private:
    profile::ProbeConfig c_;
    profile::Duration expected_;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> done_{false};   // run_probe returned (or never started)
    std::mutex mu_;
    std::vector<experiment::Window> pending_;
    std::vector<experiment::Record> records_;
    std::optional<Error> error_;        // run_probe's error, or the namespace's
    std::string ended_why_;             // it ended on its own with a result: why
};

}  // namespace netchaos::drive
