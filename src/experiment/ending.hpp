#pragma once
// How a run ended, in the experiment's own terms. The library never picks a process exit
// code: src/cli/exit_codes.hpp maps an Ending (and an ErrorKind) to one, in one place.
#include "common/result.hpp"

namespace netchaos::experiment {

struct Ending {
    enum class Kind {
        pass,
        slo_missed,        // a threshold or the command under chaos failed
        fidelity_missed,   // the emulator did not deliver the requested model: the result is not trustworthy
        failed,            // the run could not be carried out (see `error`)
        interrupted,       // a signal ended it early (see `signal`); rolled back
        lease_lost,        // the watchdog rolled back behind the controller's back
    };
    Kind kind = Kind::pass;
    ErrorKind error = ErrorKind::system;  // for Kind::failed
    int signal = 0;                       // for Kind::interrupted

    static Ending failure(ErrorKind k) { return {Kind::failed, k, 0}; }
    bool operator==(const Ending&) const = default;
};

}  // namespace netchaos::experiment
