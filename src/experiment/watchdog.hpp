#pragma once
// A rollback watchdog that outlives the controller. Forked (and setsid) before the first
// fault is applied; it holds one end of a socketpair whose other end only the controller has.
//   controller writes 'r'  -> lease renewed
//   controller writes 'd'  -> run finished and rolled back: exit quietly
//   EOF without 'd'        -> the controller died (SIGKILL, crash): run the rollback commands
//   no byte for `lease`    -> the controller hangs: run the rollback commands
// Rollback commands are `netchaos clear ...` argv lists, so the watchdog needs no state of
// its own beyond them.
#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/result.hpp"

namespace netchaos::experiment {

struct WatchdogConfig {
    std::vector<std::vector<std::string>> rollback;   // run in order when firing
    std::chrono::milliseconds lease{10'000};
    std::filesystem::path cleanup_dir;                // removed after firing (temp files)
    std::chrono::milliseconds linger{3000};           // wait before removing it (probe flushing)
};

class Watchdog {
public:
    static Result<Watchdog> start(const WatchdogConfig& c);
    Watchdog(Watchdog&& o) noexcept : pid_(o.pid_), fd_(o.fd_) { o.fd_ = -1, o.pid_ = -1; }
    Watchdog& operator=(Watchdog&&) = delete;
    ~Watchdog();
    bool renew();   // false if the watchdog is gone (it fired: the lease had expired)
    void done();    // rolled back by the controller: stop the watchdog without firing
    pid_t pid() const { return pid_; }

private:
    Watchdog(pid_t pid, int fd) : pid_(pid), fd_(fd) {}
    pid_t pid_ = -1;
    int fd_ = -1;
};

}  // namespace netchaos::experiment
