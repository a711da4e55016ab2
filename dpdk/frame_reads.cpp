// Why the lcore reads a direction's frame data (forwarder.hpp): pure, so unit-tested without
// DPDK (dpdk/test/frame_reads_tests.cpp).
#include <utility>

#include "forwarder.hpp"

namespace netchaos::fwd {

unsigned frame_reads(const DirModel& m, MalformedPolicy malformed) {
    unsigned why = malformed == MalformedPolicy::unchecked ? 0u : unsigned{frame_malformed};
    if (!m.classes.empty()) why |= frame_classes;
    const auto needs = [&](const fault::ModelPtr& p, unsigned& w) {
        if (!p) return;
        if (fault::reads_ecn(*p)) w |= frame_ecn;
        if (fault::per_flow(*p)) w |= frame_flow;
    };
    needs(m.model, why);
    for (const auto& c : m.classes) needs(c.model, why);
    return why;
}

std::string frame_reads_text(unsigned why) {
    if (why == 0) return "not read";
    std::string s = "read:";
    const char* sep = " ";
    for (auto [bit, name] : {std::pair{frame_malformed, "malformed counting"}, std::pair{frame_ecn, "ECN"},
                             std::pair{frame_classes, "classes"}, std::pair{frame_flow, "per-flow order"}})
        if (why & bit) { s += sep; s += name; sep = ", "; }
    return s;
}

}  // namespace netchaos::fwd
