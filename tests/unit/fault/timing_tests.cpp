// Release times: order preservation (also across a live model switch), reordering jitter,
// netem's reorder/gap, rate serialization with overheads, and slot bursts.
#include <catch2/catch.hpp>

#include <array>
#include <map>

#include "helpers.hpp"

using namespace fault_test;

namespace {
constexpr std::int64_t us = 1000, ms = 1000 * us;

// Count packets released before an earlier-received one.
std::size_t overtakes(const std::vector<std::int64_t>& rel) {
    std::size_t n = 0;
    std::int64_t latest = std::numeric_limits<std::int64_t>::min();
    for (auto r : rel) {
        n += r < latest;
        latest = std::max(latest, r);
    }
    return n;
}

profile::Impairment slotted(profile::Slot s) {
    profile::Impairment imp;
    imp.slot = s;
    return imp;
}
}  // namespace

TEST_CASE("order-preserving jitter: no packet overtakes another, also across switch_model") {
    // 100 us spacing against 5 ms jitter: netem's tfifo would reorder most of these.
    auto wide = with_delay(20ms, 5ms, profile::Distribution::normal);
    fault::Engine e(must(wide), 21);
    std::vector<std::int64_t> rel;
    for (std::size_t i = 0; i < N; ++i) {
        if (i == N / 2) e.switch_model(must(with_delay(1ms, 0ms, profile::Distribution::normal)));
        if (i == 3 * N / 4) e.switch_model(must(with_delay(30ms, 10ms, profile::Distribution::pareto)));
        const std::int64_t rx = static_cast<std::int64_t>(i) * 100 * us;
        const auto d = e.decide(rx, 100);
        REQUIRE(d.release_ns >= rx);
        rel.push_back(d.release_ns);
    }
    CHECK(overtakes(rel) == 0);
}

TEST_CASE("reorder = flow: each flow keeps its order, flows pass each other, and a switch is never overtaken") {
    auto per_flow = with_delay(20ms, 5ms, profile::Distribution::normal);
    per_flow.delay->order = profile::JitterOrder::flow;
    fault::Engine e(must(per_flow), 33);
    REQUIRE(e.per_flow());
    // Four flows interleaved every 100 us: within each, no overtakes; across them, many.
    std::map<std::uint32_t, std::vector<std::int64_t>> by_flow;
    std::vector<std::int64_t> all;
    const std::uint32_t flows[] = {7, 8, 9, 7 + fault::flow_slots * 3 + 1};   // the last shares flow 8's slot
    std::size_t pushed = 0;
    for (std::size_t i = 0; i < 400'000; ++i) {
        const std::int64_t rx = static_cast<std::int64_t>(i) * 100 * us;
        const std::uint32_t f = flows[i % 4];
        const auto d = e.decide(rx, 100, false, f);
        REQUIRE(d.release_ns >= rx + d.drawn_ns);
        pushed += d.pushed;
        by_flow[f & (fault::flow_slots - 1)].push_back(d.release_ns);
        all.push_back(d.release_ns);
    }
    REQUIRE(by_flow.size() == 3);   // two flows share a slot: they keep one order between them
    for (const auto& [slot, rel] : by_flow) {
        INFO("slot " << slot);
        CHECK(overtakes(rel) == 0);
    }
    CHECK(overtakes(all) > all.size() / 10);
    // Per flow the spacing is 400 us (800 us for the shared slot) against 5 ms of jitter:
    // fewer pushes than one order for the whole direction at 100 us would make.
    auto whole = with_delay(20ms, 5ms, profile::Distribution::normal);
    fault::Engine w(must(whole), 33);
    std::size_t pushed_whole = 0;
    for (std::size_t i = 0; i < 400'000; ++i) pushed_whole += w.decide(static_cast<std::int64_t>(i) * 100 * us, 100).pushed;
    CHECK(pushed < pushed_whole);

    // Switches: flow -> whole direction -> flow. What was queued before a switch is never
    // overtaken: after it, each flow's first release is at or after every earlier release.
    fault::Engine s(must(per_flow), 5);
    std::vector<std::int64_t> rel;
    std::int64_t rx = 0, latest = std::numeric_limits<std::int64_t>::min();
    for (int phase = 0; phase < 3; ++phase) {
        if (phase == 1) s.switch_model(must(whole));
        if (phase == 2) s.switch_model(must(per_flow));
        const std::int64_t at_switch = latest;
        std::map<std::uint32_t, bool> seen;
        for (int i = 0; i < 20'000; ++i, rx += 100 * us) {
            const auto f = static_cast<std::uint32_t>(i % 5);
            const auto d = s.decide(rx, 100, false, f);
            if (phase > 0 && !seen[f]) {
                INFO("phase " << phase << " flow " << f);
                CHECK(d.release_ns >= at_switch);
                seen[f] = true;
            }
            if (phase == 1) rel.push_back(d.release_ns);
            latest = std::max(latest, d.release_ns);
        }
    }
    CHECK(overtakes(rel) == 0);   // the whole-direction phase keeps one order
}

TEST_CASE("decisions report the drawn delay and whether order preservation pushed the release") {
    // The forwarder's fidelity counters: drawn = the sampler's value, pushed = release moved
    // past rx + drawn by the packet ahead.
    auto wide = with_delay(20ms, 5ms, profile::Distribution::normal);
    fault::Engine e(must(wide), 23);
    std::int64_t last = 0;
    std::size_t pushed = 0;
    std::vector<double> drawn;
    for (std::size_t i = 0; i < N; ++i) {
        const std::int64_t rx = static_cast<std::int64_t>(i) * 100 * us;
        const auto d = e.decide(rx, 100);
        drawn.push_back(d.drawn_ns / 1e6);
        REQUIRE(d.pushed == (rx + d.drawn_ns < last));
        REQUIRE(d.release_ns == (d.pushed ? last : rx + d.drawn_ns));
        pushed += d.pushed;
        last = d.release_ns;
    }
    const auto m = moments(drawn);   // the draws are the model, whatever the queue did
    CHECK(std::abs(m.mean - 20) < 0.05);
    CHECK(std::abs(m.sigma - 5) < 0.05);
    CHECK(pushed > N / 2);           // 100 us apart against 5 ms of jitter: most are held
}

TEST_CASE("reordering jitter (order = reorder): packets overtake, delay is untouched") {
    auto imp = with_delay(20ms, 5ms, profile::Distribution::normal);
    imp.delay->order = profile::JitterOrder::reorder;
    fault::Engine e(must(imp), 22);
    std::vector<std::int64_t> rel;
    std::vector<double> delay;
    for (std::size_t i = 0; i < N; ++i) {
        const std::int64_t rx = static_cast<std::int64_t>(i) * 100 * us;
        rel.push_back(e.decide(rx, 100).release_ns);
        delay.push_back((rel.back() - rx) / 1e6);
    }
    CHECK(overtakes(rel) > N / 2);
    const auto m = moments(delay);
    CHECK(std::abs(m.mean - 20) < 0.2);
    CHECK(std::abs(m.sigma - 5) < 0.05);
}

TEST_CASE("switching from reorder to preserve keeps order against already queued packets") {
    auto imp = with_delay(50ms, 10ms, profile::Distribution::normal);
    imp.delay->order = profile::JitterOrder::reorder;
    fault::Engine e(must(imp), 23);
    std::int64_t latest = 0;
    for (int i = 0; i < 1000; ++i) latest = std::max(latest, e.decide(i * us, 100).release_ns);
    e.switch_model(must(with_delay(1ms, 0ms, profile::Distribution::normal)));
    CHECK(e.decide(1000 * us, 100).release_ns >= latest);
}

TEST_CASE("rate: back-to-back 1500 B at 10 mbit leave 1.2 ms apart, plus overheads") {
    auto spacing = [](std::array<std::int64_t, 4> r, std::uint32_t len) {
        profile::Impairment imp;
        imp.rate = profile::Rate::link(static_cast<std::uint64_t>(r[0]), static_cast<std::int32_t>(r[1]),
                                       static_cast<std::uint32_t>(r[2]), static_cast<std::int32_t>(r[3]));
        fault::Engine e(must(imp), 24);
        std::vector<std::int64_t> rel;
        for (int i = 0; i < 100; ++i) rel.push_back(e.decide(0, len).release_ns);  // all at once
        for (int i = 2; i < 100; ++i) REQUIRE(rel[i] - rel[i - 1] == rel[1] - rel[0]);
        return rel[1] - rel[0];
    };
    const std::uint64_t mbit10 = 10'000'000 / 8;
    CHECK(spacing({mbit10, 0, 0, 0}, 1500) == 1'200'000);
    CHECK(spacing({mbit10, 24, 0, 0}, 1500) == 1'219'200);           // 1524 B
    CHECK(spacing({mbit10, 24, 48, 5}, 1500) == 32 * 53 * 800);      // ATM: 32 cells of 53 B
    CHECK(spacing({mbit10, -14, 0, 0}, 64) == 50 * 800);              // negative overhead
    // A slow trickle is not delayed by the rate: one packet per 10 ms at 1.2 ms each.
    profile::Impairment imp;
    imp.rate = profile::Rate::link(mbit10);
    fault::Engine e(must(imp), 25);
    for (int i = 0; i < 10; ++i) CHECK(e.decide(i * 10 * ms, 1500).release_ns == i * 10 * ms + 1'200'000);
}

TEST_CASE("rate after delay: the link state survives a model switch") {
    auto imp = with_delay(10ms, 0ms, profile::Distribution::normal);
    imp.rate = profile::Rate::link(1'250'000);
    fault::Engine e(must(imp), 26);
    std::int64_t last = 0;
    for (int i = 0; i < 10; ++i) last = e.decide(0, 1500).release_ns;
    CHECK(last == 10 * ms + 10 * 1'200'000);
    e.switch_model(must(imp));
    CHECK(e.decide(0, 1500).release_ns == last + 1'200'000);
}

TEST_CASE("reorder gap: every gap-th packet is a candidate to skip the delay") {
    auto imp = with_delay(10ms, 0ms, profile::Distribution::normal);
    SECTION("p = 100%, gap 5: exactly packets 5, 10, 15, ... are immediate") {
        imp.reorder = profile::Reorder{1.0, 0, 5};
        fault::Engine e(must(imp), 27);
        for (int i = 0; i < 1000; ++i) {
            const auto d = e.decide(i * us, 100);
            const bool immediate = d.release_ns == i * us;
            REQUIRE(immediate == ((i + 1) % 5 == 0));
        }
    }
    SECTION("p = 50%, gap 5: at least 4 delayed between immediates, 1 in 6 immediate") {
        imp.reorder = profile::Reorder{0.5, 0, 5};
        fault::Engine e(must(imp), 28);
        std::size_t immediate = 0;
        int since = 0;
        for (std::size_t i = 0; i < N; ++i) {
            const std::int64_t rx = static_cast<std::int64_t>(i) * us;
            if (e.decide(rx, 100).release_ns == rx) {
                ++immediate;
                REQUIRE(since >= 4);
                since = 0;
            } else {
                ++since;
            }
        }
        // Renewal cycle: 4 delayed + Geometric(1/2) trials, mean 6 packets.
        const double f = immediate / double(N);
        CHECK(std::abs(f - 1.0 / 6) < 0.002);
    }
    SECTION("gap 1 (default): each packet is immediate with probability p") {
        imp.reorder = profile::Reorder{0.25, 0, 1};
        fault::Engine e(must(imp), 29);
        std::size_t immediate = 0;
        for (std::size_t i = 0; i < N; ++i) {
            const std::int64_t rx = static_cast<std::int64_t>(i) * us;
            immediate += e.decide(rx, 100).release_ns == rx;
        }
        CHECK(std::abs(immediate / double(N) - 0.25) < 3 * std::sqrt(0.25 * 0.75 / N));
    }
}

TEST_CASE("slot: packets leave in bursts at slot starts, within the packet and byte budget") {
    SECTION("fixed 10 ms slots, at most 4 packets each") {
        fault::Engine e(must(slotted({10ms, 10ms, std::nullopt, 0ns, 0ns, 4, std::nullopt})), 30);
        std::map<std::int64_t, int> per_release;
        std::vector<std::int64_t> rel;
        for (int i = 0; i < 10000; ++i) {  // one packet per ms: more than 4 per 10 ms
            const auto d = e.decide(i * ms, 100);
            REQUIRE(d.release_ns >= i * ms);
            ++per_release[d.release_ns];
            rel.push_back(d.release_ns);
        }
        CHECK(overtakes(rel) == 0);
        for (auto [t, n] : per_release) REQUIRE(n <= 4);
        // Saturated: bursts of exactly 4, one slot every 10 ms.
        std::size_t full = 0;
        std::int64_t prev = -1;
        for (auto [t, n] : per_release) {
            full += n == 4;
            if (prev >= 0) REQUIRE(t - prev == 10 * ms);
            prev = t;
        }
        CHECK(full == per_release.size());
    }
    SECTION("byte budget and random spacing in [1, 5] ms") {
        fault::Engine e(must(slotted({1ms, 5ms, std::nullopt, 0ns, 0ns, std::nullopt, 3000})), 31);
        std::map<std::int64_t, int> bytes;
        for (int i = 0; i < 100000; ++i) bytes[e.decide(i * 100 * us, 1000).release_ns] += 1000;
        std::vector<double> gaps;
        std::int64_t prev = -1;
        for (auto [t, b] : bytes) {
            REQUIRE(b <= 3000);
            if (prev >= 0) gaps.push_back((t - prev) / 1e6);
            prev = t;
        }
        // 10 packets/ms arrive and 3 leave per slot: always saturated, gaps uniform on [1, 5].
        const auto m = moments(gaps);
        CHECK(std::abs(m.mean - 3.0) < 0.05);
        CHECK(*std::min_element(gaps.begin(), gaps.end()) >= 1.0);
        CHECK(*std::max_element(gaps.begin(), gaps.end()) <= 5.0);
    }
    SECTION("slot distribution: gaps follow normal(2 ms, 0.5 ms)") {
        fault::Engine e(must(slotted({0ns, 0ns, profile::Distribution::normal, 2ms, 500us, 1, std::nullopt})), 32);
        std::vector<std::int64_t> rel;
        for (int i = 0; i < 200000; ++i) rel.push_back(e.decide(i * 10 * us, 100).release_ns);
        std::vector<double> gaps;
        for (std::size_t i = 1; i < rel.size(); ++i) gaps.push_back((rel[i] - rel[i - 1]) / 1e6);
        const auto m = moments(gaps);
        INFO("gap mean " << m.mean << " sigma " << m.sigma);
        CHECK(std::abs(m.mean - 2.0) < 0.02);
        CHECK(std::abs(m.sigma - 0.5) < 0.02);
    }
}
