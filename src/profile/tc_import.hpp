#pragma once
// tc netem words -> Impairment: `netchaos import-tc`. Pure; the meaning of every word follows
// iproute2's tc (6.1) so that encoding the import gives the bytes tc sends for the same words
// (tests/unit/profile/tc_import_tests.cpp checks that against tests/golden/netem).
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::profile {

struct TcImport {
    Impairment imp;
    std::string dev;                  // "dev IF" of a full tc command line; "" for bare options
    std::vector<std::string> notes;   // where tc's effect differs from its words (said in the output)
};

// One line: `[sudo] tc qdisc add|replace|change dev IF [root|parent X] [handle H] netem OPTIONS`
// or just OPTIONS. Errors have code 3 and name the word netchaos cannot read or express.
Result<TcImport> import_tc(std::string_view line);

// tc's units, as q_netem.c reads them: delay and jitter with get_time (s, ms, us; bare = us;
// truncated to whole microseconds), slot times with get_time64 (also ns; bare = ns), a rate
// without a unit is bits/s, a percentage may omit the '%', a size's k/m/g are powers of 1024.
enum class TcClock { usec, nsec };
Result<Duration> tc_time(std::string_view word, TcClock clock = TcClock::usec);
Result<double> tc_percent(std::string_view word);
Result<std::uint64_t> tc_rate(std::string_view word);   // bytes/s

}  // namespace netchaos::profile
