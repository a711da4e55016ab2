#include "netem/show.hpp"

#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/tc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <sstream>

#include "netem/netlink.hpp"
#include "netem/tcmsgs.hpp"

namespace netchaos::netem {

namespace {

constexpr double u32max = std::numeric_limits<std::uint32_t>::max();
double frac(std::uint32_t v) { return v / u32max; }

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

}  // namespace

NetemExtras decode_netem_extras(std::span<const std::uint8_t> o) {
    NetemExtras x;
    const std::size_t skip = MNL_ALIGN(sizeof(tc_netem_qopt));
    if (o.size() <= skip) return x;
    std::uint32_t rate32 = 0;
    std::optional<std::uint64_t> rate64;
    bool has_rate = false;
    for_each_attr(o.data() + skip, o.size() - skip, [&](const nlattr* a) {
        switch (mnl_attr_get_type(a)) {
        case TCA_NETEM_LATENCY64: { std::int64_t v; if (read_attr(a, v)) x.latency_ns = v; break; }
        case TCA_NETEM_JITTER64: { std::int64_t v; if (read_attr(a, v)) x.jitter_ns = v; break; }
        case TCA_NETEM_RATE: {
            tc_netem_rate r{};
            if (read_attr(a, r)) {
                has_rate = true;
                rate32 = r.rate;
                x.packet_overhead = r.packet_overhead;
                x.cell_size = r.cell_size;
                x.cell_overhead = r.cell_overhead;
            }
            break;
        }
        case TCA_NETEM_RATE64: { std::uint64_t v; if (read_attr(a, v)) rate64 = v; break; }
        case TCA_NETEM_ECN: { std::uint32_t v; if (read_attr(a, v)) x.ecn = v != 0; break; }
        case TCA_NETEM_SLOT: {
            tc_netem_slot s{};
            if (read_attr(a, s)) {
                x.slot_min_ns = s.min_delay;
                x.slot_max_ns = s.max_delay;
                x.slot_packets = s.max_packets;
                x.slot_bytes = s.max_bytes;
                if (s.dist_delay || s.dist_jitter) {
                    x.slot_dist_delay_ns = s.dist_delay;
                    x.slot_dist_jitter_ns = s.dist_jitter;
                }
            }
            break;
        }
        case 14: { std::uint64_t v; if (read_attr(a, v)) x.seed = v; break; }   // PRNG_SEED (6.4+)
        case TCA_NETEM_LOSS:
            for_each_attr(static_cast<const std::uint8_t*>(mnl_attr_get_payload(a)), mnl_attr_get_payload_len(a),
                          [&](const nlattr* l) {
                              if (mnl_attr_get_type(l) == NETEM_LOSS_GE) {
                                  tc_netem_gemodel g{};
                                  if (!read_attr(l, g)) return;
                                  x.loss_model = "gilbert-elliott";
                                  // The kernel keeps h; people (and tc) speak of 1-h.
                                  x.loss_params = {frac(g.p), frac(g.r), 1.0 - frac(g.h), frac(g.k1)};
                              } else if (mnl_attr_get_type(l) == NETEM_LOSS_GI) {
                                  tc_netem_gimodel g{};
                                  if (!read_attr(l, g)) return;
                                  x.loss_model = "markov4";
                                  x.loss_params = {frac(g.p13), frac(g.p31), frac(g.p32), frac(g.p14), frac(g.p23)};
                              }
                          });
            break;
        default:
            break;
        }
    });
    if (has_rate) x.rate_bytes = rate64 ? *rate64 : rate32;
    return x;
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
        if (!idx) return make_error("no such interface: " + *dev, 4);
        wanted.push_back(idx);
        if (int ifb = static_cast<int>(if_nametoindex(ifb_name_for(*dev).c_str()))) wanted.push_back(ifb);
    }
    auto want = [&](int idx) {
        return wanted.empty() || std::find(wanted.begin(), wanted.end(), idx) != wanted.end();
    };

    // Raw options for what libnl does not decode, keyed by (ifindex, handle).
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
        auto* q = reinterpret_cast<rtnl_qdisc*>(o);
        rtnl_tc* tc = TC_CAST(q);
        const char* kind = rtnl_tc_get_kind(tc);
        if (!kind || std::strcmp(kind, "netem") != 0 || !want(rtnl_tc_get_ifindex(tc))) continue;
        NetemInfo n;
        n.ifindex = rtnl_tc_get_ifindex(tc);
        char name[IF_NAMESIZE] = {};
        n.dev = if_indextoname(n.ifindex, name) ? name : std::to_string(n.ifindex);
        n.handle = rtnl_tc_get_handle(tc);
        n.parent = rtnl_tc_get_parent(tc);
        // libnl returns the kernel's u32 fractions as int, and times in microseconds.
        auto f = [](int v) { return frac(static_cast<std::uint32_t>(v)); };
        n.limit = static_cast<std::uint32_t>(rtnl_netem_get_limit(q));
        n.gap = static_cast<std::uint32_t>(std::max(0, rtnl_netem_get_gap(q)));
        n.delay_ms = std::max(0, rtnl_netem_get_delay(q)) / 1000.0;
        n.jitter_ms = std::max(0, rtnl_netem_get_jitter(q)) / 1000.0;
        n.delay_corr = f(rtnl_netem_get_delay_correlation(q));
        n.loss = f(rtnl_netem_get_loss(q));
        n.loss_corr = f(rtnl_netem_get_loss_correlation(q));
        n.duplicate = f(rtnl_netem_get_duplicate(q));
        n.duplicate_corr = f(rtnl_netem_get_duplicate_correlation(q));
        n.corrupt = f(rtnl_netem_get_corruption_probability(q));
        n.corrupt_corr = f(rtnl_netem_get_corruption_correlation(q));
        n.reorder = f(rtnl_netem_get_reorder_probability(q));
        n.reorder_corr = f(rtnl_netem_get_reorder_correlation(q));
        n.distribution_size = std::max(0, rtnl_netem_get_delay_distribution_size(q));
        n.stats = {rtnl_tc_get_stat(tc, RTNL_TC_BYTES),    rtnl_tc_get_stat(tc, RTNL_TC_PACKETS),
                   rtnl_tc_get_stat(tc, RTNL_TC_DROPS),    rtnl_tc_get_stat(tc, RTNL_TC_OVERLIMITS),
                   rtnl_tc_get_stat(tc, RTNL_TC_BACKLOG),  rtnl_tc_get_stat(tc, RTNL_TC_QLEN),
                   rtnl_tc_get_stat(tc, RTNL_TC_REQUEUES)};
        if (auto it = raw.find({n.ifindex, n.handle}); it != raw.end()) {
            n.extras = decode_netem_extras(it->second);
            // LATENCY64/JITTER64 are exact; libnl went through 64 ns ticks.
            if (n.extras.latency_ns) n.delay_ms = *n.extras.latency_ns / 1e6;
            if (n.extras.jitter_ns) n.jitter_ms = *n.extras.jitter_ns / 1e6;
        }
        out.push_back(std::move(n));
    }
    return out;
}

nlohmann::json to_json(const NetemInfo& q) {
    using nlohmann::json;
    auto pct = [](double f) { return std::round(f * 1e6) / 1e4; };   // percent, 4 decimals
    json j{{"dev", q.dev},
           {"kind", "netem"},
           {"handle", handle_str(q.handle)},
           {"parent", handle_str(q.parent)},
           {"limit", q.limit},
           {"delay_ms", q.delay_ms},
           {"jitter_ms", q.jitter_ms},
           {"delay_correlation_pct", pct(q.delay_corr)},
           {"loss_pct", pct(q.loss)},
           {"loss_correlation_pct", pct(q.loss_corr)},
           {"duplicate_pct", pct(q.duplicate)},
           {"duplicate_correlation_pct", pct(q.duplicate_corr)},
           {"corrupt_pct", pct(q.corrupt)},
           {"corrupt_correlation_pct", pct(q.corrupt_corr)},
           {"reorder_pct", pct(q.reorder)},
           {"reorder_correlation_pct", pct(q.reorder_corr)},
           {"gap", q.gap},
           {"ecn", q.extras.ecn},
           {"stats",
            {{"bytes", q.stats.bytes},
             {"packets", q.stats.packets},
             {"drops", q.stats.drops},
             {"overlimits", q.stats.overlimits},
             {"backlog", q.stats.backlog},
             {"qlen", q.stats.qlen},
             {"requeues", q.stats.requeues}}}};
    const auto& x = q.extras;
    if (x.rate_bytes) {
        j["rate_bytes_per_s"] = *x.rate_bytes;
        j["rate_bits_per_s"] = *x.rate_bytes * 8;
        j["packet_overhead"] = x.packet_overhead;
        j["cell_size"] = x.cell_size;
        j["cell_overhead"] = x.cell_overhead;
    }
    if (!x.loss_model.empty()) {
        std::vector<double> p;
        for (double v : x.loss_params) p.push_back(pct(v));
        j["loss_model"] = x.loss_model;
        j["loss_params_pct"] = p;   // GE: p r 1-h 1-k ; markov4: p13 p31 p32 p14 p23
    } else {
        j["loss_model"] = "random";
    }
    if (x.slot_min_ns) {
        json s{{"min_delay_ms", *x.slot_min_ns / 1e6}, {"max_delay_ms", *x.slot_max_ns / 1e6},
               {"packets", x.slot_packets}, {"bytes", x.slot_bytes}};
        if (x.slot_dist_delay_ns) {
            s["dist_delay_ms"] = *x.slot_dist_delay_ns / 1e6;
            s["dist_jitter_ms"] = *x.slot_dist_jitter_ns / 1e6;
        }
        j["slot"] = s;
    }
    if (x.seed) j["seed"] = *x.seed;
    return j;
}

std::string to_text(const NetemInfo& q) {
    std::ostringstream s;
    auto pct = [](double f) { std::ostringstream o; o << f * 100 << "%"; return o.str(); };
    s << q.dev << ": netem " << handle_str(q.handle) << " parent " << handle_str(q.parent) << " limit " << q.limit;
    if (q.delay_ms > 0 || q.jitter_ms > 0) {
        s << " delay " << q.delay_ms << "ms";
        if (q.jitter_ms > 0) s << " jitter " << q.jitter_ms << "ms";
        if (q.delay_corr > 0) s << " corr " << pct(q.delay_corr);
        if (q.distribution_size > 0) s << " (table " << q.distribution_size << ")";
    }
    const auto& x = q.extras;
    if (!x.loss_model.empty()) {
        s << " loss " << x.loss_model;
        for (double v : x.loss_params) s << " " << pct(v);
    } else if (q.loss > 0) {
        s << " loss " << pct(q.loss);
        if (q.loss_corr > 0) s << " corr " << pct(q.loss_corr);
    }
    if (x.ecn) s << " ecn";
    if (q.duplicate > 0) s << " duplicate " << pct(q.duplicate);
    if (q.corrupt > 0) s << " corrupt " << pct(q.corrupt);
    if (q.reorder > 0) s << " reorder " << pct(q.reorder) << " gap " << q.gap;
    if (x.rate_bytes) s << " rate " << *x.rate_bytes * 8 << "bit/s";
    if (x.slot_min_ns) s << " slot " << *x.slot_min_ns / 1e6 << "ms-" << *x.slot_max_ns / 1e6 << "ms";
    s << "\n  sent " << q.stats.bytes << " bytes " << q.stats.packets << " pkt (dropped " << q.stats.drops
      << ", overlimits " << q.stats.overlimits << ", requeues " << q.stats.requeues << ") backlog "
      << q.stats.backlog << "b " << q.stats.qlen << "p";
    return s.str();
}

}  // namespace netchaos::netem
