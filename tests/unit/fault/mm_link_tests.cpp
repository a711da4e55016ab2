// mm-link delivery opportunities as the engine's rate: a packet leaves at the opportunity that
// carries its last byte, 1500 bytes each, opportunities before a packet is ready are lost,
// the trace loops with the last line's time as its period.
#include <catch2/catch.hpp>

#include "fault/engine.hpp"
#include "fault/mm_link.hpp"
#include "fault/model.hpp"

using namespace netchaos;

namespace {
constexpr std::int64_t ms = 1'000'000;
}

TEST_CASE("mm-link: opportunities, sharing, spilling, loss of unused ones and looping") {
    const auto l = fault::compile_mm_link({1, 1, 3, 10});   // period 10 ms
    CHECK(l.period == 10 * ms);
    CHECK(l.time(4) == 11 * ms);   // second pass
    CHECK(l.first_at_or_after(0) == 0);
    CHECK(l.first_at_or_after(2 * ms) == 2);
    CHECK(l.first_at_or_after(4 * ms) == 3);
    CHECK(l.first_at_or_after(10 * ms + 1) == 4);   // the second pass starts at 10 ms: its first is 11 ms
    fault::MmCursor c;
    const std::int64_t t0 = 5'000 * ms;
    CHECK(c.release(l, t0, 1000) == t0 + 1 * ms);        // opportunity 0 (1 ms), 500 B left
    CHECK(c.release(l, t0, 500) == t0 + 1 * ms);         // fills it
    CHECK(c.release(l, t0, 1500) == t0 + 1 * ms);        // opportunity 1, also at 1 ms
    CHECK(c.release(l, t0, 1600) == t0 + 10 * ms);       // 1500 at 3 ms, the last 100 B at 10 ms
    CHECK(c.release(l, t0 + 12 * ms, 100) == t0 + 13 * ms);   // 11 ms passed unused: lost; 13 ms is 3 + 10
    // The same packet ready after a long idle time lands in its own pass.
    CHECK(c.release(l, t0 + 1'000'002 * ms, 100) == t0 + 1'000'003 * ms);
}

TEST_CASE("mm-link: the engine's rate follows the opportunities, a switch restarts the trace") {
    profile::Impairment imp;
    imp.rate.emplace();
    imp.rate->bytes_per_sec = 1;   // the parser sets the mean; the opportunities decide
    imp.rate->mm_link = profile::MmLinkTrace{{}, {}};
    for (std::uint32_t i = 1; i <= 100; ++i) imp.rate->mm_link->ms.push_back(i <= 50 ? i : 50 + (i - 50) * 10);   // 1/ms then 1/10 ms
    auto m = fault::compile(imp);
    REQUIRE(m);
    fault::Engine e(*m, 1);
    // A backlog of 1500-byte packets all ready at 0: one per opportunity, in order.
    std::vector<std::int64_t> rel;
    for (int i = 0; i < 120; ++i) rel.push_back(e.decide(0, 1500).release_ns);
    CHECK(rel[0] == 1 * ms);
    CHECK(rel[49] == 50 * ms);
    CHECK(rel[50] == 60 * ms);
    CHECK(rel[99] == 550 * ms);
    CHECK(rel[100] == 551 * ms);   // second pass: period 550 ms
    e.switch_model(*m);
    CHECK(e.decide(10'000 * ms, 1500).release_ns > 10'000 * ms);   // never before the backlog (order kept)
}

TEST_CASE("mm-link: a packet that finds `limit` queued is dropped without taking an opportunity") {
    profile::Impairment imp;
    imp.limit = 5;
    imp.rate.emplace();
    imp.rate->bytes_per_sec = 1;
    imp.rate->mm_link = profile::MmLinkTrace{{}, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100}};
    fault::Engine e(*fault::compile(imp), 1);
    int dropped = 0;
    std::vector<std::int64_t> rel;
    for (int i = 0; i < 20; ++i) {   // 20 packets at once: 5 queue, 15 are tail-dropped
        const auto d = e.decide(0, 1500);   // one opportunity each
        if (d.drop) ++dropped;
        else rel.push_back(d.release_ns);
    }
    CHECK(dropped == 15);
    REQUIRE(rel.size() == 5);
    CHECK(rel.back() == 50 * ms);
    // At 15 ms the first has left: one place, and the link has not run ahead for the drops.
    const auto late = e.decide(15 * ms, 1500);
    CHECK_FALSE(late.drop);
    CHECK(late.release_ns == 60 * ms);
}
