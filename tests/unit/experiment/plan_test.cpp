#include <catch2/catch.hpp>

#include "experiment/plan.hpp"
#include "profile/parse.hpp"
#include "fakes.hpp"

using namespace netchaos::experiment;
using namespace netchaos::profile;
using namespace std::chrono_literals;

TEST_CASE("plan: baseline, phases in order, recovery; offsets add up") {
    auto e = fakes::make_experiment({Phase{.name = "a", .duration = 5s, .profile = fakes::delay_profile("pa", 10ms, 0ms)},
                                Phase{.name = "b", .duration = 7s, .profile = fakes::delay_profile("pb", 20ms, 5ms)}});
    auto plan = make_plan(e);
    REQUIRE(plan.steps.size() == 4);
    CHECK(plan.steps[0].kind == Step::Kind::baseline);
    CHECK(plan.steps[1].phase == "a");
    CHECK(plan.steps[1].start == 3s);
    CHECK(plan.steps[2].start == 8s);
    CHECK(plan.steps[2].profile.name == "pb");
    CHECK(plan.steps[3].kind == Step::Kind::recovery);
    CHECK(plan.steps[3].duration == 3s);
    CHECK(plan.total == 18s);
    auto text = describe(e, plan);
    CHECK(text.find("steady-state") != std::string::npos);
    CHECK(text.find("delay 20ms normal sigma 5ms") != std::string::npos);
    CHECK(text.find("total 18s") != std::string::npos);
}

TEST_CASE("plan: a ramp expands into steps interpolating delay, jitter, loss and rate") {
    Profile from = fakes::delay_profile("calm", 10ms, 0ms);
    Profile to = fakes::delay_profile("storm", 50ms, 20ms);
    from.egress->loss = Loss{RandomLoss{0.0, 0}};
    to.egress->loss = Loss{RandomLoss{0.04, 0}};
    from.egress->rate = Rate::link(1'000'000);
    to.egress->rate = Rate::link(3'000'000);
    Phase ph{.name = "ramp", .duration = 10s, .profile = from, .ramp = Ramp{from, to, 5}};
    auto plan = make_plan(fakes::make_experiment({ph}));
    REQUIRE(plan.steps.size() == 1 + 5 + 1);
    const auto& mid = plan.steps[3];   // t = 0.5
    CHECK(mid.step == 2);
    CHECK(mid.label() == "ramp 3/5");
    CHECK(mid.duration == 2s);
    CHECK(mid.profile.egress->delay->mean == 30ms);
    CHECK(mid.profile.egress->delay->jitter == 10ms);
    CHECK(std::get<RandomLoss>(mid.profile.egress->loss->model).p == Approx(0.02));
    CHECK(mid.profile.egress->rate->bytes_per_sec == 2'000'000);
    CHECK(plan.steps[1].profile.egress->delay->mean == 10ms);   // starts at `from`
    CHECK(plan.steps[5].profile.egress->delay->mean == 50ms);   // ends at `to`
    CHECK(plan.total == 16s);
}

TEST_CASE("plan: ramp durations that do not divide evenly lose nothing") {
    Profile a = fakes::delay_profile("a", 0ms, 0ms), b = fakes::delay_profile("b", 9ms, 0ms);
    Phase ph{.name = "r", .duration = 10s, .profile = a, .ramp = Ramp{a, b, 3}};
    auto plan = make_plan(fakes::make_experiment({ph}));
    Duration sum{0};
    for (const auto& s : plan.steps)
        if (s.kind == Step::Kind::fault) sum += s.duration;
    CHECK(sum == 10s);
    CHECK(plan.steps[2].profile.egress->delay->mean == 4500us);
}

TEST_CASE("interpolate: a direction missing on one side counts as no impairment") {
    Profile a;
    a.name = "none";
    Profile b = fakes::delay_profile("b", 40ms, 0ms);
    auto p = interpolate(a, b, 0.25);
    REQUIRE(p.egress);
    CHECK(p.egress->delay->mean == 10ms);
}

TEST_CASE("an interpolated ramp step survives the TOML the runner hands to `netchaos apply`") {
    Profile from = fakes::delay_profile("calm", 10ms, 0ms);
    Profile to = fakes::delay_profile("storm", 45ms, 21ms);
    to.egress->loss = Loss{RandomLoss{0.03, 0}};
    to.egress->rate = Rate::link(12'500'000);
    auto mid = interpolate(from, to, 1.0 / 3);
    auto text = to_text(mid);
    auto back = parse_profile_text(text, "step.toml");
    INFO(text);
    REQUIRE(back.ok());
    CHECK(back.value->egress->delay->mean == 21667us);
    CHECK(back.value->egress->delay->jitter == 7ms);
    CHECK(std::get<RandomLoss>(back.value->egress->loss->model).p == Approx(0.01));
    // The first step of a ramp into reordering jitter has no jitter yet: no reorder, no warning.
    to.egress->delay->order = JitterOrder::reorder;
    Profile quiet;
    quiet.name = "quiet";
    auto first = interpolate(quiet, to, 0.0);
    CHECK(first.egress->delay->order == JitterOrder::preserve);
    auto again = parse_profile_text(to_text(first), "step.toml");
    INFO(to_text(first));
    REQUIRE(again.ok());
    CHECK(again.diagnostics.empty());
    CHECK(interpolate(quiet, to, 0.5).egress->delay->order == JitterOrder::reorder);
}

TEST_CASE("format_duration is exact") {
    CHECK(format_duration(0ms) == "0");
    CHECK(format_duration(1500ms) == "1500ms");
    CHECK(format_duration(2s) == "2s");
    CHECK(format_duration(250us) == "250us");
    CHECK(format_duration(Duration(1234)) == "1234ns");
}

TEST_CASE("interpolate: a ramped [match] (one class) interpolates inside the class") {
    auto a = parse_profile_text("[egress.delay]\nmean = \"10ms\"\n[match]\nprotocol = \"udp\"\ndport = 9000\n", "a.toml");
    auto b = parse_profile_text("[egress.delay]\nmean = \"50ms\"\n[match]\nprotocol = \"udp\"\ndport = 9000\n", "b.toml");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    auto p = interpolate(*a.value, *b.value, 0.25);
    REQUIRE(p.classes.size() == 1);
    CHECK(p.classes[0].egress->delay->mean == 20ms);
    CHECK_FALSE(p.egress);
    // Different classes at the two ends: the nearer end's, as they are.
    auto c = parse_profile_text("[egress.delay]\nmean = \"50ms\"\n[match]\nprotocol = \"udp\"\ndport = 9001\n", "c.toml");
    REQUIRE(c.ok());
    auto q = interpolate(*a.value, *c.value, 0.25);
    CHECK(q.classes[0].match.dport == 9000);
    CHECK(q.classes[0].egress->delay->mean == 10ms);
}

TEST_CASE("plan: a trace delay on netem becomes in-place steps of its granularity; the forwarder keeps it whole") {
    // 20 ms for 1 s, then 60 ms for 1 s (a point every 10 ms), looping every 2 s.
    Profile p;
    p.name = "trace";
    p.egress.emplace().delay.emplace().trace.emplace();
    auto& tr = *p.egress->delay->trace;
    for (int i = 0; i < 200; ++i) tr.points.push_back({i * 10ms, i < 100 ? 20ms : 60ms});
    tr.period = 2s;
    tr.granularity = 250ms;
    p.egress->delay->order = JitterOrder::reorder;
    auto e = fakes::make_experiment({Phase{.name = "replay", .duration = 3100ms, .profile = p}});
    e.target.backend = Backend::netem;
    auto plan = make_plan(e);
    REQUIRE(plan.steps.size() == 2 + 13);   // 12 steps of 250 ms and the 100 ms left
    CHECK(plan.steps[1].label() == "replay 1/13");
    CHECK(plan.steps[1].start == 3s);
    CHECK(plan.steps[13].start == 3s + 12 * 250ms);
    CHECK(plan.steps[13].duration == 100ms);
    CHECK(plan.steps[14].kind == Step::Kind::recovery);
    CHECK(plan.total == 3s + 3100ms + 3s);
    for (int k = 0; k < 13; ++k) {
        const Delay& d = *plan.steps[std::size_t(k) + 1].profile.egress->delay;
        CHECK_FALSE(d.trace);
        CHECK(d.distribution == Distribution::normal);
    }
    const Delay& first = *plan.steps[1].profile.egress->delay;
    CHECK(first.mean == 20ms);
    CHECK(first.jitter == 0ms);
    CHECK(first.order == JitterOrder::preserve);   // nothing to reorder without jitter
    CHECK(plan.steps[5].profile.egress->delay->mean == 60ms);           // 1.0 .. 1.25 s
    const Delay& edge = *plan.steps[8].profile.egress->delay;           // 1.75 .. 2.0 s: the wrap 60 -> 20 ms
    CHECK(edge.mean > 58ms);
    CHECK(edge.mean < 60ms);
    CHECK(edge.jitter > 0ms);
    CHECK(edge.order == JitterOrder::reorder);
    CHECK(plan.steps[9].profile.egress->delay->mean == 20ms);           // second pass
    CHECK(describe(e, plan).find("replay 13/13") != std::string::npos);
    // On the forwarder the phase is one step holding the trace (followed per packet).
    e.target.backend = Backend::dpdk;
    auto fwd = make_plan(e);
    REQUIRE(fwd.steps.size() == 3);
    CHECK(fwd.steps[1].profile.egress->delay->trace);
    CHECK(describe(e, fwd).find("delay trace (inline) (200 points, loop)") != std::string::npos);
}
