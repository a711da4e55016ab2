#pragma once
// The runner's edges that stay processes: the command under chaos, the checks before the
// run, and the command lines the watchdog rolls back with (it must outlive the controller),
// plus the monotonic timer. The fault target and the probe run in process (src/drive). Every
// child gets PR_SET_PDEATHSIG so a controller that dies for any reason takes them along.
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
// exists in its namespace, the forwarder's control socket answers. A system Error with the reason.
// A profile in effect is refused (4, naming it) unless `takeover`: then its restore commands
// (their profile files written to `workdir`) come back. One that reverts by itself (a lease,
// apply --for) is refused either way: restoring it would make it permanent. Faults another
// run applied are taken over (cleared) but not restored.
Result<std::optional<InEffect>> preflight(const profile::Experiment& e, const std::filesystem::path& exe,
                                          bool takeover = false, const std::filesystem::path& workdir = {});

// Rollback commands for a target; what the watchdog runs if the controller vanishes.
std::vector<Argv> rollback_commands(const profile::Target& t, const std::filesystem::path& exe);
// Every target's, in order: the one watchdog of a run rolls back all of them.
std::vector<Argv> rollback_commands(const profile::Experiment& e, const std::filesystem::path& exe);
// A `netchaos` command line aimed at the target's namespace (--netns NAME or --pid PID).
Argv at_target(const profile::Target& t, Argv argv);

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
