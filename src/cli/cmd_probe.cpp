// netchaos probe: measure RTT, jitter_1s, spike ratio, loss against a reflector (or by ICMP
// echo / TCP connect) and gate on thresholds. Output: docs/metrics.md (figures), metrics/io.hpp (window lines, CSV).
#include <boost/program_options.hpp>

#include <ctime>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "command.hpp"
#include "target_cli.hpp"
#include "exit_codes.hpp"
#include "export/probe_exporter.hpp"
#include "export/server.hpp"
#include "metrics/io.hpp"
#include "metrics/metrics.hpp"
#include "probe/net.hpp"
#include "probe/output.hpp"
#include "probe/prober.hpp"
#include "probe/reflector.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"
#include "trace/trace.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

struct Flags {
    std::string target, mode = "udp", rate = "100", duration = "10s", timeout = "1s";
    std::string csv, junit, thresholds_file, key_file, metrics_listen, record;
    std::string jitter_1s_max, spike_ratio_max, p99_rtt_max, loss_max, spike_level, p99_drift_max, baseline_p99;
    std::string window, alert_jitter, alert_period, alert_spike_ratio;
    int spike_windows = 0, alert_periods = 0;
    std::size_t size = 48;
    bool json = false, quiet = false, alert = false, realtime = false, no_reuse = false;
};

// Collects the first bad flag; later parses are skipped.
struct FlagParser {
    std::optional<std::string> error;
    template <class T, class F>
    void set(const std::string& flag, const std::string& text, std::optional<T>& out, F parse) {
        if (text.empty() || error) return;
        auto v = parse(text);
        if (!v)
            error = "--" + flag + ": " + v.error().message;
        else
            out = *v;
    }
};

int run_probe_cmd(int argc, char** argv) {
    Flags f;
    po::options_description opts(
        "usage: netchaos probe TARGET [options]\n\n"
        "Sends probes on a fixed-rate grid to a `netchaos reflect` (udp, TARGET = HOST:PORT), or by\n"
        "ICMP echo (TARGET = HOST) or TCP connect (HOST:PORT) or HTTP GET (TARGET = http://HOST:PORT/PATH,\n"
        "status codes counted, status_ratio_max thresholds), and reports RTT percentiles, loss,\n"
        "duplicates, reordering, IPDV, RFC 3550 jitter, jitter_1s and the spike ratio.\n"
        "--netns/--pid/--container: send from inside that network namespace (a thread of this process joins it;\n"
        "files and --metrics-listen stay in this one).\n"
        "Exit: 0 pass, 1 a threshold missed (or no reply at all), 3 bad input, 4 system error.\n\noptions");
    opts.add_options()
        ("help,h", "this help")
        ("rate,r", po::value(&f.rate)->default_value(f.rate), "probes per second, 1-10000 (tcp: <= 1000)")
        ("duration,d", po::value(&f.duration)->default_value(f.duration), "how long to send; 0 = until SIGINT/SIGTERM")
        ("timeout,t", po::value(&f.timeout)->default_value(f.timeout), "a probe unanswered after this is lost")
        ("mode,m", po::value(&f.mode)->default_value(f.mode), "udp | icmp | tcp | http (implied by an http:// TARGET)")
        ("size", po::value(&f.size)->default_value(f.size), "udp/icmp payload bytes (48-1472)")
        ("no-reuse", po::bool_switch(&f.no_reuse), "http: a new connection per request (its connect is in the RTT)")
        ("json,j", po::bool_switch(&f.json), "JSON lines on stdout: one per window, then a summary")
        ("csv", po::value(&f.csv), "per-probe records, streamed: seq,send_ns,rtt_ns,status,dups,rx_ns")
        ("record", po::value(&f.record), "per-probe trace for fit / replay-check / replay (.ncr, docs/replay.md)")
        ("junit", po::value(&f.junit), "JUnit XML verdict for CI")
        ("metrics-listen", po::value(&f.metrics_listen), "serve Prometheus metrics on ADDR:PORT/metrics (docs/monitoring.md); port 0 = any free one")
        ("quiet,q", po::bool_switch(&f.quiet), "no progress lines on stderr")
        ("key-file", po::value(&f.key_file), "udp: shared key file (mode 0600) of a reflector run with --key-file")
        ("realtime", po::bool_switch(&f.realtime), "run the sender SCHED_FIFO (tighter grid on a busy host; needs CAP_SYS_NICE)")
        ("thresholds", po::value(&f.thresholds_file), "TOML file with a [thresholds] table (flags override it)")
        ("jitter-1s-max", po::value(&f.jitter_1s_max), "worst window's jitter_1s, e.g. 80ms")
        ("spike-ratio-max", po::value(&f.spike_ratio_max), "spike ratio at the end of the run, e.g. 0.6")
        ("p99-rtt-max", po::value(&f.p99_rtt_max), "p99 RTT, e.g. 200ms")
        ("loss-max", po::value(&f.loss_max), "loss, e.g. 1%")
        ("p99-drift-max", po::value(&f.p99_drift_max), "p99 growth over --baseline-p99 that fails, e.g. 200%")
        ("baseline-p99", po::value(&f.baseline_p99), "baseline p99 RTT for --p99-drift-max, e.g. 12ms")
        ("spike-level", po::value(&f.spike_level), "jitter_1s above this makes a window a spike (50ms)")
        ("window", po::value(&f.window), "jitter window length (1s)")
        ("spike-windows", po::value(&f.spike_windows), "windows in the spike ratio (60)")
        ("alert", po::bool_switch(&f.alert), "gate on the alert rule (defaults: ratio > 0.6 and jitter > 80ms for 3 x 5s)")
        ("alert-spike-ratio", po::value(&f.alert_spike_ratio), "alert rule spike ratio")
        ("alert-jitter", po::value(&f.alert_jitter), "alert rule jitter")
        ("alert-periods", po::value(&f.alert_periods), "alert rule consecutive periods")
        ("alert-period", po::value(&f.alert_period), "alert rule period length");
    cli::TargetFlags tf;
    cli::add_target_options(opts, tf);
    po::options_description hidden;
    hidden.add_options()("target", po::value(&f.target));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("target", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos probe: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    auto bad = [](const std::string& m) {
        std::fprintf(stderr, "netchaos probe: %s\n", m.c_str());
        return cli::exit_bad_input;
    };
    if (f.target.empty()) return bad("missing TARGET (see --help)");
    auto ref = cli::target_ref(tf);
    auto ns = ref ? drive::pin_netns(*ref) : Result<drive::PinnedNetns>(ref.error());
    if (!ns) {
        std::fprintf(stderr, "netchaos probe: %s\n", ns.error().message.c_str());
        return cli::exit_code(ns.error());
    }

    probe::ProbeOptions o;
    if (f.target.starts_with("http://")) {
        if (!vm["mode"].defaulted() && f.mode != "http") return bad("--mode " + f.mode + " with an http:// target");
        f.mode = "http";
    }
    o.http_reuse = !f.no_reuse;
    if (f.mode == "udp") o.mode = profile::ProbeMode::udp;
    else if (f.mode == "icmp") o.mode = profile::ProbeMode::icmp;
    else if (f.mode == "tcp") o.mode = profile::ProbeMode::tcp;
    else if (f.mode == "http") o.mode = profile::ProbeMode::http;
    else return bad("--mode: expected udp, icmp, tcp or http, got '" + f.mode + "'");

    profile::Thresholds th;
    if (!f.thresholds_file.empty()) {
        // The experiment's [thresholds] reader: same keys, bounds and file:line:column errors.
        auto t = profile::parse_thresholds_file(f.thresholds_file);
        for (const auto& d : t.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
        if (!t.ok()) return cli::exit_bad_input;
        th = *t.value;
    }
    const auto dur = [](const std::string& s) { return profile::parse_duration(s); };
    const auto prob = [](const std::string& s) {
        auto v = profile::parse_probability(s);
        if (v && s.find('%') == std::string::npos)
            if (auto w = profile::bare_probability_warning(s, *v); !w.empty()) std::fprintf(stderr, "netchaos probe: warning: %s\n", w.c_str());
        return v;
    };
    const auto rate_hz = [&o](const std::string& s) -> Result<double> {
        auto v = profile::parse_probe_rate(s);
        if (!v) return v.error();
        return profile::check_probe_rate(*v, o.mode);
    };
    const auto ratio = [](const std::string& s) { return profile::parse_percent(s); };
    FlagParser p;
    std::optional<profile::Duration> duration, timeout, level, window, baseline, a_jitter, a_period;
    std::optional<double> rate, a_ratio;
    p.set("rate", f.rate, rate, rate_hz);
    p.set("duration", f.duration, duration, dur);
    p.set("timeout", f.timeout, timeout, dur);
    p.set("jitter-1s-max", f.jitter_1s_max, th.jitter_1s_max, dur);
    p.set("spike-ratio-max", f.spike_ratio_max, th.spike_ratio_max, ratio);
    p.set("p99-rtt-max", f.p99_rtt_max, th.p99_rtt_max, dur);
    p.set("loss-max", f.loss_max, th.loss_max, prob);
    p.set("p99-drift-max", f.p99_drift_max, th.p99_drift_max, ratio);
    p.set("baseline-p99", f.baseline_p99, baseline, dur);
    p.set("spike-level", f.spike_level, level, dur);
    p.set("window", f.window, window, dur);
    p.set("alert-jitter", f.alert_jitter, a_jitter, dur);
    p.set("alert-period", f.alert_period, a_period, dur);
    p.set("alert-spike-ratio", f.alert_spike_ratio, a_ratio, ratio);
    if (p.error) return bad(*p.error);
    if (level) th.spike_level = *level;
    if (window) th.window = *window;
    if (f.spike_windows < 0) return bad("--spike-windows must be >= 1");
    if (f.spike_windows > 0) th.spike_windows = f.spike_windows;
    if (f.alert || a_jitter || a_period || a_ratio || f.alert_periods) {
        if (!th.alert) th.alert = profile::AlertRule{};
        if (a_jitter) th.alert->jitter = *a_jitter;
        if (a_period) th.alert->period = *a_period;
        if (a_ratio) th.alert->spike_ratio = *a_ratio;
        if (f.alert_periods < 0) return bad("--alert-periods must be >= 1");
        if (f.alert_periods > 0) th.alert->periods = f.alert_periods;
    }
    if (th.p99_drift_max && !baseline) return bad("--p99-drift-max needs --baseline-p99");

    // Resolved inside the namespace: a name means what it means there.
    if (auto t = cli::in_target(*ns, [&] { return probe::set_target(o, f.target); }); !t) return bad(t.error().message);
    o.rate_hz = *rate;
    o.duration = *duration;
    o.timeout = *timeout;
    o.size = f.size;
    o.realtime = f.realtime;
    o.metrics = metrics::config_of(th);
    if (const std::string why = metrics::check(o.metrics); !why.empty()) return bad(why);
    if (!f.key_file.empty()) {
        auto k = probe::read_key_file(f.key_file);
        if (!k) return bad(k.error().message);
        o.key = std::move(*k);
    }

    // The CSV is streamed as probes resolve: nothing per probe stays in memory.
    std::ofstream csv;
    if (!f.csv.empty()) {
        csv.open(f.csv, std::ios::binary | std::ios::trunc);
        if (!csv) {
            std::fprintf(stderr, "netchaos probe: cannot write %s\n", f.csv.c_str());
            return cli::exit_system;
        }
        metrics::write_csv_header(csv);
    }
    // The trace is streamed too; its header gets the count when the run ends.
    std::optional<trace::Writer> rec;
    if (!f.record.empty()) {
        timespec wall{}, mono{};
        clock_gettime(CLOCK_REALTIME, &wall);
        clock_gettime(CLOCK_MONOTONIC, &mono);
        // The records' send times are CLOCK_MONOTONIC: the header's wall time is of 0 on it.
        const std::int64_t wall0 = (wall.tv_sec - mono.tv_sec) * 1'000'000'000LL + (wall.tv_nsec - mono.tv_nsec);
        auto w = trace::Writer::open(f.record, wall0);
        if (!w) {
            std::fprintf(stderr, "netchaos probe: %s\n", w.error().message.c_str());
            return cli::exit_system;
        }
        rec = std::move(*w);
    }
    if (!f.metrics_listen.empty())
        if (auto l = exporter::check_listen(f.metrics_listen); !l) return bad(l.error().message);

    const auto& stop = probe::net::stop_on_signals();
    probe::ProbeCallbacks cb;
    // The exporter publishes what src/metrics measured, as the prober closes windows.
    std::unique_ptr<exporter::ProbeExporter> prom;
    std::unique_ptr<exporter::Server> server;
    if (!f.metrics_listen.empty()) {
        prom = std::make_unique<exporter::ProbeExporter>(o.target.text, f.mode);
        auto srv = exporter::Server::start(f.metrics_listen, prom->registry());
        if (!srv) {
            std::fprintf(stderr, "netchaos probe: %s\n", srv.error().message.c_str());
            return netchaos::cli::exit_code(srv.error());
        }
        server = std::move(*srv);
        // Always printed (also with -q): with port 0 it is the only way to learn the port.
        std::fprintf(stderr, "netchaos probe: metrics at %s\n", server->url().c_str());
        cb.added = [&](const metrics::Added& a) { prom->added(a); };
        cb.totals = [&](const metrics::Totals& t) { prom->totals(t); };
    }
    if (csv.is_open() || rec)
        cb.record = [&](const metrics::Record& r) {
            if (csv.is_open()) metrics::write_csv_row(csv, r);
            if (rec) rec->add(r);
        };
    cb.window = [&](const metrics::Window& w, std::int64_t t_end) {
        if (prom) prom->window(w);
        if (f.json) {
            std::fputs((metrics::window_json(w, t_end).dump() + "\n").c_str(), stdout);
            std::fflush(stdout);
        }
        if (!f.quiet) std::fprintf(stderr, "%s\n", probe::progress_line(w, o.rate_hz).c_str());
    };
    cb.point = [&](const metrics::ReportPoint& pr) {
        if (pr.fired && !f.quiet)
            std::fprintf(stderr, "ALERT: spike_ratio %.2f and jitter_1s %.1f ms held for %d consecutive report points (t=%.0fs)\n",
                         pr.spike_ratio, pr.jitter_ns.value_or(0) / 1e6, pr.consecutive,
                         std::chrono::duration<double>(pr.end).count());
    };
    if (!f.quiet) {
        char span[64] = "until SIGINT/SIGTERM";
        if (o.duration.count()) std::snprintf(span, sizeof span, "for %.3gs", std::chrono::duration<double>(o.duration).count());
        std::fprintf(stderr, "netchaos probe: %s %s, %g/s %s, timeout %.3gs\n", f.mode.c_str(), o.target.text.c_str(),
                     o.rate_hz, span, std::chrono::duration<double>(o.timeout).count());
    }
    auto run = cli::in_target(*ns, [&] { return probe::run_probe(o, stop, cb); });
    if (!run) {
        std::fprintf(stderr, "netchaos probe: %s\n", run.error().message.c_str());
        return netchaos::cli::exit_code(run.error());
    }
    const metrics::Summary& s = run->summary;
    const auto verdict = probe::outcomes(s, th, baseline);
    const auto missed = metrics::misses(verdict);

    nlohmann::ordered_json info;
    info["mode"] = f.mode;
    info["transport"] = run->transport;
    info["target"] = o.target.text;
    info["rate_hz"] = o.rate_hz;
    info["duration_s"] = std::chrono::duration<double>(o.duration).count();
    info["timeout_s"] = std::chrono::duration<double>(o.timeout).count();
    if (f.json) {
        std::fputs((probe::summary_json(s, *run, verdict, info).dump() + "\n").c_str(), stdout);
        std::fflush(stdout);
    }
    if (!run->unreachable.empty())
        std::fprintf(stderr, "netchaos probe: %s\n", run->unreachable.c_str());
    else if (s.sent > 0 && s.received == 0)
        std::fprintf(stderr, "netchaos probe: no reply from %s to any of %llu probes: 100%% loss%s%s\n",
                     o.target.text.c_str(), (unsigned long long)s.sent,
                     run->first_send_error.empty() ? " (target unreachable, or no reflector listening)" : " - ",
                     run->first_send_error.c_str());
    if (!f.quiet || !f.json) {
        std::FILE* out = f.json ? stderr : stdout;
        std::fprintf(out,
                     "%s %s: sent %llu received %llu loss %.3f%% dup %llu reordered %llu\n"
                     "rtt mean %.3f ms stddev %.3f ms  p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f ms\n"
                     "ipdv mean %.3f ms  rfc3550 jitter %.3f ms  jitter_1s max %.3f ms  spike ratio %.2f\n"
                     "send timer error max %.1f us mean %.1f us; kernel stamps tx %llu rx %llu; %s\n",
                     run->transport.c_str(), o.target.text.c_str(), (unsigned long long)s.sent,
                     (unsigned long long)s.received, s.loss * 100, (unsigned long long)s.duplicates,
                     (unsigned long long)s.reordered, s.rtt_mean_ns / 1e6, s.rtt_stddev_ns / 1e6, s.p50.count() / 1e6,
                     s.p90.count() / 1e6, s.p99.count() / 1e6, s.p999.count() / 1e6, s.ipdv_mean_ns / 1e6,
                     s.jitter_rfc3550_ns / 1e6, s.jitter_1s_max_ns / 1e6, s.spike_ratio, run->timing.error_max_ns / 1e3,
                     run->timing.error_mean_ns / 1e3, (unsigned long long)run->kernel_tx,
                     (unsigned long long)run->kernel_rx, missed.empty() ? "PASS" : "FAIL");
        if (!s.http_status.empty()) {
            std::string codes;
            for (const auto& [code, n] : s.http_status) codes += " " + std::to_string(code) + ":" + std::to_string(n);
            std::fprintf(out, "http status%s\n", codes.c_str());
        }
        for (const auto& m : missed) std::fprintf(out, "  missed %s\n", metrics::describe(m).c_str());
    }
    int rc = missed.empty() && run->unreachable.empty() ? cli::exit_pass : cli::exit_threshold;
    const double elapsed = run->timing.last_ns > run->timing.first_ns
                               ? (run->timing.last_ns - run->timing.first_ns) / 1e9 + o.timeout.count() / 1e9
                               : 0.0;
    if (csv.is_open()) {
        csv.close();
        if (!csv) {
            std::fprintf(stderr, "netchaos probe: error writing %s\n", f.csv.c_str());
            rc = cli::exit_system;
        }
    }
    if (rec)
        if (auto w = rec->finish(); !w) {
            std::fprintf(stderr, "netchaos probe: %s\n", w.error().message.c_str());
            rc = cli::exit_system;
        }
    if (!f.junit.empty())
        if (auto w = probe::write_junit(f.junit, s, verdict, elapsed, o.target.text); !w) {
            std::fprintf(stderr, "netchaos probe: %s\n", w.error().message.c_str());
            rc = cli::exit_system;
        }
    return rc;
}

}  // namespace

NETCHAOS_COMMAND(probe, "measure RTT, jitter_1s, spike ratio, loss; gate on thresholds", run_probe_cmd);
