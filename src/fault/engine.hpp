#pragma once
// The fault engine: per-packet decisions for one direction, pure C++ (no DPDK, no I/O).
// Time is nanoseconds on the caller's monotonic time base; the RNG is owned and seeded.
//
// Compile a profile into an immutable Model once (off the hot path: tables, reciprocals);
// an Engine holds the mutable per-stream state (correlation, loss-model state, the last
// release time for order-preserving jitter, the rate link's busy-until). Switching profiles
// live = engine.switch_model(new_model): queued packets keep their release times.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::fault {

struct Model;  // defined in fault/model.hpp; opaque to the forwarder
using ModelPtr = std::shared_ptr<const Model>;

Result<ModelPtr> compile(const profile::Impairment& imp);   // code 3 on a bad profile
ModelPtr passthrough();                                       // no fault at all

// What a model needs of each packet beyond its length (the forwarder reads frame data only
// for these): its ECN bits (loss with ecn = true), its flow hash (reorder = "flow").
bool reads_ecn(const Model& m);
bool per_flow(const Model& m);

// The test hook (CMake NETCHAOS_TEST_HOOKS): the factor NETCHAOS_TEST_ENGINE_SIGMA_SCALE puts
// on every delay jitter compile() builds; 1 without the hook or the variable.
double test_sigma_scale();

// reorder = "flow" keeps one release order per slot of this many (flow hash modulo it).
inline constexpr std::uint32_t flow_slots = 4096;

// --lcores N: several lcores forward one direction, each with its own engine, but a rate is
// one link for all of them (an aggregate rate, not N times it). Their engines share this
// busy-until, each packet advancing it with a compare-and-swap. One cache line each.
struct alignas(64) SharedLink {
    std::atomic<std::int64_t> busy_until{std::numeric_limits<std::int64_t>::min()};
};
inline constexpr std::int64_t link_full = std::numeric_limits<std::int64_t>::min();
// Reserves ser_ns of the shared link for a packet received at rx_ns and ready (delayed,
// ordered) at ready_ns: it starts when both it is ready and the link is free, and leaves at
// the end of its serialization, which is returned. link_full instead (nothing reserved) when
// the link is already booked max_backlog_ns beyond rx_ns (the profile's limit in packets of
// this size: netem drops at its limit before it computes a send time, so a dropped packet
// never takes link time from the ones that pass). max_backlog_ns <= 0: no limit.
// Successive claims of one thread return increasing times: order on an lcore is kept.
std::int64_t claim_link(std::atomic<std::int64_t>& busy, std::int64_t rx_ns, std::int64_t ready_ns, std::int64_t ser_ns,
                        std::int64_t max_backlog_ns);

struct Decision {
    bool drop = false;            // lost (loss model) -> do not transmit
    bool ecn_mark = false;        // loss with ecn=true on an ECN-capable packet: set CE, keep it
    bool corrupt = false;         // flip one bit at corrupt_bit (bit index into the frame)
    std::uint32_t corrupt_bit = 0;
    std::uint8_t copies = 1;      // 2 when duplicated (the copy leaves at the same release time)
    std::int64_t release_ns = 0;  // absolute time the packet must leave
    // Ground truth for the fidelity gate (the forwarder's histograms): the delay the sampler
    // drew (truncation included, before order/rate/slot), and whether order preservation
    // pushed the release past rx + drawn.
    std::int64_t drawn_ns = 0;
    bool pushed = false;
};

// A burst's decisions as arrays (struct of arrays), so the caller's per-packet loops over
// them (TSC conversion, stats) run over contiguous values.
struct BurstDecisions {
    static constexpr std::size_t max = 64;
    enum : std::uint8_t { drop = 1, ecn_mark = 2, corrupt = 4, duplicate = 8, pushed = 16 };
    std::int64_t release_ns[max];
    std::int64_t drawn_ns[max];
    std::uint32_t corrupt_bit[max];
    std::uint8_t flags[max];
    bool any_action = false;   // some packet is dropped, ECN-marked, corrupted or duplicated
    void put(std::size_t i, const Decision& d) {
        release_ns[i] = d.release_ns;
        drawn_ns[i] = d.drawn_ns;
        corrupt_bit[i] = d.corrupt_bit;
        const auto f = static_cast<std::uint8_t>((d.drop ? drop : 0) | (d.ecn_mark ? ecn_mark : 0) |
                                                 (d.corrupt ? corrupt : 0) | (d.copies > 1 ? duplicate : 0));
        flags[i] = static_cast<std::uint8_t>(f | (d.pushed ? pushed : 0));
        any_action = any_action || f != 0;
    }
};

class Engine {
public:
    Engine(ModelPtr model, std::uint64_t seed);
    // rx_ns: receive time of the packet; len: frame length in bytes; ecn_capable: ECT(0/1) set;
    // flow: a hash of its 5-tuple, read only when per_flow() (reorder = "flow").
    Decision decide(std::int64_t rx_ns, std::uint32_t len, bool ecn_capable = false, std::uint32_t flow = 0);
    // The same decisions as n calls of decide(), in order, with the same draws: a burst of
    // packets whose model has only an uncorrelated delay (the common case) draws all its
    // delays in one loop, converts them in a second and orders them in a third, without the
    // per-packet branches for the features it does not have. ecn_capable and flow may be
    // null (none ECN-capable, flow 0). n <= BurstDecisions::max.
    void decide_burst(std::size_t n, const std::int64_t* rx_ns, const std::uint32_t* len,
                      const std::uint8_t* ecn_capable, const std::uint32_t* flow, BurstDecisions& out);
    bool per_flow() const;
    bool reads_ecn() const;   // the caller must read each packet's ECN bits (loss with ecn = true)   // the caller must hash each packet's flow
    void switch_model(ModelPtr model);   // keeps order state so no packet overtakes across a switch
    // A rate (not an mm_link) then reserves time on this link, shared with other lcores'
    // engines, instead of on the engine's own busy-until; nullptr: its own (one lcore).
    void share_link(SharedLink* link) { link_ = link; }
    const Model& model() const { return *model_; }
private:
    ModelPtr model_;
    Rng rng_;
    struct State;
    std::shared_ptr<State> st_;   // correlation memories, loss-chain state, last release, link busy
    SharedLink* link_ = nullptr;
};

}  // namespace netchaos::fault
