// The one [thresholds] reader: experiments and `probe --thresholds FILE` both use it.
#include <catch2/catch.hpp>

#include "profile/parse.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

TEST_CASE("[thresholds] table: every key, units, alert sub-table") {
    auto t = parse_thresholds_text(R"(
name = "exp"
[thresholds]
jitter_1s_max = "80ms"
spike_ratio_max = 0.6
p99_rtt_max = "200ms"
loss_max = "1%"
p99_drift_max = "200%"
fidelity_tolerance = "10%"
spike_level = "50ms"
window = "500ms"
spike_windows = 30
[thresholds.alert]
spike_ratio = 0.5
jitter = "70ms"
periods = 4
period = "2s"
)", "x.toml");
    REQUIRE(t.ok());
    CHECK(t.value->jitter_1s_max == 80ms);
    CHECK(t.value->spike_ratio_max == Approx(0.6));
    CHECK(t.value->p99_rtt_max == 200ms);
    CHECK(t.value->loss_max == Approx(0.01));
    CHECK(t.value->p99_drift_max == Approx(2.0));
    CHECK(t.value->fidelity_tolerance == Approx(0.1));
    CHECK(t.value->spike_level == 50ms);
    CHECK(t.value->window == 500ms);
    CHECK(t.value->spike_windows == 30);
    REQUIRE(t.value->alert);
    CHECK(t.value->alert->spike_ratio == Approx(0.5));
    CHECK(t.value->alert->jitter == 70ms);
    CHECK(t.value->alert->periods == 4);
    CHECK(t.value->alert->period == 2s);

    auto defaults = parse_thresholds_text("[thresholds]\nloss_max = 0.001\n", "d.toml");
    REQUIRE(defaults.ok());
    CHECK(defaults.value->loss_max == Approx(0.001));
    CHECK_FALSE(defaults.value->alert);
    CHECK(defaults.value->window == 1s);
    CHECK(defaults.value->spike_windows == 60);
}

TEST_CASE("[thresholds] errors carry file:line:column and the key") {
    auto msg = [](const char* text) {
        auto r = parse_thresholds_text(text, "t.toml");
        REQUIRE_FALSE(r.ok());
        REQUIRE_FALSE(r.diagnostics.empty());
        return r.diagnostics.front().format();
    };
    CHECK_THAT(msg("[thresholds]\np99_rtt_max = \"50 parsecs\"\n"),
               Catch::StartsWith("t.toml:2:15: error: thresholds.p99_rtt_max:"));
    CHECK_THAT(msg("[thresholds]\njiter_1s_max = \"5ms\"\n"),
               Catch::StartsWith("t.toml:2:1: error: thresholds.jiter_1s_max: unknown key"));
    CHECK_THAT(msg("[thresholds]\nloss_max = \"150%\"\n"), Catch::Contains("thresholds.loss_max"));
    CHECK_THAT(msg("[thresholds]\n[thresholds.alert]\nperiods = 0\n"),
               Catch::StartsWith("t.toml:3:11: error: thresholds.alert.periods"));
    CHECK_THAT(msg("[thresholds\n"), Catch::StartsWith("t.toml:1:"));
    CHECK_THAT(msg("name = 1\n"), Catch::Contains("no [thresholds] table"));
    CHECK_THAT(msg("[thresholds]\np99_rtt_max = 5\n"), Catch::Contains("a string with a unit"));
    // One set of bounds with the experiment reader: spike_windows up to 1e6, ratios 0..1.
    CHECK_THAT(msg("[thresholds]\nspike_ratio_max = 1.5\n"), Catch::StartsWith("t.toml:2:19: error: thresholds.spike_ratio_max"));
    CHECK_THAT(msg("[thresholds]\nwindow = \"0s\"\n"), Catch::Contains("thresholds.window"));
    // Report points fall on window ends.
    CHECK_THAT(msg("[thresholds]\nwindow = \"2s\"\n[thresholds.alert]\nperiod = \"5s\"\n"),
               Catch::Contains("thresholds.alert.period: the alert period must be a whole number of windows"));
}

TEST_CASE("[thresholds] from an experiment file: the same values the experiment gets") {
    const char* text = R"(
name = "e"
baseline = "5s"
[target]
backend = "dpdk"
control = "/run/x.sock"
[probe]
target = "10.0.0.2:7777"
[thresholds]
p99_rtt_max = "120ms"
[thresholds.alert]
periods = 2
[[phase]]
name = "a"
duration = "10s"
[phase.egress.delay]
mean = "5ms"
)";
    auto t = parse_thresholds_text(text, "e.toml");
    auto e = parse_experiment_text(text, "e.toml");
    REQUIRE(t.ok());
    REQUIRE(e.ok());
    CHECK(*t.value == e.value->thresholds);
    CHECK(t.value->alert->periods == 2);
}

TEST_CASE("[thresholds] status_ratio_max: codes and classes, fractions or percentages; bad keys located") {
    auto t = parse_thresholds_text("[thresholds]\nstatus_ratio_max = { \"429\" = 0.01, \"5xx\" = \"0.1%\" }\n", "t.toml");
    REQUIRE(t.ok());
    CHECK(t.diagnostics.empty());
    CHECK(t.value->status_ratio_max.at("429") == Approx(0.01));
    CHECK(t.value->status_ratio_max.at("5xx") == Approx(0.001));
    auto bad = parse_thresholds_text("[thresholds]\nstatus_ratio_max = { \"42\" = 0.01, \"6xx\" = 0.1, \"500\" = 2 }\n", "t.toml");
    REQUIRE_FALSE(bad.ok());
    int errors = 0;
    for (const auto& d : bad.diagnostics) {
        errors += d.severity == Diagnostic::Severity::error;
        CHECK(d.line == 2);
    }
    CHECK(errors == 3);
}
