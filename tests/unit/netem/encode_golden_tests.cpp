// Golden tests: encode_options() must produce exactly the TCA_OPTIONS bytes iproute2's tc sent
// for the same options (captured by scripts/capture-tc-golden.sh into tests/golden/netem/).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <optional>
#include <string>

#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "dist/table.hpp"
#include "netem/apply.hpp"
#include "netem/encode.hpp"
#include "netem/netlink.hpp"
#include "netem/requests.hpp"
#include "netem/tc_words.hpp"
#include "netem/tcmsgs.hpp"
#include "netem/show.hpp"
#include "support.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using profile::Distribution;
using netem_test::EmptyKernel;
using netem_test::hex;
using netem_test::read_golden;

namespace {

// tc parses "1.5%" as 1.5 / 100; doing the same keeps the doubles identical.
double pct(double x) { return x / 100; }

struct Case {
    profile::Impairment imp;
    std::optional<Distribution> delay_table = std::nullopt;  // the table tc loaded for "distribution X"
    std::optional<Distribution> slot_table = std::nullopt;
};

// tc's netem without a rate reorders (tfifo sorts by send time): reorder = true. A profile's
// own rate keeps order either way; keep_order() is reorder = false.
profile::Delay delay(profile::Duration mean, profile::Duration jitter = 0ns, double corr = 0,
                     Distribution d = Distribution::uniform) {
    profile::Delay out;
    out.mean = mean;
    out.jitter = jitter;
    out.correlation = corr;
    out.distribution = d;
    out.order = profile::JitterOrder::reorder;
    return out;
}
profile::Delay keep_order(profile::Delay d) {
    d.order = profile::JitterOrder::preserve;
    return d;
}

profile::Loss loss(profile::LossModel m, bool ecn = false) { return profile::Loss{m, ecn}; }

profile::Slot slot_window(profile::Duration min, profile::Duration max, std::optional<int> packets = {},
                          std::optional<int> bytes = {}) {
    profile::Slot s;
    s.min_delay = min;
    s.max_delay = max;
    s.max_packets = packets;
    s.max_bytes = bytes;
    return s;
}

profile::Slot slot_dist(Distribution d, profile::Duration delay, profile::Duration jitter,
                        std::optional<int> packets = {}, std::optional<int> bytes = {}) {
    profile::Slot s;
    s.distribution = d;
    s.dist_delay = delay;
    s.dist_jitter = jitter;
    s.max_packets = packets;
    s.max_bytes = bytes;
    return s;
}

profile::Rate rate(std::uint64_t bytes_per_sec, int pkt_overhead = 0, unsigned cell = 0, int cell_overhead = 0) {
    return profile::Rate::link(bytes_per_sec, pkt_overhead, cell, cell_overhead);
}

profile::Impairment with(std::function<void(profile::Impairment&)> f) {
    profile::Impairment i;
    f(i);
    return i;
}

// The same options as the tc arguments in each golden file (see its "args:" line).
const std::map<std::string, Case>& cases() {
    using GE = profile::GilbertElliott;
    using M4 = profile::Markov4;
    using RL = profile::RandomLoss;
    static const std::map<std::string, Case> c = {
        {"delay", {with([](auto& i) { i.delay = delay(10ms); })}},
        {"delay_jitter", {with([](auto& i) { i.delay = delay(100ms, 10ms); })}},
        {"delay_jitter_corr", {with([](auto& i) { i.delay = delay(100ms, 10ms, pct(25)); })}},
        {"delay_us", {with([](auto& i) { i.delay = delay(1001us, 3us); })}},
        {"delay_long", {with([](auto& i) { i.delay = delay(200s, 1s); })}},
        {"delay_normal", {with([](auto& i) { i.delay = delay(100ms, 20ms, 0, Distribution::normal); }), Distribution::normal}},
        {"delay_pareto", {with([](auto& i) { i.delay = delay(100ms, 20ms, 0, Distribution::pareto); }), Distribution::pareto}},
        {"delay_paretonormal",
         {with([](auto& i) { i.delay = delay(100ms, 20ms, 0, Distribution::paretonormal); }), Distribution::paretonormal}},
        {"delay_normal_corr",
         {with([](auto& i) { i.delay = delay(50ms, 30ms, pct(25), Distribution::normal); }), Distribution::normal}},
        {"loss_random", {with([](auto& i) { i.loss = loss(RL{pct(1), 0}); })}},
        {"loss_random_corr", {with([](auto& i) { i.loss = loss(RL{pct(0.3), pct(25)}); })}},
        {"loss_tiny", {with([](auto& i) { i.loss = loss(RL{pct(0.0001), 0}); })}},
        {"loss_third", {with([](auto& i) { i.loss = loss(RL{pct(33.333), 0}); })}},
        {"loss_all", {with([](auto& i) { i.loss = loss(RL{1.0, 0}); })}},
        // tc's defaults: r = 1 - p, 1-h = 100%, 1-k = 0%.
        {"loss_gemodel_p", {with([](auto& i) { i.loss = loss(GE{pct(1), 1. - pct(1), 1.0, 0}); })}},
        {"loss_gemodel_pr", {with([](auto& i) { i.loss = loss(GE{pct(5), pct(20), 1.0, 0}); })}},
        {"loss_gemodel_full", {with([](auto& i) { i.loss = loss(GE{pct(1), pct(30), pct(70), pct(0.1)}); })}},
        // tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0.
        {"loss_state_p13", {with([](auto& i) { i.loss = loss(M4{pct(1), 1. - pct(1), 0, 1, 0}); })}},
        {"loss_state_full", {with([](auto& i) { i.loss = loss(M4{pct(1), pct(30), pct(2), pct(80), pct(0.5)}); })}},
        {"ecn_random", {with([](auto& i) { i.loss = loss(RL{pct(2), 0}, true); })}},
        {"ecn_gemodel", {with([](auto& i) { i.loss = loss(GE{pct(1), pct(30), 1.0, 0}, true); })}},
        {"duplicate", {with([](auto& i) { i.duplicate = profile::Duplicate{pct(1), 0}; })}},
        // tc parses "duplicate 2% 50%" but never sends TCA_NETEM_CORR for it: the kernel gets no
        // duplicate correlation, so the equivalent profile has none (see the dup test below).
        {"duplicate_corr", {with([](auto& i) { i.duplicate = profile::Duplicate{pct(2), 0}; })}},
        {"corrupt", {with([](auto& i) { i.corrupt = profile::Corrupt{pct(0.1), 0}; })}},
        {"corrupt_corr", {with([](auto& i) { i.corrupt = profile::Corrupt{pct(0.5), pct(25)}; })}},
        {"reorder", {with([](auto& i) {
             i.delay = delay(10ms);
             i.reorder = profile::Reorder{pct(25), 0, 1};
         })}},
        {"reorder_corr_gap", {with([](auto& i) {
             i.delay = delay(10ms);
             i.reorder = profile::Reorder{pct(25), pct(50), 5};
         })}},
        {"rate", {with([](auto& i) { i.rate = rate(12'500'000); })}},
        {"rate_kbit", {with([](auto& i) { i.rate = rate(8'000); })}},
        {"rate_overheads", {with([](auto& i) { i.rate = rate(1'250'000, 20, 100, -4); })}},
        {"rate_neg_overhead", {with([](auto& i) { i.rate = rate(125'000, -10); })}},
        {"rate_below_2p32", {with([](auto& i) { i.rate = rate(4'250'000'000); })}},
        {"rate64_exact_2p32", {with([](auto& i) { i.rate = rate(4'294'967'296); })}},
        {"rate64", {with([](auto& i) { i.rate = rate(5'000'000'000); })}},
        {"slot_min", {with([](auto& i) { i.slot = slot_window(2ms, 0ns); })}},  // max 0 = same as min
        {"slot_minmax", {with([](auto& i) { i.slot = slot_window(1ms, 5ms); })}},
        {"slot_packets_bytes", {with([](auto& i) { i.slot = slot_window(1ms, 5ms, 10, 64000); })}},
        {"slot_dist_normal",
         {with([](auto& i) { i.slot = slot_dist(Distribution::normal, 2ms, 1ms); }), std::nullopt, Distribution::normal}},
        {"slot_dist_pareto_limits",
         {with([](auto& i) { i.slot = slot_dist(Distribution::pareto, 2ms, 1ms, 5, 1500); }), std::nullopt,
          Distribution::pareto}},
        {"limit", {with([](auto& i) {
             i.limit = 5000;
             i.delay = delay(1ms);
         })}},
        // reorder = false: tc's "rate 8tbit" (netem::order_keeping_rate)
        {"keep_order_delay", {with([](auto& i) { i.delay = keep_order(delay(10ms)); })}},
        {"keep_order_jitter", {with([](auto& i) { i.delay = keep_order(delay(100ms, 10ms)); })}},
        {"keep_order_normal",
         {with([](auto& i) { i.delay = keep_order(delay(40ms, 10ms, 0, Distribution::normal)); }), Distribution::normal}},
        {"reorder_normal", {with([](auto& i) { i.delay = delay(40ms, 10ms, 0, Distribution::normal); }), Distribution::normal}},
        {"replace_keep_order", {with([](auto& i) { i.delay = keep_order(delay(20ms, 5ms)); })}},
        {"combo_wan", {with([](auto& i) {
                           i.delay = delay(50ms, 10ms, pct(25), Distribution::normal);
                           i.loss = loss(RL{pct(0.5), pct(25)});
                           i.duplicate = profile::Duplicate{pct(0.1), 0};
                           i.corrupt = profile::Corrupt{pct(0.05), 0};
                           i.reorder = profile::Reorder{pct(1), pct(50), 3};
                           i.rate = rate(1'250'000);
                           i.limit = 10000;
                       }),
                       Distribution::normal}},
        {"combo_ge_rate_slot", {with([](auto& i) {
             i.delay = delay(20ms);
             i.loss = loss(GE{pct(2), pct(25), pct(90), pct(0)}, true);
             i.rate = rate(125'000'000);
             i.slot = slot_window(500us, 2ms, 20);
         })}},
        {"combo_state_dup", {with([](auto& i) {
             i.loss = loss(M4{pct(2), pct(40), pct(1), pct(70), pct(0.2)});
             i.duplicate = profile::Duplicate{pct(1), 0};  // "1% 10%": tc drops the 10%
             i.corrupt = profile::Corrupt{pct(0.1), 0};
         })}},
        {"combo_two_tables", {with([](auto& i) {
                                  i.delay = delay(30ms, 10ms, 0, Distribution::paretonormal);
                                  i.slot = slot_dist(Distribution::normal, 1ms, 500us);
                              }),
                              Distribution::paretonormal, Distribution::normal}},
        {"combo_mobile", {with([](auto& i) {
                              i.delay = delay(80ms, 40ms, pct(50), Distribution::pareto);
                              i.loss = loss(GE{pct(3), pct(10), 1.0, 0});
                              i.rate = rate(625'000, 14);
                              i.limit = 3000;
                          }),
                          Distribution::pareto}},
        {"combo_all_attrs", {with([](auto& i) {
                                 i.delay = delay(10ms, 5ms, pct(10), Distribution::normal);
                                 i.reorder = profile::Reorder{pct(5), 0, 2};
                                 i.loss = loss(GE{pct(1), 1. - pct(1), 1.0, 0}, true);
                                 i.corrupt = profile::Corrupt{pct(0.1), pct(5)};
                                 i.slot = slot_dist(Distribution::pareto, 1ms, 1ms);
                                 i.rate = rate(5'000'000'000);
                             }),
                             Distribution::normal, Distribution::pareto}},
        {"combo_state_ecn_corrupt", {with([](auto& i) {
             i.delay = delay(5ms);
             i.loss = loss(M4{pct(1), pct(50), 0, 1, 0}, true);
             i.corrupt = profile::Corrupt{pct(1), 0};
             i.duplicate = profile::Duplicate{pct(0.5), 0};
             i.reorder = profile::Reorder{pct(10), 0, 1};
         })}},
        {"replace_delay", {with([](auto& i) { i.delay = delay(20ms, 5ms); })}},
        {"change_loss", {with([](auto& i) { i.loss = loss(RL{pct(5), 0}); })}},
    };
    return c;
}

std::string le16(std::size_t v) { return hex(reinterpret_cast<const std::uint8_t*>(&v), 2); }

// The first differing byte, for a readable failure.
std::string first_diff(const std::string& got, const std::string& want) {
    std::size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    const std::size_t byte = i / 2;
    return "first difference at options byte " + std::to_string(byte) + ": got " +
           got.substr(byte * 2, 32) + " want " + want.substr(byte * 2, 32) + " (lengths " +
           std::to_string(got.size() / 2) + " / " + std::to_string(want.size() / 2) + ")";
}

netem::EncodeInput input_for(const Case& c) {
    netem::EncodeInput in{c.imp, {}, {}};
    if (c.delay_table) in.delay_dist = dist::for_distribution(*c.delay_table).value();
    if (c.slot_table) in.slot_dist = dist::for_distribution(*c.slot_table).value();
    return in;
}

const std::filesystem::path golden_dir = std::filesystem::path(NETCHAOS_SOURCE_DIR) / "tests/golden/netem";

bool debian_tables_present() {
    return std::filesystem::exists("/usr/lib/x86_64-linux-gnu/tc/normal.dist") ||
           std::filesystem::exists("/usr/lib/tc/normal.dist");
}

}  // namespace

TEST_CASE("every golden case has an Impairment and every Impairment a golden file") {
    std::size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(golden_dir)) {
        if (e.path().extension() != ".txt") continue;
        ++files;
        INFO(e.path());
        CHECK(cases().count(e.path().stem().string()) == 1);
    }
    for (const auto& [name, c] : cases()) {
        INFO(name);
        CHECK(std::filesystem::exists(golden_dir / (name + ".txt")));
    }
    CHECK(files == cases().size());
    CHECK(files >= 30);
}

TEST_CASE("encode_options is byte-identical to iproute2's tc for every golden case") {
    // Generated tables equal Debian's files (dist_tests proves it), so the golden cases hold
    // without iproute2 installed too.
    if (!debian_tables_present()) WARN("iproute2 .dist files absent: using generated tables");
    std::size_t identical = 0;
    for (const auto& [name, c] : cases()) {
        const auto g = read_golden(golden_dir / (name + ".txt"));
        INFO(name << ": tc " << g.at("args"));
        REQUIRE_FALSE(g.at("options").empty());
        auto got = netem::encode_options(input_for(c));
        REQUIRE(got.ok());
        const auto h = hex(got.value());
        if (h == g.at("options")) {
            ++identical;
        } else {
            FAIL_CHECK(first_diff(h, g.at("options")));
        }
    }
    CHECK(identical == cases().size());
}

TEST_CASE("encode_qdisc: header, flags per Op, tcmsg and TCA_KIND match tc's message") {
    for (const auto& [name, c] : cases()) {
        const auto g = read_golden(golden_dir / (name + ".txt"));
        INFO(name);
        const std::string verb = g.at("verb");
        const netem::Op op = verb == "replace" ? netem::Op::replace
                             : verb == "change" ? netem::Op::change
                                                : netem::Op::add;
        auto msg = netem::encode_qdisc(input_for(c), netem::QdiscTarget{3, TC_H_ROOT, 0}, op, 77);
        REQUIRE(msg.ok());
        REQUIRE(msg->size() >= NLMSG_HDRLEN);
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg->data());
        CHECK(nlh->nlmsg_len == msg->size());
        CHECK(nlh->nlmsg_type == RTM_NEWQDISC);
        CHECK(nlh->nlmsg_seq == 77u);
        char flags[16];
        std::snprintf(flags, sizeof flags, "0x%x", nlh->nlmsg_flags);
        CHECK(flags == g.at("flags"));
        // Everything after nlmsghdr: tcmsg, TCA_KIND "netem", TCA_OPTIONS (type 2, no NESTED flag).
        const std::string opts = g.at("options");
        const std::string got = hex(msg->data() + NLMSG_HDRLEN, msg->size() - NLMSG_HDRLEN);
        CHECK(g.at("kind") == "netem");
        if (op == netem::Op::add) {
            CHECK(got == g.at("tcmsg") + "0a0001006e6574656d000000" + le16(opts.size() / 2 + 4) + "0200" + opts);
        } else {
            // replace/change also send neutral values for absent features (encode_tests.cpp
            // checks those); the header and tc_netem_qopt are still tc's.
            const std::string head = g.at("tcmsg") + "0a0001006e6574656d000000";
            CHECK(got.substr(0, head.size()) == head);
            CHECK(got.substr(head.size() + 4, 4) == "0200");
            CHECK(got.substr(head.size() + 8, 48) == opts.substr(0, 48));
        }
    }
}

TEST_CASE("read back: impairment_from_options(encode(imp)) == imp for every golden case") {
    // What netem does not dump (tables) is not in the bytes either: the distribution reads back
    // as uniform and a slot distribution's kind as uniform; show --profile takes those from the
    // ledger. Both encodings are read: add's (tc's) and replace's (every feature, neutral when absent).
    for (const auto& [name, c] : cases()) {
        INFO(name);
        auto want = c.imp;
        if (want.delay) want.delay->distribution = Distribution::uniform;
        if (want.slot && want.slot->distribution) want.slot->distribution = Distribution::uniform;
        // A rate keeps order, so a delay with one reads back as reorder = false.
        if (want.delay && want.rate) want.delay->order = profile::JitterOrder::preserve;
        // tc-expressible delays go out in 64 ns ticks only (delay_us: 3us is 46 ticks, 2944 ns;
        // the kernel holds that, as it does for tc).
        if (want.delay) {
            for (auto* d : {&want.delay->mean, &want.delay->jitter})
                if (d->count() % 1000 == 0) *d = profile::Duration(d->count() / 64 * 64);
        }
        // A slot window without max_delay is min..min (what the parser makes of it, and what goes out).
        if (want.slot && !want.slot->distribution && want.slot->max_delay.count() == 0)
            want.slot->max_delay = want.slot->min_delay;
        auto add = netem::encode_options(input_for(c));
        REQUIRE(add.ok());
        CHECK(netem::impairment_from_options(*add) == want);
        auto msg = netem::encode_qdisc(input_for(c), netem::QdiscTarget{3, TC_H_ROOT, 0}, netem::Op::replace, 1);
        REQUIRE(msg.ok());
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg->data());
        const auto* attr = reinterpret_cast<const nlattr*>(msg->data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(tcmsg)));
        attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const std::uint8_t*>(attr) + NLA_ALIGN(attr->nla_len));  // TCA_KIND
        REQUIRE((attr->nla_type & NLA_TYPE_MASK) == TCA_OPTIONS);
        REQUIRE(reinterpret_cast<const std::uint8_t*>(attr) + attr->nla_len <= msg->data() + nlh->nlmsg_len);
        const std::span<const std::uint8_t> opts(reinterpret_cast<const std::uint8_t*>(attr) + NLA_HDRLEN,
                                                 attr->nla_len - NLA_HDRLEN);
        CHECK(netem::impairment_from_options(opts) == want);
    }
}

// apply --dry-run records the requests apply sends (netem::RecordingSender in front of the
// kernel); here the kernel is a fake that has eth0 (index 3) with nothing on it, and answers
// every dump with nothing. The netem request of the dry run must be tc's for every golden case.
namespace {

// The profile a golden case amounts to: its impairment on egress, through [match] or not.
profile::Profile golden_profile(const std::string& name, const Case& c, bool match) {
    profile::Profile p;
    p.name = name;
    p.source = std::filesystem::temp_directory_path() / (name + ".toml");
    p.egress = c.imp;
    if (match) {
        profile::FlowMatch m;
        m.dst = profile::Cidr{"10.0.0.0", 24, false};
        m.protocol = profile::Protocol::udp;
        m.dport = 9000;
        p.classes.push_back({"match", m, std::move(p.egress), std::nullopt});
        p.egress.reset();
    }
    return p;
}

const nlattr* options_attr(const std::vector<std::uint8_t>& msg) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
    const auto* end = reinterpret_cast<const std::uint8_t*>(msg.data()) + nlh->nlmsg_len;
    const auto* at = msg.data() + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(tcmsg));
    while (at + NLA_HDRLEN <= end) {
        const auto* a = reinterpret_cast<const nlattr*>(at);
        if ((a->nla_type & NLA_TYPE_MASK) == TCA_OPTIONS) return a;
        at += NLA_ALIGN(a->nla_len);
    }
    return nullptr;
}

std::string flags_hex(const std::vector<std::uint8_t>& msg) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%x", reinterpret_cast<const nlmsghdr*>(msg.data())->nlmsg_flags);
    return b;
}

}  // namespace

TEST_CASE("apply --dry-run: the netem request is tc's bytes for every golden case, and nothing is written") {
    const auto run_dir = std::filesystem::temp_directory_path() / ("nc-dryrun-" + std::to_string(::getpid()));
    std::filesystem::remove_all(run_dir);
    ::setenv("NETCHAOS_RUN_DIR", run_dir.c_str(), 1);
    std::size_t add_cases = 0, replace_cases = 0;
    for (const auto& [name, c] : cases()) {
        const auto g = read_golden(golden_dir / (name + ".txt"));
        INFO(name << ": tc " << g.at("args"));
        if (g.at("verb") == "change") continue;   // apply never sends a change
        EmptyKernel kernel;
        // A netem `add` is what apply sends under a [match] class; `replace` is its root netem.
        const bool add = g.at("verb") == "add";
        netem::ApplyOptions o{golden_profile(name, c, add), "eth0", false, std::nullopt, false, true, {}};
        auto r = netem::dry_run(o, kernel);
        REQUIRE(r.ok());
        CHECK(kernel.dumps > 0);   // the device's tree was read
        REQUIRE(r->ledger);
        CHECK(r->ledger->complete);
        CHECK(r->ledger->dev == "eth0");
        REQUIRE(r->messages.size() == (add ? 4u : 1u));
        const auto& netem_msg = r->messages[add ? 2 : 0];
        CHECK(flags_hex(netem_msg) == g.at("flags"));
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(netem_msg.data());
        CHECK(nlh->nlmsg_type == RTM_NEWQDISC);
        CHECK(nlh->nlmsg_len == netem_msg.size());
        const auto* opts = options_attr(netem_msg);
        REQUIRE(opts);
        const std::string got = hex(reinterpret_cast<const std::uint8_t*>(opts) + NLA_HDRLEN, opts->nla_len - NLA_HDRLEN);
        const auto* t = reinterpret_cast<const tcmsg*>(netem_msg.data() + NLMSG_HDRLEN);
        CHECK(t->tcm_ifindex == 3);
        if (add) {
            CHECK(got == g.at("options"));
            CHECK(t->tcm_parent == netem::match_class);
            CHECK(t->tcm_handle == netem::match_netem_handle);
            ++add_cases;
        } else {
            // replace sends every feature, neutral when absent (encode_tests.cpp); tc_netem_qopt is tc's.
            CHECK(got.substr(0, 48) == g.at("options").substr(0, 48));
            CHECK(t->tcm_parent == TC_H_ROOT);
            CHECK(t->tcm_handle == netem::own_root_handle);
            ++replace_cases;
        }
        // The same bytes the encoder gives the applier (only the sequence number is the socket's).
        auto in = netem::make_encode_input(c.imp, o.profile.source.parent_path());
        REQUIRE(in.ok());
        auto want = netem::encode_qdisc(*in, netem::QdiscTarget{3, t->tcm_parent, t->tcm_handle},
                                        add ? netem::Op::add : netem::Op::replace, nlh->nlmsg_seq);
        REQUIRE(want.ok());
        CHECK(hex(*want) == hex(netem_msg));
    }
    CHECK(add_cases >= 50);
    CHECK(replace_cases == 2);
    CHECK_FALSE(std::filesystem::exists(run_dir));   // no ledger, no lock directory
    ::unsetenv("NETCHAOS_RUN_DIR");
}

TEST_CASE("apply --dry-run output: each request as the tc command it amounts to") {
    const auto run_dir = std::filesystem::temp_directory_path() / ("nc-dryrun-" + std::to_string(::getpid()));
    ::setenv("NETCHAOS_RUN_DIR", run_dir.c_str(), 1);
    const auto& c = cases().at("combo_ge_rate_slot");
    EmptyKernel kernel;
    netem::ApplyOptions o{golden_profile("combo_ge_rate_slot", c, true), "eth0", false, std::nullopt, false, true, {}};
    auto r = netem::dry_run(o, kernel);
    ::unsetenv("NETCHAOS_RUN_DIR");
    REQUIRE(r.ok());
    const auto reqs = netem::decode_requests(r->messages, [](int i) { return i == 3 ? std::string("eth0") : std::string(); });
    REQUIRE(reqs.size() == 4);
    CHECK(reqs[0].command == "tc qdisc replace dev eth0 root handle 6e63: htb direct_qlen 1000");
    CHECK(reqs[1].command == "tc class add dev eth0 parent 6e63: classid 6e63:1 htb rate 10gbit ceil 10gbit burst 200000 cburst 200000 "
                             "quantum 60000");
    CHECK(reqs[2].command == "tc qdisc add dev eth0 parent 6e63:1 handle 6e64: netem " + netem::netem_words(c.imp).words);
    // match ip dst 10.0.0.0/24, ip protocol 17, dport 9000, as tc's u32 prints its keys
    CHECK(reqs[3].command == "tc filter add dev eth0 parent 6e63: pref 1 protocol ip u32 match u32 0x0a000000 0xffffff00 at 16 "
                             "match u32 0x00110000 0x00ff0000 at 8 match u32 0x00002328 0x0000ffff at 20 classid 6e63:1");
    CHECK(reqs[2].type == "RTM_NEWQDISC");
    CHECK(reqs[2].flags == "REQUEST|ACK|CREATE|EXCL");
    CHECK(reqs[2].hex == hex(r->messages[2]));
    const auto j = netem::to_json(reqs[3]);
    CHECK(j["command"] == reqs[3].command);
    CHECK(j["hex"].get<std::string>().size() == 2 * r->messages[3].size());
}
