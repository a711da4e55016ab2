// Hand-computed sequences for the pure probe statistics.
#include <catch2/catch.hpp>

#include "probe/stats.hpp"

using namespace netchaos;
using namespace netchaos::probe;
using namespace std::chrono_literals;

namespace {
std::vector<Nanos> ms_list(std::initializer_list<int> v) {
    std::vector<Nanos> out;
    for (int x : v) out.push_back(std::chrono::milliseconds(x));
    return out;
}
}  // namespace

TEST_CASE("percentiles are nearest-rank on sorted samples") {
    const auto ten = ms_list({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
    CHECK(percentile_sorted(ten, 50) == 5ms);
    CHECK(percentile_sorted(ten, 90) == 9ms);
    CHECK(percentile_sorted(ten, 91) == 10ms);
    CHECK(percentile_sorted(ten, 99) == 10ms);
    CHECK(percentile_sorted(ten, 99.9) == 10ms);
    CHECK(percentile_sorted(ten, 100) == 10ms);
    CHECK(percentile_sorted(ten, 0.0001) == 1ms);

    std::vector<Nanos> thousand;
    for (int i = 1; i <= 1000; ++i) thousand.push_back(Nanos(i));
    CHECK(percentile_sorted(thousand, 50) == Nanos(500));
    CHECK(percentile_sorted(thousand, 99) == Nanos(990));
    CHECK(percentile_sorted(thousand, 99.9) == Nanos(999));  // not 1000: rank is ceil(999.0)

    CHECK(percentile_sorted({}, 99) == 0ns);
    const auto one = ms_list({7});
    CHECK(percentile_sorted(one, 50) == 7ms);
    CHECK(percentile_sorted(one, 99.9) == 7ms);
}

TEST_CASE("moments: mean and sample standard deviation") {
    const auto xs = ms_list({2, 4, 4, 4, 5, 5, 7, 9});
    const Moments m = moments(xs);
    CHECK(m.n == 8);
    CHECK(m.mean_ns == Approx(5e6));
    CHECK(m.stddev_ns == Approx(std::sqrt(32.0 / 7.0) * 1e6));  // sum of squares 32, n-1 = 7
    CHECK(moments(ms_list({3})).stddev_ns == 0.0);
    CHECK(moments({}).n == 0);
    // Welford stays exact on large equal offsets, where sum-of-squares would cancel.
    std::vector<Nanos> big{Nanos(1'000'000'000'001), Nanos(1'000'000'000'003)};
    CHECK(moments(big).stddev_ns == Approx(std::sqrt(2.0)));
}

TEST_CASE("IPDV uses consecutive sequence numbers both received (RFC 3393)") {
    std::vector<Record> recs{
        {0, 0ms, 10ms}, {1, 10ms, 12ms}, {2, 20ms, std::nullopt}, {3, 30ms, 11ms}, {4, 40ms, 15ms}};
    const auto v = ipdv(recs);
    REQUIRE(v.size() == 2);  // (0,1) and (3,4); 2 is lost so (1,2), (2,3) have no value
    CHECK(v[0] == 2ms);
    CHECK(v[1] == 4ms);
    // Signed: a falling RTT gives a negative IPDV.
    std::vector<Record> down{{5, 0ms, 20ms}, {6, 1ms, 14ms}};
    REQUIRE(ipdv(down).size() == 1);
    CHECK(ipdv(down)[0] == -6ms);
}

TEST_CASE("RFC 3550 interarrival jitter, J += (|D| - J)/16, by hand") {
    // RTTs 10, 12, 11, 15 ms in arrival order: D = +2, -1, +4 ms.
    // J1 = 2/16 = 0.125; J2 = 0.125 + (1 - 0.125)/16 = 0.1796875;
    // J3 = 0.1796875 + (4 - 0.1796875)/16 = 0.41845703125 ms.
    std::vector<Arrival> a{{0, 10ms}, {1, 12ms}, {2, 11ms}, {3, 15ms}};
    CHECK(rfc3550_jitter_ns(a) == Approx(418457.03125).epsilon(1e-12));
    CHECK(rfc3550_jitter_ns(std::span(a).first(1)) == 0.0);
    // Constant RTT: no jitter whatever the count.
    std::vector<Arrival> flat(100, Arrival{0, 5ms});
    CHECK(rfc3550_jitter_ns(flat) == 0.0);
    // Converges to |D| for a steady alternation: J_n = d * (1 - (15/16)^n).
    std::vector<Arrival> alt;
    for (int i = 0; i < 201; ++i) alt.push_back({std::uint64_t(i), i % 2 ? 11ms : 10ms});
    CHECK(rfc3550_jitter_ns(alt) == Approx(1e6 * (1 - std::pow(15.0 / 16.0, 200))));
}

TEST_CASE("reordering per RFC 4737 NextExp, duplicates apart") {
    std::vector<Arrival> a{{0, 1ms}, {1, 1ms}, {3, 1ms}, {2, 1ms}, {4, 1ms}, {4, 1ms}, {5, 1ms}};
    OrderCounts c = order_counts(a);
    CHECK(c.reordered == 1);
    CHECK(c.duplicates == 1);
    // 0, 3, 1, 2: both 1 and 2 arrive below NextExp = 4.
    std::vector<Arrival> b{{0, 1ms}, {3, 1ms}, {1, 1ms}, {2, 1ms}};
    CHECK(order_counts(b).reordered == 2);
    // A loss is not a reordering.
    std::vector<Arrival> lossy{{0, 1ms}, {2, 1ms}, {3, 1ms}};
    CHECK(order_counts(lossy).reordered == 0);
    // A duplicate of a reordered packet counts once as reordered, once as duplicate.
    std::vector<Arrival> d{{1, 1ms}, {0, 1ms}, {0, 1ms}};
    c = order_counts(d);
    CHECK(c.reordered == 1);
    CHECK(c.duplicates == 1);
}
