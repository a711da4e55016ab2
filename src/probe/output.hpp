#pragma once
// What the prober prints and writes: the live progress line, JSON lines (the contract in
// TEAM.md that the experiment runner reads), per-packet CSV, JUnit XML for CI.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "probe/prober.hpp"
#include "probe/verdict.hpp"

namespace netchaos::probe {

nlohmann::ordered_json window_json(const WindowResult& w, std::int64_t t_end_ns);
// `info` adds descriptive keys (mode, target, rate_hz...) after the contract's keys.
nlohmann::ordered_json summary_json(const Summary& s, const ProbeRun& run, const std::vector<Miss>& missed,
                            const nlohmann::json& info);

// "   3.0s  100/s  rtt 0.081 ms  jitter_1s 0.012 ms  spike 0.00  loss 0.00%"
std::string progress_line(const WindowResult& w, double rate_hz);

// header `seq,send_ns,rtt_ns,status`
Result<void> write_csv(const std::filesystem::path& file, const std::vector<CsvRow>& rows);

// One testsuite "netchaos.probe"; one testcase per configured threshold plus "reachable",
// a <failure> for each miss; the summary numbers as <properties>.
Result<void> write_junit(const std::filesystem::path& file, const Summary& s, const profile::Thresholds& t,
                         const std::vector<Miss>& missed, double elapsed_s, const std::string& target);

}  // namespace netchaos::probe
