#pragma once
// What a probe should see through an impairment: the fault engine run over the probe's send
// grid (one packet every `interval`), repeated with consecutive seeds. Pure (no clock, no I/O):
// the kernel suite's order checks and the backend parity test compare measurements with it, and
// a fidelity prediction can reuse it.
#include <chrono>
#include <cstdint>
#include <functional>

#include "common/result.hpp"
#include "dist/moments.hpp"
#include "fault/engine.hpp"
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

// The one traffic simulation (predict_grid and the fidelity prediction both run it): the
// engine over a probe's periodic send grid merged with a Poisson stream of cross traffic of
// other flows (the probe is flow 0, the cross traffic spread over 64 others: what matters for
// reorder = "flow"). `on_probe(seq, tx_ns, decision)` sees every probe packet in send order,
// dropped ones too.
struct Traffic {
    std::chrono::nanoseconds probe_interval{0};   // 0: no probe grid
    double cross_hz = 0;                          // 0: no cross traffic
    std::uint32_t probe_bytes = 74, cross_bytes = 600;
};
struct TrafficRun {
    std::uint64_t decided = 0, pushed = 0;   // every packet not dropped; pushed by order
    dist::Moments drawn;                     // the sampler's draws over them, ns (n - 1)
};
Result<TrafficRun> run_traffic(const ModelPtr& model, const Traffic& t, std::size_t packets, std::uint64_t seed,
                               const std::function<void(std::uint32_t, std::int64_t, const Decision&)>& on_probe);

}  // namespace netchaos::fault
