#pragma once
// Unit parsing helpers beyond the pinned parse.hpp set, and the inverse formatters used by
// to_text/to_json. Formatting is exact where it can be (durations, rates, sizes) and
// 10 significant digits for percentages, so text -> parse -> text is stable.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::profile {

// "200%" -> 2.0, or a plain non-negative number (0.5). Unlike parse_probability it may exceed 100%.
Result<double> parse_percent(std::string_view s);

// Warnings for values that parse but are easily misread ("" when there is nothing to say):
// a bare probability like 0.5 (50%, or did the user mean 0.5%?), and a bps rate ("10Mbps"
// is 10 megabytes/s = 80mbit in tc's convention, not 10 megabits/s).
std::string bare_probability_warning(std::string_view written, double fraction);
std::string rate_warning(std::string_view s);

// The probe's send rate, in probes per second: 100, "100/s". One range for the CLI,
// experiments (validate), the docs and the prober.
inline constexpr double probe_rate_min_hz = 1.0;
inline constexpr double probe_rate_max_hz = 10000.0;
inline constexpr double probe_rate_max_tcp_hz = 1000.0;   // tcp opens one socket per probe
Result<double> parse_probe_rate(std::string_view s);
Result<double> check_probe_rate(double hz, ProbeMode mode);

// What is wrong with a Linux interface name ("" if nothing): longer than 15 characters
// (IFNAMSIZ - 1), empty, or with '/', ':' or whitespace. The kernel would only say "no such device".
std::string ifname_problem(std::string_view name);

std::string format_duration(Duration d);        // 0 -> "0", 1500ms -> "1500ms", 2s -> "2s", 120s -> "2min"
std::string format_percent(double fraction);    // 0.001 -> "0.1%"
std::string format_rate(std::uint64_t bytes_per_sec);  // 12500000 -> "100mbit"
std::string format_size(std::uint64_t bytes);   // 65536 -> "64kb"

std::string_view to_string(Distribution d);
std::string_view to_string(Protocol p);
std::string_view to_string(Backend b);
std::string_view to_string(Direction d);
std::string_view to_string(ProbeMode m);

// Share of a normal N(mean, sigma) below zero: Phi(-mean/sigma). netem clamps those to 0.
double normal_mass_below_zero(Duration mean, Duration sigma);

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace netchaos::profile
