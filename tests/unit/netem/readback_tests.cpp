// show --profile without a kernel: every shipped profile, encoded as apply encodes it and
// decoded as show decodes it, with the ledger record apply writes, reads back equal to itself.
// (tests/kernel/10_profiles.sh does the same through a real netem.)
#include <catch2/catch.hpp>

#include <filesystem>
#include <tuple>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include "netem/apply.hpp"
#include "netem/tcmsgs.hpp"
#include "netem/show.hpp"
#include "profile/kind.hpp"
#include "profile/parse.hpp"

using namespace netchaos;

namespace {
// The TCA_OPTIONS payload of a complete message.
std::vector<std::uint8_t> options_of(const std::vector<std::uint8_t>& msg) {
    std::size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(tcmsg));
    while (off + NLA_HDRLEN <= msg.size()) {
        nlattr a;
        std::memcpy(&a, msg.data() + off, sizeof a);
        if ((a.nla_type & NLA_TYPE_MASK) == TCA_OPTIONS)
            return {msg.begin() + static_cast<long>(off + NLA_HDRLEN), msg.begin() + static_cast<long>(off + a.nla_len)};
        off += NLA_ALIGN(a.nla_len);
    }
    FAIL("no TCA_OPTIONS");
    return {};
}
}  // namespace

TEST_CASE("every shipped profile reads back equal to itself (encode, decode, ledger record)") {
    std::size_t checked = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(NETCHAOS_SOURCE_DIR) / "profiles")) {
        if (e.path().extension() != ".toml" || profile::detect_kind(e.path()) != profile::FileKind::profile) continue;
        INFO(e.path());
        auto parsed = profile::parse_profile_file(e.path());
        REQUIRE(parsed.ok());
        const profile::Profile& p = *parsed.value;
        auto places = netem::place(p, false);
        REQUIRE(places.ok());
        netem::Ledger l;
        l.dev = "va";
        l.complete = true;
        l.applied = profile::to_text(p);
        l.applied_from = p.source.string();
        std::vector<netem::NetemInfo> qdiscs;
        std::uint32_t handle = 0x80010000u;
        for (const auto& pl : *places) {
            // Each netem apply puts on this side: the root one, or a class tree's (a class's,
            // the unmatched traffic's), with the handle and parent apply records.
            std::vector<std::tuple<std::uint32_t, std::uint32_t, const profile::Impairment*>> netems;
            if (pl.classes.empty()) netems.emplace_back(0xFFFFFFFFu, netem::own_root_handle, pl.imp);
            else {
                if (pl.imp) netems.emplace_back(netem::unmatched_class, netem::unmatched_netem_handle, pl.imp);
                for (std::size_t i = 0; i < pl.classes.size(); ++i)
                    if (pl.classes[i]) netems.emplace_back(netem::class_id(i), netem::class_netem_handle(i), pl.classes[i]);
            }
            for (const auto& [parent, own, imp] : netems) {
                auto in = netem::make_encode_input(*imp, e.path().parent_path());
                REQUIRE(in.ok());
                // replace: every feature goes out, as the kernel dumps them.
                auto msg = netem::encode_qdisc(*in, netem::QdiscTarget{1, parent, own}, netem::Op::replace, 1);
                REQUIRE(msg.ok());
                netem::NetemInfo q;
                q.dev = pl.ingress ? netem::ifb_name_for("va") : "va";
                q.handle = pl.classes.empty() ? handle++ : own;
                q.parent = parent;
                q.imp = netem::impairment_from_options(options_of(*msg));
                qdiscs.push_back(q);
                netem::Step s;
                s.kind = netem::StepKind::netem;
                s.dev = q.dev;
                s.parent = parent;
                s.handle = pl.classes.empty() ? 0 : own;   // a root netem matched by its parent
                s.side = pl.ingress ? "ingress" : "egress";
                l.steps.push_back(s);
            }
        }
        auto back = netem::read_applied("va", l, qdiscs);
        if (!back.ok()) FAIL(back.error().message);
        REQUIRE(back->has_value());
        CHECK(profile::to_json(**back) == profile::to_json(p));
        ++checked;
    }
    CHECK(checked >= 10);
}

TEST_CASE("show prints order from the read-back qdisc, in text and JSON alike") {
    netem::EncodeInput in;
    in.imp.delay = profile::Delay{};
    in.imp.delay->mean = std::chrono::milliseconds(40);
    in.imp.delay->jitter = std::chrono::milliseconds(10);
    in.imp.loss = profile::Loss{profile::RandomLoss{0.01, 0}, false};
    for (auto order : {profile::JitterOrder::preserve, profile::JitterOrder::reorder}) {
        in.imp.delay->order = order;
        auto msg = netem::encode_qdisc(in, netem::QdiscTarget{1, 0xFFFFFFFFu, 0}, netem::Op::replace, 1);
        REQUIRE(msg.ok());
        netem::NetemInfo q;
        q.dev = "va";
        q.handle = 0x80010000u;
        q.parent = 0xFFFFFFFFu;
        q.imp = netem::impairment_from_options(options_of(*msg));
        const bool keeps = order == profile::JitterOrder::preserve;
        REQUIRE(q.imp.delay);
        CHECK(q.imp.delay->order == order);
        CHECK_FALSE(q.imp.rate);   // the order-keeping rate is not a rate of the profile
        const auto j = netem::to_json(q);
        CHECK(j.at("order") == (keeps ? "preserve" : "reorder"));
        CHECK_FALSE(j.contains("rate_bits_per_s"));
        CHECK(j.at("loss_pct") == 1.0);
        CHECK(j.at("delay_ms") == 40.0);
        const auto t = netem::to_text(q);
        INFO(t);
        CHECK(t.rfind("va: netem 8001: parent root limit 1000 delay 40ms jitter 10ms " +
                          std::string(keeps ? "order preserved" : "reorders") + " loss 1%",
                      0) == 0);
    }
}
