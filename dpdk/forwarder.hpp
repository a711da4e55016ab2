#pragma once
// The forwarding loop and the state it shares with the control thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fault/engine.hpp"
#include "hw_rx.hpp"
#include "flow_class.hpp"
#include "mailbox.hpp"
#include "stats.hpp"
#include "tsc_clock.hpp"

struct rte_mempool;

namespace netchaos::fwd {

// forward/drop: every frame's headers are read, malformed ones counted (and dropped);
// unchecked: frame data is not read for this (only oversize is counted, from the mbuf's length).
enum class MalformedPolicy { forward, drop, unchecked };
enum class ExitPolicy { drain, drop };

// One [[class]] of a direction: its rule and its model (pass-through for a class that has
// nothing for this direction: its packets pass while the unmatched ones are impaired).
struct ClassModel {
    std::string name;
    ClassRule rule;
    fault::ModelPtr model;
};

// One direction's compiled model as the control thread hands it over.
struct DirModel {
    fault::ModelPtr model;
    std::uint32_t limit = 0;      // packets queued at most (the profile's limit)
    std::string name;             // "profile-name (egress)" or "passthrough"
    std::string params;           // the normalized profile text of this direction (for show)
    // A whole profile that, loaded with this direction ("0to1"/"1to0"), gives this model and
    // name back: what `run --takeover` restores at its end. Empty for pass-through.
    std::string profile_toml{};
    // What the profile asked of the delay (experiment::delay_moments), for the exporter's
    // requested-vs-delivered gauges; none when it cannot say (a table it cannot read).
    std::optional<double> requested_mean_s{0.0};
    std::optional<double> requested_sigma_s{0.0};
    // The profile's classes, in match order; `model` is then the unmatched traffic's.
    std::vector<ClassModel> classes{};
};

// Why the lcore reads a direction's frame data (a bit each), or 0: it does not, and a packet
// costs only its mbuf header. Computed on each model switch; the stats show it as text.
enum FrameRead : unsigned { frame_malformed = 1, frame_ecn = 2, frame_classes = 4, frame_flow = 8 };
unsigned frame_reads(const DirModel& m, MalformedPolicy malformed);
std::string frame_reads_text(unsigned why);   // "not read" or "read: malformed counting, ECN, ..."

// Per-class counters of one direction ([0] = unmatched), written by the lcore only when the
// direction has classes. One cache line each: the lcore writes them per packet.
struct alignas(64) ClassStats {
    std::atomic<std::uint64_t> rx{0};
    std::atomic<std::uint64_t> dropped_fault{0};
    std::atomic<std::uint64_t> held{0};
    std::atomic<std::uint64_t> held_sum_us{0};
};
using ClassStatsArray = std::array<ClassStats, profile::max_classes + 1>;

// The control thread hands both directions' next models to the lcore through this
// (claim/withdraw protocol in mailbox.hpp); an empty optional leaves that direction alone.
using ModelMailbox = Mailbox<std::array<std::optional<DirModel>, 2>>;

// One forwarding lcore's share of what the control thread reads and writes: its stats lane
// (the lcore is their only writer) and its mailbox. Readers sum the lanes (stats.hpp merge).
struct Lane {
    std::array<DirStats, 2> dir;   // [0] = "0to1" (rx on port 0), [1] = "1to0"
    std::array<ClassStatsArray, 2> cls;
    LoopStats loop;
    ModelMailbox mailbox;
};

inline constexpr std::size_t engines_per_dir = profile::max_classes + 1;   // [0] unmatched, [k] class k

struct Shared {
    explicit Shared(std::size_t lcores = 1) {
        for (std::size_t i = 0; i < lcores; ++i) lanes.push_back(std::make_unique<Lane>());
    }
    TscClock clock;
    std::vector<std::unique_ptr<Lane>> lanes;   // one per forwarding lcore (--lcores), fixed at start
    // --lcores > 1: each direction's (and class's) rate link, one for all the lanes' engines.
    std::array<std::array<fault::SharedLink, engines_per_dir>, 2> link{};
    std::vector<LaneView> views() const {
        std::vector<LaneView> v;
        for (const auto& l : lanes) v.push_back({&l->dir, &l->loop});
        return v;
    }
    std::atomic<bool> stop{false};
    std::atomic<bool> running{false};
    std::atomic<std::uint32_t> reset_gen{0};   // bumps zero the max gauges on the lcore
};

struct ForwarderConfig {
    std::uint16_t port[2] = {0, 1};
    std::uint16_t queue = 0;     // this lcore's rx and tx queue on both ports
    std::size_t lane = 0;        // its index in Shared::lanes
    bool share_rate = false;     // --lcores > 1: rates reserve time on Shared::link
    rte_mempool* pool = nullptr;
    std::uint32_t queue_capacity = 1u << 20;   // wheel nodes per direction
    std::uint16_t burst = 32;
    std::size_t max_frame = 1518;
    MalformedPolicy malformed = MalformedPolicy::forward;
    ExitPolicy on_exit = ExitPolicy::drain;
    std::int64_t stall_ns = 500'000;
    std::int64_t drain_max_ns = 10'000'000'000;
    std::array<DirModel, 2> initial;
    std::array<std::uint64_t, 2> seed{1, 2};
    std::array<HwRx, 2> hw{};   // per port: NIC rx timestamps, or off (the TSC at rx burst)
};

// Runs one lcore's loop (its queue, its lane) until shared.stop, then drains or drops its
// wheels. Returns 0. With --lcores N, one call per lcore, each with its own config.
int run_forwarder(const ForwarderConfig& cfg, Shared& shared);

inline const char* dir_name(int d) { return d == 0 ? "0to1" : "1to0"; }

}  // namespace netchaos::fwd
