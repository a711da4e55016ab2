#include "tsc_clock.hpp"

#include <rte_cycles.h>

#include <ctime>
#include <thread>

namespace netchaos::fwd {
namespace {
// A (monotonic, tsc) pair read back to back; keep the tightest of a few tries so a
// preemption between the two reads does not skew the sample.
ClockSample sample() {
    ClockSample best{};
    std::uint64_t best_span = ~0ull;
    for (int i = 0; i < 16; ++i) {
        timespec ts{};
        const std::uint64_t t0 = rte_rdtsc_precise();
        clock_gettime(CLOCK_MONOTONIC, &ts);
        const std::uint64_t t1 = rte_rdtsc_precise();
        if (t1 - t0 < best_span) {
            best_span = t1 - t0;
            best = ClockSample{static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec, t0 + (t1 - t0) / 2};
        }
    }
    return best;
}
}  // namespace

TscCalibration calibrate_tsc(int window_ms, double* nominal_hz_out) {
    if (nominal_hz_out) *nominal_hz_out = static_cast<double>(rte_get_tsc_hz());
    const ClockSample a = sample();
    std::this_thread::sleep_for(std::chrono::milliseconds(window_ms / 2));
    const ClockSample m = sample();
    std::this_thread::sleep_for(std::chrono::milliseconds(window_ms - window_ms / 2));
    const ClockSample b = sample();
    return {TscClock::from_rate(a.tsc, ticks_per_sec(a, b)), ticks_per_sec(a, m), ticks_per_sec(m, b)};
}

}  // namespace netchaos::fwd
