#pragma once
// Profile -> netlink bytes for netem. Pure: no socket, no global state. The applier sends
// these bytes with libmnl; golden tests compare them with what iproute2's tc sends.
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::netem {

// Where the qdisc goes.
struct QdiscTarget {
    int ifindex = 0;
    std::uint32_t parent = 0xFFFFFFFFu;   // TC_H_ROOT
    std::uint32_t handle = 0;             // 0 = kernel picks
};

enum class Op { add, replace, change };   // NLM_F_CREATE|EXCL, CREATE|REPLACE, none
// add encodes exactly what tc would. replace/change also send every feature the impairment
// lacks with a neutral value (CORR, REORDER, ECN, CORRUPT, SLOT, RATE zeroed; a uniform table
// for uniform jitter), because netem_change() keeps the old value of any absent attribute.

// Delay distribution tables (s16 values scaled by NETEM_DIST_SCALE=8192, <= 16384 entries).
// Loading iproute2's .dist files is I/O and happens in a separate step (src/dist/table.hpp);
// encode takes the already loaded table.
struct EncodeInput {
    profile::Impairment imp;
    std::vector<std::int16_t> delay_dist;   // empty = none (uniform)
    std::vector<std::int16_t> slot_dist;
};

// The complete RTM_NEWQDISC message (nlmsghdr + tcmsg + TCA_KIND + TCA_OPTIONS...).
Result<std::vector<std::uint8_t>> encode_qdisc(const EncodeInput& in, const QdiscTarget& t, Op op,
                                               std::uint32_t seq);
// Only the TCA_OPTIONS payload (tc_netem_qopt + attributes), with Op::add semantics: what
// golden tests compare. A TCA_OPTIONS over 65535 bytes (two full 16384-entry tables) is an error.
Result<std::vector<std::uint8_t>> encode_options(const EncodeInput& in);

}  // namespace netchaos::netem
