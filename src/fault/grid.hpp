#pragma once
// What a probe should see through an impairment: the fault engine run over the probe's send
// grid (one packet every `interval`), repeated with consecutive seeds. Pure (no clock, no I/O):
// the kernel suite's order checks and the backend parity test compare measurements with it, and
// a fidelity prediction can reuse it.
#include <chrono>
#include <cstdint>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::fault {

struct Grid {
    std::chrono::nanoseconds interval{std::chrono::milliseconds(5)};   // 200/s
    std::uint32_t count = 800;                                        // packets per run
    std::uint32_t frame_bytes = 74;   // what the rate extension charges per packet
    std::uint32_t runs = 50;
    std::uint64_t seed = 1;
};

// Averages over the runs. Delays are release - send of delivered packets (the first copy of a
// duplicate); sigma is the sample standard deviation (n-1), as the probe reports it. A packet is
// reordered when, in release order, its sequence number is below the highest seen so far + 1
// (RFC 4737 3.3, the probe's definition); equal release times leave in send order (netem's tfifo
// and the forwarder's wheel both append ties).
struct GridPrediction {
    double delivered = 0;        // packets per run
    double mean_ms = 0;
    double sigma_ms = 0;
    double reordered = 0;        // packets per run
    double reordered_share = 0;  // reordered / delivered
    double sigma_ms_sd = 0;      // spread of sigma across runs: how far one run may land
    double reordered_sd = 0;
};

Result<GridPrediction> predict_grid(const profile::Impairment& imp, const Grid& g);

}  // namespace netchaos::fault
