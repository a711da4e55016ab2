// replay-check on seeded synthetic traces: two draws of one model pass; a wider sigma, more
// loss, bursty loss against random loss, or a flat replay of a varying original each miss.
#include <catch2/catch.hpp>

#include "replay/check.hpp"
#include "synth.hpp"

using namespace netchaos;
using namespace fit_test;

namespace {
const std::vector<Piece> morning{{Distribution::normal, 12, 1, 40}, {Distribution::normal, 83, 41, 60}, {Distribution::normal, 12, 1, 40}};
}

TEST_CASE("replay-check: two draws of the same 3-piece model pass every gate") {
    auto r = replay::check(draw(morning, 1, 0.002, 0.998), draw(morning, 2, 0.002, 0.998));
    REQUIRE(r);
    CHECK(r->pieces.size() == 3);
    for (const auto& p : r->pieces) CHECK(p.ks < 0.05);
    REQUIRE(r->jitter_r);
    CHECK(r->jitter_gated);
    CHECK(*r->jitter_r > 0.9);
    CHECK(r->pass);
    CHECK(r->misses.empty());
}

TEST_CASE("replay-check: a wider sigma in one piece misses that piece's KS") {
    auto wide = morning;
    wide[1].jitter_ms = 55;
    auto r = replay::check(draw(morning, 1), draw(wide, 2));
    REQUIRE(r);
    CHECK(r->pieces[0].ks_pass);
    CHECK_FALSE(r->pieces[1].ks_pass);
    CHECK(r->pieces[2].ks_pass);
    CHECK_FALSE(r->pass);
}

TEST_CASE("replay-check: loss 4x the original misses; bursts against random loss miss the run lengths") {
    auto r = replay::check(draw(morning, 1, 0.005, 0.995), draw(morning, 2, 0.02, 0.98));
    REQUIRE(r);
    CHECK_FALSE(r->pieces[1].loss_pass);
    CHECK_FALSE(r->pass);
    // Same mean loss (p / (p + r) = 3.2%), runs of mean 1/r = 3.3 against 1.03.
    auto b = replay::check(draw(morning, 1, 0.0323, 0.9677), draw(morning, 2, 0.01, 0.30));
    REQUIRE(b);
    CHECK(b->runs_gated);
    CHECK_FALSE(b->runs_pass);
}

TEST_CASE("replay-check: two draws of the same bursty loss pass the loss gate; 3x its loss still misses") {
    // Gilbert-Elliott p 1%, r 30%: runs of 3.3, so the loss rate's sd is sqrt(5.5) = 2.3x the
    // binomial one. Against the binomial SE alone, 3 "SE" was 1.3 true sd: ~20% of honest
    // replays missed. Seeds 1-8 against 101-108: every one passes (each is ~1 in 370 to miss).
    int passed = 0;
    for (std::uint64_t s = 1; s <= 8; ++s) {
        auto r = replay::check(draw(morning, s, 0.01, 0.30), draw(morning, 100 + s, 0.01, 0.30));
        REQUIRE(r);
        bool all = true;
        for (const auto& p : r->pieces) all = all && p.loss_pass;
        passed += all;
    }
    CHECK(passed == 8);
    auto more = replay::check(draw(morning, 1, 0.01, 0.30), draw(morning, 2, 0.03, 0.30));
    REQUIRE(more);
    CHECK_FALSE(more->pieces[1].loss_pass);
}

TEST_CASE("replay-check: a stationary replay of a varying original misses the jitter_1s correlation") {
    const std::vector<Piece> flat{{Distribution::normal, 50, 30, 140}};
    auto r = replay::check(draw(morning, 1), draw(flat, 2));
    REQUIRE(r);
    CHECK(r->jitter_gated);
    CHECK_FALSE(r->jitter_pass);
}
