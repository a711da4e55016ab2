#pragma once
// The non-netem netlink messages the kernel backend sends: qdiscs given as kind + raw
// TCA_OPTIONS (htb, ingress, a restored snapshot), htb classes, deletes, u32 filters (flow match and the
// match-all mirred redirect to an IFB), and IFB links. Pure: bytes only, no socket.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

struct nlmsghdr;
struct tcmsg;
struct ifinfomsg;

namespace netchaos::netem {

using Bytes = std::vector<std::uint8_t>;

// The one builder of the kernel backend's netlink requests (netem's in encode.cpp, these, the
// restores in tree.cpp, apply's link dump): nlmsghdr, then a tcmsg or an ifinfomsg, then
// attributes put with libmnl on nlh(), checked against capacity().
class NlRequest {
public:
    NlRequest(std::uint16_t type, std::uint16_t flags, std::uint32_t seq, std::size_t capacity = 8192);
    nlmsghdr* nlh() { return nlh_; }
    std::size_t capacity() const { return buf_.size(); }
    tcmsg* tc(int ifindex, std::uint32_t parent, std::uint32_t handle, std::uint32_t info = 0);
    ifinfomsg* link();
    Bytes done() &&;   // the message, cut to nlmsg_len

private:
    Bytes buf_;
    nlmsghdr* nlh_;
};

// A tc request of the common shape: tcmsg, then TCA_KIND, TCA_CHAIN and TCA_OPTIONS (verbatim)
// for those given.
struct TcRequest {
    std::uint16_t type = 0, flags = 0;   // flags besides NLM_F_REQUEST
    int ifindex = 0;
    std::uint32_t parent = 0, handle = 0, info = 0;
    std::string_view kind{};                    // empty: none
    std::uint32_t chain = 0;                    // 0: none
    std::span<const std::uint8_t> options{};    // empty: none
};
Bytes tc_request(const TcRequest& r, std::uint32_t seq);

// One attribute appended to a flat TLV list (a TCA_OPTIONS payload built by hand).
void put_attr(Bytes& b, std::uint16_t type, const void* data, std::size_t len);

inline constexpr std::uint32_t root_parent = 0xFFFFFFFFu;      // TC_H_ROOT
inline constexpr std::uint32_t ingress_parent = 0xFFFFFFF1u;   // TC_H_INGRESS
inline constexpr std::uint32_t ingress_handle = 0xFFFF0000u;   // ffff:
// Handles of what netchaos creates for a profile with [[class]] entries (or [match]) ("nc" in
// hex, for tc output): an htb root 6e63:, one htb class 6e63:N per class (N = its position,
// from 1) with its netem (6e64+N-1): under it, and for the unmatched traffic either nothing
// (htb default 0: it goes out directly, unshaped, untouched) or, when the profile has
// [egress]/[ingress] of its own, the default class 6e63:ff with netem 6e74: under it.
inline constexpr std::uint32_t match_root_handle = 0x6E630000u;   // 6e63:
inline constexpr std::uint32_t match_class = 0x6E630001u;         // 6e63:1 (the first class)
inline constexpr std::uint32_t match_netem_handle = 0x6E640000u;  // 6e64: (the first class's netem)
inline constexpr std::uint32_t unmatched_minor = 0xFF;            // htb "default ff"
inline constexpr std::uint32_t unmatched_class = 0x6E6300FFu;     // 6e63:ff
inline constexpr std::uint32_t unmatched_netem_handle = 0x6E740000u;   // 6e74: (6e64: + max_classes)
// The class id and netem handle of class `i` (0-based, < profile::max_classes).
constexpr std::uint32_t class_id(std::size_t i) { return match_root_handle | static_cast<std::uint32_t>(i + 1); }
constexpr std::uint32_t class_netem_handle(std::size_t i) { return match_netem_handle + (static_cast<std::uint32_t>(i) << 16); }
static_assert(class_netem_handle(profile::max_classes) == unmatched_netem_handle);
static_assert(profile::max_classes < unmatched_minor);
// The pref of class `i`'s u32 filter for one IP version: a filter pref holds one protocol
// (the kernel refuses a second), so each class has two, in class order (first match wins).
constexpr std::uint16_t class_filter_pref(std::size_t i, bool v6) { return static_cast<std::uint16_t>(2 * i + (v6 ? 2 : 1)); }
// A class is not meant to shape: 10 Gbit/s (the most a 32-bit rate holds with room).
inline constexpr std::uint64_t match_class_rate = 1'250'000'000;  // bytes/s
// Its burst (bytes, tc's "burst"/"cburst") and quantum: tc's defaults would make the quantum
// rate / r2q = 125 MB, which htb caps at 200000 with a warning.
inline constexpr std::uint64_t match_class_burst = 200'000;
inline constexpr std::uint32_t match_class_quantum = 60000;

constexpr std::uint32_t tc_handle(std::uint32_t major, std::uint32_t minor) {
    return (major << 16) | (minor & 0xFFFFu);
}

enum class QdiscOp { add, replace };   // CREATE|EXCL, CREATE|REPLACE

// RTM_NEWQDISC with `kind` and TCA_OPTIONS holding `options` verbatim (may be empty: omitted).
Bytes new_qdisc(QdiscOp op, int ifindex, std::uint32_t parent, std::uint32_t handle,
                std::string_view kind, std::span<const std::uint8_t> options, std::uint32_t seq);
// RTM_DELQDISC of the qdisc at `parent` (and `handle`, if nonzero).
Bytes del_qdisc(int ifindex, std::uint32_t parent, std::uint32_t handle, std::uint32_t seq);
// RTM_GETQDISC dump request.
Bytes dump_qdiscs(std::uint32_t seq);

// TCA_OPTIONS payload of an htb qdisc whose unclassified packets go to class minor `defcls`
// (0: none, they bypass the classes through the direct queue of `direct_qlen` packets).
Bytes htb_options(std::uint32_t direct_qlen = 1000, std::uint32_t defcls = 0);
// RTM_NEWTCLASS htb `classid` under `parent` at `rate` bytes/s (ceil = rate).
Bytes new_htb_class(int ifindex, std::uint32_t parent, std::uint32_t classid, std::uint64_t rate,
                    std::uint32_t seq);

// One 32-bit u32 key: (packet[off..off+4] & mask) == val, network byte order.
struct U32Key {
    std::uint32_t val = 0;    // host order; converted when encoded
    std::uint32_t mask = 0;
    int off = 0;
    bool operator==(const U32Key&) const = default;
};
struct U32Match {
    std::uint16_t eth_protocol = 0;   // ETH_P_IP / ETH_P_IPV6 / ETH_P_ALL (host order)
    std::vector<U32Key> keys;         // empty = match all
};
// A match -> u32 keys for one IP version, as `tc filter ... u32 match ip|ip6 src/dst/protocol/
// dsfield|priority/sport/dport` builds them: keys at the same offset are merged into one, as
// tc's pack_key does (sport and dport share a word). Ports assume no IPv4 options and no IPv6
// extension headers (TCP/UDP right after the fixed 40-byte header), like tc's `match ip sport`
// and `match ip6 sport`. Bad input (ports without tcp/udp, an address of the other version,
// a bad address) -> ErrorKind::bad_input.
Result<U32Match> u32_match(const profile::FlowMatch& m, bool v6);
// The u32 matches of a flow match: one for the version of its src/dst, or, without
// addresses, one for IPv4 and one for IPv6 (the match then takes both, as the forwarder does).
Result<std::vector<U32Match>> u32_matches(const profile::FlowMatch& m);

struct U32Filter {
    int ifindex = 0;
    std::uint32_t parent = 0;
    std::uint16_t prio = 1;
    U32Match match;
    std::uint32_t classid = 0;                 // 0 = none
    std::optional<int> redirect_ifindex;       // mirred egress redirect to this device
};
Bytes new_u32_filter(const U32Filter& f, std::uint32_t seq);

// RTM_NEWLINK kind ifb, created up. RTM_DELLINK by name.
Bytes new_ifb_link(std::string_view name, std::uint32_t seq);
Bytes del_link(std::string_view name, std::uint32_t seq);

// "ifb-<dev>", shortened to fit IFNAMSIZ (15 chars) with a hash of the full name.
std::string ifb_name_for(std::string_view dev);

}  // namespace netchaos::netem
