#pragma once
// Profile -> netlink bytes for netem. Pure: no socket, no global state. The applier sends
// these bytes with libmnl; golden tests compare them with what iproute2's tc sends.
#include <cstdint>
#include <optional>
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
// for uniform jitter), because netem_change() keeps the old value of any absent attribute. The
// rate is zeroed only when neither the profile nor reorder = false asks for one (netem_rate).

// `reorder = false` (order-preserving jitter, the profile default) on netem: its rate extension.
// With a rate set, netem measures each packet's delay from the send time of the last packet in
// its queue, so time_to_send = max(last, now + delay) + transmission time: nothing overtakes,
// the forwarder's release = max(rx + delay, last release). A profile with its own rate gets that
// rate; one without gets this one, 8 Tbit/s (tc: "rate 8tbit"), which no software path reaches:
// 1 ns per 1000 bytes, 65 ns for a 64 KiB GSO packet. `show` reads this exact value back as
// "order preserved, no rate". `reorder = true` sends no rate, and netem's tfifo sorts by send time.
inline constexpr std::uint64_t order_keeping_rate = 1'000'000'000'000;   // bytes/s
// The rate netem gets for `imp`: its own, the order-keeping one (a delay with reorder = false),
// or none.
std::optional<profile::Rate> netem_rate(const profile::Impairment& imp);

// Delay distribution tables (s16 values scaled by NETEM_DIST_SCALE=8192, <= 16384 entries).
// Loading iproute2's .dist files is I/O and happens in a separate step (src/dist/table.hpp);
// encode takes the already loaded table.
struct EncodeInput {
    profile::Impairment imp;
    std::vector<std::int16_t> delay_dist;   // empty = none (uniform)
    std::vector<std::int16_t> slot_dist;
};

// A table that makes tabledist() uniform on [-jitter, +jitter]: cell midpoints of [-8192, 8192].
// netem cannot drop a delay/slot table once set, so a replace/change to a uniform
// distribution sends this instead of "no table".
const std::vector<std::int16_t>& uniform_table();

// The complete RTM_NEWQDISC message (nlmsghdr + tcmsg + TCA_KIND + TCA_OPTIONS...).
Result<std::vector<std::uint8_t>> encode_qdisc(const EncodeInput& in, const QdiscTarget& t, Op op,
                                               std::uint32_t seq);
// Only the TCA_OPTIONS payload (tc_netem_qopt + attributes), with Op::add semantics: what
// golden tests compare. A TCA_OPTIONS over 65535 bytes (two full 16384-entry tables) is an error.
Result<std::vector<std::uint8_t>> encode_options(const EncodeInput& in);

}  // namespace netchaos::netem
