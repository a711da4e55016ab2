// Impairment -> RTM_NEWQDISC bytes for netem, built with libmnl. Byte-identical to what
// iproute2 6.1's tc sends for every option tc can express (tests/golden/netem/), plus what tc
// cannot express: sub-microsecond or > 274 s delays (LATENCY64/JITTER64), the PRNG seed, and
// duplicate correlation (tc parses it but forgets to send TCA_NETEM_CORR).
#include "netem/encode.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <variant>

#include "dist/table.hpp"
#include "netem/tcmsgs.hpp"

namespace netchaos::netem {
namespace {

using profile::Duration;

// Newer than the system headers (Linux 6.4); older kernels ignore it (liberal parsing).
constexpr std::uint16_t tca_netem_prng_seed = 14;

// Every fixed-size attribute and the headers fit in 1 KiB; then room for the two tables, each
// either the caller's (up to 16384 entries) or our 4096-entry uniform one. Sized per message:
// zero-filling a constant 66 KiB buffer was most of the encode time for small profiles.
constexpr std::size_t uniform_entries = 4096;
std::size_t buffer_size(const EncodeInput& in) {
    const auto table_bytes = [](const dist::Table& t) {
        return NLA_HDRLEN + std::max(t.size(), uniform_entries) * sizeof(std::int16_t);
    };
    return 1024 + table_bytes(in.delay_dist) + table_bytes(in.slot_dist);
}

// psched ticks: the kernel's PSCHED_SHIFT is 6, so one tick is 64 ns (tc reads the same from
// /proc/net/psched: 1000/64 = 15.625 ticks per microsecond).
constexpr std::int64_t ns_per_tick = 64;

// Probabilities as fractions of UINT32_MAX, rounded the way tc's set_percent does (rint).
std::uint32_t prob(double p) {
    return static_cast<std::uint32_t>(std::rint(p * std::numeric_limits<std::uint32_t>::max()));
}

// tc parses times in whole microseconds and truncates to ticks, saturating at u32; a value it
// could not have sent also goes out as a 64-bit ns attribute, which the kernel prefers.
std::uint32_t ticks(Duration d) {
    const std::int64_t t = d.count() / ns_per_tick;
    return t > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                          : static_cast<std::uint32_t>(t);
}
bool needs_64bit(Duration d) {
    return d.count() % 1000 != 0 || d.count() / ns_per_tick > std::numeric_limits<std::uint32_t>::max();
}

Result<void> check_prob(const char* what, double p) {
    if (!(p >= 0.0 && p <= 1.0)) {
        return make_error(std::string(what) + " must be a probability in [0, 1] (got " + std::to_string(p) + ")", ErrorKind::bad_input);
    }
    return {};
}

Result<void> check_duration(const char* what, Duration d) {
    if (d.count() < 0) return make_error(std::string(what) + " must not be negative", ErrorKind::bad_input);
    return {};
}

// netem_change() silently caps jitter at INT_MAX ns (tabledist takes an s32 sigma).
Result<void> check_jitter(const char* what, Duration d) {
    if (auto r = check_duration(what, d); !r) return r;
    if (d.count() > std::numeric_limits<std::int32_t>::max()) {
        return make_error(std::string(what) + " above 2.147483647s: netem caps jitter there", ErrorKind::bad_input);
    }
    return {};
}

#define NC_TRY(expr)                          \
    do {                                      \
        auto nc_r_ = (expr);                  \
        if (!nc_r_) return nc_r_.error();     \
    } while (0)

// The rules tc checks before it sends anything, plus the ones our model adds.
Result<void> validate(const EncodeInput& in) {
    const auto& imp = in.imp;
    const bool has_delay_table = !in.delay_dist.empty();
    if (in.delay_dist.size() > dist::max_entries || in.slot_dist.size() > dist::max_entries) {
        return make_error("a distribution table has more than 16384 entries (NETEM_DIST_MAX)", ErrorKind::bad_input);
    }
    if (imp.rate && imp.rate->mm_link)
        return make_error("an mm-link trace is a time-varying rate the netem backend cannot follow: use the dpdk backend "
                          "(docs/replay.md)", ErrorKind::bad_input);
    if (const auto& d = imp.delay) {
        // One qdisc holds one delay: a trace is replayed as steps by whoever holds the profile
        // (`netchaos run`: experiment::trace_step_profiles), each step a plain delay.
        if (d->trace)
            return make_error("a delay trace cannot be one netem qdisc: netem replays it as in-place steps, so run it in an experiment "
                              "(`netchaos run`, one step per granularity; docs/replay.md) or on the dpdk backend", ErrorKind::bad_input);
        NC_TRY(check_duration("delay", d->mean));
        NC_TRY(check_jitter("jitter", d->jitter));
        NC_TRY(check_prob("delay correlation", d->correlation));
        if (d->jitter.count() > 0 && d->distribution != profile::Distribution::uniform && !has_delay_table) {
            return make_error("a non-uniform delay distribution needs its table (dist::for_delay)", ErrorKind::bad_input);
        }
    }
    if (has_delay_table && (!imp.delay || imp.delay->mean.count() == 0 || imp.delay->jitter.count() == 0)) {
        return make_error("a delay distribution needs both a delay and a jitter", ErrorKind::bad_input);
    }
    if (const auto& l = imp.loss) {
        if (const auto* r = std::get_if<profile::RandomLoss>(&l->model)) {
            NC_TRY(check_prob("loss", r->p));
            NC_TRY(check_prob("loss correlation", r->correlation));
            if (l->ecn && r->p == 0.0) return make_error("ecn needs a loss probability or loss model", ErrorKind::bad_input);
        } else if (const auto* ge = std::get_if<profile::GilbertElliott>(&l->model)) {
            NC_TRY(check_prob("gilbert-elliott p", ge->p));
            NC_TRY(check_prob("gilbert-elliott r", ge->r));
            NC_TRY(check_prob("gilbert-elliott 1-h", ge->one_minus_h));
            NC_TRY(check_prob("gilbert-elliott 1-k", ge->one_minus_k));
        } else {
            const auto& m = std::get<profile::Markov4>(l->model);
            for (auto [what, p] : {std::pair{"markov4 p13", m.p13}, {"markov4 p31", m.p31},
                                   {"markov4 p32", m.p32}, {"markov4 p23", m.p23}, {"markov4 p14", m.p14}}) {
                NC_TRY(check_prob(what, p));
            }
        }
    }
    if (const auto& d = imp.duplicate) {
        NC_TRY(check_prob("duplicate", d->p));
        NC_TRY(check_prob("duplicate correlation", d->correlation));
    }
    if (const auto& c = imp.corrupt) {
        NC_TRY(check_prob("corrupt", c->p));
        NC_TRY(check_prob("corrupt correlation", c->correlation));
    }
    if (const auto& r = imp.reorder) {
        NC_TRY(check_prob("reorder", r->p));
        NC_TRY(check_prob("reorder correlation", r->correlation));
        if (r->p > 0 && (!imp.delay || ticks(imp.delay->mean) == 0)) {
            return make_error("reorder needs a delay (netem sends reordered packets at once, the rest delayed)", ErrorKind::bad_input);
        }
    }
    if (const auto& s = imp.slot) {
        NC_TRY(check_duration("slot min_delay", s->min_delay));
        NC_TRY(check_duration("slot max_delay", s->max_delay));
        NC_TRY(check_duration("slot delay", s->dist_delay));
        NC_TRY(check_jitter("slot jitter", s->dist_jitter));
        if (s->max_delay.count() != 0 && s->max_delay < s->min_delay) {
            return make_error("slot max_delay is below min_delay", ErrorKind::bad_input);
        }
        if ((s->max_packets && *s->max_packets < 0) || (s->max_bytes && *s->max_bytes < 0)) {
            return make_error("slot packets/bytes must not be negative", ErrorKind::bad_input);
        }
        const bool wants_table = s->distribution && *s->distribution != profile::Distribution::uniform;
        if (wants_table && in.slot_dist.empty()) {
            return make_error("a non-uniform slot distribution needs its table (dist::for_distribution)", ErrorKind::bad_input);
        }
    }
    if (!in.slot_dist.empty() && !(imp.slot && imp.slot->distribution)) {
        return make_error("a slot table was given without a slot distribution", ErrorKind::bad_input);
    }
    return {};
}

}  // namespace

const dist::Table& uniform_table() {
    static const dist::Table t = [] {
        constexpr std::size_t n = uniform_entries;
        dist::Table out(n);
        for (std::size_t k = 0; k < n; ++k) {
            out[k] = static_cast<std::int16_t>(
                std::lrint(-dist::scale + (2.0 * static_cast<double>(k) + 1) * dist::scale / n));
        }
        return out;
    }();
    return t;
}

namespace {

// Appends TCA_OPTIONS (qopt + TCA_NETEM_* attributes) to nlh. TCA_OPTIONS is not flagged
// NLA_F_NESTED (tc does not, and netem parses it as qopt followed by attributes), so it is
// opened by hand rather than with mnl_attr_nest_start.
//
// reset: netem_change() only updates the features whose attribute is present, so a replace or
// change that leaves one out keeps the old qdisc's value (a phase without corruption would
// keep corrupting). With reset, every feature is sent, with neutral values when absent.
Result<nlattr*> put_options(nlmsghdr* nlh, std::size_t cap, const EncodeInput& in, bool reset) {
    const auto& imp = in.imp;
    tc_netem_qopt qopt{};
    qopt.limit = imp.limit;
    tc_netem_corr corr{};
    bool want_corr = reset;

    if (const auto& d = imp.delay) {
        qopt.latency = ticks(d->mean);
        qopt.jitter = ticks(d->jitter);
        corr.delay_corr = prob(d->correlation);
        want_corr |= d->correlation != 0;
    }
    if (const auto& l = imp.loss) {
        if (const auto* r = std::get_if<profile::RandomLoss>(&l->model)) {
            qopt.loss = prob(r->p);
            corr.loss_corr = prob(r->correlation);
            want_corr |= r->correlation != 0;
        }
    }
    if (const auto& d = imp.duplicate) {
        qopt.duplicate = prob(d->p);
        corr.dup_corr = prob(d->correlation);
        want_corr |= d->correlation != 0;
    }
    // tc sends CORR whenever any correlation was typed, including reorder's and corrupt's,
    // which live in their own attributes; do the same so the bytes match.
    if (imp.reorder) want_corr |= imp.reorder->correlation != 0;
    if (imp.corrupt) want_corr |= imp.corrupt->correlation != 0;
    if (imp.reorder && imp.reorder->p > 0) qopt.gap = imp.reorder->gap == 0 ? 1 : imp.reorder->gap;

    auto* opts = static_cast<nlattr*>(mnl_nlmsg_get_payload_tail(nlh));
    const auto put = [&](std::uint16_t type, std::size_t len, const void* data) {
        return mnl_attr_put_check(nlh, cap, type, len, data);
    };
    bool ok = put(TCA_OPTIONS, sizeof(qopt), &qopt);

    if (const auto& d = imp.delay) {
        if (needs_64bit(d->mean)) ok = ok && mnl_attr_put_u64_check(nlh, cap, TCA_NETEM_LATENCY64, d->mean.count());
        if (needs_64bit(d->jitter)) ok = ok && mnl_attr_put_u64_check(nlh, cap, TCA_NETEM_JITTER64, d->jitter.count());
    }
    if (want_corr) ok = ok && put(TCA_NETEM_CORR, sizeof(corr), &corr);
    if (imp.reorder || reset) {
        const auto r = imp.reorder.value_or(profile::Reorder{0, 0, 0});
        const tc_netem_reorder v{prob(r.p), prob(r.correlation)};
        ok = ok && put(TCA_NETEM_REORDER, sizeof(v), &v);
    }
    const bool ecn = imp.loss && imp.loss->ecn;
    if (ecn || reset) ok = ok && mnl_attr_put_u32_check(nlh, cap, TCA_NETEM_ECN, ecn ? 1 : 0);
    if (imp.corrupt || reset) {
        const auto c = imp.corrupt.value_or(profile::Corrupt{0, 0});
        const tc_netem_corrupt v{prob(c.p), prob(c.correlation)};
        ok = ok && put(TCA_NETEM_CORRUPT, sizeof(v), &v);
    }
    const dist::Table* slot_table = in.slot_dist.empty() ? nullptr : &in.slot_dist;
    if (imp.slot || reset) {
        tc_netem_slot v{};  // all zero: slotting off
        if (const auto& s = imp.slot) {
            const std::int64_t lo = s->min_delay.count();
            const std::int64_t hi = s->max_delay.count() == 0 ? lo : s->max_delay.count();
            // The kernel turns slotting on only if min | max | dist_jitter is non-zero, and
            // with a slot table it draws from the table and ignores min/max.
            if (s->distribution) {
                v.dist_delay = s->dist_delay.count();
                v.dist_jitter = s->dist_jitter.count();
                if (v.dist_jitter == 0) v.min_delay = v.max_delay = v.dist_delay;  // fixed spacing
                // Without a table the kernel would use min/max, not a uniform spread.
                if (*s->distribution == profile::Distribution::uniform && !slot_table) slot_table = &uniform_table();
            } else {
                // Known gap: after a slot *distribution*, the kernel keeps using the old slot
                // table for a later min/max window. Sending the window as a uniform table would
                // fix that but make every readback say "slot distribution"; the switch from a
                // slot distribution to a slot window is rare, so the window stays tc's.
                v.min_delay = lo;
                v.max_delay = hi;
            }
            v.max_packets = s->max_packets.value_or(0);
            v.max_bytes = s->max_bytes.value_or(0);
        }
        ok = ok && put(TCA_NETEM_SLOT, sizeof(v), &v);
    }
    if (imp.loss && !std::holds_alternative<profile::RandomLoss>(imp.loss->model)) {
        nlattr* nest = mnl_attr_nest_start_check(nlh, cap, TCA_NETEM_LOSS);
        ok = ok && nest != nullptr;
        if (const auto* ge = std::get_if<profile::GilbertElliott>(&imp.loss->model)) {
            // tc takes 1-h (loss probability in the bad state); the kernel wants h.
            const tc_netem_gemodel v{prob(ge->p), prob(ge->r),
                                     std::numeric_limits<std::uint32_t>::max() - prob(ge->one_minus_h),
                                     prob(ge->one_minus_k)};
            ok = ok && put(NETEM_LOSS_GE, sizeof(v), &v);
        } else {
            const auto& m = std::get<profile::Markov4>(imp.loss->model);
            // Struct order is p13 p31 p32 p14 p23, not the CLI's p13 p31 p32 p23 p14.
            const tc_netem_gimodel v{prob(m.p13), prob(m.p31), prob(m.p32), prob(m.p14), prob(m.p23)};
            ok = ok && put(NETEM_LOSS_GI, sizeof(v), &v);
        }
        if (ok) mnl_attr_nest_end(nlh, nest);
    }
    const auto rate = netem_rate(imp);
    if (rate || reset) {
        // Rate 0 switches the rate off, which also gives order back to tfifo (reorder = true).
        const auto r = rate.value_or(profile::Rate{});
        tc_netem_rate v{};
        if (r.bytes_per_sec > std::numeric_limits<std::uint32_t>::max()) {
            ok = ok && mnl_attr_put_u64_check(nlh, cap, TCA_NETEM_RATE64, r.bytes_per_sec);
            v.rate = std::numeric_limits<std::uint32_t>::max();
        } else {
            v.rate = static_cast<std::uint32_t>(r.bytes_per_sec);
        }
        v.packet_overhead = r.packet_overhead;
        v.cell_size = r.cell_size;
        v.cell_overhead = r.cell_overhead;
        ok = ok && put(TCA_NETEM_RATE, sizeof(v), &v);
    }
    if (imp.seed) ok = ok && mnl_attr_put_u64_check(nlh, cap, tca_netem_prng_seed, *imp.seed);
    const dist::Table* delay_table = in.delay_dist.empty() ? nullptr : &in.delay_dist;
    if (reset && !delay_table && imp.delay && imp.delay->jitter.count() > 0) delay_table = &uniform_table();
    if (delay_table) {
        ok = ok && put(TCA_NETEM_DELAY_DIST, delay_table->size() * sizeof(std::int16_t), delay_table->data());
    }
    if (slot_table) {
        ok = ok && put(TCA_NETEM_SLOT_DIST, slot_table->size() * sizeof(std::int16_t), slot_table->data());
    }
    if (!ok) return make_error("netem message does not fit in " + std::to_string(cap) + " bytes");
    // nla_len is 16 bits: two full 16384-entry tables (2 x 32 KiB) cannot both fit.
    const auto len = static_cast<std::size_t>(static_cast<char*>(mnl_nlmsg_get_payload_tail(nlh)) -
                                              reinterpret_cast<char*>(opts));
    if (len > std::numeric_limits<std::uint16_t>::max()) {
        return make_error("netem options are " + std::to_string(len) +
                              " bytes, over netlink's 65535-byte attribute limit: use smaller delay/slot tables "
                              "(together at most ~32700 entries)", ErrorKind::bad_input);
    }
    opts->nla_len = static_cast<std::uint16_t>(len);
    return opts;
}

std::uint16_t op_flags(Op op) {
    switch (op) {
        case Op::add: return NLM_F_CREATE | NLM_F_EXCL;
        case Op::replace: return NLM_F_CREATE | NLM_F_REPLACE;
        case Op::change: return 0;
    }
    return 0;
}

}  // namespace

std::optional<profile::Rate> netem_rate(const profile::Impairment& imp) {
    if (imp.rate) return imp.rate;
    // Also without jitter: a constant delay keeps order either way, and sending the rate
    // makes the readback say what the profile said.
    if (imp.delay && imp.delay->order == profile::JitterOrder::preserve) return profile::Rate::link(order_keeping_rate);
    return std::nullopt;
}

Result<std::vector<std::uint8_t>> encode_qdisc(const EncodeInput& in, const QdiscTarget& t, Op op,
                                               std::uint32_t seq) {
    NC_TRY(validate(in));
    NlRequest m(RTM_NEWQDISC, static_cast<std::uint16_t>(NLM_F_ACK | op_flags(op)), seq, buffer_size(in));
    m.tc(t.ifindex, t.parent, t.handle);
    if (!mnl_attr_put_strz_check(m.nlh(), m.capacity(), TCA_KIND, "netem"))
        return make_error("netem message buffer too small");
    auto opts = put_options(m.nlh(), m.capacity(), in, op != Op::add);
    if (!opts) return opts.error();
    return std::move(m).done();
}

Result<std::vector<std::uint8_t>> encode_options(const EncodeInput& in) {
    auto msg = encode_qdisc(in, QdiscTarget{}, Op::add, 0);
    if (!msg) return msg.error();
    // Walk the message's attributes to TCA_OPTIONS and return its payload.
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg->data());
    const auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(tcmsg)));
         mnl_attr_ok(attr, static_cast<int>(end - reinterpret_cast<const char*>(attr)));
         attr = mnl_attr_next(attr)) {
        if (mnl_attr_get_type(attr) == TCA_OPTIONS) {
            const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(attr));
            return std::vector<std::uint8_t>(p, p + mnl_attr_get_payload_len(attr));
        }
    }
    return make_error("internal: encoded netem message has no TCA_OPTIONS");
}

}  // namespace netchaos::netem
