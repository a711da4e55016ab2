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

TEST_CASE("replay-check --resolution: a jitter-free piece shifted and widened by a bench's microseconds passes within it") {
    // The original: 12 ms plus a bench of 40 us, sd 3 us (p99 - p1 ~ 14 us). The replay adds
    // the bench once more after a floor-corrected fit: 5 us later, sd 4.2 us (3 us twice, in
    // quadrature). Plain KS sees a different law; within 15 us it is the same.
    const auto orig = draw({{Distribution::normal, 12.040, 0.003, 40}}, 1);
    const auto repl = draw({{Distribution::normal, 12.045, 0.0042, 40}}, 2);
    auto plain = replay::check(orig, repl);
    REQUIRE(plain);
    CHECK(plain->pieces[0].ks > 0.3);
    CHECK_FALSE(plain->pass);
    replay::CheckOptions o;
    o.resolution_ms = 0.015;
    auto r = replay::check(orig, repl, o);
    REQUIRE(r);
    REQUIRE(r->pieces.size() == 1);
    CHECK(r->pieces[0].ks == Approx(plain->pieces[0].ks));   // the plain D is still reported
    CHECK(r->pieces[0].ks_resolved < 0.02);
    CHECK(r->pass);
    CHECK(replay::to_text(*r, o).find("resolution 0.015 ms") != std::string::npos);
}

TEST_CASE("replay-check --resolution: a shift beyond it, or a wider sigma, still misses") {
    const auto orig = draw({{Distribution::normal, 12.040, 0.003, 40}}, 1);
    replay::CheckOptions o;
    o.resolution_ms = 0.015;
    auto late = replay::check(orig, draw({{Distribution::normal, 12.080, 0.003, 40}}, 2), o);   // 40 us late
    REQUIRE(late);
    CHECK(late->pieces[0].ks_resolved > 0.9);
    CHECK_FALSE(late->pass);
    auto wide = replay::check(orig, draw({{Distribution::normal, 12.040, 0.050, 40}}, 2), o);   // sd 50 us
    REQUIRE(wide);
    CHECK(wide->pieces[0].ks_resolved > 0.3);
    CHECK_FALSE(wide->pass);
    // The morning itself is milliseconds wide: 15 us change nothing there, a wider sigma misses.
    auto w = morning;
    w[1].jitter_ms = 55;
    auto m = replay::check(draw(morning, 1), draw(w, 2), o);
    REQUIRE(m);
    CHECK_FALSE(m->pieces[1].ks_pass);
}
