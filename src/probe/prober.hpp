#pragma once
// The prober: sends on a fixed-rate grid anchored at the start, collects replies on a
// second thread, and closes windows as soon as every probe in them is resolved (window end +
// timeout). Each resolved probe becomes a metrics::Record, fed to the metrics module and to
// the caller's record callback (the CSV), then forgotten: memory holds only the probes in
// flight, whatever the run's length (docs/performance.md, "Probe memory").
//
// Timestamps: with SO_TIMESTAMPING the kernel's software tx/rx stamps (CLOCK_REALTIME) are
// converted to CLOCK_MONOTONIC by one offset measured at start, so every RTT is a
// difference on one clock; where a stamp is missing the user-space CLOCK_MONOTONIC read
// next to the send/receive call stands in for it.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "metrics/metrics.hpp"
#include "probe/transport.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

struct ProbeOptions {
    profile::ProbeMode mode = profile::ProbeMode::udp;
    net::Endpoint target;
    double rate_hz = 100.0;
    Nanos duration{std::chrono::seconds(10)};   // 0: until `stop` is set (a long-lived edge probe)
    Nanos timeout{std::chrono::seconds(1)};
    std::size_t size = 48;
    metrics::Config metrics;                      // windows, spike level, alert rule
    Nanos spin{std::chrono::microseconds(50)};   // the production clock busy-waits this much before each deadline
    bool realtime = false;                        // SCHED_FIFO for the sender thread (needs CAP_SYS_NICE)
    std::vector<std::uint8_t> key;                // udp: shared HMAC key with the reflector (empty: none)
    std::string http_host;                        // http: Host header ("" = the target's address)
    std::string http_path = "/";                  // http: the path requested
    bool http_reuse = true;                       // http: keep connections alive between probes
};

// Where the sends landed against the grid.
struct SendTiming {
    double error_max_ns = 0.0;
    double error_mean_ns = 0.0;
    std::uint64_t late_by_a_period = 0;   // sends more than one grid period late (VM stalls)
    std::int64_t first_ns = 0;            // CLOCK_MONOTONIC of the first and last send
    std::int64_t last_ns = 0;
    std::int64_t last_error_ns = 0;       // the last send against its slot: accumulated drift
};

struct ProbeRun {
    std::int64_t t0_ns = 0;                  // CLOCK_MONOTONIC of grid slot 0
    metrics::Summary summary;
    SendTiming timing;
    std::uint64_t send_errors = 0;
    std::string first_send_error;            // e.g. "sendto: Network is unreachable"
    std::uint64_t garbage = 0;               // datagrams that were not our replies (or tcp refusals)
    std::uint64_t late = 0;                  // replies after the timeout (counted as lost)
    std::uint64_t kernel_tx = 0;             // RTTs whose tx/rx ends came from kernel stamps
    std::uint64_t kernel_rx = 0;
    bool interrupted = false;
    std::string unreachable;                 // set when an ICMP port unreachable ended the run early
    bool realtime = false;                   // the sender ran SCHED_FIFO
    std::string transport;
};

// All called on the receiver thread, in order.
struct ProbeCallbacks {
    std::function<void(const metrics::Record&)> record;   // each probe once resolved, by seq
    std::function<void(const metrics::Window&, std::int64_t t_end_ns)> window;
    std::function<void(const metrics::ReportPoint&)> point;
    // For live exporters: what each resolved probe added (its RTT, its IPDV), and the running
    // counts after each window.
    std::function<void(const metrics::Added&)> added;
    std::function<void(const metrics::Totals&)> totals;
};

// Runs to completion (duration 0: until `stop`): duration + timeout at most (plus the last window's bookkeeping), or
// earlier when `stop` is set (then it stops sending, waits the timeout, and finishes).
// Errors: bad options (bad_input), sockets (system).
Result<ProbeRun> run_probe(const ProbeOptions& opt, const std::atomic<bool>& stop, const ProbeCallbacks& cb);

// TARGET as `probe` and `run` read it, for o.mode: HOST:PORT (udp, tcp), HOST (icmp),
// http://HOST[:PORT]/PATH (http; no userinfo, no https: the probe measures, it does not
// browse). Sets o.target and, for http, o.http_host and o.http_path. Names resolve in the
// caller's network namespace. Errors carry code 3.
Result<void> set_target(ProbeOptions& o, std::string_view text);

// The same on an injected transport and clock: every send time, grid slot and window
// deadline is read from `clock` (its time base is the one replies are stamped in). A
// ManualClock and a scripted transport make a run deterministic (tests/unit/probe).
Result<ProbeRun> run_probe(const ProbeOptions& opt, Transport& transport, Clock& clock, const std::atomic<bool>& stop,
                           const ProbeCallbacks& cb);

}  // namespace netchaos::probe
