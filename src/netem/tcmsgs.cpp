#include "netem/tcmsgs.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>

namespace netchaos::netem {

NlRequest::NlRequest(std::uint16_t type, std::uint16_t flags, std::uint32_t seq, std::size_t capacity)
    : buf_(capacity) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    nlh_->nlmsg_seq = seq;
}

tcmsg* NlRequest::tc(int ifindex, std::uint32_t parent, std::uint32_t handle, std::uint32_t info) {
    auto* t = static_cast<tcmsg*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(tcmsg)));
    t->tcm_family = AF_UNSPEC;
    t->tcm_ifindex = ifindex;
    t->tcm_parent = parent;
    t->tcm_handle = handle;
    t->tcm_info = info;
    return t;
}

ifinfomsg* NlRequest::link() {
    auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(ifinfomsg)));
    ifi->ifi_family = AF_UNSPEC;
    return ifi;
}

Bytes NlRequest::done() && {
    buf_.resize(nlh_->nlmsg_len);
    return std::move(buf_);
}

Bytes tc_request(const TcRequest& r, std::uint32_t seq) {
    NlRequest m(r.type, r.flags, seq, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(tcmsg)) + 64 + r.kind.size() + r.options.size());
    m.tc(r.ifindex, r.parent, r.handle, r.info);
    if (!r.kind.empty()) mnl_attr_put_strz(m.nlh(), TCA_KIND, std::string(r.kind).c_str());
    if (r.chain) mnl_attr_put_u32(m.nlh(), TCA_CHAIN, r.chain);
    if (!r.options.empty()) mnl_attr_put(m.nlh(), TCA_OPTIONS, r.options.size(), r.options.data());
    return std::move(m).done();
}

void put_attr(Bytes& b, std::uint16_t type, const void* data, std::size_t len) {
    nlattr a{static_cast<std::uint16_t>(NLA_HDRLEN + len), type};
    const std::size_t at = b.size();
    b.resize(at + NLA_ALIGN(NLA_HDRLEN + len), 0);
    std::memcpy(b.data() + at, &a, sizeof a);
    std::memcpy(b.data() + at + NLA_HDRLEN, data, len);
}

namespace {

std::uint16_t qdisc_flags(QdiscOp op) {
    return op == QdiscOp::add ? NLM_F_CREATE | NLM_F_EXCL : NLM_F_CREATE | NLM_F_REPLACE;
}

}  // namespace

Bytes new_qdisc(QdiscOp op, int ifindex, std::uint32_t parent, std::uint32_t handle,
                std::string_view kind, std::span<const std::uint8_t> options, std::uint32_t seq) {
    return tc_request({.type = RTM_NEWQDISC, .flags = qdisc_flags(op), .ifindex = ifindex, .parent = parent,
                       .handle = handle, .kind = kind, .options = options},
                      seq);
}

Bytes del_qdisc(int ifindex, std::uint32_t parent, std::uint32_t handle, std::uint32_t seq) {
    return tc_request({.type = RTM_DELQDISC, .ifindex = ifindex, .parent = parent, .handle = handle}, seq);
}

Bytes dump_qdiscs(std::uint32_t seq) { return tc_request({.type = RTM_GETQDISC}, seq); }

Bytes htb_options(std::uint32_t direct_qlen, std::uint32_t defcls) {
    tc_htb_glob g{};
    g.version = 3;         // TC_HTB_PROTOVER
    g.rate2quantum = 10;
    g.defcls = defcls;     // 0: unclassified -> direct queue, not shaped
    Bytes b;
    put_attr(b, TCA_HTB_INIT, &g, sizeof g);
    put_attr(b, TCA_HTB_DIRECT_QLEN, &direct_qlen, sizeof direct_qlen);
    return b;
}

Bytes new_htb_class(int ifindex, std::uint32_t parent, std::uint32_t classid, std::uint64_t rate,
                    std::uint32_t seq) {
    NlRequest m(RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, seq);
    m.tc(ifindex, parent, classid);
    mnl_attr_put_strz(m.nlh(), TCA_KIND, "htb");
    nlattr* opts = mnl_attr_nest_start(m.nlh(), TCA_OPTIONS);
    tc_htb_opt o{};
    const std::uint32_t r32 = rate >= 0xFFFFFFFFull ? 0xFFFFFFFFu : static_cast<std::uint32_t>(rate);
    o.rate.rate = o.ceil.rate = r32;
    // Ethernet link layer: the kernel computes rates itself, no rate tables needed.
    o.rate.linklayer = o.ceil.linklayer = TC_LINKLAYER_ETHERNET;
    // The burst in 64 ns scheduler ticks.
    const std::uint64_t ticks = match_class_burst * 1'000'000'000ull / (rate ? rate : 1) / 64;
    o.buffer = o.cbuffer = static_cast<std::uint32_t>(std::min<std::uint64_t>(ticks, 0xFFFFFFFFu));
    o.quantum = match_class_quantum;
    mnl_attr_put(m.nlh(), TCA_HTB_PARMS, sizeof o, &o);
    if (rate >= 0xFFFFFFFFull) {
        mnl_attr_put_u64(m.nlh(), TCA_HTB_RATE64, rate);
        mnl_attr_put_u64(m.nlh(), TCA_HTB_CEIL64, rate);
    }
    mnl_attr_nest_end(m.nlh(), opts);
    return std::move(m).done();
}

namespace {

// An address/prefix as u32 keys at `off` (4 keys for IPv6).
Result<std::vector<U32Key>> addr_keys(const profile::Cidr& c, int off, bool v6) {
    std::uint8_t bytes[16] = {};
    if (inet_pton(v6 ? AF_INET6 : AF_INET, c.address.c_str(), bytes) != 1)
        return make_error("match: bad address '" + c.address + "'", ErrorKind::bad_input);
    const int words = v6 ? 4 : 1;
    const int max_prefix = v6 ? 128 : 32;
    if (c.prefix > max_prefix)
        return make_error("match: prefix /" + std::to_string(c.prefix) + " too long", ErrorKind::bad_input);
    std::vector<U32Key> keys;
    for (int w = 0; w < words; ++w) {
        int bits = std::clamp(static_cast<int>(c.prefix) - 32 * w, 0, 32);
        if (bits == 0) continue;
        std::uint32_t mask = bits == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> bits);
        std::uint32_t v;
        std::memcpy(&v, bytes + 4 * w, 4);
        keys.push_back({ntohl(v) & mask, mask, off + 4 * w});
    }
    return keys;
}

}  // namespace

Result<U32Match> u32_match(const profile::FlowMatch& m, bool v6) {
    for (const auto* c : {&m.src, &m.dst})
        if (*c && (*c)->v6 != v6)
            return make_error(std::string("match: ") + (c == &m.src ? "src " : "dst ") + (*c)->address + " is not an " +
                                  (v6 ? "IPv6" : "IPv4") + " address (src and dst must be of one IP version)",
                              ErrorKind::bad_input);
    if ((m.sport || m.dport) && m.protocol != profile::Protocol::tcp && m.protocol != profile::Protocol::udp)
        return make_error("match: sport/dport need protocol = \"tcp\" or \"udp\"", ErrorKind::bad_input);
    U32Match out;
    out.eth_protocol = v6 ? ETH_P_IPV6 : ETH_P_IP;
    // IPv4: saddr at 12, daddr at 16, protocol byte at 9, L4 ports at 20/22 (no options).
    // IPv6: saddr at 8, daddr at 24, next header byte at 6, ports at 40/42 (no extension headers).
    const int src_off = v6 ? 8 : 12, dst_off = v6 ? 24 : 16, l4 = v6 ? 40 : 20;
    std::vector<U32Key> keys;
    for (auto [c, off] : {std::pair{&m.src, src_off}, std::pair{&m.dst, dst_off}}) {
        if (!*c) continue;
        auto k = addr_keys(**c, off, v6);
        if (!k) return k.error();
        keys.insert(keys.end(), k->begin(), k->end());
    }
    if (m.protocol != profile::Protocol::any) {
        int p = v6 ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP);
        if (m.protocol == profile::Protocol::tcp) p = IPPROTO_TCP;
        if (m.protocol == profile::Protocol::udp) p = IPPROTO_UDP;
        if (v6) keys.push_back({std::uint32_t(p) << 8, 0x0000FF00u, 4});    // byte 6 of the word at 4
        else keys.push_back({std::uint32_t(p) << 16, 0x00FF0000u, 8});      // byte 9 of the word at 8
    }
    // DSCP: the upper six bits of IPv4's TOS (byte 1) or of IPv6's traffic class (bits 20-27
    // of the first word), as tc's "match ip dsfield" / "match ip6 priority" with mask 0xfc.
    if (m.dscp) {
        if (v6) keys.push_back({std::uint32_t(*m.dscp) << 22, 0x0FC00000u, 0});
        else keys.push_back({std::uint32_t(*m.dscp) << 18, 0x00FC0000u, 0});
    }
    if (m.sport) keys.push_back({std::uint32_t(*m.sport) << 16, 0xFFFF0000u, l4});
    if (m.dport) keys.push_back({std::uint32_t(*m.dport), 0x0000FFFFu, l4});
    // One key per offset, in first-use order (tc's pack_key): sport and dport become one word.
    for (const auto& k : keys) {
        auto same = std::find_if(out.keys.begin(), out.keys.end(), [&](const U32Key& o) { return o.off == k.off; });
        if (same == out.keys.end()) out.keys.push_back(k);
        else {
            same->val |= k.val;
            same->mask |= k.mask;
        }
    }
    return out;
}

Result<std::vector<U32Match>> u32_matches(const profile::FlowMatch& m) {
    std::vector<U32Match> out;
    const bool any_v4 = !(m.src && m.src->v6) && !(m.dst && m.dst->v6);
    const bool any_v6 = !(m.src && !m.src->v6) && !(m.dst && !m.dst->v6);
    if (!any_v4 && !any_v6) return make_error("match: src and dst are of different IP versions", ErrorKind::bad_input);
    for (bool v6 : {false, true}) {
        if (v6 ? !any_v6 : !any_v4) continue;
        auto k = u32_match(m, v6);
        if (!k) return k.error();
        out.push_back(std::move(*k));
    }
    return out;
}

Bytes new_u32_filter(const U32Filter& f, std::uint32_t seq) {
    NlRequest m(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, seq);
    m.tc(f.ifindex, f.parent, 0, tc_handle(f.prio, htons(f.match.eth_protocol)));
    mnl_attr_put_strz(m.nlh(), TCA_KIND, "u32");
    nlattr* opts = mnl_attr_nest_start(m.nlh(), TCA_OPTIONS);
    if (f.classid) mnl_attr_put_u32(m.nlh(), TCA_U32_CLASSID, f.classid);
    // tc_u32_sel + keys; an empty match is one all-zero key ("match u32 0 0").
    std::vector<U32Key> keys = f.match.keys;
    if (keys.empty()) keys.push_back({0, 0, 0});
    Bytes sel(sizeof(tc_u32_sel) + keys.size() * sizeof(tc_u32_key));
    tc_u32_sel s{};
    s.flags = TC_U32_TERMINAL;
    s.nkeys = static_cast<unsigned char>(keys.size());
    std::memcpy(sel.data(), &s, sizeof s);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        tc_u32_key k{};
        k.mask = htonl(keys[i].mask);
        k.val = htonl(keys[i].val & keys[i].mask);
        k.off = keys[i].off;
        std::memcpy(sel.data() + sizeof s + i * sizeof k, &k, sizeof k);
    }
    mnl_attr_put(m.nlh(), TCA_U32_SEL, sel.size(), sel.data());
    if (f.redirect_ifindex) {
        nlattr* acts = mnl_attr_nest_start(m.nlh(), TCA_U32_ACT);
        nlattr* a1 = mnl_attr_nest_start(m.nlh(), 1);   // action #1
        mnl_attr_put_strz(m.nlh(), TCA_ACT_KIND, "mirred");
        nlattr* ao = mnl_attr_nest_start(m.nlh(), TCA_ACT_OPTIONS);
        tc_mirred p{};
        p.action = TC_ACT_STOLEN;
        p.eaction = TCA_EGRESS_REDIR;
        p.ifindex = static_cast<std::uint32_t>(*f.redirect_ifindex);
        mnl_attr_put(m.nlh(), TCA_MIRRED_PARMS, sizeof p, &p);
        mnl_attr_nest_end(m.nlh(), ao);
        mnl_attr_nest_end(m.nlh(), a1);
        mnl_attr_nest_end(m.nlh(), acts);
    }
    mnl_attr_nest_end(m.nlh(), opts);
    // tc sends this TCA_OPTIONS without NLA_F_NESTED; the kernel takes either, and tc's bytes
    // are what the golden tests compare.
    opts->nla_type &= static_cast<std::uint16_t>(~NLA_F_NESTED);
    return std::move(m).done();
}

Bytes new_ifb_link(std::string_view name, std::uint32_t seq) {
    NlRequest m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
    auto* ifi = m.link();
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    mnl_attr_put_strz(m.nlh(), IFLA_IFNAME, std::string(name).c_str());
    nlattr* li = mnl_attr_nest_start(m.nlh(), IFLA_LINKINFO);
    mnl_attr_put_strz(m.nlh(), IFLA_INFO_KIND, "ifb");
    mnl_attr_nest_end(m.nlh(), li);
    return std::move(m).done();
}

Bytes del_link(std::string_view name, std::uint32_t seq) {
    NlRequest m(RTM_DELLINK, 0, seq);
    m.link();
    mnl_attr_put_strz(m.nlh(), IFLA_IFNAME, std::string(name).c_str());
    return std::move(m).done();
}

std::string ifb_name_for(std::string_view dev) {
    std::string n = "ifb-" + std::string(dev);
    if (n.size() <= IFNAMSIZ - 1) return n;
    char h[8];
    std::snprintf(h, sizeof h, "%06zx", std::hash<std::string_view>{}(dev) & 0xFFFFFFu);
    return "ifb-" + std::string(dev.substr(0, IFNAMSIZ - 1 - 4 - 6)) + h;
}

}  // namespace netchaos::netem
