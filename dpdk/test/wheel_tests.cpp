#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "release_wheel.hpp"

using netchaos::fwd::ReleaseWheel;

namespace {
// Pops from a ReleaseWheel<int> or a ReleaseQueue<int>.
template <class W>
std::vector<std::pair<int, std::uint64_t>> pop(W& w, std::uint64_t now, std::uint32_t max = ~0u) {
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

using netchaos::fwd::ReleaseQueue;

TEST_CASE("queue: order-preserving releases stay in the FIFO, across many chunks, in push order") {
    ReleaseQueue<int> q(5000, 4, 8);
    std::mt19937_64 rng(11);
    std::uint64_t t = 100;
    for (int i = 0; i < 5000; ++i) {
        t += rng() % 3;   // repeats included: ties keep push order
        REQUIRE(q.push(t, i));
    }
    CHECK(q.fifo_size() == 5000);   // the wheel never used
    CHECK_FALSE(q.push(t, 5000));   // capacity
    int expect = 0;
    for (std::uint64_t now = 0; now <= t; now += 1 + rng() % 50)
        for (auto [v, due] : pop(q, now, 1 + static_cast<std::uint32_t>(rng() % 300))) {
            REQUIRE(v == expect++);
            REQUIRE(due <= now);
        }
    for (auto [v, due] : pop(q, t)) REQUIRE(v == expect++);
    CHECK(expect == 5000);
    CHECK(q.empty());
}

TEST_CASE("queue: an earlier release goes to the wheel, and so does everything after it until the wheel empties") {
    ReleaseQueue<int> q(64, 4, 8);
    q.push(1000, 1);
    q.push(1000, 2);
    q.push(500, 3);    // earlier than the FIFO's last: the wheel
    q.push(1000, 4);   // not earlier, but the wheel holds 3: the wheel, behind 1 and 2
    q.push(2000, 5);
    CHECK(q.fifo_size() == 2);
    auto a = pop(q, 600);
    REQUIRE(a.size() == 1);
    CHECK(a[0].first == 3);
    auto b = pop(q, 1000);   // equal due times leave in push order: FIFO first
    REQUIRE(b.size() == 3);
    CHECK(b[0].first == 1);
    CHECK(b[1].first == 2);
    CHECK(b[2].first == 4);
    q.push(3000, 6);   // the FIFO is empty but the wheel still holds 5
    CHECK(q.fifo_size() == 0);
    auto c = pop(q, 3000);
    REQUIRE(c.size() == 2);
    CHECK(c[0].first == 5);
    CHECK(c[1].first == 6);
    q.push(10, 7);     // everything empty: the FIFO again, whatever the time
    CHECK(q.fifo_size() == 1);
    CHECK(pop(q, 10).size() == 1);
}

TEST_CASE("queue: reordering jitter still leaves in due order, and drain_all frees both parts") {
    ReleaseQueue<int> q(10000, 2, 10);
    CHECK(pop(q, 0).empty());   // the forwarder pops from its first iteration: the wheel turns from then
    std::mt19937_64 rng(3);
    std::vector<std::uint64_t> due(10000);
    for (int i = 0; i < 10000; ++i) {
        due[static_cast<std::size_t>(i)] = 1000 + static_cast<std::uint64_t>(i) * 4 + rng() % 400;
        REQUIRE(q.push(due[static_cast<std::size_t>(i)], i));
    }
    std::uint64_t last = 0;
    int n = 0;
    for (std::uint64_t now = 0; n < 5000; now += 2)
        for (auto [v, d] : pop(q, now, 5000 - static_cast<std::uint32_t>(n))) {
            REQUIRE(d == due[static_cast<std::size_t>(v)]);
            REQUIRE(d <= now);
            REQUIRE(d + 8 >= last);   // within a slot (4 ticks) and a pop step (2) of due order
            last = std::max(last, d);
            ++n;
        }
    int rest = 0;
    q.drain_all([&](int, std::uint64_t) { ++rest; });
    CHECK(rest == 5000);
    CHECK(q.empty());
    CHECK(q.push(1, 1));
}
