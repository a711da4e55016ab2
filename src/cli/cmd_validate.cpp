// netchaos validate FILE...: parse and check profiles and experiments; exit 3 on any error.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "allow_path.hpp"
#include "command.hpp"
#include "experiment/fidelity.hpp"
#include "profile/kind.hpp"
#include "profile/parse.hpp"

namespace po = boost::program_options;
namespace prof = netchaos::profile;

namespace {

// A delay model no emulator can deliver as written (truncation at zero): the fault engine's
// own draws (netchaos_experiment's Monte Carlo) against the requested moments, as a warning
// with the moments that will be delivered, so `run` holds no surprise.
void undeliverable(const prof::Profile& p, const std::string& prefix, std::vector<prof::Diagnostic>& diags) {
    const std::filesystem::path dir = p.source.empty() ? std::filesystem::path{} : p.source.parent_path();
    for (const auto& [side, imp] : {std::pair{"egress", &prof::main_egress(p)}, std::pair{"ingress", &prof::main_ingress(p)}}) {
        if (!*imp || !(*imp)->delay || (*imp)->delay->jitter.count() == 0) continue;
        auto want = netchaos::experiment::delay_moments(*(*imp)->delay, dir);
        prof::Impairment only;
        only.delay = (*imp)->delay;
        only.delay->order = prof::JitterOrder::reorder;   // the draws alone, no queueing
        if (only.delay->table && only.delay->table->file.is_relative() && !only.delay->table->file.empty())
            only.delay->table->file = dir / only.delay->table->file;
        auto got = netchaos::experiment::simulate(only, {1, 0}, 200'000);
        if (!want || !got) continue;
        const bool off = std::abs(got->drawn.mean_ms - want->mean_ms) > 0.05 * std::max(want->mean_ms, 0.1) ||
                         std::abs(got->drawn.sigma_ms - want->sigma_ms) > 0.05 * std::max(want->sigma_ms, 0.1);
        if (!off) continue;
        char b[320];
        std::snprintf(b, sizeof b,
                      "no emulator can deliver this model (delays are truncated at zero): the fault engine delivers "
                      "mean %.2f ms, sigma %.2f ms where mean %.2f ms, sigma %.2f ms is requested; the fidelity gate "
                      "predicts the delivered figures",
                      got->drawn.mean_ms, got->drawn.sigma_ms, want->mean_ms, want->sigma_ms);
        prof::Diagnostic d;
        d.severity = prof::Diagnostic::Severity::warning;
        d.file = p.source;
        d.key = prefix + side + ".delay";
        for (const auto& x : diags)   // point at the jitter the parser already flagged, if any
            if (x.key == d.key + ".jitter" || x.key.ends_with(std::string(side) + ".delay.jitter")) d.file = x.file, d.line = x.line, d.column = x.column;
        d.message = b;
        diags.push_back(d);
    }
}

int run_validate(int argc, char** argv) {
    std::vector<std::string> files;
    bool quiet = false;
    po::options_description opts("usage: netchaos validate FILE... [options]\n\n"
                                 "Check profiles and experiments (files with [[phase]]/[target]/[probe]) against\n"
                                 "the schema in docs/profiles.md. Errors and warnings go to stderr as\n"
                                 "FILE:LINE:COLUMN: error: KEY: MESSAGE. Warnings do not fail.\n"
                                 "Exit 0 when every file is valid, 3 otherwise.\n\noptions");
    opts.add_options()("help,h", "show this help")("quiet,q", po::bool_switch(&quiet), "print errors only (no warnings, no \"ok\" lines)");
    std::vector<std::string> allow;
    netchaos::cli::add_allow_path_option(opts, allow);
    po::options_description hidden;
    hidden.add_options()("file", po::value(&files)->multitoken());
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("file", -1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "netchaos validate: " << e.what() << "\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return netchaos::cli::exit_pass;
    }
    if (files.empty()) {
        std::cerr << "netchaos validate: no FILE given\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    netchaos::cli::use_allow_paths(allow);
    int bad = 0;
    for (const auto& f : files) {
        bool experiment = prof::detect_kind(f) == prof::FileKind::experiment;
        std::vector<prof::Diagnostic> diags;
        if (experiment) {
            auto e = prof::parse_experiment_file(f);
            diags = std::move(e.diagnostics);
            if (e.value)
                for (std::size_t i = 0; i < e.value->phases.size(); ++i) {
                    const auto& ph = e.value->phases[i];
                    const std::string at = "phase[" + std::to_string(i) + "].";
                    if (ph.ramp) {
                        undeliverable(ph.ramp->from, at + "ramp.from: ", diags);
                        undeliverable(ph.ramp->to, at + "ramp.to: ", diags);
                    } else {
                        undeliverable(ph.profile, at, diags);
                    }
                }
        } else {
            auto p = prof::parse_profile_file(f);
            diags = std::move(p.diagnostics);
            if (p.value) undeliverable(*p.value, "", diags);
        }
        int errors = 0, warnings = 0;
        for (const auto& d : diags) {
            bool err = d.severity == prof::Diagnostic::Severity::error;
            (err ? errors : warnings)++;
            if (err || !quiet) std::cerr << d.format() << "\n";
        }
        if (errors) {
            ++bad;
            std::cout << f << ": INVALID (" << errors << " error" << (errors == 1 ? "" : "s") << ")\n";
        } else if (!quiet) {
            std::cout << f << ": ok (" << (experiment ? "experiment" : "profile");
            if (warnings) std::cout << ", " << warnings << " warning" << (warnings == 1 ? "" : "s");
            std::cout << ")\n";
        }
    }
    return bad ? netchaos::cli::exit_bad_input : netchaos::cli::exit_pass;
}

int run_validate_safe(int argc, char** argv) {
    try {
        return run_validate(argc, argv);
    } catch (const std::exception& e) {   // e.g. bad_alloc: report, never crash
        std::cerr << "netchaos validate: " << e.what() << "\n";
        return netchaos::cli::exit_system;
    }
}

}  // namespace

NETCHAOS_COMMAND(validate, "check profiles and experiments (file:line:column diagnostics)", run_validate_safe);
