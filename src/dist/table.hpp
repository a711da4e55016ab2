#pragma once
// Delay distribution tables in netem's format: signed 16-bit values, scaled so that
// NETEM_DIST_SCALE (8192) is one standard deviation; at most 16384 entries. A delay is
// mean + jitter * table[u * size] / 8192. Shared by the netem encoder (sent as
// TCA_NETEM_DELAY_DIST) and the fault engine (sampled in user space).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::dist {

inline constexpr int scale = 8192;
inline constexpr std::size_t max_entries = 16384;
using Table = std::vector<std::int16_t>;

// iproute2 .dist text format: whitespace-separated integers, '#' comments. Errors name the
// file and line.
Result<Table> load_file(const std::filesystem::path& file);

// The table for a named distribution: iproute2's file from Debian's path
// (/usr/lib/x86_64-linux-gnu/tc, /usr/lib/tc, /usr/share/tc) when present, else generated.
// uniform has no table (empty).
Result<Table> for_distribution(profile::Distribution d);

// Generated the way iproute2's maketable/normal/pareto tools do it, without files.
Table generate(profile::Distribution d, std::size_t entries = 4096);

// Inline samples (ms) -> table of (x - mean) / sigma, as an inverse CDF. Also yields the
// samples' mean and sigma so a profile without explicit delay/jitter can use them.
struct FromSamples {
    Table table;
    double mean_ms = 0;
    double sigma_ms = 0;
};
Result<FromSamples> from_samples(const std::vector<double>& samples_ms, std::size_t entries = 4096);

// The table a Delay needs (custom: file or samples; others: for_distribution). Empty = none.
Result<Table> for_delay(const profile::Delay& d, const std::filesystem::path& profile_dir = {});

}  // namespace netchaos::dist
