// Encoder behaviour beyond what tc can express, validation, and table sizes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "dist/table.hpp"
#include "netem/encode.hpp"

using namespace netchaos;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t qopt_size = sizeof(tc_netem_qopt);

// The TCA_NETEM_* attributes after tc_netem_qopt, by type (payload bytes), in order.
struct Attrs {
    std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> list;
    const std::vector<std::uint8_t>* get(std::uint16_t type) const {
        for (const auto& [t, v] : list) if (t == type) return &v;
        return nullptr;
    }
    std::vector<std::uint16_t> types() const {
        std::vector<std::uint16_t> out;
        for (const auto& [t, v] : list) out.push_back(t);
        return out;
    }
};

Attrs parse(const std::vector<std::uint8_t>& opts) {
    Attrs a;
    std::size_t off = NLA_ALIGN(qopt_size);
    while (off + 4 <= opts.size()) {
        std::uint16_t len, type;
        std::memcpy(&len, &opts[off], 2);
        std::memcpy(&type, &opts[off + 2], 2);
        REQUIRE(len >= 4);
        REQUIRE(off + len <= opts.size());
        a.list.emplace_back(type, std::vector<std::uint8_t>(opts.begin() + off + 4, opts.begin() + off + len));
        off += NLA_ALIGN(len);
    }
    REQUIRE(off == opts.size());
    return a;
}

template <class T>
T as(const std::vector<std::uint8_t>& v) {
    REQUIRE(v.size() == sizeof(T));
    T t;
    std::memcpy(&t, v.data(), sizeof t);
    return t;
}

tc_netem_qopt qopt_of(const std::vector<std::uint8_t>& opts) {
    REQUIRE(opts.size() >= qopt_size);
    tc_netem_qopt q;
    std::memcpy(&q, opts.data(), sizeof q);
    return q;
}

// reorder = true: no order-keeping rate in the way of what a test looks at.
netem::EncodeInput with_delay(profile::Duration mean, profile::Duration jitter,
                              profile::JitterOrder order = profile::JitterOrder::reorder) {
    netem::EncodeInput in;
    in.imp.delay = profile::Delay{};
    in.imp.delay->mean = mean;
    in.imp.delay->jitter = jitter;
    in.imp.delay->order = order;
    return in;
}

// The TCA_OPTIONS payload inside a complete message.
std::vector<std::uint8_t> options_in(const std::vector<std::uint8_t>& msg) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
    const auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    for (auto* a = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(tcmsg)));
         mnl_attr_ok(a, static_cast<int>(end - reinterpret_cast<const char*>(a))); a = mnl_attr_next(a)) {
        if (mnl_attr_get_type(a) == TCA_OPTIONS) {
            const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
            return {p, p + mnl_attr_get_payload_len(a)};
        }
    }
    FAIL("no TCA_OPTIONS in the message");
    return {};
}

}  // namespace

TEST_CASE("delays tc can express go in ticks only; others add LATENCY64/JITTER64 in ns") {
    auto plain = netem::encode_options(with_delay(10ms, 2ms));
    REQUIRE(plain.ok());
    CHECK(qopt_of(*plain).latency == 156250u);  // 10 ms = 156250 ticks of 64 ns
    CHECK(qopt_of(*plain).jitter == 31250u);
    CHECK(parse(*plain).list.empty());

    auto fine = netem::encode_options(with_delay(1500ns, 100ns));   // sub-microsecond
    REQUIRE(fine.ok());
    CHECK(qopt_of(*fine).latency == 23u);
    const auto a = parse(*fine);
    CHECK(a.types() == std::vector<std::uint16_t>{TCA_NETEM_LATENCY64, TCA_NETEM_JITTER64});
    CHECK(as<std::int64_t>(*a.get(TCA_NETEM_LATENCY64)) == 1500);
    CHECK(as<std::int64_t>(*a.get(TCA_NETEM_JITTER64)) == 100);

    // netem caps jitter at INT_MAX ns (2.147 s, seen in the qemu guest): refuse rather than cap.
    auto capped = netem::encode_options(with_delay(10s, 3s));
    REQUIRE_FALSE(capped.ok());
    CHECK_THAT(capped.error().message, Catch::Contains("2.147483647s"));
    CHECK(netem::encode_options(with_delay(10s, 2147483647ns)).ok());

    auto huge = netem::encode_options(with_delay(300s, 0ns));  // > 2^32 ticks (274.9 s)
    REQUIRE(huge.ok());
    CHECK(qopt_of(*huge).latency == 0xFFFFFFFFu);
    CHECK(as<std::int64_t>(*parse(*huge).get(TCA_NETEM_LATENCY64)) == 300'000'000'000);
    CHECK(parse(*huge).get(TCA_NETEM_JITTER64) == nullptr);
}

TEST_CASE("seed goes out as TCA_NETEM_PRNG_SEED (u64), after RATE") {
    netem::EncodeInput in;
    in.imp.seed = 0x0123456789abcdefull;
    in.imp.rate = profile::Rate::link(1000);
    auto o = netem::encode_options(in);
    REQUIRE(o.ok());
    const auto a = parse(*o);
    CHECK(a.types() == std::vector<std::uint16_t>{TCA_NETEM_RATE, 14});
    CHECK(as<std::uint64_t>(*a.get(14)) == 0x0123456789abcdefull);
}

TEST_CASE("duplicate correlation is sent (tc parses it but forgets TCA_NETEM_CORR)") {
    netem::EncodeInput in;
    in.imp.duplicate = profile::Duplicate{0.02, 0.5};
    auto o = netem::encode_options(in);
    REQUIRE(o.ok());
    const auto corr = as<tc_netem_corr>(*parse(*o).get(TCA_NETEM_CORR));
    CHECK(corr.delay_corr == 0u);
    CHECK(corr.loss_corr == 0u);
    CHECK(corr.dup_corr == 0x80000000u);
}

TEST_CASE("probabilities: round(p * UINT32_MAX), 1-h inverted, 4-state struct order") {
    netem::EncodeInput in;
    in.imp.loss = profile::Loss{profile::GilbertElliott{0.0, 1.0, 0.25, 1.0}, false};
    auto ge = netem::encode_options(in);
    REQUIRE(ge.ok());
    const auto& nest = parse(*ge);
    REQUIRE(nest.list.size() == 1);
    CHECK(nest.list[0].first == (TCA_NETEM_LOSS | NLA_F_NESTED));
    const auto& inner = nest.list[0].second;
    REQUIRE(inner.size() == 4 + sizeof(tc_netem_gemodel));
    tc_netem_gemodel g;
    std::memcpy(&g, inner.data() + 4, sizeof g);
    CHECK(g.p == 0u);
    CHECK(g.r == 0xFFFFFFFFu);
    CHECK(g.h == 0xFFFFFFFFu - 0x40000000u);  // 1-h = 25% -> h = 75%
    CHECK(g.k1 == 0xFFFFFFFFu);

    in.imp.loss = profile::Loss{profile::Markov4{0.1, 0.2, 0.3, 0.4, 0.5}, false};
    auto gi = netem::encode_options(in);
    REQUIRE(gi.ok());
    tc_netem_gimodel m;
    std::memcpy(&m, parse(*gi).list.at(0).second.data() + 4, sizeof m);
    CHECK(m.p23 == static_cast<std::uint32_t>(std::rint(0.4 * 4294967295.0)));
    CHECK(m.p14 == static_cast<std::uint32_t>(std::rint(0.5 * 4294967295.0)));
}

TEST_CASE("a 16384-entry delay table plus a slot table fit in one message") {
    netem::EncodeInput in = with_delay(50ms, 10ms);
    in.imp.delay->distribution = profile::Distribution::normal;
    in.delay_dist = dist::generate(profile::Distribution::normal, dist::max_entries);
    in.imp.slot = profile::Slot{};
    in.imp.slot->distribution = profile::Distribution::pareto;
    in.imp.slot->dist_delay = 1ms;
    in.imp.slot->dist_jitter = 1ms;
    in.slot_dist = dist::generate(profile::Distribution::pareto);  // 4096, like pareto.dist
    in.imp.loss = profile::Loss{profile::GilbertElliott{0.01, 0.3, 1.0, 0.0}, true};
    in.imp.rate = profile::Rate::link(10'000'000'000ull);
    in.imp.corrupt = profile::Corrupt{0.01, 0.1};
    in.imp.reorder = profile::Reorder{0.01, 0.1, 2};
    in.imp.seed = 7;

    auto msg = netem::encode_qdisc(in, netem::QdiscTarget{5, 0x10001, 0x20000}, netem::Op::replace, 9);
    REQUIRE(msg.ok());
    CHECK(msg->size() > 32768 + 8192);
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg->data());
    CHECK(nlh->nlmsg_len == msg->size());
    CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE));
    const auto* tcm = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(nlh));
    CHECK(tcm->tcm_ifindex == 5);
    CHECK(tcm->tcm_parent == 0x10001u);
    CHECK(tcm->tcm_handle == 0x20000u);

    auto o = netem::encode_options(in);
    REQUIRE(o.ok());
    const auto a = parse(*o);
    CHECK(a.types() == std::vector<std::uint16_t>{TCA_NETEM_CORR, TCA_NETEM_REORDER, TCA_NETEM_ECN, TCA_NETEM_CORRUPT,
                                                   TCA_NETEM_SLOT, TCA_NETEM_LOSS | NLA_F_NESTED, TCA_NETEM_RATE64,
                                                   TCA_NETEM_RATE, 14, TCA_NETEM_DELAY_DIST, TCA_NETEM_SLOT_DIST});
    CHECK(a.get(TCA_NETEM_DELAY_DIST)->size() == 32768);
    CHECK(a.get(TCA_NETEM_SLOT_DIST)->size() == 8192);
    CHECK(std::memcmp(a.get(TCA_NETEM_DELAY_DIST)->data(), in.delay_dist.data(), 32768) == 0);

    // Two full tables overflow TCA_OPTIONS' 16-bit length: a clear error, not a wrapped length.
    in.slot_dist = dist::generate(profile::Distribution::pareto, dist::max_entries);
    auto two = netem::encode_options(in);
    REQUIRE_FALSE(two.ok());
    CHECK_THAT(two.error().message, Catch::Contains("65535"));
}

TEST_CASE("invalid impairments are rejected with a reason, like tc does") {
    const auto err = [](const netem::EncodeInput& in) {
        auto r = netem::encode_options(in);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
        return r.error().message;
    };
    CHECK_THAT(err(with_delay(-1ms, 0ns)), Catch::Contains("negative"));

    netem::EncodeInput p;
    p.imp.loss = profile::Loss{profile::RandomLoss{1.5, 0}, false};
    CHECK_THAT(err(p), Catch::Contains("loss"));

    netem::EncodeInput ecn;
    ecn.imp.loss = profile::Loss{profile::RandomLoss{0, 0}, true};
    CHECK_THAT(err(ecn), Catch::Contains("ecn"));

    netem::EncodeInput reorder;
    reorder.imp.reorder = profile::Reorder{0.1, 0, 1};
    CHECK_THAT(err(reorder), Catch::Contains("reorder needs a delay"));

    auto notable = with_delay(10ms, 5ms);
    notable.imp.delay->distribution = profile::Distribution::normal;
    CHECK_THAT(err(notable), Catch::Contains("table"));

    auto nojitter = with_delay(10ms, 0ns);
    nojitter.delay_dist = {1, 2, 3};
    CHECK_THAT(err(nojitter), Catch::Contains("jitter"));

    auto big = with_delay(10ms, 5ms);
    big.delay_dist.assign(dist::max_entries + 1, 0);
    CHECK_THAT(err(big), Catch::Contains("16384"));

    netem::EncodeInput slot;
    slot.imp.slot = profile::Slot{};
    slot.imp.slot->min_delay = 5ms;
    slot.imp.slot->max_delay = 1ms;
    CHECK_THAT(err(slot), Catch::Contains("max_delay"));
}

TEST_CASE("limit alone still sends qopt with netem's defaults") {
    netem::EncodeInput in;
    auto o = netem::encode_options(in);
    REQUIRE(o.ok());
    CHECK(o->size() == qopt_size);
    CHECK(qopt_of(*o).limit == 1000u);
}

TEST_CASE("replace/change send every feature, neutral when absent (netem_change keeps old values)") {
    // Absent features: CORR, REORDER, ECN, CORRUPT, SLOT and RATE all go out as zeros, so a
    // phase without corruption stops corrupting; add sends only what is set (like tc).
    netem::EncodeInput in;
    in.imp.loss = profile::Loss{profile::RandomLoss{0.05, 0}, false};
    for (auto op : {netem::Op::replace, netem::Op::change}) {
        auto msg = netem::encode_qdisc(in, netem::QdiscTarget{2}, op, 1);
        REQUIRE(msg.ok());
        const auto a = parse(options_in(*msg));
        CHECK(a.types() == std::vector<std::uint16_t>{TCA_NETEM_CORR, TCA_NETEM_REORDER, TCA_NETEM_ECN,
                                                       TCA_NETEM_CORRUPT, TCA_NETEM_SLOT, TCA_NETEM_RATE});
        for (const auto& [t, v] : a.list) {
            INFO("attribute " << t);
            CHECK(std::all_of(v.begin(), v.end(), [](std::uint8_t b) { return b == 0; }));
        }
    }
    auto add = netem::encode_options(in);
    REQUIRE(add.ok());
    CHECK(parse(*add).list.empty());
}

namespace {
Attrs replace_attrs(const netem::EncodeInput& in) {
    auto msg = netem::encode_qdisc(in, netem::QdiscTarget{2}, netem::Op::replace, 1);
    REQUIRE(msg.ok());
    return parse(options_in(*msg));
}

std::vector<std::int16_t> table_of(const std::vector<std::uint8_t>& v) {
    std::vector<std::int16_t> t(v.size() / 2);
    std::memcpy(t.data(), v.data(), v.size());
    return t;
}
}  // namespace

TEST_CASE("replace with uniform jitter sends a uniform table, overriding an old normal one") {
    auto in = with_delay(20ms, 5ms);
    const auto a = replace_attrs(in);
    const auto* d = a.get(TCA_NETEM_DELAY_DIST);
    REQUIRE(d != nullptr);
    const auto t = table_of(*d);
    REQUIRE(t.size() == 4096);
    CHECK(std::is_sorted(t.begin(), t.end()));
    CHECK(t.front() == -8190);
    CHECK(t.back() == 8190);
    double sum = 0;
    for (auto v : t) sum += v;
    CHECK(std::abs(sum / t.size()) < 1.0);
    // Adjacent cells are 4 apart: evenly spread over [-8192, 8192].
    for (std::size_t i = 1; i < t.size(); ++i) REQUIRE(t[i] - t[i - 1] == 4);

    // No jitter: no table needed, none sent.
    CHECK(replace_attrs(with_delay(20ms, 0ns)).get(TCA_NETEM_DELAY_DIST) == nullptr);
}

TEST_CASE("replace with a slot window keeps tc's min/max encoding") {
    netem::EncodeInput in;
    in.imp.slot = profile::Slot{};
    in.imp.slot->min_delay = 1ms;
    in.imp.slot->max_delay = 5ms;
    in.imp.slot->max_packets = 10;
    const auto a = replace_attrs(in);
    const auto s = as<tc_netem_slot>(*a.get(TCA_NETEM_SLOT));
    CHECK(s.min_delay == 1'000'000);
    CHECK(s.max_delay == 5'000'000);
    CHECK(s.dist_jitter == 0);
    CHECK(s.max_packets == 10);
    CHECK(a.get(TCA_NETEM_SLOT_DIST) == nullptr);

    // A slot distribution "uniform" has no iproute2 table: ours spreads it evenly.
    in.imp.slot = profile::Slot{};
    in.imp.slot->distribution = profile::Distribution::uniform;
    in.imp.slot->dist_delay = 2ms;
    in.imp.slot->dist_jitter = 1ms;
    auto add = netem::encode_options(in);
    REQUIRE(add.ok());
    const auto b = parse(*add);
    CHECK(as<tc_netem_slot>(*b.get(TCA_NETEM_SLOT)).dist_jitter == 1'000'000);
    REQUIRE(b.get(TCA_NETEM_SLOT_DIST) != nullptr);
    CHECK(b.get(TCA_NETEM_SLOT_DIST)->size() == 8192);
}

TEST_CASE("reorder = false is netem's rate extension: the profile's rate, or 8 Tbit/s") {
    using profile::JitterOrder;
    const auto rate_of = [](const Attrs& a) -> std::uint64_t {
        const auto* r = a.get(TCA_NETEM_RATE);
        if (!r) return 0;
        const auto* r64 = a.get(TCA_NETEM_RATE64);
        return r64 ? as<std::uint64_t>(*r64) : as<tc_netem_rate>(*r).rate;
    };
    auto keep = with_delay(40ms, 10ms, JitterOrder::preserve);
    auto o = netem::encode_options(keep);
    REQUIRE(o.ok());
    auto a = parse(*o);
    CHECK(a.types() == std::vector<std::uint16_t>{TCA_NETEM_RATE64, TCA_NETEM_RATE});
    CHECK(rate_of(a) == netem::order_keeping_rate);
    CHECK(as<tc_netem_rate>(*a.get(TCA_NETEM_RATE)).rate == 0xFFFFFFFFu);   // RATE64 holds it
    // At 8 Tbit/s a 64 KiB GSO packet takes 65 ns: the rate cannot bind.
    CHECK(65536 * 1'000'000'000ull / netem::order_keeping_rate == 65);

    // A constant delay keeps order anyway; the rate goes out so the readback says reorder = false.
    CHECK(rate_of(parse(*netem::encode_options(with_delay(10ms, 0ns, JitterOrder::preserve)))) ==
          netem::order_keeping_rate);
    // reorder = true: no rate (tfifo sorts by send time).
    CHECK(parse(*netem::encode_options(with_delay(40ms, 10ms, JitterOrder::reorder))).list.empty());
    // The profile's own rate keeps order by itself and is sent unchanged, in either mode.
    for (auto order : {JitterOrder::preserve, JitterOrder::reorder}) {
        auto r = with_delay(40ms, 10ms, order);
        r.imp.rate = profile::Rate::link(1'250'000);
        CHECK(rate_of(parse(*netem::encode_options(r))) == 1'250'000u);
    }
    // No delay: nothing to keep in order, no rate.
    netem::EncodeInput loss_only;
    loss_only.imp.loss = profile::Loss{profile::RandomLoss{0.01, 0}, false};
    CHECK(parse(*netem::encode_options(loss_only)).list.empty());
}

TEST_CASE("a phase switch between reorder = false and true changes the rate in place") {
    // netem_change() only updates attributes present: switching to reorder = true must send
    // RATE 0 (rate off) and to reorder = false the 8 Tbit/s rate, for replace and change alike.
    for (auto op : {netem::Op::replace, netem::Op::change}) {
        auto to_reorder = netem::encode_qdisc(with_delay(40ms, 10ms, profile::JitterOrder::reorder),
                                              netem::QdiscTarget{2}, op, 1);
        REQUIRE(to_reorder.ok());
        const auto a = parse(options_in(*to_reorder));
        REQUIRE(a.get(TCA_NETEM_RATE) != nullptr);
        CHECK(as<tc_netem_rate>(*a.get(TCA_NETEM_RATE)).rate == 0u);
        CHECK(a.get(TCA_NETEM_RATE64) == nullptr);

        auto to_keep = netem::encode_qdisc(with_delay(40ms, 10ms, profile::JitterOrder::preserve),
                                           netem::QdiscTarget{2}, op, 2);
        REQUIRE(to_keep.ok());
        const auto b = parse(options_in(*to_keep));
        REQUIRE(b.get(TCA_NETEM_RATE64) != nullptr);
        CHECK(as<std::uint64_t>(*b.get(TCA_NETEM_RATE64)) == netem::order_keeping_rate);
        CHECK(as<tc_netem_rate>(*b.get(TCA_NETEM_RATE)).rate == 0xFFFFFFFFu);
    }
}
