// netchaos run EXPERIMENT.toml [-- COMMAND ARGS...]: baseline, phases, command under chaos,
// rollback, recovery; SLO and fidelity verdicts; text/JSON/JUnit/HTML reports.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "allow_path.hpp"
#include "command.hpp"
#include "exit_codes.hpp"
#include "drive/probe.hpp"
#include "drive/container.hpp"
#include "drive/target.hpp"
#include "export/profile_exporter.hpp"
#include "export/server.hpp"
#include "experiment/fidelity.hpp"
#include "experiment/plan.hpp"
#include "experiment/process.hpp"
#include "experiment/runner.hpp"
#include "experiment/watchdog.hpp"
#include "profile/parse.hpp"
#include "report/report.hpp"
#include "trace/trace.hpp"

namespace po = boost::program_options;
namespace ex = netchaos::experiment;
namespace prof = netchaos::profile;

namespace {

// --record FILE: the probes sent during the fault phases (the first phase's start to the last
// one's end; not the steady-state baseline and recovery around them), as a trace: what `fit`
// turns back into phases, and what replay-check compares with the run that replays them.
netchaos::Result<std::size_t> record_phases(const std::string& file, const netchaos::report::Report& r) {
    double from = -1, to = -1;
    for (const auto& p : r.phases)
        if (p.kind == "phase") {
            if (from < 0) from = p.start_s;
            to = p.end_s;
        }
    netchaos::trace::Trace t;
    t.source = "run";
    for (const auto& pt : r.timeline) {
        if (from < 0 || pt.t_s < from || pt.t_s >= to) continue;
        netchaos::trace::Record rec;
        rec.seq = t.records.size();
        rec.send = std::chrono::nanoseconds(std::llround(pt.t_s * 1e9));
        if (!pt.lost) rec.rtt = std::chrono::nanoseconds(std::llround(pt.rtt_ms * 1e6));
        t.records.push_back(rec);
    }
    if (t.records.empty()) return netchaos::make_error("--record: no probe was sent during the phases");
    if (auto w = netchaos::trace::write(file, t); !w) return w.error();
    return t.records.size();
}

// --metrics-listen: the profile each phase applies, published as it is applied (and "none"
// after rollback), so a dashboard plots requested against what the probe delivers.
class ExportingTarget final : public ex::FaultTarget {
public:
    ExportingTarget(ex::FaultTarget& inner, netchaos::exporter::ProfileCollector& out) : inner_(inner), out_(out) { cleared(); }
    netchaos::Result<void> apply(const netchaos::profile::Profile& p) override {
        auto r = inner_.apply(p);
        if (r) exported(p);
        return r;
    }
    netchaos::Result<void> apply_step(const ex::Step& s) override {
        auto r = inner_.apply_step(s);
        if (r) exported(s.profile);
        return r;
    }
    netchaos::Result<void> clear() override {
        auto r = inner_.clear();
        if (r) cleared();
        return r;
    }
    std::string describe() const override { return inner_.describe(); }
    std::optional<ex::EmulatorTruth> truth() override { return inner_.truth(); }
    void fill_report(netchaos::report::Report& r) const override { inner_.fill_report(r); }

private:
    // The phase's requested model, per side (with several targets: the phase's own profile).
    void exported(const netchaos::profile::Profile& p) {
        const std::filesystem::path dir = p.source.empty() ? std::filesystem::path{} : p.source.parent_path();
        int d = 0;
        for (const auto& [imp, side] : {std::pair{&netchaos::profile::main_egress(p), "egress"}, {&netchaos::profile::main_ingress(p), "ingress"}}) {
            netchaos::exporter::ActiveProfile a{"none", "", 0.0, 0.0};
            if (*imp) {
                a = {p.name + " (" + side + ")", netchaos::profile::to_text(**imp, side), 0.0, 0.0};
                if ((*imp)->delay) {
                    const auto m = ex::delay_moments(*(*imp)->delay, dir);
                    a.mean_s = m ? std::optional(m->mean_ms / 1e3) : std::nullopt;
                    a.sigma_s = m ? std::optional(m->sigma_ms / 1e3) : std::nullopt;
                }
            }
            out_.set_profile(d++, std::move(a));
        }
    }
    void cleared() {
        for (int d = 0; d < 2; ++d) out_.set_profile(d, {"none", "", 0.0, 0.0});
    }
    ex::FaultTarget& inner_;
    netchaos::exporter::ProfileCollector& out_;
};

std::atomic<int> g_stop{0};

// The handler only records the signal; rollback happens in the main flow, where it is safe.
void on_signal(int sig) {
    int expected = 0;
    g_stop.compare_exchange_strong(expected, sig);
}

void install_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);   // a dead watchdog or probe must not kill us mid-rollback
}

// Renders and writes one report. A failure (a write error, or a renderer that throws) is
// reported and returns false; it never replaces the run's verdict.
template <class Render>
bool write_report(const std::string& path, Render render) {
    try {
        const std::string text = render();
        std::ofstream f(path);
        f << text;
        if (!f) {
            std::cerr << "netchaos run: cannot write " << path << ": " << std::strerror(errno) << "\n";
            return false;
        }
        return true;
    } catch (const std::exception& e) {
        std::cerr << "netchaos run: report " << path << " not written: " << e.what() << "\n";
        return false;
    }
}

// The run's working directory (step profiles, probe CSV): removed on every way out of
// run_run, exceptions included. $TMPDIR is honoured.
struct WorkDir {
    std::filesystem::path path;
    WorkDir(const WorkDir&) = delete;
    WorkDir& operator=(const WorkDir&) = delete;
    WorkDir() = default;
    ~WorkDir() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
};

int run_run(int argc, char** argv) {
    // Everything after "--" is the command under chaos, untouched by option parsing.
    std::vector<std::string> command;
    int own = argc;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--") == 0) {
            own = i;
            command.assign(argv + i + 1, argv + argc);
            break;
        }
    std::string file, json, junit, html, lease_text = "10s", control, probe_netns, metrics_listen, record;
    bool dry = false, quiet = false, takeover = false;
    po::options_description opts(
        "usage: netchaos run EXPERIMENT.toml [options] [-- COMMAND ARGS...]\n\n"
        "Runs an experiment: a baseline probe with no fault, the phases in order (each applied by\n"
        "replacing the previous one) while one probe runs all along, COMMAND under the chaos (its\n"
        "exit status is part of the verdict), rollback, and a recovery steady-state check.\n"
        "SIGINT/SIGTERM roll back and exit 130/143; a watchdog process rolls back if the\n"
        "controller is killed or stops renewing its lease; a run that finds its lease lost stops\n"
        "its timeline, rolls back again and exits 4 with the reason.\n"
        "Exit: 0 pass, 1 SLO threshold missed or COMMAND failed, 2 fidelity missed (the emulator\n"
        "did not deliver the requested delay model), 3 bad input, 4 system error.\n\noptions");
    opts.add_options()("help,h", "show this help")("dry-run,n", po::bool_switch(&dry), "print the plan and exit")(
        "json", po::value(&json), "write the JSON report to FILE")("junit", po::value(&junit),
                                                                   "write JUnit XML (one testcase per phase x threshold)")(
        "html", po::value(&html), "write a self-contained HTML report with SVG plots")(
        "record", po::value(&record), "write the probes of the fault phases as a trace (.ncr) for fit / replay-check (docs/replay.md)")(
        "quiet,q", po::bool_switch(&quiet), "no progress lines (summary only)")(
        "lease", po::value(&lease_text), "watchdog lease: roll back if the controller stops renewing (default 10s)")(
        "control", po::value(&control), "override [target] control: the forwarder's control socket (dpdk)")(
        "probe-netns", po::value(&probe_netns), "override [probe] netns: where the probe runs")(
        "metrics-listen", po::value(&metrics_listen), "serve each phase's requested delay mean/sigma to Prometheus on ADDR:PORT")(
        "takeover", po::bool_switch(&takeover),
        "a netchaos profile already in effect on the target (refused without this) is cleared before the "
        "steady state and restored at the end (also by the watchdog)");
    std::vector<std::string> positional;
    std::vector<std::string> allow;
    netchaos::cli::add_allow_path_option(opts, allow);
    po::options_description hidden;
    hidden.add_options()("file", po::value(&positional));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    try {
        auto parsed_args = po::command_line_parser(own, argv).options(all).positional(pos).allow_unregistered().run();
        po::store(parsed_args, vm);
        po::notify(vm);
        // A COMMAND without "--" before it ("netchaos run e.toml curl -s URL") reads as a second
        // EXPERIMENT and as unknown options; say what is missing instead of "too many positional options".
        auto unknown = po::collect_unrecognized(parsed_args.options, po::exclude_positional);
        if (positional.size() > 1) {
            std::string rest;
            for (int i = 1; i < own; ++i)
                if (argv[i] != positional.front()) rest += (rest.empty() ? "" : " ") + std::string(argv[i]);
            std::cerr << "netchaos run: a COMMAND must follow \"--\": netchaos run " << positional.front() << " [options] -- COMMAND ARGS...\n"
                      << "  (got extra arguments after the experiment: " << rest << ")\n";
            return netchaos::cli::exit_bad_input;
        }
        if (!unknown.empty()) throw po::unknown_option(unknown.front());
    } catch (const std::exception& e) {
        std::cerr << "netchaos run: " << e.what() << "\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    if (!positional.empty()) file = positional.front();
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return netchaos::cli::exit_pass;
    }
    if (file.empty()) {
        std::cerr << "netchaos run: no EXPERIMENT file given\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    auto lease = prof::parse_duration(lease_text);
    if (!lease || lease->count() < 2'000'000'000) {
        std::cerr << "netchaos run: --lease: expected a duration of at least 2s, got '" << lease_text << "'\n";
        return netchaos::cli::exit_bad_input;
    }
    netchaos::cli::use_allow_paths(allow);
    auto parsed = prof::parse_experiment_file(file);
    for (const auto& d : parsed.diagnostics) std::cerr << d.format() << "\n";
    if (!parsed.ok()) return netchaos::cli::exit_bad_input;
    prof::Experiment& e = *parsed.value;
    // CI benches name their sockets and namespaces per job: let the command line say so.
    if (!control.empty()) {
        if (e.targets.size() > 1) {
            std::cerr << "netchaos run: --control overrides [target] control: with " << e.targets.size()
                      << " [[target]] entries, set control in each\n";
            return netchaos::cli::exit_bad_input;
        }
        e.target.control = control;
        for (auto& t : e.targets) t.control = control;
    }
    if (!probe_netns.empty()) e.probe.netns = probe_netns;
    // [[target]] container = "ID": its pid now, from the runtime (a restart later is found
    // again by the namespace's identity, src/drive/gone.hpp).
    for (auto& t : e.targets) {
        if (t.container.empty()) continue;
        auto pid = netchaos::drive::container_pid(t.container, "");
        if (!pid) {
            std::cerr << "netchaos run: target " << t.name << ": " << pid.error().message << "\n";
            return netchaos::cli::exit_code(pid.error());
        }
        t.pid = *pid;
    }
    if (!e.targets.empty()) e.target = e.targets.front();
    auto plan = ex::make_plan(e);
    if (dry) {
        std::cout << ex::describe(e, plan);
        if (!command.empty()) std::cout << "command under chaos (from the first phase on): " << ex::join(command) << "\n";
        return netchaos::cli::exit_pass;
    }

    const char* tmpdir = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/netchaos-run.XXXXXX";
    if (!mkdtemp(tmpl.data())) {
        std::cerr << "netchaos run: mkdtemp " << tmpl << ": " << std::strerror(errno) << "\n";
        return netchaos::cli::exit_system;
    }
    WorkDir work;
    work.path = tmpl;
    const std::filesystem::path workdir = work.path;
    const auto exe = ex::self_exe();
    // Fail fast, before the watchdog and the steady state: a missing namespace or a dead
    // control socket would otherwise show only after the steady state, or never. A profile
    // already in effect is refused, or with --takeover cleared now and restored at the end.
    auto in_effect = ex::preflight(e, exe, takeover, workdir);
    if (!in_effect) {
        std::cerr << "netchaos run: " << in_effect.error().message << "\n";
        return netchaos::cli::exit_code(in_effect.error());
    }
    const std::vector<ex::Argv> restore = *in_effect ? (*in_effect)->restore : std::vector<ex::Argv>{};
    install_handlers();

    // The applies (and clears) this run and its watchdog make act for it: another controller
    // gets exit 4 instead of switching or undoing this run's faults.
    setenv("NETCHAOS_HOLDER_PID", std::to_string(getpid()).c_str(), 1);
    // The watchdog exists before anything is applied and before any thread is started.
    // Before the watchdog: a port in use must cost nothing.
    auto requested = std::make_shared<netchaos::exporter::ProfileCollector>(
        "netchaos_run", std::array<std::string, 2>{"egress", "ingress"});
    std::unique_ptr<netchaos::exporter::Server> metrics;
    if (!metrics_listen.empty()) {
        auto srv = netchaos::exporter::Server::start(metrics_listen, requested);
        if (!srv) {
            std::cerr << "netchaos run: " << srv.error().message << "\n";
            return netchaos::cli::exit_code(srv.error());
        }
        metrics = std::move(*srv);
        std::cerr << "netchaos run: metrics at " << metrics->url() << std::endl;
    }
    auto rollback = ex::rollback_commands(e, exe);   // every target: one watchdog rolls back all
    // Taken over: the watchdog puts the earlier profile back after its rollback too.
    auto dog_commands = rollback;
    dog_commands.insert(dog_commands.end(), restore.begin(), restore.end());
    ex::WatchdogConfig wc{dog_commands,
                          std::chrono::duration_cast<std::chrono::milliseconds>(*lease), workdir,
                          std::chrono::duration_cast<std::chrono::milliseconds>(e.probe.timeout) +
                              std::chrono::seconds(2)};
    auto dog = ex::Watchdog::start(wc);
    if (!dog) {
        std::cerr << "netchaos run: " << dog.error().message << "\n";
        return netchaos::cli::exit_system;
    }

    // The restore runs once, whichever way the run ends from here.
    const auto run_restore = [&]() -> bool {
        bool ok = true;
        for (const auto& a : restore) {
            std::string out;
            auto st = ex::run_capture(a, out, std::chrono::seconds(20));
            if (!st || *st != 0) {
                std::cerr << "netchaos run: restoring what was in effect failed: `" << ex::join(a) << "`: "
                          << (st ? out : st.error().message) << "\n";
                ok = false;
            }
        }
        if (ok && !restore.empty() && !quiet) std::cout << "netchaos run: restored what was in effect before: " << (*in_effect)->what << std::endl;
        return ok;
    };
    if (*in_effect) {
        if (!quiet) std::cout << "netchaos run: --takeover: " << (*in_effect)->what << ": cleared now"
                              << (restore.empty() ? " (a run's faults: not restored)" : ", restored at the end") << std::endl;
        for (const auto& a : rollback) {
            std::string out;
            auto st = ex::run_capture(a, out, std::chrono::seconds(20));
            if (!st || *st != 0) {
                std::cerr << "netchaos run: clearing " << (*in_effect)->what << " failed: `" << ex::join(a) << "`: "
                          << (st ? out : st.error().message) << "\n";
                run_restore();
                dog->done();
                return netchaos::cli::exit_system;
            }
        }
    }

    netchaos::drive::TargetSet inproc(e.targets.empty() ? std::vector<prof::Target>{e.target} : e.targets);
    ExportingTarget exporting(inproc, *requested);
    ex::FaultTarget& target = metrics_listen.empty() ? static_cast<ex::FaultTarget&>(inproc) : exporting;
    netchaos::drive::ThreadProbe probe(e.probe, plan.total);
    ex::ProcessCommand cmd;
    ex::SystemTimer timer;
    ex::Runner runner(target, probe, cmd, timer);
    ex::RunOptions ro;
    ro.command = command;
    // [target] proxy (an http-proxy --forward): the command under chaos finds it as HTTP_PROXY.
    if (!e.target.proxy.empty() && !command.empty())
        ro.command.insert(ro.command.begin(), {"env", "HTTP_PROXY=" + e.target.proxy, "http_proxy=" + e.target.proxy});
    ro.on_tick = [&] {
        int none = 0;
        if (!dog->renew()) g_stop.compare_exchange_strong(none, ex::stop_lease_lost);
    };
    if (!quiet) ro.on_progress = [](const std::string& line) { std::cout << line << std::endl; };
    if (!quiet) std::cout << "netchaos run: " << e.name << ", " << plan.steps.size() << " steps, "
                          << ex::format_duration(plan.total) << " planned" << std::endl;

    auto out = runner.run(e, plan, ro, g_stop);
    int code = netchaos::cli::exit_code(out.ending);
    if (!run_restore()) {
        out.report.notes.push_back("restoring what was in effect before the run failed (see above)");
        if (code == 0) code = netchaos::cli::exit_system;
    } else if (!restore.empty()) {
        out.report.notes.push_back("taken over and restored: " + (*in_effect)->what);
    }
    dog->done();   // the runner rolled back (or reported why it could not), and restored
    if (!record.empty()) {
        if (auto n = record_phases(record, out.report); !n) {
            std::cerr << "netchaos run: " << n.error().message << "\n";
            if (code == 0) code = netchaos::cli::exit_code(n.error());
        } else if (!quiet) {
            std::cout << "trace: " << *n << " probes of the phases -> " << record << "\n";
        }
    }
    for (auto& s : inproc.switch_summary()) out.report.notes.push_back(std::move(s));
    out.report.exit_code = code;   // the reports show the exit code the process ends with

    bool ok = true;
    try {
        std::cout << "\n" << netchaos::report::summary_table(out.report);
    } catch (const std::exception& e) {
        std::cerr << "netchaos run: summary not printed: " << e.what() << "\n";
        ok = false;
    }
    const auto& rep = out.report;
    if (!json.empty()) ok &= write_report(json, [&] { return netchaos::report::to_json(rep); });
    if (!junit.empty()) ok &= write_report(junit, [&] { return netchaos::report::to_junit(rep); });
    if (!html.empty() && write_report(html, [&] { return netchaos::report::to_html(rep); }))
        std::cout << "report: " << std::filesystem::absolute(html).string() << "\n";
    else if (!html.empty())
        ok = false;
    // The verdict survives a report failure; only a pass becomes a system error (4), so a
    // CI job that needs the report does not go green without it.
    if (!ok && code == 0) return netchaos::cli::exit_system;
    return code;
}

int run_run_safe(int argc, char** argv) {
    try {
        return run_run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "netchaos run: " << e.what() << "\n";
        return netchaos::cli::exit_system;
    }
}

}  // namespace

NETCHAOS_COMMAND(run, "run an experiment: phases, command under chaos, fidelity gate, rollback, reports",
                 run_run_safe);
