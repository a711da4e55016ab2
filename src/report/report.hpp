#pragma once
// The result of an experiment run as plain values, filled by experiment::Runner and
// rendered by the writers below (text, JSON, JUnit XML, HTML with SVG). The report module
// knows nothing about processes or profiles: it only draws and formats these numbers, all
// of which come from src/metrics.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.hpp"

namespace netchaos::report {

// One threshold or fidelity comparison. `kind` decides the exit code it maps to.
struct Check {
    enum class Kind { slo, fidelity, command };
    Kind kind = Kind::slo;
    std::string name;       // "jitter_1s_max", "fidelity.mean", "command"
    double value = 0;       // measured
    double limit = 0;       // threshold or allowed error
    std::string unit;       // "ms", "%", "" (ratio)
    bool pass = true;
    std::string detail;     // human sentence: "p99 83.1 ms > 80 ms"
};

// A phase's figures: exactly what metrics::summarize computed (nanoseconds); the writers
// only convert units.
using Stats = metrics::Summary;

// One step's fidelity row: requested, predicted under the profile's semantics, what the
// engine drew and delivered (DPDK forwarder counters), and what the probe measured; all as
// RTT (baseline + delay) so they line up. `rule` says what decided the result.
struct EngineTruth {
    double drawn_mean_ms = 0;       // RTT: baseline + the delays the engine drew
    double drawn_sigma_ms = 0;
    double predicted_drawn_mean_ms = 0;   // what the same engine draws in simulation
    double predicted_drawn_sigma_ms = 0;
    double delivered_mean_ms = 0;   // RTT: baseline + the holding times it delivered
    double delivered_sigma_ms = 0;
    double pushed = 0;              // share of releases order preservation moved
    double path_ms = 0;             // measured mean - delivered mean: what the path added
    double cross_hz = 0;            // cross traffic counted (egress), besides the probe
    double share = 0;               // worst |drawn - model| / allowed, over directions
    bool pass = true;               // the engine drew the model
};

struct Fidelity {
    std::string step;              // "morning" or "ramp 2/5"
    bool applicable = true;        // false: nothing to check (no fault, no baseline, mode off)
    double requested_mean_ms = 0;  // RTT: baseline + the requested model, no semantics
    double requested_sigma_ms = 0;
    double predicted_mean_ms = 0;  // RTT under the profile's semantics (engine Monte Carlo)
    double predicted_sigma_ms = 0;
    double measured_mean_ms = 0;
    double measured_sigma_ms = 0;
    double mean_error = 0;         // |measured - predicted| / predicted
    double sigma_error = 0;
    double tolerance = 0.1;
    double allowed_mean_ms = 0;    // the deviation the check allowed: max(tolerance x predicted, floors)
    double allowed_sigma_ms = 0;
    std::optional<EngineTruth> engine;   // DPDK only
    std::string mode = "gate";     // gate | warn | off
    bool pass = true;              // false only for a material miss in gate mode
    bool warning = false;          // a miss that did not gate (warn mode)
    std::string rule;              // which rule decided: "engine drew the model", "not material: ..."
    std::string note;
};

struct Point {          // one probe packet, for the timeline
    double t_s = 0;     // send time since the start of the run
    double rtt_ms = 0;  // meaningless when lost
    bool lost = false;
};

struct Phase {
    std::string name;
    std::string kind;              // "baseline" | "phase" | "recovery"
    std::string profile;           // profile name(s), "none" for baseline/recovery
    std::string model;             // "normal 35ms +- 20ms egress" ...
    double start_s = 0;
    double end_s = 0;
    double settle_s = 0;           // left out of the stats at the start (recovery: packets queued behind the fault)
    Stats stats;
    std::vector<Check> checks;
    std::vector<Fidelity> fidelity;
    std::vector<double> rtt_ms;                         // received RTTs, for the histogram
    std::vector<std::pair<double, double>> density;     // requested RTT density (x ms, per ms)
    // [phase] replay_check: the recorded and the replayed jitter_1s series (ms, NaN where a
    // window has none), for the original-vs-replayed plot.
    std::string replay_trace;
    std::vector<double> replay_jitter_original_ms, replay_jitter_replayed_ms;
    bool pass() const;
};

struct CommandResult {
    std::vector<std::string> argv;
    int exit_code = 0;            // 128+N when killed by signal N
    double duration_s = 0;
    double start_s = 0;                   // from the start of the run
    std::vector<std::string> output_tail; // its stdout+stderr, the last lines (at most 200)
    std::uint64_t output_lines = 0;       // lines it wrote in all
};

// One fault target of the run ([target] or each [[target]]): how its switches went and how
// it ended.
struct TargetResult {
    std::string name;              // [[target]] name ("" for a lone [target])
    std::string describe;          // "netem va egress in netns a"
    std::size_t switches = 0;      // applies acknowledged
    double switch_median_ms = 0, switch_max_ms = 0;   // decision to acknowledgement
    std::string state = "ok";      // "ok" | "gone" (its namespace disappeared) | "failed"
    std::string rollback;          // "restored" | "target gone" | "not applied" | "failed: ..."
    std::string note;              // when gone: during which phase, and what was seen
};
// Phases switch every target together: per switch, the spread between the first and the last
// target's acknowledgement.
struct SwitchSkew {
    std::size_t switches = 0;
    double median_ms = 0, max_ms = 0;
};

struct Report {
    std::string name;
    std::string description;
    std::string source;            // experiment file
    std::string target;            // "dpdk /run/netchaos/fwd.sock" or "netem veth0 egress in ns"
    std::string probe;             // "udp 10.213.0.2:7777 @ 100 Hz"
    double duration_s = 0;
    std::vector<Phase> phases;
    std::vector<Point> timeline;
    std::optional<CommandResult> command;
    std::vector<std::string> notes;   // warnings, interruptions, rollback trouble
    std::vector<TargetResult> targets;   // per target (empty: a test fake gave none)
    std::optional<SwitchSkew> skew;      // with two targets or more
    int exit_code = 0;
    std::string verdict;              // "pass" | "slo missed" | "fidelity missed" | "interrupted" ...
};

// ---------------------------------------------------------------- writers (pure)
std::string progress_line(const Phase& p, double elapsed_s, double total_s);
std::string summary_table(const Report& r);
std::string to_json(const Report& r);
std::string to_junit(const Report& r);
std::string to_html(const Report& r);

// JUnit XML, the one writer (`run --junit` and `probe --junit`): a testsuites document of
// suites of test cases; a failed case carries its type and message.
struct JunitCase {
    std::string classname, name;
    bool pass = true;
    std::string type, message;   // when failed: "slo", "fidelity", "threshold", "command"
    double time_s = 0;
};
struct JunitSuite {
    std::string name;
    double time_s = 0;
    std::vector<std::pair<std::string, double>> properties;
    std::vector<JunitCase> cases;
    std::string system_out;      // CI shows it next to the failures
};
std::string junit_xml(const std::string& name, double time_s, const std::vector<JunitSuite>& suites);

// SVG plots, exposed for tests.
std::string svg_timeline(const Report& r, int width = 960, int height = 320);
std::string svg_histogram(const Phase& p, int width = 460, int height = 240);
// [phase] replay_check: the recorded and the replayed jitter_1s series against window index.
std::string svg_replay_jitter(const Phase& p, int width = 960, int height = 260);

// Escapes &<>"' for XML and HTML text and attributes (invalid UTF-8 replaced first).
std::string xml_escape(const std::string& s);
// Invalid UTF-8 (a command line is bytes, not text) replaced by U+FFFD, so every report
// stays well-formed: the JSON writer threw on it and the verdict was lost.
std::string valid_utf8(std::string_view s);

}  // namespace netchaos::report
