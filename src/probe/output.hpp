#pragma once
// What the prober prints and writes: the live progress line, the summary JSON line, JUnit XML
// for CI. The window JSON line and the per-probe CSV are metrics/io.hpp's (the runner reads
// them back with the same code).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "metrics/metrics.hpp"
#include "probe/prober.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

// The probe's verdict: "reachable" (a run with probes sent and none answered always misses,
// with or without thresholds: an unreachable target never passes), then every configured
// threshold as metrics::evaluate checks it.
std::vector<metrics::Outcome> outcomes(const metrics::Summary& s, const profile::Thresholds& t,
                                       std::optional<Nanos> baseline_p99);

// `info` adds descriptive keys (mode, target, rate_hz...) after the contract's keys.
nlohmann::ordered_json summary_json(const metrics::Summary& s, const ProbeRun& run,
                                    const std::vector<metrics::Outcome>& outcomes, const nlohmann::json& info);

// "   3.0s  100/s  rtt 0.081 ms  jitter_1s 0.012 ms  spike 0.00  loss 0.00%"
std::string progress_line(const metrics::Window& w, double rate_hz);

// One testsuite "netchaos.probe"; one testcase per outcome, a <failure> for each miss; the
// summary numbers as <properties>.
Result<void> write_junit(const std::filesystem::path& file, const metrics::Summary& s,
                         const std::vector<metrics::Outcome>& outcomes, double elapsed_s, const std::string& target);

}  // namespace netchaos::probe
