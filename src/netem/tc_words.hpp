#pragma once
// Profile -> the tc command lines that build what `netchaos apply` builds on the kernel
// backend (`netchaos show-profile P --as-tc`). The netem words are chosen so that tc sends
// the bytes encode_options sends (tests/unit/netem/tc_words_tests.cpp reads them back with
// import_tc and compares the encodings).
#include <string>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::netem {

struct TcWords {
    std::string words;                 // "delay 50ms 30ms distribution normal ..."
    std::vector<std::string> notes;    // what tc cannot say that netchaos does
};
// The netem OPTIONS for one impairment, as netchaos encodes it (order-keeping rate included).
TcWords netem_words(const profile::Impairment& imp);

struct TcScript {
    std::vector<std::string> commands;   // in the order netchaos applies them
    std::vector<std::string> notes;
};
// Every command for `p` on `dev` (ip link for the IFB, tc qdisc/class/filter), as apply
// places it (ingress_flag = apply --ingress). Errors (code 3) are apply's own.
Result<TcScript> tc_script(const profile::Profile& p, const std::string& dev, bool ingress_flag = false);

}  // namespace netchaos::netem
