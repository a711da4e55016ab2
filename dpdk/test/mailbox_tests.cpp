#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "mailbox.hpp"

using netchaos::fwd::Mailbox;

TEST_CASE("a posted request is claimed once and acked") {
    Mailbox<int> mb;
    REQUIRE(mb.claim() == nullptr);   // nothing posted
    mb.next() = 7;
    const auto gen = mb.post();
    const int* v = mb.claim();
    REQUIRE(v != nullptr);
    CHECK(*v == 7);
    CHECK(mb.claim() == nullptr);     // not twice
    CHECK_FALSE(mb.acked(gen));
    mb.done();
    CHECK(mb.acked(gen));
    CHECK_FALSE(mb.withdraw(gen));    // already applied: nothing to withdraw
}

TEST_CASE("a withdrawn request is never applied later") {
    // The failure this guards against: the control thread gave up after its deadline, but
    // the request stayed posted and a late lcore applied it (a profile the client was told
    // had failed), while the next request was already being written into the same slot.
    Mailbox<int> mb;
    mb.next() = 1;
    const auto gen = mb.post();
    REQUIRE(mb.withdraw(gen));
    CHECK(mb.claim() == nullptr);
    CHECK_FALSE(mb.acked(gen));
    mb.next() = 2;
    const auto gen2 = mb.post();
    CHECK(gen2 != gen);
    const int* v = mb.claim();
    REQUIRE(v != nullptr);
    CHECK(*v == 2);
    mb.done();
    CHECK(mb.acked(gen2));
}

TEST_CASE("claim and withdraw racing: exactly one wins, every time") {
    Mailbox<int> mb;
    std::atomic<bool> quit{false};
    std::atomic<long> applied_value_sum{0}, applied{0};
    std::thread lcore([&] {
        while (!quit.load()) {
            if (const int* v = mb.claim()) {
                applied_value_sum += *v;
                ++applied;
                mb.done();
            }
        }
    });
    long withdrawn = 0, acked = 0, expected_sum = 0;
    for (int i = 1; i <= 20000; ++i) {
        mb.next() = i;
        const auto gen = mb.post();
        if (i % 3 != 0 || !mb.withdraw(gen)) {   // a third are withdrawn at once (if still unclaimed)
            while (!mb.acked(gen)) std::this_thread::yield();
            ++acked;
            expected_sum += i;
        } else {
            ++withdrawn;
        }
    }
    quit = true;
    lcore.join();
    CHECK(applied.load() == acked);
    CHECK(applied_value_sum.load() == expected_sum);   // no withdrawn value, no torn value
    CHECK(acked + withdrawn == 20000);
}
