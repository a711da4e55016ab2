#pragma once
// TSC <-> nanoseconds on a time base calibrated against CLOCK_MONOTONIC.
// rte_get_tsc_hz() is 0.19% off on these VMs, which is 190 us per 100 ms of delay:
// measure the rate ourselves once at start and convert with plain multiplies after.
#include <cstdint>

namespace netchaos::fwd {

struct TscClock {
    std::uint64_t tsc0 = 0;        // TSC at ns == 0
    double ns_per_tick = 1.0;
    double ticks_per_ns = 1.0;

    static TscClock from_rate(std::uint64_t tsc0, double ticks_per_sec) {
        return TscClock{tsc0, 1e9 / ticks_per_sec, ticks_per_sec / 1e9};
    }
    double hz() const { return ticks_per_ns * 1e9; }
    std::int64_t to_ns(std::uint64_t tsc) const {
        return static_cast<std::int64_t>(static_cast<double>(static_cast<std::int64_t>(tsc - tsc0)) * ns_per_tick);
    }
    std::uint64_t to_tsc(std::int64_t ns) const {
        return tsc0 + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<double>(ns) * ticks_per_ns));
    }
    std::uint64_t ticks(std::int64_t ns) const {
        return static_cast<std::uint64_t>(static_cast<double>(ns) * ticks_per_ns);
    }
};

// One (monotonic ns, tsc) pair; calibration is the slope between two of them.
struct ClockSample {
    std::int64_t mono_ns = 0;
    std::uint64_t tsc = 0;
};

// Slope between two samples. Pure, so the arithmetic is unit-tested.
inline double ticks_per_sec(const ClockSample& a, const ClockSample& b) {
    return static_cast<double>(b.tsc - a.tsc) * 1e9 / static_cast<double>(b.mono_ns - a.mono_ns);
}

// Reads CLOCK_MONOTONIC and the TSC `window_ms` apart (sleeping in between) and
// returns the measured rate; tsc0 is the first sample so ns 0 = calibration start.
// A third sample halfway gives two independent rates (first and second half), which the
// preflight compares: a TSC that is stable gives the same rate twice (tsc.stable).
struct TscCalibration {
    TscClock clock;          // over the whole window
    double hz_first = 0;     // first half
    double hz_second = 0;    // second half
};
TscCalibration calibrate_tsc(int window_ms, double* nominal_hz_out = nullptr);

}  // namespace netchaos::fwd
