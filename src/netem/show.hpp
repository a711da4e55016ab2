#pragma once
// Read back the netem qdiscs of this namespace: parameters through libnl-route-3's rtnl_netem
// getters plus what libnl does not decode (rate, ECN, loss model, slot) from the raw options,
// and the qdisc stats. Text and JSON renderings for `netchaos show`.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace netchaos::netem {

// What libnl does not decode, read from the raw TCA_OPTIONS (pure).
struct NetemExtras {
    std::optional<std::int64_t> latency_ns, jitter_ns;   // LATENCY64 / JITTER64
    std::optional<std::uint64_t> rate_bytes;             // RATE (+ RATE64)
    std::int32_t packet_overhead = 0;
    std::uint32_t cell_size = 0;
    std::int32_t cell_overhead = 0;
    bool ecn = false;
    std::string loss_model;                              // "", "gilbert-elliott", "markov4"
    std::vector<double> loss_params;                     // GE: p r 1-h 1-k; 4-state: p13 p31 p32 p14 p23
    std::optional<std::int64_t> slot_min_ns, slot_max_ns, slot_dist_delay_ns, slot_dist_jitter_ns;
    std::int32_t slot_packets = 0, slot_bytes = 0;
    std::optional<std::uint64_t> seed;
};
NetemExtras decode_netem_extras(std::span<const std::uint8_t> options);

struct QdiscStats {
    std::uint64_t bytes = 0, packets = 0, drops = 0, overlimits = 0, backlog = 0, qlen = 0, requeues = 0;
};

struct NetemInfo {
    std::string dev;
    int ifindex = 0;
    std::uint32_t handle = 0, parent = 0;
    std::uint32_t limit = 0, gap = 0;
    double delay_ms = 0, jitter_ms = 0, delay_corr = 0;       // corr/prob as fractions
    double loss = 0, loss_corr = 0, duplicate = 0, duplicate_corr = 0;
    double corrupt = 0, corrupt_corr = 0, reorder = 0, reorder_corr = 0;
    int distribution_size = 0;
    NetemExtras extras;
    QdiscStats stats;
};

// Every netem qdisc, or those on `dev` and its IFB.
Result<std::vector<NetemInfo>> read_netem(const std::optional<std::string>& dev);

nlohmann::json to_json(const NetemInfo& q);
std::string to_text(const NetemInfo& q);
std::string handle_str(std::uint32_t h);   // "8001:", "root", "ffff:fff1" -> tc's notation

}  // namespace netchaos::netem
