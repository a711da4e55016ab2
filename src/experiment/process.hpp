#pragma once
// The runner's real edges: child processes (fault target via `netchaos apply/clear`, the
// probe via `netchaos probe`, the command under chaos) and the monotonic timer. Every child
// gets PR_SET_PDEATHSIG so a controller that dies for any reason takes them along.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "experiment/runner.hpp"

namespace netchaos::experiment {

using Argv = std::vector<std::string>;

struct SpawnOptions {
    bool capture_stdout = false;   // a pipe to read the child's stdout from
    bool capture_stderr = false;   // stderr into that pipe too (with capture_stdout)
    bool own_group = false;        // setpgid(0,0): signals reach the whole command tree
    int death_signal = SIGTERM;    // sent to the child when the controller dies; 0 = none
    std::string stdout_file;       // redirect stdout (and stderr) to this file instead
    std::string stderr_file;       // redirect stderr only to this file
};

struct Child {
    pid_t pid = -1;
    int out_fd = -1;               // read end when capture_stdout
};

Result<Child> spawn(const Argv& argv, const SpawnOptions& o = {});
// Waits up to `timeout` (then SIGKILL); returns the exit status, 128+N when killed by N.
int wait_child(pid_t pid, std::chrono::milliseconds timeout);
// Runs to completion, capturing stdout+stderr (for error messages). Exit status or Error.
Result<int> run_capture(const Argv& argv, std::string& output, std::chrono::milliseconds timeout);

std::filesystem::path self_exe();                 // /proc/self/exe, for `netchaos apply`...
Argv in_netns(const std::string& ns, Argv argv);  // prefixes `ip netns exec NS` when ns set
std::string join(const Argv& a);

// A netchaos profile found in effect on the target before the run (applied by hand earlier):
// the steady state would measure it, and rollback alone would not bring it back.
struct InEffect {
    std::string what;             // "0to1: \"by-hand (egress)\"", "profile by-hand on eth0"
    std::vector<Argv> restore;    // --takeover: what puts it back once the run has rolled back
};

// Before the watchdog and the first fault: every namespace named exists, the netem device
// exists in its namespace, the forwarder's control socket answers. Error (4) with the reason.
// A profile in effect is refused (4, naming it) unless `takeover`: then its restore commands
// (their profile files written to `workdir`) come back. One that reverts by itself (a lease,
// apply --for) is refused either way: restoring it would make it permanent. Faults another
// run applied are taken over (cleared) but not restored.
Result<std::optional<InEffect>> preflight(const profile::Experiment& e, const std::filesystem::path& exe,
                                          bool takeover = false, const std::filesystem::path& workdir = {});

// Rollback commands for a target; what the watchdog runs if the controller vanishes.
std::vector<Argv> rollback_commands(const profile::Target& t, const std::filesystem::path& exe);

// `[ip netns exec NS] netchaos apply FILE --dev IF [--ingress]` / `netchaos apply FILE
// --backend dpdk --control SOCK`. Each profile is written to a temp TOML (profile::to_text).
class CliFaultTarget final : public FaultTarget {
public:
    CliFaultTarget(profile::Target t, std::filesystem::path exe, std::filesystem::path workdir)
        : t_(std::move(t)), exe_(std::move(exe)), dir_(std::move(workdir)) {}
    Result<void> apply(const profile::Profile& p) override;
    Result<void> clear() override;
    std::string describe() const override;
    std::optional<EmulatorTruth> truth() override;   // dpdk: the forwarder's stats; netem: none

private:
    Result<void> run(const Argv& a, const char* what);
    profile::Target t_;
    std::filesystem::path exe_, dir_;
    int n_ = 0;
};

// One `netchaos probe ... -j --csv FILE` for the whole run, stopped with SIGINT.
class ProbeProcess final : public ProbeSource {
public:
    ProbeProcess(profile::ProbeConfig c, std::filesystem::path exe, std::filesystem::path workdir,
                 profile::Duration expected)
        : c_(std::move(c)), exe_(std::move(exe)), dir_(std::move(workdir)), expected_(expected) {}
    ~ProbeProcess() override;
    Result<void> start() override;
    std::vector<Window> poll() override;
    Result<std::vector<Record>> stop() override;
    std::string describe() const override;
    std::optional<std::string> failure() override;
    pid_t pid() const { return child_.pid; }

private:
    profile::ProbeConfig c_;
    std::filesystem::path exe_, dir_;
    profile::Duration expected_;
    Child child_;
    std::thread reader_;
    std::mutex mu_;
    std::vector<Window> pending_;
    std::string summary_line_, stderr_tail_;
    std::optional<int> exited_;   // the probe ended before stop(): its status
};

// The command under chaos, in its own process group. Its stdout+stderr pass through to
// ours (the user still sees it live) and the last 200 lines are kept for the report.
class ProcessCommand final : public CommandRunner {
public:
    static constexpr std::size_t keep_lines = 200;
    ~ProcessCommand() override;
    Result<void> start(const Argv& argv) override;
    std::optional<int> poll() override;
    int terminate() override;
    std::vector<std::string> output_tail(std::uint64_t& lines) override;

private:
    void finish_output();   // after exit: read what is left (bounded), stop the reader
    pid_t pid_ = -1;
    std::optional<int> status_;
    int out_fd_ = -1;
    std::thread reader_;
    std::atomic<bool> closing_{false};
    std::mutex mu_;
    std::vector<std::string> tail_;   // ring of keep_lines
    std::size_t next_ = 0;
    std::uint64_t lines_ = 0;
    std::string partial_;
};

class SystemTimer final : public Timer {
public:
    std::int64_t now_ns() const override;
    void sleep_until(std::int64_t t_ns, const std::atomic<int>& stop) override;
};

}  // namespace netchaos::experiment
