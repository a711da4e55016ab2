#include <catch2/catch.hpp>

#include "profile/parse.hpp"
#include "profile/units.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

TEST_CASE("durations as people write them") {
    CHECK(parse_duration("50ms").value() == 50ms);
    CHECK(parse_duration("30us").value() == 30us);
    CHECK(parse_duration("1.5s").value() == 1500ms);
    CHECK(parse_duration("2min").value() == 120s);
    CHECK(parse_duration("1h").value() == 3600s);
    CHECK(parse_duration("250ns").value() == 250ns);
    CHECK(parse_duration("0.1ms").value() == 100us);
    CHECK(parse_duration("0").value() == 0ns);
    CHECK(parse_duration("12 ms").value() == 12ms);
}

TEST_CASE("bad durations say what was expected") {
    auto neg = parse_duration("-5ms");
    REQUIRE_FALSE(neg.ok());
    CHECK_THAT(neg.error().message, Catch::Matchers::Contains("negative duration"));
    CHECK(neg.error().kind == netchaos::ErrorKind::bad_input);
    auto nounit = parse_duration("12");
    REQUIRE_FALSE(nounit.ok());
    CHECK_THAT(nounit.error().message, Catch::Matchers::Contains("has no unit"));
    auto unit = parse_duration("5 parsecs");
    REQUIRE_FALSE(unit.ok());
    CHECK_THAT(unit.error().message, Catch::Matchers::Contains("unknown duration unit \"parsecs\""));
    CHECK(parse_duration("100h").ok());
    CHECK_THAT(parse_duration("101d").error().message, Catch::Matchers::Contains("unknown duration unit"));
    CHECK_THAT(parse_duration("2401h").error().message, Catch::Matchers::Contains("too large (at most 100 days)"));
    for (const char* s : {"", "ms", "abc", "1..2ms", "inf", "nan", "1e3ms", "9999999999999h"})
        CHECK_FALSE(parse_duration(s).ok());
}

TEST_CASE("probabilities: percent strings and fractions") {
    CHECK(parse_probability("0.1%").value() == Approx(0.001));
    CHECK(parse_probability("100%").value() == 1.0);
    CHECK(parse_probability("0%").value() == 0.0);
    CHECK(parse_probability("0.25").value() == 0.25);
    CHECK(parse_probability("1.0").value() == 1.0);
    CHECK(parse_probability("0").value() == 0.0);
    auto amb = parse_probability("1");
    REQUIRE_FALSE(amb.ok());
    CHECK_THAT(amb.error().message, Catch::Matchers::Contains("ambiguous"));
    auto over = parse_probability("150%");
    REQUIRE_FALSE(over.ok());
    CHECK_THAT(over.error().message, Catch::Matchers::Contains("outside 0-100%"));
    CHECK_FALSE(parse_probability("-1%").ok());
    CHECK_FALSE(parse_probability("1.5").ok());
    CHECK_FALSE(parse_probability("5 percent").ok());
}

TEST_CASE("percentages may exceed 100%") {
    CHECK(parse_percent("200%").value() == 2.0);
    CHECK(parse_percent("2.5").value() == 2.5);
    CHECK_FALSE(parse_percent("-3%").ok());
}

TEST_CASE("rates read as tc reads them: bit units are bits, bps units are bytes") {
    CHECK(parse_rate("100mbit").value() == 12'500'000u);
    CHECK(parse_rate("1gbit").value() == 125'000'000u);
    CHECK(parse_rate("64kbit").value() == 8'000u);
    CHECK(parse_rate("64kbps").value() == 64'000u);
    CHECK(parse_rate("1mbps").value() == 1'000'000u);
    CHECK(parse_rate("1Mbit").value() == 125'000u);
    CHECK(parse_rate("1kibit").value() == 128u);
    CHECK(parse_rate("1.5mbit").value() == 187'500u);
    auto bare = parse_rate("100");
    REQUIRE_FALSE(bare.ok());
    CHECK_THAT(bare.error().message, Catch::Matchers::Contains("has no unit"));
    CHECK_FALSE(parse_rate("10 furlongs").ok());
    CHECK_FALSE(parse_rate("-1mbit").ok());
    CHECK(parse_rate("10tbit").ok());
    CHECK_THAT(parse_rate("11tbit").error().message, Catch::Matchers::Contains("too large"));
}

TEST_CASE("sizes are binary, as in tc") {
    CHECK(parse_size("64kb").value() == 65536u);
    CHECK(parse_size("1500b").value() == 1500u);
    CHECK(parse_size("1mb").value() == 1048576u);
    CHECK(parse_size("1500").value() == 1500u);
    CHECK(parse_size("8kbit").value() == 1024u);
    CHECK_FALSE(parse_size("-1kb").ok());
    CHECK_FALSE(parse_size("1 lb").ok());
}

TEST_CASE("formatters are exact and parse back") {
    CHECK(format_duration(0ns) == "0");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2s) == "2s");
    CHECK(format_duration(120s) == "2min");
    CHECK(format_duration(1234567ns) == "1234567ns");
    CHECK(format_rate(12'500'000) == "100mbit");
    CHECK(format_rate(1) == "8bit");
    CHECK(format_size(65536) == "64kb");
    CHECK(format_size(1500) == "1500b");
    CHECK(format_percent(0.001) == "0.1%");
    for (Duration d : std::initializer_list<Duration>{0ns, 1ns, 999us, 1500ms, 61s, 7200s})
        CHECK(parse_duration(format_duration(d)).value() == d);
    for (std::uint64_t r : {1ull, 8000ull, 12'500'000ull, 125'000'000'000ull, 123457ull})
        CHECK(parse_rate(format_rate(r)).value() == r);
    // Positional notation however small: "%g" wrote 1e-07 as "1e-05%", which does not parse
    // (the fuzzer's and the payment-morning fit's 4-state p14 of 1.8e-7).
    CHECK(format_percent(1e-7) == "0.00001%");
    CHECK(format_percent(1.82651611e-7) == "0.0000182651611%");
    CHECK(format_percent(1.0 / 3) == "33.33333333%");
    CHECK(format_percent(1.0) == "100%");
    for (double p : {0.0, 0.001, 0.00005, 0.25, 1.0, 1e-7, 1.82651611e-7, 1.078559852e-08, 3e-12, 8.198552921648689607e-70, 0.999999999999})
        CHECK(parse_probability(format_percent(p)).value() == Approx(p).epsilon(1e-9));
}

TEST_CASE("normal mass below zero is Phi(-mean/sigma)") {
    CHECK(normal_mass_below_zero(50ms, 30ms) == Approx(0.04779).epsilon(1e-3));
    CHECK(normal_mass_below_zero(0ms, 30ms) == Approx(0.5));
    CHECK(normal_mass_below_zero(30ms, 41ms) == Approx(0.2322).epsilon(1e-3));
}

TEST_CASE("edit distance") {
    CHECK(edit_distance("jiter", "jitter") == 1);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("mean", "mean") == 0);
}

// Issue 18, item 4: units without traps. Each case is a trap a new user fell into.
TEST_CASE("trap: \"80m\" is refused for a duration, the message says min or ms") {
    auto m = parse_duration("80m");
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().kind == netchaos::ErrorKind::bad_input);
    CHECK_THAT(m.error().message, Catch::Matchers::Contains("\"80min\"") && Catch::Matchers::Contains("\"80ms\""));
    CHECK_FALSE(parse_duration("1.5 M").ok());
    CHECK(parse_duration("2min").value() == 120s);
}

TEST_CASE("trap: duration units are case-insensitive, like rates") {
    CHECK(parse_duration("80MS").value() == 80ms);
    CHECK(parse_duration("80Ms").value() == 80ms);
    CHECK(parse_duration("30US").value() == 30us);
    CHECK(parse_duration("1.5S").value() == 1500ms);
    CHECK(parse_duration("2MIN").value() == 120s);
    CHECK(parse_duration("1H").value() == 3600s);
    CHECK(parse_duration("250NS").value() == 250ns);
    CHECK(parse_rate("100MBIT").value() == parse_rate("100mbit").value());
}

TEST_CASE("trap: a bare probability reads as a fraction, with a warning that says so") {
    CHECK(parse_probability("0.5").value() == 0.5);
    auto w = bare_probability_warning("0.5", 0.5);
    CHECK_THAT(w, Catch::Matchers::Contains("50%") && Catch::Matchers::Contains("0.5%"));
    CHECK(bare_probability_warning("0", 0.0).empty());
    CHECK(bare_probability_warning("1.0", 1.0).empty());
}

TEST_CASE("trap: bps units are bytes per second, and the warning says so") {
    CHECK(parse_rate("10Mbps").value() == 10'000'000u);
    auto w = rate_warning("10Mbps");
    CHECK_THAT(w, Catch::Matchers::Contains("10 megabytes/s = 80mbit") && Catch::Matchers::Contains("\"10mbit\""));
    CHECK_THAT(rate_warning("64kbps"), Catch::Matchers::Contains("64 kilobytes/s = 512kbit"));
    CHECK(rate_warning("10mbit").empty());
    CHECK(rate_warning("10Mbit").empty());
}

TEST_CASE("trap: probe rates read the same on the CLI and in TOML, inside the probe's limits") {
    CHECK(parse_probe_rate("100").value() == 100.0);
    CHECK(parse_probe_rate("100/s").value() == 100.0);
    CHECK(parse_probe_rate("100/S").value() == 100.0);
    CHECK(parse_probe_rate("2.5/s").value() == 2.5);
    CHECK_FALSE(parse_probe_rate("100/min").ok());
    CHECK_FALSE(parse_probe_rate("fast").ok());
    CHECK(check_probe_rate(1, ProbeMode::udp).ok());
    CHECK(check_probe_rate(10000, ProbeMode::udp).ok());
    CHECK_THAT(check_probe_rate(0.5, ProbeMode::udp).error().message, Catch::Matchers::Contains("outside 1-10000"));
    CHECK_FALSE(check_probe_rate(20000, ProbeMode::udp).ok());
    CHECK_THAT(check_probe_rate(2000, ProbeMode::tcp).error().message, Catch::Matchers::Contains("at most 1000"));
}
