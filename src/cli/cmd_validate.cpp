// netchaos validate FILE...: parse and check profiles and experiments; exit 3 on any error.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "allow_path.hpp"
#include "command.hpp"
#include "profile/kind.hpp"
#include "profile/parse.hpp"

namespace po = boost::program_options;
namespace prof = netchaos::profile;

namespace {

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
        auto diags = experiment ? prof::parse_experiment_file(f).diagnostics : prof::parse_profile_file(f).diagnostics;
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
