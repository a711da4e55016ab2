#include "netem/show.hpp"

#include "netem/apply.hpp"

#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "netem/encode.hpp"
#include "netem/netlink.hpp"
#include "netem/tcmsgs.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace netchaos::netem {

namespace {

using profile::Duration;
constexpr std::uint16_t tca_netem_prng_seed = 14;   // Linux 6.4+, newer than the system headers

template <class T>
bool read_attr(const nlattr* a, T& out) {
    if (mnl_attr_get_payload_len(a) < sizeof(T)) return false;
    std::memcpy(&out, mnl_attr_get_payload(a), sizeof(T));
    return true;
}

template <class F>
void for_each_attr(const std::uint8_t* p, std::size_t len, F f) {
    auto* at = reinterpret_cast<const nlattr*>(p);
    int left = static_cast<int>(len);
    while (mnl_attr_ok(at, left)) {
        f(at);
        left -= MNL_ALIGN(at->nla_len);
        at = mnl_attr_next(at);
    }
}

// The kernel's u32 fraction -> the double a profile would hold: the shortest percentage that
// encodes to the same u32 (encode.cpp rounds p * UINT32_MAX), read by the profile's parser.
double fraction(std::uint32_t v) {
    constexpr double u32max = std::numeric_limits<std::uint32_t>::max();
    const double exact = v / u32max;
    for (int digits = 0; digits <= 12; ++digits) {
        char text[48];
        std::snprintf(text, sizeof text, "%.*f%%", digits, exact * 100);
        auto p = profile::parse_probability(text);
        if (p && static_cast<std::uint32_t>(std::rint(*p * u32max)) == v) return *p;
    }
    return exact;
}

}  // namespace

profile::Impairment impairment_from_options(std::span<const std::uint8_t> o) {
    profile::Impairment imp;
    tc_netem_qopt q{};
    if (o.size() < sizeof q) return imp;
    std::memcpy(&q, o.data(), sizeof q);
    imp.limit = q.limit;
    // Ticks are 64 ns; LATENCY64/JITTER64 (always dumped since Linux 4.15) are exact.
    std::int64_t latency = static_cast<std::int64_t>(q.latency) * 64, jitter = static_cast<std::int64_t>(q.jitter) * 64;
    tc_netem_corr corr{};
    std::optional<tc_netem_reorder> reorder;
    std::optional<tc_netem_corrupt> corrupt;
    std::optional<tc_netem_slot> slot;
    std::optional<std::uint64_t> rate64;
    std::optional<tc_netem_rate> rate;
    bool ecn = false;
    std::optional<profile::LossModel> clg;
    const std::size_t skip = MNL_ALIGN(sizeof(tc_netem_qopt));
    if (o.size() > skip) {
        for_each_attr(o.data() + skip, o.size() - skip, [&](const nlattr* a) {
            switch (mnl_attr_get_type(a)) {
            case TCA_NETEM_LATENCY64: read_attr(a, latency); break;
            case TCA_NETEM_JITTER64: read_attr(a, jitter); break;
            case TCA_NETEM_CORR: read_attr(a, corr); break;
            case TCA_NETEM_REORDER: { tc_netem_reorder v{}; if (read_attr(a, v)) reorder = v; break; }
            case TCA_NETEM_CORRUPT: { tc_netem_corrupt v{}; if (read_attr(a, v)) corrupt = v; break; }
            case TCA_NETEM_SLOT: { tc_netem_slot v{}; if (read_attr(a, v)) slot = v; break; }
            case TCA_NETEM_RATE: { tc_netem_rate v{}; if (read_attr(a, v)) rate = v; break; }
            case TCA_NETEM_RATE64: { std::uint64_t v; if (read_attr(a, v)) rate64 = v; break; }
            case TCA_NETEM_ECN: { std::uint32_t v; if (read_attr(a, v)) ecn = v != 0; break; }
            case tca_netem_prng_seed: { std::uint64_t v; if (read_attr(a, v)) imp.seed = v; break; }
            case TCA_NETEM_LOSS:
                for_each_attr(static_cast<const std::uint8_t*>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a),
                              [&](const nlattr* l) {
                                  if (mnl_attr_get_type(l) == NETEM_LOSS_GE) {
                                      tc_netem_gemodel g{};
                                      // The kernel keeps h; profiles (and tc) speak of 1-h.
                                      if (read_attr(l, g))
                                          clg = profile::GilbertElliott{fraction(g.p), fraction(g.r),
                                                                        fraction(std::numeric_limits<std::uint32_t>::max() - g.h),
                                                                        fraction(g.k1)};
                                  } else if (mnl_attr_get_type(l) == NETEM_LOSS_GI) {
                                      tc_netem_gimodel g{};
                                      // Struct order p13 p31 p32 p14 p23; the profile's p13 p31 p32 p23 p14.
                                      if (read_attr(l, g))
                                          clg = profile::Markov4{fraction(g.p13), fraction(g.p31), fraction(g.p32),
                                                                 fraction(g.p23), fraction(g.p14)};
                                  }
                              });
                break;
            default: break;
            }
        });
    }
    std::uint64_t bytes_per_sec = rate ? rate->rate : 0;
    if (rate64) bytes_per_sec = std::max(bytes_per_sec, *rate64);   // netem_change's max()
    const bool keeps_order = rate && bytes_per_sec == order_keeping_rate && rate->packet_overhead == 0 &&
                             rate->cell_size == 0 && rate->cell_overhead == 0;
    if (rate && bytes_per_sec != 0 && !keeps_order)
        imp.rate = profile::Rate::link(bytes_per_sec, rate->packet_overhead, rate->cell_size, rate->cell_overhead);
    if (latency != 0 || jitter != 0 || keeps_order) {
        profile::Delay d;
        d.mean = Duration(latency);
        d.jitter = Duration(jitter);
        d.correlation = fraction(corr.delay_corr);
        d.order = (keeps_order || imp.rate) ? profile::JitterOrder::preserve : profile::JitterOrder::reorder;
        imp.delay = d;
    }
    if (clg) imp.loss = profile::Loss{*clg, ecn};
    else if (q.loss != 0) imp.loss = profile::Loss{profile::RandomLoss{fraction(q.loss), fraction(corr.loss_corr)}, ecn};
    if (q.duplicate != 0) imp.duplicate = profile::Duplicate{fraction(q.duplicate), fraction(corr.dup_corr)};
    if (corrupt && corrupt->probability != 0)
        imp.corrupt = profile::Corrupt{fraction(corrupt->probability), fraction(corrupt->correlation)};
    if (reorder && reorder->probability != 0)
        imp.reorder = profile::Reorder{fraction(reorder->probability), fraction(reorder->correlation), q.gap};
    // netem's slotting is on when min | max | dist_jitter is non-zero (get_slot); it stores an
    // absent packet/byte budget as INT_MAX.
    if (slot && (slot->min_delay | slot->max_delay | slot->dist_jitter) != 0) {
        profile::Slot s;
        if (slot->dist_jitter != 0) {
            s.distribution = profile::Distribution::uniform;   // the table's kind is not dumped
            s.dist_delay = Duration(slot->dist_delay);
            s.dist_jitter = Duration(slot->dist_jitter);
        } else {
            s.min_delay = Duration(slot->min_delay);
            s.max_delay = Duration(slot->max_delay);
        }
        if (slot->max_packets != 0 && slot->max_packets != INT_MAX) s.max_packets = slot->max_packets;
        if (slot->max_bytes != 0 && slot->max_bytes != INT_MAX) s.max_bytes = slot->max_bytes;
        imp.slot = s;
    }
    return imp;
}

std::string handle_str(std::uint32_t h) {
    if (h == root_parent) return "root";
    if (h == ingress_parent) return "ingress";
    char b[32];
    if ((h & 0xFFFF) == 0) std::snprintf(b, sizeof b, "%x:", h >> 16);
    else std::snprintf(b, sizeof b, "%x:%x", h >> 16, h & 0xFFFF);
    return b;
}

Result<std::vector<NetemInfo>> read_netem(const std::optional<std::string>& dev) {
    std::vector<int> wanted;
    if (dev) {
        int idx = static_cast<int>(if_nametoindex(dev->c_str()));
        if (!idx) return make_error("no such interface: " + *dev);
        wanted.push_back(idx);
        if (int ifb = static_cast<int>(if_nametoindex(ifb_name_for(*dev).c_str()))) wanted.push_back(ifb);
    }
    auto want = [&](int idx) {
        return wanted.empty() || std::find(wanted.begin(), wanted.end(), idx) != wanted.end();
    };

    // Raw options, keyed by (ifindex, handle): the parameters come from here.
    std::map<std::pair<int, std::uint32_t>, std::vector<std::uint8_t>> raw;
    {
        auto nl = Netlink::open();
        if (!nl) return nl.error();
        Ack a = nl->dump(dump_qdiscs(nl->next_seq()), [&](const nlmsghdr* h) {
            auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(h));
            if (!want(t->tcm_ifindex)) return;
            auto* at = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(h, sizeof(tcmsg)));
            auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(h));
            for (; mnl_attr_ok(at, static_cast<int>(end - reinterpret_cast<const char*>(at)));
                 at = mnl_attr_next(at))
                if (mnl_attr_get_type(at) == TCA_OPTIONS) {
                    auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(at));
                    raw[{t->tcm_ifindex, t->tcm_handle}].assign(p, p + mnl_attr_get_payload_len(at));
                }
        });
        if (!a.ok()) return map_error(a, {"read qdiscs", dev ? *dev : "", ""});
    }

    std::unique_ptr<nl_sock, void (*)(nl_sock*)> sock(nl_socket_alloc(), nl_socket_free);
    if (!sock || nl_connect(sock.get(), NETLINK_ROUTE) < 0) return make_error("libnl: cannot open a route socket");
    nl_cache* cache_raw = nullptr;
    if (int e = rtnl_qdisc_alloc_cache(sock.get(), &cache_raw); e < 0)
        return make_error(std::string("libnl: reading qdiscs: ") + nl_geterror(e));
    std::unique_ptr<nl_cache, void (*)(nl_cache*)> cache(cache_raw, nl_cache_free);

    std::vector<NetemInfo> out;
    for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
        rtnl_tc* tc = TC_CAST(reinterpret_cast<rtnl_qdisc*>(o));
        const char* kind = rtnl_tc_get_kind(tc);
        if (!kind || std::strcmp(kind, "netem") != 0 || !want(rtnl_tc_get_ifindex(tc))) continue;
        NetemInfo n;
        n.ifindex = rtnl_tc_get_ifindex(tc);
        char name[IF_NAMESIZE] = {};
        n.dev = if_indextoname(n.ifindex, name) ? name : std::to_string(n.ifindex);
        n.handle = rtnl_tc_get_handle(tc);
        n.parent = rtnl_tc_get_parent(tc);
        n.stats = {rtnl_tc_get_stat(tc, RTNL_TC_BYTES),    rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
                   rtnl_tc_get_stat(tc, RTNL_TC_DROPS),    rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS),
                   rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG),  rtnl_tc_get_stat(tc, RTNL_TC_QLEN),
                   rtnl_tc_get_stat(tc, RTNL_TC_REQUEUES)};
        if (auto it = raw.find({n.ifindex, n.handle}); it != raw.end()) n.imp = impairment_from_options(it->second);
        out.push_back(std::move(n));
    }
    return out;
}

Result<std::optional<profile::Profile>> read_applied(const std::string& dev, const Ledger& l,
                                                     const std::vector<NetemInfo>& qdiscs) {
    if (!l.complete || l.applied.empty()) return std::optional<profile::Profile>{};
    auto rec = profile::parse_profile_text(l.applied, l.applied_from.empty() ? "ledger of " + dev : l.applied_from);
    if (!rec.ok()) {
        std::string why;
        for (const auto& d : rec.diagnostics) why += "\n  " + d.format();
        return make_error("ledger of " + dev + ": the recorded profile does not parse:" + why);
    }
    profile::Profile p = *rec.value;
    for (const auto& s : l.steps) {
        if (s.kind != StepKind::netem) continue;
        auto q = std::find_if(qdiscs.begin(), qdiscs.end(), [&](const NetemInfo& n) {
            // A root netem's handle is the kernel's pick (the step records 0): match its parent.
            return n.dev == s.dev && (s.handle ? n.handle == s.handle : n.parent == s.parent);
        });
        if (q == qdiscs.end())
            return make_error("ledger of " + dev + " records a netem under " + handle_str(s.parent) + " on " + s.dev +
                                  " that the kernel does not have");
        // Where apply put each section (place(), section_at()): [egress] on the device, the IFB
        // holds [ingress], or [egress] when --ingress moved a profile without [ingress] there;
        // a class tree's netems hold their classes' sections and the default class the top level's.
        auto* slot = section_at(p, s.side == "ingress", s.handle);
        if (!slot || !*slot)
            return make_error("ledger of " + dev + ": a netem " + handle_str(s.handle) + " for side " + s.side +
                              " the recorded profile lacks");
        auto& section = *slot;
        profile::Impairment back = q->imp;
        // What netem does not dump comes from the record: tables (a distribution's kind, file,
        // samples) and, before Linux 6.4, the seed.
        if (back.delay && section->delay) {
            back.delay->distribution = section->delay->distribution;
            back.delay->table = section->delay->table;
        }
        if (back.slot && section->slot && section->slot->distribution) {
            if (!back.slot->distribution) {   // a fixed slot spacing goes out as min = max
                back.slot->dist_delay = back.slot->min_delay;
                back.slot->min_delay = back.slot->max_delay = Duration(0);
            }
            back.slot->distribution = section->slot->distribution;
        }
        if (!back.seed) back.seed = section->seed;
        section = back;
    }
    return std::optional<profile::Profile>(std::move(p));
}

namespace {

// iproute2's print_* with PRINT_ANY: each value is printed once, under its JSON key or in its
// text form, so the two outputs cannot drift apart.
class Printer {
public:
    explicit Printer(bool json) : json_(json) {}
    // JSON: key = value. Text: " " + text, unless text is empty.
    void any(const char* key, const nlohmann::json& value, const std::string& text) {
        if (json_) (*cur_)[key] = value;
        else if (!text.empty()) s_ << (s_.tellp() > 0 ? " " : "") << text;
    }
    void open(const char* key, const std::string& text) {   // a nested object / a text prefix
        if (json_) { parent_ = cur_; cur_ = &(*cur_)[key]; cur_->operator=(nlohmann::json::object()); }
        else if (!text.empty()) s_ << text;
    }
    void close() { if (json_) cur_ = parent_; }
    nlohmann::json json() { return j_; }
    std::string text() { return s_.str(); }
private:
    bool json_;
    nlohmann::json j_ = nlohmann::json::object();
    nlohmann::json* cur_ = &j_;
    nlohmann::json* parent_ = nullptr;
    std::ostringstream s_;
};

std::string num(double v) { std::ostringstream o; o << v; return o.str(); }
double pct(double f) { return std::round(f * 1e6) / 1e4; }   // percent, 4 decimals
std::string pct_text(double f) { return num(f * 100) + "%"; }
double ms(Duration d) { return static_cast<double>(d.count()) / 1e6; }

void print(Printer& p, const NetemInfo& q) {
    const auto& imp = q.imp;
    p.any("dev", q.dev, q.dev + ":");
    p.any("kind", "netem", "netem");
    p.any("handle", handle_str(q.handle), handle_str(q.handle));
    p.any("parent", handle_str(q.parent), "parent " + handle_str(q.parent));
    p.any("limit", imp.limit, "limit " + std::to_string(imp.limit));
    const profile::Delay d = imp.delay.value_or(profile::Delay{});
    p.any("delay_ms", ms(d.mean), imp.delay ? "delay " + num(ms(d.mean)) + "ms" : "");
    p.any("jitter_ms", ms(d.jitter), d.jitter.count() ? "jitter " + num(ms(d.jitter)) + "ms" : "");
    p.any("delay_correlation_pct", pct(d.correlation), d.correlation ? "corr " + pct_text(d.correlation) : "");
    // The order question only arises with a delay (issue 21): netem keeps order when a rate is set.
    const bool keeps = imp.delay && d.order == profile::JitterOrder::preserve;
    p.any("order", imp.delay ? (keeps ? "preserve" : "reorder") : "none",
          d.jitter.count() ? (keeps ? "order preserved" : "reorders") : "");
    const auto* random = imp.loss ? std::get_if<profile::RandomLoss>(&imp.loss->model) : nullptr;
    const profile::RandomLoss rl = random ? *random : profile::RandomLoss{};
    p.any("loss_pct", pct(rl.p), random ? "loss " + pct_text(rl.p) : "");
    p.any("loss_correlation_pct", pct(rl.correlation), rl.correlation ? "corr " + pct_text(rl.correlation) : "");
    if (const auto* ge = imp.loss ? std::get_if<profile::GilbertElliott>(&imp.loss->model) : nullptr) {
        p.any("loss_model", "gilbert-elliott", "loss gilbert-elliott");
        p.any("loss_params_pct", {pct(ge->p), pct(ge->r), pct(ge->one_minus_h), pct(ge->one_minus_k)},
              "p " + pct_text(ge->p) + " r " + pct_text(ge->r) + " 1-h " + pct_text(ge->one_minus_h) + " 1-k " +
                  pct_text(ge->one_minus_k));
    } else if (const auto* m = imp.loss ? std::get_if<profile::Markov4>(&imp.loss->model) : nullptr) {
        p.any("loss_model", "markov4", "loss markov4");
        p.any("loss_params_pct", {pct(m->p13), pct(m->p31), pct(m->p32), pct(m->p23), pct(m->p14)},
              "p13 " + pct_text(m->p13) + " p31 " + pct_text(m->p31) + " p32 " + pct_text(m->p32) + " p23 " +
                  pct_text(m->p23) + " p14 " + pct_text(m->p14));
    } else {
        p.any("loss_model", "random", "");
    }
    const bool ecn = imp.loss && imp.loss->ecn;
    p.any("ecn", ecn, ecn ? "ecn" : "");
    const auto dup = imp.duplicate.value_or(profile::Duplicate{});
    p.any("duplicate_pct", pct(dup.p), imp.duplicate ? "duplicate " + pct_text(dup.p) : "");
    p.any("duplicate_correlation_pct", pct(dup.correlation), dup.correlation ? "corr " + pct_text(dup.correlation) : "");
    const auto cor = imp.corrupt.value_or(profile::Corrupt{});
    p.any("corrupt_pct", pct(cor.p), imp.corrupt ? "corrupt " + pct_text(cor.p) : "");
    p.any("corrupt_correlation_pct", pct(cor.correlation), cor.correlation ? "corr " + pct_text(cor.correlation) : "");
    const auto reo = imp.reorder.value_or(profile::Reorder{0, 0, 0});
    p.any("reorder_pct", pct(reo.p), imp.reorder ? "reorder " + pct_text(reo.p) : "");
    p.any("reorder_correlation_pct", pct(reo.correlation), reo.correlation ? "corr " + pct_text(reo.correlation) : "");
    p.any("gap", reo.gap, imp.reorder ? "gap " + std::to_string(reo.gap) : "");
    if (const auto& r = imp.rate) {
        p.any("rate_bytes_per_s", r->bytes_per_sec, "rate " + std::to_string(r->bytes_per_sec * 8) + "bit/s");
        p.any("rate_bits_per_s", r->bytes_per_sec * 8, "");
        p.any("packet_overhead", r->packet_overhead, r->packet_overhead ? "overhead " + std::to_string(r->packet_overhead) : "");
        p.any("cell_size", r->cell_size, r->cell_size ? "cellsize " + std::to_string(r->cell_size) : "");
        p.any("cell_overhead", r->cell_overhead, r->cell_overhead ? "celloverhead " + std::to_string(r->cell_overhead) : "");
    }
    if (const auto& s = imp.slot) {
        p.open("slot", "");
        if (s->distribution) {
            p.any("dist_delay_ms", ms(s->dist_delay), "slot distribution " + num(ms(s->dist_delay)) + "ms");
            p.any("dist_jitter_ms", ms(s->dist_jitter), num(ms(s->dist_jitter)) + "ms");
        } else {
            p.any("min_delay_ms", ms(s->min_delay), "slot " + num(ms(s->min_delay)) + "ms");
            p.any("max_delay_ms", ms(s->max_delay), num(ms(s->max_delay)) + "ms");
        }
        p.any("packets", s->max_packets.value_or(0), s->max_packets ? "packets " + std::to_string(*s->max_packets) : "");
        p.any("bytes", s->max_bytes.value_or(0), s->max_bytes ? "bytes " + std::to_string(*s->max_bytes) : "");
        p.close();
    }
    if (imp.seed) p.any("seed", *imp.seed, "seed " + std::to_string(*imp.seed));
    const auto& st = q.stats;
    p.open("stats", "\n ");
    p.any("bytes", st.bytes, "sent " + std::to_string(st.bytes) + " bytes");
    p.any("packets", st.packets, std::to_string(st.packets) + " pkt");
    p.any("drops", st.drops, "(dropped " + std::to_string(st.drops) + ",");
    p.any("overlimits", st.overlimits, "overlimits " + std::to_string(st.overlimits));
    p.any("requeues", st.requeues, "requeues " + std::to_string(st.requeues) + ")");
    p.any("backlog", st.backlog, "backlog " + std::to_string(st.backlog) + "b");
    p.any("qlen", st.qlen, std::to_string(st.qlen) + "p");
    p.close();
}

}  // namespace

nlohmann::json to_json(const NetemInfo& q) {
    Printer p(true);
    print(p, q);
    return p.json();
}

std::string to_text(const NetemInfo& q) {
    Printer p(false);
    print(p, q);
    return p.text();
}

}  // namespace netchaos::netem
