#pragma once
// A device's traffic-control tree as the kernel dumps it (qdiscs, classes, filters), and how to
// rebuild it. Dumps are not create requests: htb reports version 0x30011 where its create
// wants 3 (TC_HTB_PROTOVER), u32/matchall/flower report the kernel-set not_in_hw flag their
// create rejects, u32 reports its auto-created root hash tables, and prio/mq report classes
// and default children that come back by themselves. create_messages() turns a snapshot into
// requests the kernel accepts, in an order where every parent exists first. Pure: bytes only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

struct nlmsghdr;

namespace netchaos::netem {

enum class TcType { qdisc, tclass, filter };

// One object of a tree: the tcmsg fields plus TCA_KIND, TCA_CHAIN and the raw TCA_OPTIONS.
struct TcObject {
    TcType type = TcType::qdisc;
    std::uint32_t parent = 0, handle = 0;
    std::uint32_t info = 0;                 // filters: prio << 16 | protocol (network order)
    std::string kind;
    std::optional<std::uint32_t> chain;     // filters: TCA_CHAIN (absent = 0)
    std::vector<std::uint8_t> options;
    bool operator==(const TcObject&) const = default;
};

// A dumped RTM_NEW{QDISC,TCLASS,TFILTER} message -> TcObject (nullopt for other types).
std::optional<TcObject> parse_tc_message(const nlmsghdr* h);

// Dump requests (tcmsgs.hpp's dump_qdiscs() has the qdiscs): the classes of one device, the
// filters of one device under `parent` (a qdisc handle, a class id or a clsact hook).
std::vector<std::uint8_t> dump_classes_request(int ifindex, std::uint32_t seq);
std::vector<std::uint8_t> dump_filters_request(int ifindex, std::uint32_t parent, std::uint32_t seq);
// RTM_DELTFILTER of the whole filter at `parent`, `prio` (all its handles: a reserved pref).
std::vector<std::uint8_t> del_filter_request(int ifindex, std::uint32_t parent, std::uint16_t prio,
                                             std::uint16_t protocol_be, std::uint32_t seq);

inline constexpr std::uint32_t clsact_ingress_hook = 0xFFFFFFF2u;   // TC_H_MIN_INGRESS
inline constexpr std::uint32_t clsact_egress_hook = 0xFFFFFFF3u;    // TC_H_MIN_EGRESS

// Whether a qdisc is one the kernel attaches by itself (handle 0: pfifo_fast, mq, noqueue and
// their children): restoring it means deleting what replaced it, not creating it.
bool kernel_default(const TcObject& q);
// Whether the kernel lets a class of this qdisc kind be created (prio's, mq's and ets' classes
// exist with the qdisc; fq_codel and cake report flows as classes).
bool creatable_class_kind(const std::string& kind);

// TCA_OPTIONS a create of this object accepts (see the header comment). Empty result with
// `skip` = the object is implicit (u32 root hash table) and must not be created.
struct CreateOptions {
    std::vector<std::uint8_t> options;
    std::optional<std::uint32_t> handle;   // overrides the dumped handle (u32 nodes of a root table)
    bool skip = false;
};
CreateOptions create_options(const TcObject& o);

// The requests that rebuild `objects` (root qdisc first, which replaces what is there now,
// then classes, child qdiscs and filters, each after its parent) on `ifindex`. Objects whose
// parent never appears are listed in `unplaced` (described), not sent.
std::vector<std::vector<std::uint8_t>> create_messages(const std::vector<TcObject>& objects, int ifindex,
                                                       std::uint32_t& seq,
                                                       std::vector<std::string>* unplaced = nullptr);

// Handles netchaos reserves ("nc" in hex): a snapshot that already uses one is refused.
bool uses_reserved_handle(const std::vector<TcObject>& objects);

// "htb 1: root", "class htb 1:10 parent 1:1", "filter u32 parent 1: pref 1": for messages.
std::string describe(const TcObject& o);

}  // namespace netchaos::netem
