#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "release_wheel.hpp"

using netchaos::fwd::ReleaseWheel;

namespace {
std::vector<std::pair<int, std::uint64_t>> pop(ReleaseWheel<int>& w, std::uint64_t now, std::uint32_t max = ~0u) {
    std::vector<std::pair<int, std::uint64_t>> out;
    w.pop_due(now, max, [&](int v, std::uint64_t due) { out.emplace_back(v, due); });
    return out;
}
}  // namespace

TEST_CASE("items leave when due, not before, in due order") {
    ReleaseWheel<int> w(64, 4, 8);   // 16-tick slots, 256 slots
    w.push(1000, 1);
    w.push(1005, 2);
    w.push(1100, 3);
    CHECK(pop(w, 999).empty());
    auto a = pop(w, 1004);
    REQUIRE(a.size() == 1);
    CHECK(a[0].first == 1);
    auto b = pop(w, 1100);
    REQUIRE(b.size() == 2);
    CHECK(b[0].first == 2);
    CHECK(b[1].first == 3);
    CHECK(w.empty());
}

TEST_CASE("non-decreasing release times keep push order, across the far heap too") {
    ReleaseWheel<int> w(20000, 2, 6);   // horizon 256 ticks: most of these go to the heap
    std::mt19937_64 rng(7);
    std::uint64_t t = 0;
    for (int i = 0; i < 20000; ++i) {
        t += rng() % 40;   // jittered but order-preserving, repeats included
        REQUIRE(w.push(t, i));
    }
    int expect = 0;
    for (std::uint64_t now = 0; now <= t + 10; now += 1 + rng() % 300)
        for (auto [v, due] : pop(w, now)) {
            REQUIRE(v == expect);
            REQUIRE(due <= now);
            ++expect;
        }
    for (auto [v, due] : pop(w, t + 1000)) REQUIRE(v == expect++);
    CHECK(expect == 20000);
    CHECK(w.empty());
}

TEST_CASE("a full pool refuses pushes and frees nodes on pop") {
    ReleaseWheel<int> w(3, 4, 4);
    CHECK(w.push(10, 1));
    CHECK(w.push(10, 2));
    CHECK(w.push(10, 3));
    CHECK_FALSE(w.push(10, 4));
    CHECK(pop(w, 10, 2).size() == 2);   // budget respected
    CHECK(w.push(11, 5));
    CHECK(pop(w, 100).size() == 2);
    CHECK(w.empty());
}

TEST_CASE("late items leave at once and the wheel jumps over idle time") {
    ReleaseWheel<int> w(16, 4, 4);
    w.push(100, 1);
    CHECK(pop(w, 100).size() == 1);
    CHECK(pop(w, 1'000'000'000).empty());   // idle for a long time
    w.push(5, 2);                           // due long ago
    w.push(1'000'000'050, 3);
    auto a = pop(w, 1'000'000'001);
    REQUIRE(a.size() == 1);
    CHECK(a[0].first == 2);
    CHECK(pop(w, 1'000'000'050).size() == 1);
}

TEST_CASE("one million in flight over a 100 ms horizon") {
    // 2^20 slots of 2^9 ticks = 2^29 ticks; 1M packets spread over 100 ms at 2.1 GHz
    const std::uint32_t n = 1u << 20;
    ReleaseWheel<std::uint32_t> w(n, 9, 20);
    const std::uint64_t span = 210'000'000;
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(w.push(span + i * (span / n), i));
    CHECK(w.size() == n);
    std::uint32_t expect = 0;
    std::uint64_t now = 0;
    while (!w.empty()) {
        now += 100'000;
        w.pop_due(now, ~0u, [&](std::uint32_t v, std::uint64_t) { REQUIRE(v == expect); ++expect; });
    }
    CHECK(expect == n);
}

TEST_CASE("drain_all hands back everything") {
    ReleaseWheel<int> w(8, 2, 3);
    for (int i = 0; i < 8; ++i) w.push(static_cast<std::uint64_t>(i) * 1000, i);
    int n = 0;
    w.drain_all([&](int, std::uint64_t) { ++n; });
    CHECK(n == 8);
    CHECK(w.empty());
    CHECK(w.push(1, 1));
}
