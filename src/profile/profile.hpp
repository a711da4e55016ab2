#pragma once
// The profile model: plain value types, no I/O. Every other module (netem encoder, fault
// engine, probe thresholds, experiment runner) consumes these and nothing else from TOML.
//
// Conventions:
//  - durations are std::chrono::nanoseconds;
//  - probabilities and correlations are doubles in [0, 1] (the TOML says "1.5%");
//  - rates are bytes per second (the TOML says "100mbit");
//  - an absent feature is std::nullopt, never a zero that means "off".
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace netchaos::profile {

using Duration = std::chrono::nanoseconds;

// ---------------------------------------------------------------- delay
enum class Distribution { uniform, normal, pareto, paretonormal, custom };

// A custom delay distribution: either an iproute2 .dist file, or raw samples that are
// turned into an inverse-CDF table. Exactly one of the two is set.
struct CustomTable {
    std::filesystem::path file;        // iproute2 .dist format (whitespace-separated s16)
    std::vector<double> samples_ms;    // inline samples in milliseconds
    bool operator==(const CustomTable&) const = default;
};

// What jitter does to packet order. netem's tfifo sorts by send time and so reorders;
// most real paths keep order. The default is to preserve order.
//   preserve: one order for the whole direction (a packet waits for every earlier one);
//   reorder:  packets may pass each other (netem's tfifo);
//   flow:     order kept within each flow (5-tuple), flows pass each other, as on a path
//             that balances flows over links of different delay (dpdk backend only).
enum class JitterOrder { preserve, reorder, flow };

// [egress.delay] trace = "morning.ncr": the delay follows a recorded RTT series over time
// (docs/replay.md, "Replay a trace"). The file is read when the profile is parsed (by the CLI);
// the points travel inline (trace_points) to the forwarder, which never reads the file.
// Lost probes are not points: the delay is interpolated over them (the loss is not replayed).
enum class TraceEnd { loop, hold };   // after the last point: start over, or keep the last delay

struct TracePoint {
    Duration at{0};      // send time from the trace's first record
    Duration delay{0};   // the recorded RTT
    bool operator==(const TracePoint&) const = default;
};

// At most this many points (answered probes): 65536 is 11 minutes at 100/s, and the points
// are sent inline to the forwarder (~20 bytes each in the control line).
inline constexpr std::size_t max_trace_points = 65536;

struct DelayTrace {
    std::filesystem::path file;        // as written in the profile; empty when given as trace_points
    std::vector<TracePoint> points;    // at least one, `at` non-decreasing, the first at 0
    Duration period{0};                // loop length: the recording's span plus one mean send interval
    TraceEnd at_end = TraceEnd::loop;
    Duration granularity{std::chrono::milliseconds(100)};   // netem: the step of its phase switches
    bool operator==(const DelayTrace&) const = default;
};

struct Delay {
    Duration mean{0};
    Duration jitter{0};            // sigma for normal/pareto*, half-width for uniform
    double correlation = 0.0;
    Distribution distribution = Distribution::uniform;  // netem's default when jitter > 0
    std::optional<CustomTable> table;                   // set iff distribution == custom
    JitterOrder order = JitterOrder::preserve;
    std::optional<DelayTrace> trace;   // set: the delay follows it (mean, jitter, distribution unset)
    bool operator==(const Delay&) const = default;
};

// ---------------------------------------------------------------- loss
struct RandomLoss {
    double p = 0.0;
    double correlation = 0.0;
    bool operator==(const RandomLoss&) const = default;
};

// Gilbert-Elliott as tc writes it: p (good->bad), r (bad->good), 1-h (loss in bad),
// 1-k (loss in good). Defaults follow tc: r = 1 - p... see docs/profiles.md.
struct GilbertElliott {
    double p = 0.0;
    double r = 1.0;
    double one_minus_h = 1.0;
    double one_minus_k = 0.0;
    bool operator==(const GilbertElliott&) const = default;
};

// 4-state Markov loss (Salsano et al.), field names as in tc.
struct Markov4 {
    double p13 = 0.0;
    double p31 = 1.0;
    double p32 = 0.0;
    double p23 = 1.0;
    double p14 = 0.0;
    bool operator==(const Markov4&) const = default;
};

using LossModel = std::variant<RandomLoss, GilbertElliott, Markov4>;

struct Loss {
    LossModel model = RandomLoss{};
    bool ecn = false;  // mark CE instead of dropping (ECN-capable packets only)
    bool operator==(const Loss&) const = default;
};

// ---------------------------------------------------------------- other faults
struct Duplicate {
    double p = 0.0;
    double correlation = 0.0;
    bool operator==(const Duplicate&) const = default;
};

struct Corrupt {
    double p = 0.0;
    double correlation = 0.0;
    bool operator==(const Corrupt&) const = default;
};

// netem reorder: with probability p (and correlation) a packet is sent at once instead of
// delayed; gap N means every Nth packet is a candidate. Needs a delay.
struct Reorder {
    double p = 0.0;
    double correlation = 0.0;
    std::uint32_t gap = 1;
    bool operator==(const Reorder&) const = default;
};

// [egress.rate] mm_link = "x.trace": Mahimahi's delivery opportunities (one integer ms a line,
// 1500 bytes each, looping with the last line's time as the period) as a time-varying rate,
// forwarder only. Read when the profile is parsed; sent inline (mm_link_ms) to the forwarder.
inline constexpr std::size_t max_mm_link_lines = 1u << 20;
struct MmLinkTrace {
    std::filesystem::path file;        // as written; empty when given as mm_link_ms
    std::vector<std::uint32_t> ms;     // opportunity times, non-decreasing
    bool operator==(const MmLinkTrace&) const = default;
};

struct Rate {
    std::uint64_t bytes_per_sec = 0;   // with mm_link: its mean rate (for reports and limits)
    std::int32_t packet_overhead = 0;   // bytes added (or removed, if negative) per packet
    std::uint32_t cell_size = 0;        // 0 = no cells
    std::int32_t cell_overhead = 0;
    std::optional<MmLinkTrace> mm_link;
    bool operator==(const Rate&) const = default;
    // A plain link (no mm_link) of this rate and framing.
    static Rate link(std::uint64_t bytes_per_sec, std::int32_t packet_overhead = 0, std::uint32_t cell_size = 0,
                     std::int32_t cell_overhead = 0) {
        Rate r;
        r.bytes_per_sec = bytes_per_sec;
        r.packet_overhead = packet_overhead;
        r.cell_size = cell_size;
        r.cell_overhead = cell_overhead;
        return r;
    }
};

// Slotting (netem "slot"): packets leave in bursts. Either a min/max window or a
// distribution of slot spacing.
struct Slot {
    Duration min_delay{0};
    Duration max_delay{0};
    std::optional<Distribution> distribution;  // "slot distribution X DELAY JITTER"
    Duration dist_delay{0};
    Duration dist_jitter{0};
    std::optional<std::int32_t> max_packets;
    std::optional<std::int32_t> max_bytes;
    bool operator==(const Slot&) const = default;
};

// ---------------------------------------------------------------- one direction
struct Impairment {
    std::optional<Delay> delay;
    std::optional<Loss> loss;
    std::optional<Duplicate> duplicate;
    std::optional<Corrupt> corrupt;
    std::optional<Reorder> reorder;
    std::optional<Rate> rate;
    std::optional<Slot> slot;
    std::uint32_t limit = 1000;          // packets, netem's default
    std::optional<std::uint64_t> seed;   // fixed seed for reproducible runs
    bool operator==(const Impairment&) const = default;
};

// ---------------------------------------------------------------- flow match
struct Cidr {
    std::string address;   // canonical text, e.g. "10.0.0.0"; IPv4 or IPv6
    std::uint8_t prefix = 32;
    bool v6 = false;
    bool operator==(const Cidr&) const = default;
};

enum class Protocol { any, tcp, udp, icmp };

// Empty fields match anything. A match with src or dst matches only packets of that IP
// version; one without (ports, protocol, DSCP only) matches IPv4 and IPv6 alike.
struct FlowMatch {
    std::optional<Cidr> src;
    std::optional<Cidr> dst;
    Protocol protocol = Protocol::any;
    std::optional<std::uint16_t> sport;
    std::optional<std::uint16_t> dport;
    std::optional<std::uint8_t> dscp;   // 0-63: the upper six bits of IPv4 TOS / IPv6 traffic class
    bool operator==(const FlowMatch&) const = default;
};

// One per-flow class ([[class]]): packets its match takes get its own impairment, with its
// own state (delay correlation, loss bursts, rate, order). The first class whose match fits
// a packet takes it; a packet no class takes gets the profile's [egress]/[ingress], or passes
// when the profile has none. The old single [match] is read as one class named "match"
// holding the profile's [egress]/[ingress] (then the unmatched traffic passes).
// At most this many classes: the forwarder keeps per-class engines and stats in fixed
// arrays, and the netem backend numbers its htb classes from them.
inline constexpr std::size_t max_classes = 16;

struct FlowClass {
    std::string name;
    FlowMatch match;
    std::optional<Impairment> egress;
    std::optional<Impairment> ingress;
    bool operator==(const FlowClass&) const = default;
};

// ---------------------------------------------------------------- http (the proxy)
// Faults the HTTP proxy (src/http) applies per request. Each is drawn by src/fault's engine:
// the delays are Delay samplers (same distributions, same correlation), the abort is a
// random-loss Chance, the throttle is the engine's rate link over the response body.
struct HttpAbort {
    double p = 0.0;
    double correlation = 0.0;
    std::uint16_t status = 503;   // the status sent back (400-599)
    bool reset = false;           // true: reset the client's connection instead (no response)
    bool operator==(const HttpAbort&) const = default;
};

struct HttpFaults {
    std::optional<Delay> request_delay;    // before the request is forwarded
    std::optional<Delay> response_delay;   // before the response's first byte (TTFB)
    std::optional<std::uint64_t> throttle; // response body, bytes per second
    std::optional<HttpAbort> abort;
    bool operator==(const HttpFaults&) const = default;
};

// Empty fields match anything. header_value empty = the header only has to be present.
struct HttpMatch {
    std::string method;        // "POST" (exact, case-sensitive as in RFC 9110)
    std::string path_prefix;   // "/checkout" matches "/checkout" and "/checkout/pay?x=1"
    std::string header;        // header name, case-insensitive
    std::string header_value;  // exact value
    bool operator==(const HttpMatch&) const = default;
};

// The first route whose match fits a request applies its faults; a request no route
// matches gets the [http] table's own faults.
struct HttpRoute {
    std::string name;
    HttpMatch match;
    HttpFaults faults;
    bool operator==(const HttpRoute&) const = default;
};

struct Http {
    HttpFaults faults;
    std::vector<HttpRoute> routes;
    std::optional<std::uint64_t> seed;
    bool operator==(const Http&) const = default;
};

// ---------------------------------------------------------------- profile
struct Profile {
    std::string name;
    std::string description;
    std::optional<Impairment> egress;    // the traffic no class takes (all of it without classes)
    std::optional<Impairment> ingress;
    std::vector<FlowClass> classes;   // in match order; empty: every packet gets egress/ingress
    std::optional<Http> http;      // the HTTP proxy's faults ([http]); the network backends ignore it
    std::filesystem::path source;   // file it came from, for messages
    bool operator==(const Profile&) const = default;
};

// What whole-path consumers (the fidelity gate, run's exporter, validate's delay warnings,
// plan descriptions) take as a profile's egress/ingress: for a profile of one class and no
// unmatched impairment (the [match] shape) that class's, since its flow is the one the probe
// is meant to measure, as before classes existed; otherwise the top level's (the traffic no
// class takes, all of it without classes).
inline const std::optional<Impairment>& main_egress(const Profile& p) {
    return p.classes.size() == 1 && !p.egress && !p.ingress ? p.classes[0].egress : p.egress;
}
inline const std::optional<Impairment>& main_ingress(const Profile& p) {
    return p.classes.size() == 1 && !p.egress && !p.ingress ? p.classes[0].ingress : p.ingress;
}

// ---------------------------------------------------------------- thresholds
// The ops alert rule: spike_ratio > ratio AND jitter_1s > jitter for `periods`
// consecutive reporting periods of length `period`.
struct AlertRule {
    double spike_ratio = 0.6;
    Duration jitter{std::chrono::milliseconds(80)};
    int periods = 3;
    Duration period{std::chrono::seconds(5)};
    bool operator==(const AlertRule&) const = default;
};

struct Thresholds {
    std::optional<Duration> jitter_1s_max;
    std::optional<double> spike_ratio_max;
    std::optional<Duration> p99_rtt_max;
    std::optional<double> loss_max;
    std::optional<double> p99_drift_max;       // 2.0 = "P99 drifted by >= 200% of baseline"
    // Drift is taken relative to max(baseline p99, floor): a 0.1 ms loopback baseline made
    // a 5.8 ms p99 read as "5743% > 200%".
    std::optional<Duration> p99_drift_floor;
    std::optional<double> fidelity_tolerance;  // 0.1 = 10%
    std::optional<AlertRule> alert;
    // HTTP probes: the largest share of responses with a status, by code ("429") or class
    // ("5xx"), e.g. { "429" = 0.01, "5xx" = 0.001 }.
    std::map<std::string, double> status_ratio_max;
    Duration spike_level{std::chrono::milliseconds(50)};
    Duration window{std::chrono::seconds(1)};
    int spike_windows = 60;
    bool operator==(const Thresholds&) const = default;
};

// ---------------------------------------------------------------- experiments
enum class Backend { netem, dpdk, http };
enum class Direction { egress, ingress };

struct Target {
    std::string name;                      // [[target]] name (default "target1", ...); "" for a lone [target]
    Backend backend = Backend::netem;
    std::string dev;                       // netem: interface
    std::string netns;                     // netem: namespace of the interface ("" = current)
    int pid = 0;                           // netem: the namespace of this process instead of netns
    std::string container;                 // netem: a container ID, resolved to its pid by `run` (src/drive/container.hpp)
    // [[target]] profiles = { PHASE = "file.toml" }: this target's own profile in that phase
    // (every step of it), instead of the phase's.
    std::map<std::string, Profile> phase_profiles;
    Direction direction = Direction::egress;
    std::filesystem::path control;         // dpdk: forwarder control socket; http: netchaos http-proxy --control
    std::string proxy;                     // http: "http://ADDR:PORT" of a --forward proxy, exported to COMMAND as HTTP_PROXY
    bool operator==(const Target&) const = default;
};

enum class ProbeMode { udp, icmp, tcp, http };

struct ProbeConfig {
    std::string target;                    // host:port of a reflector (udp), host (icmp), host:port (tcp), http://host:port/path (http)
    std::string netns;                     // run the probe inside this namespace ("" = current)
    double rate_hz = 100.0;
    ProbeMode mode = ProbeMode::udp;
    Duration timeout{std::chrono::seconds(1)};
    std::filesystem::path key_file;        // udp: shared HMAC key with the reflector (relative to the experiment)
    // `run` rolls back and exits 4 when the probe gets no reply for this long during a
    // phase (it is blind); 0 = never. Phases that drop (nearly) everything are exempt.
    Duration max_silence{std::chrono::seconds(10)};
    bool operator==(const ProbeConfig&) const = default;
};

struct Ramp {
    Profile from;
    Profile to;
    int steps = 2;
    bool operator==(const Ramp&) const = default;
};

// What a fidelity miss does: gate = exit 2, warn = reported only, off = not checked.
enum class FidelityMode { gate, warn, off };

// [phase] replay_check = { trace = "morning.ncr", ks_max = 0.05, r_min = 0.9, resolution = "20us" }: the phase's
// probe records must reproduce the recorded trace (src/replay/check.hpp; docs/replay.md).
struct ReplayCheckSpec {
    std::filesystem::path trace;   // resolved against the experiment's directory
    double ks_max = 0.05;
    double r_min = 0.9;
    Duration resolution{0};        // RTT differences up to this count as equal in the KS gate (0: plain KS)
    bool operator==(const ReplayCheckSpec&) const = default;
};

struct Phase {
    std::string name;
    Duration duration{0};
    Profile profile;             // resolved: file reference plus inline overrides
    std::optional<Ramp> ramp;    // if set, `profile` is the ramp's start
    Thresholds thresholds;       // phase-specific (merged over the experiment's)
    std::optional<FidelityMode> fidelity;   // overrides the experiment's
    std::optional<ReplayCheckSpec> replay_check;
    bool operator==(const Phase&) const = default;
};

struct Experiment {
    std::string name;
    std::string description;
    Target target;                 // the first (or only) target
    std::vector<Target> targets;   // every target: [target], or each [[target]] in order
    ProbeConfig probe;
    Duration baseline{std::chrono::seconds(3)};   // steady-state check before and after
    std::string drift_baseline;                   // phase p99_drift_max compares with ("" = the steady state)
    Thresholds thresholds;                        // overall
    FidelityMode fidelity = FidelityMode::gate;   // per phase: Phase::fidelity
    std::vector<Phase> phases;
    std::filesystem::path source;
    bool operator==(const Experiment&) const = default;
};

}  // namespace netchaos::profile
