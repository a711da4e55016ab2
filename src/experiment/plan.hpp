#pragma once
// The plan: an Experiment turned into a timeline of steps. Pure: no I/O, no clock.
//   baseline (no fault) -> phases in order (a ramp becomes `steps` steps whose delay mean,
//   jitter, loss p and rate are interpolated from `from` to `to`) -> recovery (no fault).
// The runner walks these steps; --dry-run prints them.
#include <string>
#include <vector>

#include "profile/profile.hpp"

namespace netchaos::experiment {

using profile::Duration;

struct Step {
    enum class Kind { baseline, fault, recovery };
    Kind kind = Kind::fault;
    std::string phase;          // phase name ("steady-state", "steady-state-after" for those)
    int phase_index = -1;       // index into Experiment::phases; -1 for baseline/recovery
    int step = 0;               // 0-based step within a ramp
    int steps = 1;              // 1 unless ramp
    Duration start{0};          // planned offset from the start of the run
    Duration duration{0};
    profile::Profile profile;   // what to apply (empty for baseline/recovery)
    std::string label() const;  // "morning", "ramp-up 2/5", "baseline"
};

struct Plan {
    std::vector<Step> steps;
    Duration total{0};
};

Plan make_plan(const profile::Experiment& e);

// A profile with a trace delay ([egress.delay] trace = "x.ncr") as netem's in-place steps over
// `total`: (duration, profile) per step, each trace delay replaced by the normal delay of
// fault::trace_steps at the smallest granularity the profile names. Empty without a trace.
bool has_trace_delay(const profile::Profile& p);
std::vector<std::pair<Duration, profile::Profile>> trace_step_profiles(const profile::Profile& p, Duration total);

// Linear interpolation of the numeric knobs (delay mean and jitter, loss p, rate) at
// t in [0, 1]; everything else comes from `a` for t < 0.5 and from `b` after. A direction
// missing on one side counts as "no impairment" (zero delay, zero loss).
profile::Profile interpolate(const profile::Profile& a, const profile::Profile& b, double t);

// One line per direction: "egress: delay normal 35ms sigma 20ms corr 25%; loss 1%; rate 10mbit".
std::string describe(const profile::Profile& p);
std::string describe(const profile::Experiment& e, const Plan& plan);  // --dry-run text

const char* distribution_name(profile::Distribution d);
std::string format_duration(Duration d);   // "35ms", "1.5s", "250us"

}  // namespace netchaos::experiment
