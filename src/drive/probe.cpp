#include "drive/probe.hpp"

#include <unistd.h>

#include <cstdio>

#include "drive/netns.hpp"
#include "probe/net.hpp"
#include "probe/reflector.hpp"
#include "profile/units.hpp"

namespace netchaos::drive {

namespace {
std::string mode_name(profile::ProbeMode m) { return std::string(profile::to_string(m)); }
}  // namespace

ThreadProbe::~ThreadProbe() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
}

Result<void> ThreadProbe::start() {
    probe::ProbeOptions o;
    o.mode = c_.mode;
    o.rate_hz = c_.rate_hz;
    o.timeout = c_.timeout;
    o.duration = expected_ + std::chrono::hours(1);
    // The live windows use the probe's defaults, as `netchaos probe` does; the verdict is
    // computed afterwards from the records, with the experiment's thresholds.
    o.metrics = metrics::config_of(profile::Thresholds{});
    if (!c_.key_file.empty()) {
        auto k = probe::read_key_file(c_.key_file.string());
        if (!k) return k.error();
        o.key = std::move(*k);
    }
    // The namespace is opened here so that a missing one fails start(), not the thread.
    int ns_fd = -1;
    if (!c_.netns.empty()) {
        auto fd = open_netns(c_.netns);
        if (!fd) return fd.error();
        ns_fd = *fd;
    }
    done_ = false;
    thread_ = std::thread([this, o, ns_fd]() mutable {
        auto finish = [&](std::optional<Error> e, std::string why) {
            std::lock_guard lk(mu_);
            error_ = std::move(e);
            ended_why_ = std::move(why);
            done_ = true;
        };
        if (ns_fd >= 0) {
            auto r = enter_netns(ns_fd, c_.netns);
            ::close(ns_fd);
            if (!r) return finish(r.error(), {});
        }
        // Resolved inside the namespace: a name means what it means there.
        if (auto t = probe::set_target(o, c_.target); !t) return finish(t.error(), {});
        probe::ProbeCallbacks cb;
        cb.record = [this](const metrics::Record& r) {
            std::lock_guard lk(mu_);
            records_.push_back(r);
        };
        cb.window = [this](const metrics::Window& w, std::int64_t t_end) {
            std::lock_guard lk(mu_);
            pending_.push_back({t_end, w});
        };
        auto run = probe::run_probe(o, stop_, cb);
        if (!run) return finish(run.error(), {});
        return finish(std::nullopt, run->unreachable.empty() ? "the probe's run ended" : run->unreachable);
    });
    return {};
}

std::vector<experiment::Window> ThreadProbe::poll() {
    std::lock_guard lk(mu_);
    std::vector<experiment::Window> out;
    out.swap(pending_);
    return out;
}

std::optional<std::string> ThreadProbe::failure() {
    if (!done_ || stop_) return std::nullopt;
    std::lock_guard lk(mu_);
    std::string why = error_ ? error_->message : ended_why_;
    return "the probe (" + mode_name(c_.mode) + " " + c_.target +
           (c_.netns.empty() ? "" : " from netns " + c_.netns) + ") stopped: " + (why.empty() ? "(no reason)" : why);
}

Result<std::vector<experiment::Record>> ThreadProbe::stop() {
    if (!thread_.joinable()) return make_error("probe was not started");
    // The prober stops sending, waits its timeout for late replies, and returns.
    stop_ = true;
    thread_.join();
    std::lock_guard lk(mu_);
    if (error_) return *error_;
    if (records_.empty()) return make_error("the probe recorded no packets" + (ended_why_.empty() ? std::string() : ": " + ended_why_));
    return std::move(records_);
}

std::string ThreadProbe::describe() const {
    char b[64];
    std::snprintf(b, sizeof b, " at %g Hz", c_.rate_hz);
    return mode_name(c_.mode) + " " + c_.target + b + (c_.netns.empty() ? "" : " from netns " + c_.netns);
}

}  // namespace netchaos::drive
