#pragma once
// Subcommands register themselves at static-init time, so each module adds its own
// `cmd_*.cpp` to the netchaos executable (target_sources) without touching main.cpp.
#include <string_view>
#include <vector>

namespace netchaos::cli {

// Process exit codes, shared by every subcommand (docs/ci.md documents them).
enum Exit : int {
    exit_pass = 0,
    exit_threshold = 1,   // an SLO threshold was missed
    exit_fidelity = 2,    // the emulator did not deliver what the profile asked
    exit_bad_input = 3,   // bad profile, bad flag, bad address
    exit_system = 4,      // permission, device, kernel feature
};

struct Command {
    std::string_view name;
    std::string_view summary;
    int (*run)(int argc, char** argv);   // argv[0] is the subcommand name
};

bool register_command(const Command& c);
const std::vector<Command>& commands();

}  // namespace netchaos::cli

// Usage, at namespace scope in a cmd_*.cpp:  NETCHAOS_COMMAND(validate, "check profiles", run_validate);
#define NETCHAOS_COMMAND(id, summary, fn) \
    static const bool netchaos_cmd_registered_##id = ::netchaos::cli::register_command({#id, summary, fn})
