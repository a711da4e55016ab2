#include "netem/tree.hpp"

#include "netem/tcmsgs.hpp"

#include <libmnl/libmnl.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <set>

namespace netchaos::netem {

namespace {

// One attribute of a flat TLV list (a TCA_OPTIONS payload, or a nest inside one).
struct Attr {
    std::uint16_t type;   // with NLA_F_NESTED kept, so a rebuilt nest looks as the kernel sent it
    Bytes payload;
};

std::vector<Attr> split(const Bytes& b) {
    std::vector<Attr> out;
    std::size_t off = 0;
    while (off + NLA_HDRLEN <= b.size()) {
        nlattr a;
        std::memcpy(&a, b.data() + off, sizeof a);
        if (a.nla_len < NLA_HDRLEN || off + a.nla_len > b.size()) break;
        out.push_back({a.nla_type, Bytes(b.begin() + off + NLA_HDRLEN, b.begin() + off + a.nla_len)});
        off += NLA_ALIGN(a.nla_len);
    }
    return out;
}

Bytes join(const std::vector<Attr>& attrs) {
    Bytes b;
    for (const auto& a : attrs) put_attr(b, a.type, a.payload.data(), a.payload.size());
    return b;
}

std::uint16_t type_of(const Attr& a) { return a.type & NLA_TYPE_MASK; }

std::uint32_t u32_of(const Attr& a) {
    std::uint32_t v = 0;
    std::memcpy(&v, a.payload.data(), std::min<std::size_t>(4, a.payload.size()));
    return v;
}
Bytes u32_bytes(std::uint32_t v) {
    Bytes b(4);
    std::memcpy(b.data(), &v, 4);
    return b;
}

// A filter's flags attribute as create accepts it: only skip_hw/skip_sw; not_in_hw and
// in_hw are the kernel's report (tc_flags_valid() rejects them).
void mask_filter_flags(std::vector<Attr>& attrs, std::uint16_t flags_type) {
    for (auto it = attrs.begin(); it != attrs.end();) {
        if (type_of(*it) == flags_type) {
            std::uint32_t f = u32_of(*it) & (TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW);
            if (!f) { it = attrs.erase(it); continue; }
            it->payload = u32_bytes(f);
        }
        ++it;
    }
}

// Actions as dumped carry statistics, hardware counters and the kernel's own flag bits; a
// create wants kind, index, cookie, options and the user's flags only.
Bytes clean_actions(const Bytes& list) {
    auto acts = split(list);
    for (auto& a : acts) {
        auto inner = split(a.payload);
        std::vector<Attr> keep;
        for (auto& x : inner) {
            switch (type_of(x)) {
            case TCA_ACT_KIND:
            case TCA_ACT_INDEX:
            case TCA_ACT_COOKIE:
            case TCA_ACT_OPTIONS:
                keep.push_back(x);
                break;
            case TCA_ACT_FLAGS: {
                if (x.payload.size() < 8) break;
                std::uint32_t v = u32_of(x) & 0x7u;   // NO_PERCPU_STATS | SKIP_HW | SKIP_SW
                if (!v) break;
                Bytes p(8);
                std::memcpy(p.data(), &v, 4);
                std::memcpy(p.data() + 4, &v, 4);
                keep.push_back({x.type, p});
                break;
            }
            default:
                break;   // STATS, USED_HW_STATS, IN_HW_COUNT, HW_STATS (any is the default)
            }
        }
        a.payload = join(keep);
    }
    return join(acts);
}

void clean_action_attr(std::vector<Attr>& attrs, std::uint16_t act_type) {
    for (auto& a : attrs)
        if (type_of(a) == act_type) a.payload = clean_actions(a.payload);
}

// u32 keeps every table in its 12-bit id: a handle 800: .. fff: is one the kernel generated
// for a prio's root table.
bool u32_root_table(std::uint32_t htid) { return (htid >> 20) >= 0x800; }

CreateOptions u32_create(const TcObject& o) {
    CreateOptions c;
    auto attrs = split(o.options);
    bool divisor = false;
    for (const auto& a : attrs) divisor |= type_of(a) == TCA_U32_DIVISOR;
    if (divisor) {
        // The root table comes with the first filter of its prio; the others are created.
        if (u32_root_table(o.handle)) c.skip = true;
        else c.options = o.options;
        return c;
    }
    std::vector<Attr> keep;
    for (auto& a : attrs) {
        const auto t = type_of(a);
        if (t == TCA_U32_PCNT) continue;   // statistics
        if (t == TCA_U32_HASH && u32_root_table(u32_of(a))) {
            // Place the node in whatever root table its prio gets now (the id is the kernel's
            // choice) and keep only the node's own number.
            c.handle = o.handle & 0xFFFu;
            continue;
        }
        keep.push_back(a);
    }
    mask_filter_flags(keep, TCA_U32_FLAGS);
    clean_action_attr(keep, TCA_U32_ACT);
    c.options = join(keep);
    return c;
}

// Classifiers other than u32: which attribute holds their flags, actions and statistics.
struct FilterAttrs {
    const char* kind;
    std::uint16_t flags, act, stats;
};
constexpr FilterAttrs filter_attrs[] = {
    {"matchall", TCA_MATCHALL_FLAGS, TCA_MATCHALL_ACT, TCA_MATCHALL_PCNT},
    {"flower", TCA_FLOWER_FLAGS, TCA_FLOWER_ACT, TCA_FLOWER_IN_HW_COUNT},
};

CreateOptions filter_create(const TcObject& o, const FilterAttrs& f) {
    auto attrs = split(o.options);
    std::erase_if(attrs, [&](const Attr& a) { return type_of(a) == f.stats; });
    mask_filter_flags(attrs, f.flags);
    clean_action_attr(attrs, f.act);
    return {join(attrs), std::nullopt, false};
}

CreateOptions htb_qdisc_create(const TcObject& o) {
    auto attrs = split(o.options);
    for (auto& a : attrs) {
        if (type_of(a) != TCA_HTB_INIT || a.payload.size() < sizeof(tc_htb_glob)) continue;
        tc_htb_glob g;
        std::memcpy(&g, a.payload.data(), sizeof g);
        g.version = TC_HTB_PROTOVER;   // the dump says HTB_VER (0x30011); create wants its major
        g.direct_pkts = 0;             // a statistic
        std::memcpy(a.payload.data(), &g, sizeof g);
    }
    return {join(attrs), std::nullopt, false};
}

// codel keeps times in 1.024 us units (ns >> 10) and reports them as floor(t * 1.024) us,
// so replaying a reported time loses a unit now and then (4000 us -> 3999 -> 3998). The
// reported d comes from exactly one t (the interval [d/1.024, (d+1)/1.024) is shorter than
// one), and the smallest us value that maps back to t is ceil(t * 1.024).
std::uint32_t codel_us_for_create(std::uint32_t d) {
    if (d == 0xFFFFFFFFu) return d;   // "off" (ce_threshold unset)
    const std::uint64_t t = (std::uint64_t(d) * 1000 + 1023) / 1024;
    return static_cast<std::uint32_t>((t * 1024 + 999) / 1000);
}

CreateOptions codel_create(const TcObject& o, std::initializer_list<std::uint16_t> time_attrs) {
    auto attrs = split(o.options);
    for (auto& a : attrs)
        for (auto t : time_attrs)
            if (type_of(a) == t && a.payload.size() == 4) a.payload = u32_bytes(codel_us_for_create(u32_of(a)));
    return {join(attrs), std::nullopt, false};
}

std::uint32_t major(std::uint32_t h) { return h & 0xFFFF0000u; }

std::string hstr(std::uint32_t h) {
    char b[32];
    if (h == TC_H_ROOT) return "root";
    if (h == 0xFFFFFFF1u) return "ingress";
    if (h & 0xFFFFu) std::snprintf(b, sizeof b, "%x:%x", h >> 16, h & 0xFFFFu);
    else std::snprintf(b, sizeof b, "%x:", h >> 16);
    return b;
}

}  // namespace

std::optional<TcObject> parse_tc_message(const nlmsghdr* h) {
    TcObject o;
    switch (h->nlmsg_type) {
    case RTM_NEWQDISC: o.type = TcType::qdisc; break;
    case RTM_NEWTCLASS: o.type = TcType::tclass; break;
    case RTM_NEWTFILTER: o.type = TcType::filter; break;
    default: return std::nullopt;
    }
    auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(h));
    o.parent = t->tcm_parent;
    o.handle = t->tcm_handle;
    o.info = t->tcm_info;
    auto* at = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(h, sizeof(tcmsg)));
    auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(h));
    for (; mnl_attr_ok(at, static_cast<int>(end - reinterpret_cast<const char*>(at))); at = mnl_attr_next(at)) {
        switch (mnl_attr_get_type(at)) {
        case TCA_KIND: o.kind = mnl_attr_get_str(at); break;
        case TCA_CHAIN: o.chain = mnl_attr_get_u32(at); break;
        case TCA_OPTIONS: {
            auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(at));
            o.options.assign(p, p + mnl_attr_get_payload_len(at));
            break;
        }
        default: break;
        }
    }
    return o;
}

Bytes dump_classes_request(int ifindex, std::uint32_t seq) {
    return tc_request({.type = RTM_GETTCLASS, .flags = NLM_F_DUMP, .ifindex = ifindex}, seq);
}

Bytes dump_filters_request(int ifindex, std::uint32_t parent, std::uint32_t seq) {
    return tc_request({.type = RTM_GETTFILTER, .flags = NLM_F_DUMP, .ifindex = ifindex, .parent = parent}, seq);
}

Bytes del_filter_request(int ifindex, std::uint32_t parent, std::uint16_t prio, std::uint16_t protocol_be,
                         std::uint32_t seq) {
    return tc_request({.type = RTM_DELTFILTER, .ifindex = ifindex, .parent = parent,
                  .info = (std::uint32_t(prio) << 16) | protocol_be}, seq);
}

bool kernel_default(const TcObject& q) { return q.type == TcType::qdisc && major(q.handle) == 0; }

bool creatable_class_kind(const std::string& kind) {
    return kind == "htb" || kind == "hfsc" || kind == "drr" || kind == "qfq" || kind == "cbq";
}

CreateOptions create_options(const TcObject& o) {
    if (o.type == TcType::filter) {
        if (o.kind == "u32") return u32_create(o);
        for (const auto& f : filter_attrs)
            if (o.kind == f.kind) return filter_create(o, f);
        return {o.options, std::nullopt, false};
    }
    if (o.type == TcType::qdisc && o.kind == "htb") return htb_qdisc_create(o);
    if (o.type == TcType::qdisc && o.kind == "fq_codel")
        return codel_create(o, {TCA_FQ_CODEL_TARGET, TCA_FQ_CODEL_INTERVAL, TCA_FQ_CODEL_CE_THRESHOLD});
    if (o.type == TcType::qdisc && o.kind == "codel")
        return codel_create(o, {TCA_CODEL_TARGET, TCA_CODEL_INTERVAL, TCA_CODEL_CE_THRESHOLD});
    return {o.options, std::nullopt, false};
}

std::vector<Bytes> create_messages(const std::vector<TcObject>& objects, int ifindex, std::uint32_t& seq,
                                   std::vector<std::string>* unplaced) {
    std::vector<Bytes> out;
    std::set<std::uint32_t> qdisc_majors, classes;
    std::set<std::uint32_t> pending_classes;   // creatable classes not yet created
    auto emit = [&](const TcObject& o, std::uint16_t type, std::uint16_t flags) {
        auto c = create_options(o);
        if (c.skip) return;
        out.push_back(tc_request({type, flags, ifindex, o.parent, c.handle.value_or(o.handle), o.info, o.kind,
                                  o.chain.value_or(0), c.options},
                                 ++seq));
    };
    std::map<std::uint32_t, std::string> kind_of_major;
    for (const auto& o : objects)
        if (o.type == TcType::qdisc && !kernel_default(o)) kind_of_major[major(o.handle)] = o.kind;
    std::vector<const TcObject*> qdiscs, cls;
    for (const auto& o : objects) {
        if (o.type == TcType::qdisc && o.parent == TC_H_ROOT) {
            if (kernel_default(o)) return out;   // nothing to build: the kernel attaches it
            emit(o, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_REPLACE);
            qdisc_majors.insert(major(o.handle));
        } else if (o.type == TcType::qdisc && !kernel_default(o)) {
            qdiscs.push_back(&o);
        } else if (o.type == TcType::tclass) {
            auto k = kind_of_major.find(major(o.handle));
            if (k != kind_of_major.end() && creatable_class_kind(k->second)) {
                cls.push_back(&o);
                pending_classes.insert(o.handle);
            }
        }
    }
    // A class exists once it is created, or by itself if its qdisc's kind has fixed classes.
    auto class_exists = [&](std::uint32_t id) {
        if (!qdisc_majors.count(major(id))) return false;
        return classes.count(id) > 0 || !pending_classes.count(id);
    };
    for (bool progress = true; progress;) {
        progress = false;
        for (auto it = cls.begin(); it != cls.end();) {
            TcObject c = **it;
            // htb reports a top-level class's parent as TC_H_ROOT; create takes the qdisc.
            if (c.parent == TC_H_ROOT) c.parent = major(c.handle);
            bool ready = qdisc_majors.count(major(c.handle)) &&
                         ((c.parent & 0xFFFFu) == 0 ? qdisc_majors.count(major(c.parent)) > 0 : class_exists(c.parent));
            if (!ready) { ++it; continue; }
            emit(c, RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL);
            classes.insert(c.handle);
            it = cls.erase(it);
            progress = true;
        }
        for (auto it = qdiscs.begin(); it != qdiscs.end();) {
            const TcObject& q = **it;
            if (!class_exists(q.parent)) { ++it; continue; }
            emit(q, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL);
            qdisc_majors.insert(major(q.handle));
            it = qdiscs.erase(it);
            progress = true;
        }
    }
    // Filters last (their classids name classes that now exist); u32 tables before the nodes
    // that link to them.
    std::vector<const TcObject*> filters;
    for (const auto& o : objects) {
        if (o.type != TcType::filter) continue;
        if (qdisc_majors.count(major(o.parent))) filters.push_back(&o);
        else if (unplaced) unplaced->push_back(describe(o));
    }
    if (unplaced) {
        for (const auto* c : cls) unplaced->push_back(describe(*c));
        for (const auto* q : qdiscs) unplaced->push_back(describe(*q));
    }
    std::stable_sort(filters.begin(), filters.end(), [](const TcObject* a, const TcObject* b) {
        auto table = [](const TcObject* f) {
            if (f->kind != "u32") return false;
            for (const auto& at : split(f->options))
                if (type_of(at) == TCA_U32_DIVISOR) return true;
            return false;
        };
        return table(a) && !table(b);
    });
    for (const auto* f : filters) emit(*f, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL);
    return out;
}

bool uses_reserved_handle(const std::vector<TcObject>& objects) {
    for (const auto& o : objects) {
        if (o.type == TcType::filter) continue;
        const std::uint32_t m = major(o.handle) >> 16;
        if (m >= 0x6E63 && m <= 0x6E74) return true;   // tcmsgs.hpp's class tree and apply.hpp's root netem
    }
    return false;
}

std::string describe(const TcObject& o) {
    switch (o.type) {
    case TcType::qdisc:
        return "qdisc " + o.kind + " " + hstr(o.handle) + " " + (o.parent == TC_H_ROOT ? "root" : "parent " + hstr(o.parent));
    case TcType::tclass:
        return "class " + o.kind + " " + hstr(o.handle) + " parent " + hstr(o.parent);
    case TcType::filter:
        return "filter " + o.kind + " parent " + hstr(o.parent) + " pref " + std::to_string(o.info >> 16);
    }
    return "?";
}

}  // namespace netchaos::netem
