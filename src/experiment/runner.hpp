#pragma once
// The experiment runner: walks a Plan against injected edges (fault target, probe, command,
// timer), so the verdict logic runs in unit tests with fakes and in production with
// the in-process edges (src/drive) and the command under chaos (process.hpp).
//
//   probe starts -> baseline -> each fault step applied by REPLACING the previous one (never
//   clear-then-apply: no fault-free gap) -> COMMAND runs from the first fault step; if it
//   outlives the timeline the last step is held until it exits -> rollback (clear) ->
//   recovery -> probe stops -> per-phase stats, SLO checks, fidelity gate -> report.
// A stop request (signal) at any point ends the walk, rolls back and reports what was seen.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "experiment/ending.hpp"
#include "experiment/fidelity.hpp"
#include "experiment/plan.hpp"
#include "experiment/samples.hpp"
#include "report/report.hpp"

namespace netchaos::experiment {

class FaultTarget {
public:
    virtual ~FaultTarget() = default;
    virtual Result<void> apply(const profile::Profile& p) = 0;   // replaces whatever is there
    virtual Result<void> clear() = 0;                            // back to no fault
    virtual std::string describe() const = 0;
    // The emulator's cumulative ground-truth counters (drawn/held delays, pushes, rx), when
    // it keeps them (the DPDK forwarder); netem has none. `seconds` is left to the caller.
    virtual std::optional<EmulatorTruth> truth() { return std::nullopt; }
    // One fault step of the plan. Several targets ([[target]]) each apply their own profile
    // for the step's phase, or the step's.
    virtual Result<void> apply_step(const Step& s) { return apply(s.profile); }
    // After the rollback: per-target results and switch skew, for the report.
    virtual void fill_report(report::Report&) const {}
};

class ProbeSource {
public:
    virtual ~ProbeSource() = default;
    virtual Result<void> start() = 0;
    virtual std::vector<Window> poll() = 0;                // windows completed since last poll
    virtual Result<std::vector<Record>> stop() = 0;        // ends the probe, every probe's record
    virtual std::string describe() const = 0;
    // Set once the probe has ended on its own (it must run until stop()): why, e.g.
    // "probe exited 1: netchaos probe: port unreachable: ...".
    virtual std::optional<std::string> failure() { return std::nullopt; }
};

class CommandRunner {
public:
    virtual ~CommandRunner() = default;
    virtual Result<void> start(const std::vector<std::string>& argv) = 0;
    virtual std::optional<int> poll() = 0;   // exit status (128+sig if killed) once finished
    virtual int terminate() = 0;             // stop it (and its children), return its status
    // Its stdout+stderr so far: the last lines (at most 200), and how many it wrote in all.
    virtual std::vector<std::string> output_tail(std::uint64_t& lines) {
        lines = 0;
        return {};
    }
};

class Timer {
public:
    virtual ~Timer() = default;
    virtual std::int64_t now_ns() const = 0;   // CLOCK_MONOTONIC, the probe's time base
    // Sleeps until t_ns or until `stop` becomes non-zero.
    virtual void sleep_until(std::int64_t t_ns, const std::atomic<int>& stop) = 0;
};

struct RunOptions {
    std::vector<std::string> command;                    // empty = none
    std::int64_t tick_ns = 1'000'000'000;                // progress poll and lease renewal period
    std::function<void()> on_tick;                       // e.g. renew the watchdog lease
    std::function<void(const std::string&)> on_progress; // one line per phase
};

// Not a signal: the watchdog's lease was lost (it fired and rolled back), so the timeline
// must not go on applying phases over a restored device.
inline constexpr int stop_lease_lost = -1;

struct RunOutcome {
    report::Report report;
    Ending ending;
};

class Runner {
public:
    Runner(FaultTarget& target, ProbeSource& probe, CommandRunner& command, Timer& timer)
        : target_(target), probe_(probe), command_(command), timer_(timer) {}
    // `stop` holds a signal number once the run must end early (Ending::interrupted), or
    // stop_lease_lost: the watchdog rolled back behind the controller's back (Ending::lease_lost).
    RunOutcome run(const profile::Experiment& e, const Plan& plan, const RunOptions& opt,
                   const std::atomic<int>& stop);

private:
    FaultTarget& target_;
    ProbeSource& probe_;
    CommandRunner& command_;
    Timer& timer_;
};

// The boundaries the runner actually observed for one step (absolute CLOCK_MONOTONIC ns).
struct StepSpan {
    std::size_t step = 0;
    std::int64_t start_ns = 0;
    std::int64_t end_ns = 0;
    std::optional<EmulatorTruth> truth{};   // the emulator's counters over [start + settle, end)
};

// Pure: plan + observed spans + samples -> per-phase results, checks and fidelity. Used by
// Runner::run and directly by tests.
report::Report evaluate(const profile::Experiment& e, const Plan& plan, const std::vector<StepSpan>& spans,
                        const std::vector<Record>& samples, std::int64_t t0_ns);

// The ending of a finished (not interrupted) report: fidelity missed if any fidelity check
// failed (the measurement itself is not trustworthy then), else SLO missed if any threshold
// or the command failed, else pass. `verdict` gets the words for it.
Ending verdict_of(const report::Report& r, std::string& verdict);

}  // namespace netchaos::experiment
