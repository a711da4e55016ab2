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

// tc's units, as q_netem.c reads them: a time without a unit is microseconds for delay and
// jitter but nanoseconds for slot times (tc reads those with get_time64), a rate without
// one is bits/s, a percentage may omit the '%', a size's k/m/g are powers of 1024.
enum class BareTime { micro, nano };
Result<Duration> tc_time(std::string_view word, BareTime bare = BareTime::micro);
Result<double> tc_percent(std::string_view word);
Result<std::uint64_t> tc_rate(std::string_view word);   // bytes/s

}  // namespace netchaos::profile
