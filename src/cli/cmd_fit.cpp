// netchaos fit: a recorded trace (.ncr, CSV, irtt JSON, pcap) -> the profile (one stationary
// piece) or experiment (one phase per piece) that reproduces it. src/fit/fit.hpp says how;
// docs/replay.md walks through record -> fit -> replay -> check.
#include <boost/program_options.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "command.hpp"
#include "exit_codes.hpp"
#include "fit/fit.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"
#include "trace/trace.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) {
    std::fprintf(stderr, "netchaos fit: %s\n", e.message.c_str());
    return cli::exit_code(e);
}

int run_fit(int argc, char** argv) {
    std::string input, output, format, min_segment = "10s", name, floor;
    fit::Options o;
    fit::RenderOptions r;
    bool experiment = false;
    po::options_description opts(
        "usage: netchaos fit TRACE -o OUT.toml [options]\n\n"
        "Segments the trace into stationary pieces (change points in mean and sigma), fits each\n"
        "piece's RTTs with normal / pareto / paretonormal by maximum likelihood (or an empirical\n"
        "custom table when none passes the KS limit), its lag-1 correlation and its loss (random or\n"
        "Gilbert-Elliott), and writes a profile (one piece) or an experiment (a phase per piece).\n"
        "--floor takes the measuring bench's own RTT off before fitting, so that a replay through\n"
        "the same bench does not add it twice.\n"
        "Exit: 0, 3 bad input, 4 system error.\n\noptions");
    opts.add_options()("help,h", "this help")("output,o", po::value(&output), "the TOML to write ('-': stdout)")(
        "format", po::value(&format), "trace format: ncr | csv | irtt | pcap (default: from its first bytes)")(
        "min-segment", po::value(&min_segment)->default_value(min_segment), "shortest piece")(
        "floor", po::value(&floor),
        "the bench's own RTT, taken off every RTT before fitting: a trace of the same bench with no impairment (its "
        "median) or a duration (e.g. 45us)")(
        "penalty", po::value(&o.penalty), "change-point penalty (default 10 ln n; larger: fewer pieces)")(
        "custom-ks", po::value(&o.custom_ks)->default_value(o.custom_ks), "KS D above which a piece gets a custom table")(
        "merge-ks", po::value(&o.merge_ks)->default_value(o.merge_ks), "neighbours closer than this KS D are one piece")(
        "name", po::value(&name), "profile/experiment name (default: the output's stem)")(
        "experiment", po::bool_switch(&experiment), "write an experiment even for one piece")(
        "backend", po::value(&r.backend)->default_value(r.backend), "experiment [target] backend")(
        "control", po::value(&r.control)->default_value(r.control), "experiment [target] control socket (dpdk)")(
        "probe-target", po::value(&r.probe_target)->default_value(r.probe_target), "experiment [probe] target")(
        "probe-netns", po::value(&r.probe_netns)->default_value(r.probe_netns), "experiment [probe] netns ('' = none)")(
        "probe-rate", po::value(&r.probe_rate)->default_value(r.probe_rate), "experiment [probe] rate");
    po::options_description hidden;
    hidden.add_options()("input", po::value(&input));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("input", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos fit: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    if (input.empty() || output.empty()) {
        std::fprintf(stderr, "netchaos fit: expected TRACE -o OUT.toml (see --help)\n");
        return cli::exit_bad_input;
    }
    auto seg = profile::parse_duration(min_segment);
    if (!seg || seg->count() <= 0) {
        std::fprintf(stderr, "netchaos fit: --min-segment: %s\n", seg ? "must be > 0" : seg.error().message.c_str());
        return cli::exit_bad_input;
    }
    o.min_segment = *seg;
    if (!(o.custom_ks > 0 && o.custom_ks <= 1) || !(o.merge_ks >= 0 && o.merge_ks <= 1) || o.penalty < 0) {
        std::fprintf(stderr, "netchaos fit: --custom-ks and --merge-ks are in (0, 1], --penalty >= 0\n");
        return cli::exit_bad_input;
    }
    if (!floor.empty()) {
        // A duration, else a trace of the bench with no impairment.
        if (auto d = profile::parse_duration(floor); d) {
            if (d->count() < 0) {
                std::fprintf(stderr, "netchaos fit: --floor: must be >= 0\n");
                return cli::exit_bad_input;
            }
            o.floor = *d;
        } else {
            auto ft = trace::load(floor);
            if (!ft) return fail(make_error("--floor: " + ft.error().message, ft.error().kind));
            auto fl = fit::bench_floor(*ft);
            if (!fl) return fail(make_error("--floor " + floor + ": " + fl.error().message, fl.error().kind));
            o.floor = fl->median;
            std::fprintf(stderr, "bench floor from %s: %zu answered, RTT median %.3f us (p1 %.3f us, p99 %.3f us), taken off\n",
                         floor.c_str(), fl->answered, fl->median.count() / 1e3, fl->p1.count() / 1e3, fl->p99.count() / 1e3);
        }
    }
    auto t = trace::load(input, format);
    if (!t) return fail(t.error());
    auto f = fit::fit(*t, o);
    if (!f) return fail(f.error());
    r.name = !name.empty() ? name : output == "-" ? "fitted" : std::filesystem::path(output).stem().string();
    r.source = std::filesystem::path(input).filename().string();
    r.force_experiment = experiment;
    const std::string text = fit::render(*f, r);
    // What is written must read back: the fit's own output goes through the parsers.
    const bool as_experiment = experiment || f->pieces.size() > 1;
    const std::filesystem::path where = output == "-" ? std::filesystem::path("fitted.toml") : std::filesystem::path(output);
    std::string errors;
    if (as_experiment) {
        auto p = profile::parse_experiment_text(text, where);
        for (const auto& d : p.diagnostics) errors += d.format() + "\n";
        if (!p.ok()) return fail(make_error("internal: the fitted experiment does not parse:\n" + errors));
    } else {
        auto p = profile::parse_profile_text(text, where);
        for (const auto& d : p.diagnostics) errors += d.format() + "\n";
        if (!p.ok()) return fail(make_error("internal: the fitted profile does not parse:\n" + errors));
    }
    if (output == "-") {
        std::cout << text;
    } else {
        std::ofstream out(output, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) return fail(make_error("cannot write " + output));
    }
    for (std::size_t i = 0; i < f->pieces.size(); ++i) {
        const auto& p = f->pieces[i];
        std::fprintf(stderr, "piece %zu: %.1f s at %.1f s: %s mean %.3f ms jitter %.3f ms (KS D %.4f), corr %.3f, %s\n",
                     i + 1, std::chrono::duration<double>(p.duration).count(), std::chrono::duration<double>(p.start).count(),
                     std::string(profile::to_string(p.delay.distribution)).c_str(),
                     p.delay.mean.count() / 1e6, p.delay.jitter.count() / 1e6, p.ks, p.delay.correlation, p.loss.why.c_str());
        if (p.ingress)
            std::fprintf(stderr, "piece %zu: ingress (server->client one-way): %s mean %.3f ms jitter %.3f ms (KS D %.4f), corr %.3f\n",
                         i + 1, std::string(profile::to_string(p.ingress->distribution)).c_str(), p.ingress->mean.count() / 1e6,
                         p.ingress->jitter.count() / 1e6, p.ingress_ks, p.ingress->correlation);
    }
    if (output != "-")
        std::fprintf(stderr, "netchaos fit: %s -> %s (%s)\n", input.c_str(), output.c_str(), as_experiment ? "experiment" : "profile");
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(fit, "fit a recorded trace to a profile or experiment that reproduces it (docs/replay.md)", run_fit);
