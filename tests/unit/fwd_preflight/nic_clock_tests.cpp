// NIC clock -> TSC mapping (dpdk/nic_clock.hpp) on synthetic clocks: a NIC counting ns
// against a 2.9 GHz TSC, a NIC counting its own 156.25 MHz ticks, a stamp from before the
// anchor, and pairs that do not advance.
#include <catch2/catch.hpp>

#include <cmath>

#include "nic_clock.hpp"

using namespace netchaos::fwd;

TEST_CASE("a NIC clock in ns maps onto a 2.9 GHz TSC within a tick") {
    // TSC = 1e12 + 2.9 * (nic - 5e9)
    auto tsc_of = [](std::uint64_t nic) { return 1'000'000'000'000ull + (nic - 5'000'000'000ull) * 29 / 10; };
    const NicClockPair a{tsc_of(5'000'000'000ull), 5'000'000'000ull};
    const NicClockPair b{tsc_of(5'100'000'000ull), 5'100'000'000ull};
    const auto m = map_nic_clock(a, b);
    REQUIRE(m.valid());
    CHECK(m.tsc_per_nic == Approx(2.9));
    CHECK(m.nic_hz(2.9e9) == Approx(1e9));
    for (std::uint64_t nic : {5'100'000'000ull, 5'100'000'123ull, 5'200'000'000ull, 65'100'000'000ull}) {
        INFO(nic);
        CHECK(std::llabs(static_cast<long long>(m.to_tsc(nic) - tsc_of(nic))) <= 1);
    }
    // A frame stamped 1 us before the anchor lands 2900 ticks before it, not 2^64 later.
    CHECK(m.to_tsc(5'099'999'000ull) == b.tsc - 2900);
}

TEST_CASE("a NIC clock in its own ticks (156.25 MHz) maps through the measured slope") {
    const double ratio = 2.9e9 / 156.25e6;   // 18.56 TSC ticks per NIC tick
    const NicClockPair a{7'000'000'000ull, 1'000'000ull};
    const NicClockPair b{a.tsc + static_cast<std::uint64_t>(15'625'000 * ratio), a.nic + 15'625'000};   // 100 ms later
    const auto m = map_nic_clock(a, b);
    CHECK(m.tsc_per_nic == Approx(ratio));
    CHECK(m.nic_hz(2.9e9) == Approx(156.25e6));
    // 1 ms after the anchor on the NIC is 2.9e6 TSC ticks after it.
    CHECK(static_cast<double>(m.to_tsc(b.nic + 156'250) - b.tsc) == Approx(2.9e6).epsilon(1e-9));
}

TEST_CASE("pairs that do not advance on both clocks give no mapping") {
    CHECK(!map_nic_clock({100, 100}, {100, 200}).valid());
    CHECK(!map_nic_clock({100, 100}, {200, 100}).valid());
    CHECK(!map_nic_clock({200, 200}, {100, 100}).valid());
    CHECK(!NicToTsc{}.valid());
    CHECK(NicToTsc{}.nic_hz(2.9e9) == 0);
}
