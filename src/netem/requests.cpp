#include "netem/requests.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <span>

#include "dist/table.hpp"
#include "netem/encode.hpp"
#include "netem/netlink.hpp"
#include "netem/show.hpp"
#include "netem/tc_words.hpp"
#include "profile/units.hpp"

namespace netchaos::netem {

namespace {

using Span = std::span<const std::uint8_t>;

std::string hex_of(Span b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    s.reserve(2 * b.size());
    for (auto c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

std::string hex32(std::uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "%08x", v);
    return b;
}

const char* type_name(std::uint16_t t) {
    switch (t) {
    case RTM_NEWQDISC: return "RTM_NEWQDISC";
    case RTM_DELQDISC: return "RTM_DELQDISC";
    case RTM_NEWTCLASS: return "RTM_NEWTCLASS";
    case RTM_NEWTFILTER: return "RTM_NEWTFILTER";
    case RTM_DELTFILTER: return "RTM_DELTFILTER";
    case RTM_NEWLINK: return "RTM_NEWLINK";
    case RTM_DELLINK: return "RTM_DELLINK";
    default: return "?";
    }
}

std::string flag_names(std::uint16_t f) {
    std::string s;
    for (auto [bit, name] : {std::pair{NLM_F_REQUEST, "REQUEST"}, {NLM_F_ACK, "ACK"}, {NLM_F_CREATE, "CREATE"},
                             {NLM_F_EXCL, "EXCL"}, {NLM_F_REPLACE, "REPLACE"}})
        if (f & bit) s += (s.empty() ? "" : "|") + std::string(name);
    return s;
}

// tc's verb for a create request's flags.
std::string verb(std::uint16_t f) {
    if ((f & NLM_F_CREATE) && (f & NLM_F_REPLACE)) return "replace";
    if (f & NLM_F_CREATE) return "add";
    return "change";
}

// A flat TLV list (an attribute's payload) by type; the last of a type wins.
std::map<std::uint16_t, Span> attrs_of(Span b) {
    std::map<std::uint16_t, Span> out;
    std::size_t off = 0;
    while (off + NLA_HDRLEN <= b.size()) {
        nlattr a;
        std::memcpy(&a, b.data() + off, sizeof a);
        if (a.nla_len < NLA_HDRLEN || off + a.nla_len > b.size()) break;
        out[a.nla_type & NLA_TYPE_MASK] = b.subspan(off + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
        off += NLA_ALIGN(a.nla_len);
    }
    return out;
}

template <class T>
bool read_as(Span s, T& out) {
    if (s.size() < sizeof(T)) return false;
    std::memcpy(&out, s.data(), sizeof(T));
    return true;
}

std::string str_of(Span s) { return std::string(reinterpret_cast<const char*>(s.data()), strnlen(reinterpret_cast<const char*>(s.data()), s.size())); }

const char* netem_attr_name(std::uint16_t t) {
    switch (t) {
    case TCA_NETEM_CORR: return "TCA_NETEM_CORR";
    case TCA_NETEM_DELAY_DIST: return "TCA_NETEM_DELAY_DIST";
    case TCA_NETEM_REORDER: return "TCA_NETEM_REORDER";
    case TCA_NETEM_CORRUPT: return "TCA_NETEM_CORRUPT";
    case TCA_NETEM_LOSS: return "TCA_NETEM_LOSS";
    case TCA_NETEM_RATE: return "TCA_NETEM_RATE";
    case TCA_NETEM_ECN: return "TCA_NETEM_ECN";
    case TCA_NETEM_RATE64: return "TCA_NETEM_RATE64";
    case TCA_NETEM_LATENCY64: return "TCA_NETEM_LATENCY64";
    case TCA_NETEM_JITTER64: return "TCA_NETEM_JITTER64";
    case TCA_NETEM_SLOT: return "TCA_NETEM_SLOT";
    case TCA_NETEM_SLOT_DIST: return "TCA_NETEM_SLOT_DIST";
    case 14: return "TCA_NETEM_PRNG_SEED";
    default: return "TCA_NETEM_?";
    }
}

struct Decoder {
    const std::function<std::string(int)>& dev_name;
    std::string created;   // the link a request before asked for (its index is the placeholder)

    std::string dev(int ifindex) const {
        if (ifindex == RecordingSender::placeholder_ifindex && !created.empty()) return created;
        std::string n = dev_name(ifindex);
        return n.empty() ? "if" + std::to_string(ifindex) : n;
    }

    // "netem delay ...": the words tc needs for these options, and the attributes one by one.
    std::string netem(Span opts, std::vector<std::string>& fields) const {
        tc_netem_qopt q{};
        if (!read_as(opts, q)) return "netem (short options)";
        fields.push_back("tc_netem_qopt latency " + std::to_string(q.latency) + " ticks, limit " + std::to_string(q.limit) +
                         ", loss " + std::to_string(q.loss) + ", gap " + std::to_string(q.gap) + ", duplicate " +
                         std::to_string(q.duplicate) + ", jitter " + std::to_string(q.jitter) + " ticks");
        std::size_t off = NLA_ALIGN(sizeof q);
        while (off + NLA_HDRLEN <= opts.size()) {
            nlattr a;
            std::memcpy(&a, opts.data() + off, sizeof a);
            if (a.nla_len < NLA_HDRLEN || off + a.nla_len > opts.size()) break;
            const auto t = a.nla_type & NLA_TYPE_MASK;
            const std::size_t len = a.nla_len - NLA_HDRLEN;
            std::string f = std::string(netem_attr_name(t)) + " (" + std::to_string(len) + " bytes";
            if (t == TCA_NETEM_DELAY_DIST || t == TCA_NETEM_SLOT_DIST) f += ", " + std::to_string(len / 2) + " table entries";
            fields.push_back(f + ")");
            off += NLA_ALIGN(a.nla_len);
        }
        // The table bytes carry no name: one equal to a table tc loads by name gets that name
        // back (tc's "distribution normal" sends exactly it), so the command is one tc can run.
        auto imp = impairment_from_options(opts);
        std::string unnamed;
        const auto named = [&](std::uint16_t type, const char* what) -> std::optional<profile::Distribution> {
            const Span t = table_of(opts, type);
            if (t.empty()) return std::nullopt;
            for (auto d : {profile::Distribution::normal, profile::Distribution::pareto, profile::Distribution::paretonormal}) {
                auto known = dist::for_distribution(d);
                if (known && known->size() * 2 == t.size() && std::memcmp(known->data(), t.data(), t.size()) == 0) return d;
            }
            const auto& u = uniform_table();
            const bool uniform = u.size() * 2 == t.size() && std::memcmp(u.data(), t.data(), t.size()) == 0;
            unnamed += std::string(unnamed.empty() ? "" : ", ") + what + " table of " + std::to_string(t.size() / 2) +
                       (uniform ? " values, uniform (a replace sends it: netem keeps an earlier table otherwise)"
                                : " values, none of tc's named ones");
            return std::nullopt;
        };
        if (auto d = named(TCA_NETEM_DELAY_DIST, "delay"); d && imp.delay) imp.delay->distribution = *d;
        if (auto d = named(TCA_NETEM_SLOT_DIST, "slot"); d && imp.slot) imp.slot->distribution = *d;
        return "netem " + netem_words(imp).words + (unnamed.empty() ? "" : "  # + " + unnamed);
    }

    // The payload of a netem table attribute (after tc_netem_qopt), empty if absent.
    static Span table_of(Span opts, std::uint16_t type) {
        return attrs_of(opts.size() > NLA_ALIGN(sizeof(tc_netem_qopt)) ? opts.subspan(NLA_ALIGN(sizeof(tc_netem_qopt))) : Span{})[type];
    }

    std::string htb_qdisc(Span opts, std::vector<std::string>& fields) const {
        auto a = attrs_of(opts);
        std::string out = "htb";
        tc_htb_glob g{};
        if (read_as(a[TCA_HTB_INIT], g)) {
            fields.push_back("TCA_HTB_INIT version " + std::to_string(g.version) + ", r2q " + std::to_string(g.rate2quantum) +
                             ", default " + std::to_string(g.defcls));
            // tc reads htb's default class minor in hex.
            char def[16];
            std::snprintf(def, sizeof def, "%x", g.defcls);
            if (g.defcls) out += std::string(" default ") + def;
        }
        std::uint32_t qlen = 0;
        if (read_as(a[TCA_HTB_DIRECT_QLEN], qlen)) {
            fields.push_back("TCA_HTB_DIRECT_QLEN " + std::to_string(qlen));
            out += " direct_qlen " + std::to_string(qlen);
        }
        return out;
    }

    std::string htb_class(Span opts, std::vector<std::string>& fields) const {
        auto a = attrs_of(opts);
        tc_htb_opt o{};
        if (!read_as(a[TCA_HTB_PARMS], o)) return "htb";
        std::uint64_t rate = o.rate.rate, ceil = o.ceil.rate;
        read_as(a[TCA_HTB_RATE64], rate);
        read_as(a[TCA_HTB_CEIL64], ceil);
        fields.push_back("TCA_HTB_PARMS rate " + std::to_string(rate) + " B/s, ceil " + std::to_string(ceil) +
                         " B/s, buffer " + std::to_string(o.buffer) + " ticks, quantum " + std::to_string(o.quantum));
        // tc takes the bursts in bytes and turns them into these 64 ns ticks at the rate.
        const auto bytes = [](std::uint32_t ticks, std::uint64_t r) {
            return std::to_string(static_cast<std::uint64_t>(static_cast<unsigned __int128>(ticks) * 64 * r / 1'000'000'000));
        };
        return "htb rate " + profile::format_rate(rate) + " ceil " + profile::format_rate(ceil) + " burst " +
               bytes(o.buffer, rate) + " cburst " + bytes(o.cbuffer, ceil) + " quantum " + std::to_string(o.quantum);
    }

    std::string u32(Span opts, std::vector<std::string>& fields) const {
        auto a = attrs_of(opts);
        std::string out = "u32";
        tc_u32_sel sel{};
        if (read_as(a[TCA_U32_SEL], sel)) {
            const auto keys = a[TCA_U32_SEL].subspan(sizeof sel);
            for (std::size_t i = 0; i < sel.nkeys && (i + 1) * sizeof(tc_u32_key) <= keys.size(); ++i) {
                tc_u32_key k{};
                std::memcpy(&k, keys.data() + i * sizeof k, sizeof k);
                // 0x: tc reads these with strtoul(, 0), where a leading 0 means octal.
                out += " match u32 0x" + hex32(ntohl(k.val)) + " 0x" + hex32(ntohl(k.mask)) + " at " + std::to_string(k.off);
            }
            fields.push_back("TCA_U32_SEL " + std::to_string(int(sel.nkeys)) + " keys" +
                             (sel.flags & TC_U32_TERMINAL ? ", terminal" : ""));
        }
        std::uint32_t classid = 0;
        if (read_as(a[TCA_U32_CLASSID], classid)) {
            fields.push_back("TCA_U32_CLASSID " + handle_str(classid));
            out += " classid " + handle_str(classid);
        }
        if (!a[TCA_U32_ACT].empty()) {
            auto act = attrs_of(attrs_of(a[TCA_U32_ACT])[1]);
            tc_mirred m{};
            if (str_of(act[TCA_ACT_KIND]) == "mirred" && read_as(attrs_of(act[TCA_ACT_OPTIONS])[TCA_MIRRED_PARMS], m)) {
                const std::string to = dev(static_cast<int>(m.ifindex));
                fields.push_back("TCA_U32_ACT mirred: eaction " + std::to_string(m.eaction) + ", action " +
                                 std::to_string(m.action) + ", ifindex " + std::to_string(m.ifindex) + " (" + to + ")");
                out += std::string(" action mirred egress ") + (m.eaction == TCA_EGRESS_REDIR ? "redirect" : "mirror") +
                       " dev " + to;
            } else {
                fields.push_back("TCA_U32_ACT (" + std::to_string(a[TCA_U32_ACT].size()) + " bytes)");
            }
        }
        return out;
    }

    static std::string protocol(std::uint16_t be) {
        switch (ntohs(be)) {
        case ETH_P_IP: return "ip";
        case ETH_P_IPV6: return "ipv6";
        case ETH_P_ALL: return "all";
        default: {
            char b[16];
            std::snprintf(b, sizeof b, "0x%04x", ntohs(be));
            return b;
        }
        }
    }

    static std::string where(std::uint32_t parent) {
        if (parent == TC_H_ROOT) return "root";
        if (parent == TC_H_INGRESS) return "ingress";
        return "parent " + handle_str(parent);
    }

    DecodedRequest decode(Span msg) {
        DecodedRequest r;
        r.hex = hex_of(msg);
        nlmsghdr h{};
        if (!read_as(msg, h) || h.nlmsg_len > msg.size()) {
            r.type = "?";
            r.command = "(truncated message)";
            return r;
        }
        r.type = type_name(h.nlmsg_type);
        r.flags = flag_names(h.nlmsg_flags);
        r.seq = h.nlmsg_seq;
        const Span body = msg.subspan(NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN);
        if (h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) {
            auto a = attrs_of(body.subspan(std::min(body.size(), std::size_t(NLMSG_ALIGN(sizeof(ifinfomsg))))));
            const std::string name = str_of(a[IFLA_IFNAME]);
            const std::string kind = str_of(attrs_of(a[IFLA_LINKINFO])[IFLA_INFO_KIND]);
            r.fields.push_back("IFLA_IFNAME " + name);
            if (h.nlmsg_type == RTM_DELLINK) {
                r.command = "ip link del " + name;
                return r;
            }
            ifinfomsg ifi{};
            read_as(body, ifi);
            r.fields.push_back("IFLA_LINKINFO kind " + kind);
            r.command = "ip link add " + name + ((ifi.ifi_flags & IFF_UP) ? " up" : "") + " type " + kind;
            created = name;
            return r;
        }
        tcmsg t{};
        if (!read_as(body, t)) {
            r.command = "(short tcmsg)";
            return r;
        }
        auto a = attrs_of(body.subspan(std::min(body.size(), std::size_t(NLMSG_ALIGN(sizeof t)))));
        const std::string d = dev(t.tcm_ifindex), kind = str_of(a[TCA_KIND]);
        r.fields.push_back("tcmsg ifindex " + std::to_string(t.tcm_ifindex) + " (" + d + "), parent " +
                           handle_str(t.tcm_parent) + ", handle " + handle_str(t.tcm_handle) + ", info " + hex32(t.tcm_info));
        if (!kind.empty()) r.fields.push_back("TCA_KIND " + kind);
        const Span opts = a[TCA_OPTIONS];
        switch (h.nlmsg_type) {
        case RTM_NEWQDISC: {
            std::string what;
            if (kind == "netem") what = netem(opts, r.fields);
            else if (kind == "htb") what = htb_qdisc(opts, r.fields);
            else {
                what = kind;
                if (!opts.empty()) r.fields.push_back("TCA_OPTIONS (" + std::to_string(opts.size()) + " bytes)");
            }
            // netem_change() keeps every feature whose attribute is absent, and tc sends none for
            // a zero correlation, reorder, corrupt or rate: its replace of a live netem would
            // keep the old ones, where this request resets them.
            if (kind == "netem" && (h.nlmsg_flags & NLM_F_REPLACE))
                what += std::string(what.find("  # ") == std::string::npos ? "  # " : "; ") +
                        "+ neutral values for what the words leave out (tc cannot send them; on a live netem its "
                        "replace keeps the old ones)";
            if (kind == "ingress") r.command = "tc qdisc " + verb(h.nlmsg_flags) + " dev " + d + " ingress";
            else
                r.command = "tc qdisc " + verb(h.nlmsg_flags) + " dev " + d + " " + where(t.tcm_parent) +
                            (t.tcm_handle ? " handle " + handle_str(t.tcm_handle) : "") + " " + what;
            break;
        }
        case RTM_DELQDISC:
            r.command = "tc qdisc del dev " + d + " " + where(t.tcm_parent) +
                        (t.tcm_handle ? " handle " + handle_str(t.tcm_handle) : "");
            break;
        case RTM_NEWTCLASS:
            r.command = "tc class " + verb(h.nlmsg_flags) + " dev " + d + " parent " + handle_str(t.tcm_parent) +
                        " classid " + handle_str(t.tcm_handle) + " " + (kind == "htb" ? htb_class(opts, r.fields) : kind);
            break;
        case RTM_NEWTFILTER:
        case RTM_DELTFILTER: {
            const std::string head = std::string("tc filter ") + (h.nlmsg_type == RTM_DELTFILTER ? "del" : verb(h.nlmsg_flags)) +
                                     " dev " + d + " parent " + handle_str(t.tcm_parent) + " pref " +
                                     std::to_string(t.tcm_info >> 16) + " protocol " +
                                     protocol(static_cast<std::uint16_t>(t.tcm_info & 0xFFFF));
            r.command = head + (kind == "u32" ? " " + u32(opts, r.fields) : kind.empty() ? "" : " " + kind);
            break;
        }
        default:
            r.command = "(" + r.type + ")";
        }
        return r;
    }
};

}  // namespace

std::vector<DecodedRequest> decode_requests(const std::vector<std::vector<std::uint8_t>>& msgs,
                                            const std::function<std::string(int)>& dev_name) {
    Decoder d{dev_name, {}};
    std::vector<DecodedRequest> out;
    for (const auto& m : msgs) out.push_back(d.decode(m));
    return out;
}

nlohmann::json to_json(const DecodedRequest& r) {
    return {{"type", r.type}, {"flags", r.flags}, {"seq", r.seq}, {"command", r.command}, {"fields", r.fields}, {"hex", r.hex}};
}

std::string to_text(const DecodedRequest& r, std::size_t number) {
    std::string s = std::to_string(number) + ". " + r.command + "\n   " + r.type + " " + r.flags + " seq " +
                    std::to_string(r.seq) + " (" + std::to_string(r.hex.size() / 2) + " bytes)\n";
    for (const auto& f : r.fields) s += "   " + f + "\n";
    // The hex in lines of 32 bytes, as `xxd -p` would print it.
    for (std::size_t i = 0; i < r.hex.size(); i += 64) s += "   " + r.hex.substr(i, 64) + "\n";
    return s;
}

}  // namespace netchaos::netem
