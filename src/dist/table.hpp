#pragma once
// Delay distribution tables in netem's format: signed 16-bit values, scaled so that
// NETEM_DIST_SCALE (8192) is one standard deviation; at most 16384 entries. A delay is
// mean + jitter * table[u * size] / 8192. Shared by the netem encoder (sent as
// TCA_NETEM_DELAY_DIST) and the fault engine (sampled in user space).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::dist {

inline constexpr int scale = 8192;
inline constexpr std::size_t max_entries = 16384;
using Table = std::vector<std::int16_t>;

// The one .dist parser. iproute2's text format: whitespace- (or comma-) separated signed
// 16-bit integers, '#' comments, 1..16384 entries. On error `error` says why and line /
// column say where (line 0: the file as a whole); the bad token is never quoted.
struct ParsedTable {
    Table table;
    std::string error;   // empty when the table is good
    int line = 0;
    int column = 0;
};
ParsedTable parse(std::string_view text);

// A .dist file through parse(). Errors: "file:line:column: distribution table: why" (bad_input).
Result<Table> load_file(const std::filesystem::path& file);

// Mean and sd (n - 1) of a table's values in units of one jitter (value / 8192): what
// mean + jitter * X adds to a delay's mean and sigma.
struct TableMoments {
    double mean = 0;
    double sd = 0;
};
TableMoments table_moments(const Table& t);

// The table for a named distribution: iproute2's file from Debian's path
// (/usr/lib/x86_64-linux-gnu/tc, /usr/lib/tc, /usr/share/tc) when present, else generated.
// uniform has no table (empty).
// iproute2's table directories, where tc looks for NAME.dist (Debian's multiarch one first).
// Root-owned system files: profiles may name tables there without --allow-path.
const std::vector<std::filesystem::path>& tc_table_dirs();

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
