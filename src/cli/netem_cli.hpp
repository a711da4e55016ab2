#pragma once
// Shared by cmd_apply/cmd_show/cmd_clear: option parsing with --help, and error reporting
// that maps a Result's Error to its exit code.
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>

#include "command.hpp"
#include "exit_codes.hpp"
#include "common/result.hpp"
#include "profile/units.hpp"

namespace netchaos::cli {

// Parses argv into vm. Returns an exit code when the command must stop here (--help: 0,
// a bad flag: 3), nullopt to go on.
inline std::optional<int> parse_args(const char* cmd, int argc, char** argv,
                                      const boost::program_options::options_description& visible,
                                      boost::program_options::variables_map& vm,
                                      const boost::program_options::options_description* hidden = nullptr,
                                      const boost::program_options::positional_options_description* pos = nullptr) {
    namespace po = boost::program_options;
    po::options_description all;
    all.add(visible);
    if (hidden) all.add(*hidden);
    try {
        po::command_line_parser p(argc, argv);
        p.options(all);
        if (pos) p.positional(*pos);
        po::store(p.run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "netchaos " << cmd << ": " << e.what() << "\n" << visible << "\n";
        return exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << visible << "\n";
        return exit_pass;
    }
    return std::nullopt;
}

// --dev IF checked before the kernel sees it: a 16-character name is "too long", not "no such interface".
inline std::optional<int> check_dev(const char* cmd, const std::string& dev) {
    if (dev.empty()) return std::nullopt;
    auto why = profile::ifname_problem(dev);
    if (why.empty()) return std::nullopt;
    std::cerr << "netchaos " << cmd << ": --dev: " << why << "\n";
    return exit_bad_input;
}

inline int report_error(const char* cmd, const Error& e) {
    std::cerr << "netchaos " << cmd << ": " << e.message << "\n";
    return exit_code(e);
}

}  // namespace netchaos::cli
