#pragma once
// The one mapping from what went wrong to a process exit code (docs/ci.md documents the codes).
// Library code returns ErrorKind and experiment::Ending; only the command-line layer calls these.
#include "cli/command.hpp"
#include "common/result.hpp"
#include "experiment/ending.hpp"

namespace netchaos::cli {

inline int exit_code(ErrorKind k) { return k == ErrorKind::bad_input ? exit_bad_input : exit_system; }
inline int exit_code(const Error& e) { return exit_code(e.kind); }

inline int exit_code(const experiment::Ending& e) {
    using K = experiment::Ending::Kind;
    switch (e.kind) {
        case K::pass: return exit_pass;
        case K::slo_missed: return exit_threshold;
        case K::fidelity_missed: return exit_fidelity;
        case K::failed: return exit_code(e.error);
        case K::interrupted: return 128 + e.signal;   // the shell's convention for "killed by signal N"
        case K::lease_lost: return exit_system;
    }
    return exit_system;
}

}  // namespace netchaos::cli
