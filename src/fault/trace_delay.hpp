#pragma once
// A recorded delay series as a delay source ([egress.delay] trace = "x.ncr"): the delay at a
// time since the profile took effect, linearly interpolated between recorded points, looping
// or held after the last one. The engine samples it per packet (the forwarder); the netem
// backend gets it as steps of a stated granularity (trace_steps), whose cost is step_error.
// Pure: no clock, no I/O, no allocation in at().
#include <chrono>
#include <cstdint>
#include <vector>

#include "profile/profile.hpp"

namespace netchaos::fault {

struct TraceDelay {
    std::vector<std::int64_t> t;   // ns since the start, non-decreasing, t[0] = 0
    std::vector<std::int64_t> d;   // delay at t[i], ns
    std::int64_t period = 0;       // loop: the series starts over at `period` (> t.back())
    bool loop = true;              // false: hold d.back() after t.back()

    // The delay `since` ns after the start (negative counts as 0). Binary search, O(log n):
    // 16 steps for the largest trace (65536 points).
    std::int64_t at(std::int64_t since) const;
    // Looping needs room after the last point to return to the first one.
    bool loops() const { return loop && period > t.back(); }
};

TraceDelay compile_trace(const profile::DelayTrace& tr);

// One in-place switch of the netem backend: from `start` for `length`, netem's delay set to
// the mean of the interpolated series over that interval, its jitter to the series' standard
// deviation over it (normal), so the spread inside a step is redrawn at random rather than
// followed.
struct TraceStep {
    profile::Duration start{0};
    profile::Duration length{0};
    profile::Duration mean{0};
    profile::Duration sigma{0};
};

// The steps covering [0, total), each `granularity` long (the last one shorter if needed).
// With at_end = hold, the steps after the trace's end hold its last delay (no jitter).
std::vector<TraceStep> trace_steps(const TraceDelay& td, profile::Duration granularity, profile::Duration total);

// What the granularity costs, over one pass of the trace (its period; its span when held):
// the RMS and the largest absolute difference between the interpolated series and the step
// means, and the two-sample KS distance between the series' values and the step means' values
// (both taken on the same 1 ms grid).
struct StepError {
    double rms_ms = 0;
    double max_ms = 0;
    double ks = 0;
    std::size_t steps = 0;
};
StepError step_error(const TraceDelay& td, profile::Duration granularity);

// The granularity netem steps may not go below: one switch is a netlink replace (~0.3 ms) and
// the runner's loop checks time every 50 ms.
inline constexpr profile::Duration min_granularity = std::chrono::milliseconds(100);

}  // namespace netchaos::fault
