// --lcores N: one rate link shared by every lcore's engine (fault::claim_link, Engine::share_link).
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace fault_test;

TEST_CASE("claim_link: a packet starts when it is ready and the link is free") {
    std::atomic<std::int64_t> busy{fault::SharedLink{}.busy_until.load()};
    CHECK(fault::claim_link(busy, 0, 100, 10, 0) == 110);     // idle link: ready + serialization
    CHECK(fault::claim_link(busy, 0, 50, 10, 0) == 120);      // ready earlier: waits for the link
    CHECK(fault::claim_link(busy, 0, 500, 10, 0) == 510);     // ready later: the link idled meanwhile
    CHECK(busy.load() == 510);
}

TEST_CASE("claim_link: the limit drops before the packet takes link time") {
    std::atomic<std::int64_t> busy{0};
    // 10 ns per packet, limit 5 packets = 50 ns of backlog beyond rx.
    for (int i = 0; i < 5; ++i) CHECK(fault::claim_link(busy, 0, 0, 10, 50) == 10 * (i + 1));
    CHECK(fault::claim_link(busy, 0, 0, 10, 50) == fault::link_full);
    CHECK(busy.load() == 50);                                  // the dropped one took nothing
    CHECK(fault::claim_link(busy, 1, 1, 10, 50) == 60);        // 1 ns later: 49 ns booked, room for one
}

TEST_CASE("claim_link: two threads share one link, no overlap, each in order") {
    constexpr int per = 200'000;
    constexpr std::int64_t ser = 7;
    std::atomic<std::int64_t> busy{0};
    std::vector<std::int64_t> got[2];
    std::atomic<bool> go{false};
    auto worker = [&](int w) {
        got[w].reserve(per);
        while (!go.load()) {}
        for (int i = 0; i < per; ++i) got[w].push_back(fault::claim_link(busy, 0, 0, ser, 0));
    };
    std::thread a(worker, 0), b(worker, 1);
    go.store(true);
    a.join();
    b.join();
    // Aggregate: the link carried 2 x per packets back to back, not twice as fast.
    CHECK(busy.load() == 2 * per * ser);
    std::vector<std::int64_t> all;
    for (auto& g : got) {
        CHECK(std::is_sorted(g.begin(), g.end()));
        CHECK(std::adjacent_find(g.begin(), g.end()) == g.end());   // strictly increasing per thread
        all.insert(all.end(), g.begin(), g.end());
    }
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == static_cast<std::int64_t>(i + 1) * ser);
}

TEST_CASE("engines sharing a link: 10 mbit is the sum of both, not each") {
    profile::Impairment imp;
    imp.rate = profile::Rate::link(10'000'000 / 8);
    imp.limit = 1'000'000;
    fault::SharedLink link;
    fault::Engine a(must(imp), 1), b(must(imp), 2);
    a.share_link(&link);
    b.share_link(&link);
    std::int64_t last = 0;
    for (int i = 0; i < 100; ++i) {
        const std::int64_t ra = a.decide(0, 1500).release_ns, rb = b.decide(0, 1500).release_ns;
        CHECK(rb == ra + 1'200'000);   // 1500 B at 10 mbit = 1.2 ms, one after the other
        last = rb;
    }
    CHECK(last == 200 * 1'200'000);
    // Unshared, each engine would have its own 10 mbit: 100 packets in 120 ms.
    fault::Engine c(must(imp), 3);
    std::int64_t own = 0;
    for (int i = 0; i < 100; ++i) own = c.decide(0, 1500).release_ns;
    CHECK(own == 100 * 1'200'000);
}

TEST_CASE("engines sharing a link: the profile's limit tail-drops at the shared backlog") {
    profile::Impairment imp;
    imp.rate = profile::Rate::link(10'000'000 / 8);
    imp.limit = 10;
    fault::SharedLink link;
    fault::Engine a(must(imp), 1), b(must(imp), 2);
    a.share_link(&link);
    b.share_link(&link);
    int kept = 0, dropped = 0;
    for (int i = 0; i < 50; ++i)
        for (auto* e : {&a, &b}) (e->decide(0, 1500).drop ? dropped : kept) += 1;
    CHECK(kept == 10);      // limit packets of the link's backlog between them
    CHECK(dropped == 90);
}

TEST_CASE("one engine's rate: the limit tail-drops before the packet takes link time") {
    // Dropped after the engine (by the forwarder's queue), 50 packets at once would book 60 ms
    // of link for 10 sent; here the 40 dropped take none and the 11th, 12 ms on, leaves at once.
    profile::Impairment imp;
    imp.rate = profile::Rate::link(10'000'000 / 8);
    imp.limit = 10;
    fault::Engine e(must(imp), 4);
    int kept = 0;
    for (int i = 0; i < 50; ++i) kept += e.decide(0, 1500).drop ? 0 : 1;
    CHECK(kept == 10);
    CHECK(e.decide(12 * 1'000'000, 1500).release_ns == 12 * 1'000'000 + 1'200'000);
}
