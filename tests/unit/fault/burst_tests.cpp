// decide_burst must be decide() n times: the same release times, drawn delays and actions,
// draw for draw from the same seed, for the fast delay-only path and for the general one.
#include <catch2/catch.hpp>

#include "helpers.hpp"

using namespace fault_test;

namespace {
constexpr std::int64_t us = 1000;

// Runs the same packet stream through decide() on one engine and decide_burst() in bursts
// of varying size on another with the same seed; every field must agree.
void same_as_decide(const profile::Impairment& imp, std::uint64_t seed) {
    fault::Engine one(must(imp), seed), burst(must(imp), seed);
    std::int64_t rx[fault::BurstDecisions::max];
    std::uint32_t len[fault::BurstDecisions::max];
    std::uint8_t ecn[fault::BurstDecisions::max];
    std::uint32_t flow[fault::BurstDecisions::max];
    fault::BurstDecisions out;
    std::int64_t t = 0;
    std::size_t checked = 0, pushed = 0, actions = 0;
    for (std::size_t b = 0; b < 3000; ++b) {
        const std::size_t n = 1 + (b * 7919) % fault::BurstDecisions::max;
        for (std::size_t i = 0; i < n; ++i) {
            t += static_cast<std::int64_t>((b * 31 + i * 17) % 5) * us;   // bursts of equal rx times too
            rx[i] = t;
            len[i] = static_cast<std::uint32_t>(60 + (i * 97) % 1400);
            ecn[i] = static_cast<std::uint8_t>(i & 1);
            flow[i] = static_cast<std::uint32_t>(i * 2654435761u);
        }
        burst.decide_burst(n, rx, len, ecn, flow, out);
        bool any = false;
        for (std::size_t i = 0; i < n; ++i) {
            const fault::Decision d = one.decide(rx[i], len[i], ecn[i] != 0, flow[i]);
            REQUIRE(out.release_ns[i] == d.release_ns);
            REQUIRE(out.drawn_ns[i] == d.drawn_ns);
            const bool p = (out.flags[i] & fault::BurstDecisions::pushed) != 0;
            REQUIRE(p == d.pushed);
            REQUIRE(((out.flags[i] & fault::BurstDecisions::drop) != 0) == d.drop);
            REQUIRE(((out.flags[i] & fault::BurstDecisions::ecn_mark) != 0) == d.ecn_mark);
            REQUIRE(((out.flags[i] & fault::BurstDecisions::duplicate) != 0) == (d.copies > 1));
            REQUIRE(((out.flags[i] & fault::BurstDecisions::corrupt) != 0) == d.corrupt);
            if (d.corrupt) REQUIRE(out.corrupt_bit[i] == d.corrupt_bit);
            any = any || d.drop || d.ecn_mark || d.corrupt || d.copies > 1;
            pushed += p;
            ++checked;
        }
        REQUIRE(out.any_action == any);
        actions += any;
    }
    INFO("checked " << checked << ", pushed " << pushed << ", bursts with actions " << actions);
    CHECK(checked > 90000);
}
}  // namespace

TEST_CASE("decide_burst: delay-only models take the batched path and draw exactly as decide") {
    SECTION("normal 100 us, 20 us (jitter over the spacing: order pushes some)") {
        same_as_decide(with_delay(100us, 20us, profile::Distribution::normal), 7);
    }
    SECTION("normal, reorder") {
        auto imp = with_delay(100us, 20us, profile::Distribution::normal);
        imp.delay->order = profile::JitterOrder::reorder;
        same_as_decide(imp, 8);
    }
    SECTION("normal around 0 (negative draws clamp at 0)") {
        same_as_decide(with_delay(5us, 20us, profile::Distribution::normal), 9);
    }
    SECTION("constant") { same_as_decide(with_delay(100us, 0us, profile::Distribution::normal), 10); }
    SECTION("pareto table") { same_as_decide(with_delay(1ms, 300us, profile::Distribution::pareto), 11); }
    SECTION("no impairment") { same_as_decide(profile::Impairment{}, 12); }
}

TEST_CASE("decide_burst: every other model goes through decide, with the same draws") {
    SECTION("a recorded delay trace (a function of time since the first packet)") {
        auto imp = with_delay(100us, 0us, profile::Distribution::normal);
        profile::DelayTrace tr;
        for (int i = 0; i < 200; ++i)
            tr.points.push_back({profile::Duration{i * 1'000'000}, profile::Duration{(i % 2 ? 300 : 20) * 1000}});
        tr.period = profile::Duration{200'000'000};
        imp.delay->trace = tr;
        same_as_decide(imp, 15);
    }
    SECTION("uniform") { same_as_decide(with_delay(100us, 20us, profile::Distribution::uniform), 13); }
    SECTION("correlated normal") { same_as_decide(with_delay(100us, 20us, profile::Distribution::normal, 0.5), 14); }
    SECTION("loss with ecn, duplicate, corrupt, reorder gap") {
        auto imp = with_delay(100us, 20us, profile::Distribution::normal);
        imp.loss = profile::Loss{profile::RandomLoss{0.05, 0.0}, true};
        imp.duplicate = profile::Duplicate{0.02, 0.0};
        imp.corrupt = profile::Corrupt{0.01, 0.0};
        profile::Reorder r;
        r.p = 0.1;
        r.gap = 5;
        imp.reorder = r;
        same_as_decide(imp, 15);
    }
    SECTION("reorder = flow") {
        auto imp = with_delay(100us, 40us, profile::Distribution::normal);
        imp.delay->order = profile::JitterOrder::flow;
        same_as_decide(imp, 16);
    }
}
