// Issue 18 (a new user's first hour): each case reproduces a trap or a misleading message
// a new user met, through the same entry points `validate` uses.
#include "helpers.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

namespace {
using S = Diagnostic::Severity;
}

TEST_CASE("item 4: p = 0.5 and p = \"0.5\" are 50%, with a warning; \"0.5%\" is quiet") {
    for (const char* v : {"0.5", "\"0.5\""}) {
        auto p = parse_profile_text(std::string("[egress.loss]\np = ") + v + "\n", "t.toml");
        INFO(nc_test::dump(p.diagnostics));
        REQUIRE(p.ok());
        CHECK(std::get<RandomLoss>(p.value->egress->loss->model).p == 0.5);
        const auto* w = nc_test::find_diag(p.diagnostics, "egress.loss.p", S::warning);
        REQUIRE(w != nullptr);
        CHECK(w->line == 2);
        CHECK_THAT(w->message, Catch::Matchers::Contains("read as a fraction, 50%"));
    }
    auto pct = parse_profile_text("[egress.loss]\np = \"0.5%\"\n", "t.toml");
    REQUIRE(pct.ok());
    CHECK(nc_test::count(pct.diagnostics, S::warning) == 0);
}

TEST_CASE("item 4: mean = \"80m\" is refused (min or ms?), \"80MS\" is 80 ms") {
    auto m = parse_profile_text("[egress.delay]\nmean = \"80m\"\n", "t.toml");
    NC_EXPECT_ERROR(m, "egress.delay.mean", 2, 8, "say \"80min\" (minutes) or \"80ms\"");
    auto ms = parse_profile_text("[egress.delay]\nmean = \"80MS\"\n", "t.toml");
    INFO(nc_test::dump(ms.diagnostics));
    REQUIRE(ms.ok());
    CHECK(ms.value->egress->delay->mean == 80ms);
}

TEST_CASE("item 4: \"10Mbps\" warns that it is 10 megabytes/s = 80mbit") {
    auto p = parse_profile_text("[egress.rate]\nrate = \"10Mbps\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    CHECK(p.value->egress->rate->bytes_per_sec == 10'000'000u);
    const auto* w = nc_test::find_diag(p.diagnostics, "egress.rate.rate", S::warning);
    REQUIRE(w != nullptr);
    CHECK_THAT(w->message, Catch::Matchers::Contains("10 megabytes/s = 80mbit"));
    auto bits = parse_profile_text("[egress.rate]\nrate = \"10Mbit\"\n", "t.toml");
    REQUIRE(bits.ok());
    CHECK(nc_test::count(bits.diagnostics, S::warning) == 0);
}

namespace {
Parsed<Experiment> experiment_with_probe(const std::string& probe_lines) {
    return parse_experiment_text("[target]\nbackend = \"netem\"\ndev = \"veth0\"\n[probe]\ntarget = \"10.0.0.2:7777\"\n" + probe_lines +
                                     "[[phase]]\nduration = \"5s\"\n[phase.egress.delay]\nmean = \"1ms\"\n",
                                 "e.toml");
}
}  // namespace

TEST_CASE("item 4: rate = \"100/s\" in TOML, as --rate 100/s on the CLI") {
    for (const char* v : {"\"100/s\"", "100", "\"100\"", "100.0"}) {
        auto e = experiment_with_probe(std::string("rate = ") + v + "\n");
        INFO(v << "\n" << nc_test::dump(e.diagnostics));
        REQUIRE(e.ok());
        CHECK(e.value->probe.rate_hz == 100.0);
    }
}

TEST_CASE("item 1: validate refuses a probe rate the probe would refuse (0.5/s, 20000/s, tcp 2000/s)") {
    auto low = experiment_with_probe("rate = 0.5\n");
    NC_EXPECT_ERROR(low, "probe.rate", 6, 8, "outside 1-10000 probes/s");
    auto high = experiment_with_probe("rate = \"20000/s\"\n");
    NC_EXPECT_ERROR(high, "probe.rate", 6, 8, "outside 1-10000 probes/s");
    auto tcp = experiment_with_probe("rate = 2000\nmode = \"tcp\"\n");
    NC_EXPECT_ERROR(tcp, "probe.rate", 6, 8, "at most 1000");
    auto bad = experiment_with_probe("rate = \"fast\"\n");
    NC_EXPECT_ERROR(bad, "probe.rate", 6, 8, "probes per second like 100");
}
