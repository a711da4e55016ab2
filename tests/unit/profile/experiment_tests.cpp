// Experiments: phases resolve profile files relative to the experiment, inline overrides
// merge key by key, ramps load both ends, phase thresholds merge over the experiment's.
#include "helpers.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

namespace {
const char* head = R"(name = "e"
description = "test"
[target]
backend = "netem"
dev = "veth0"
[probe]
target = "10.0.0.2:7777"
[thresholds]
jitter_1s_max = "80ms"
loss_max = "1%"
)";   // 10 lines

struct Fixture {
    nc_test::TempDir dir;
    Fixture() {
        dir.write("profiles/base.toml", "name = \"base\"\n[egress.delay]\nmean = \"50ms\"\njitter = \"30ms\"\ndistribution = \"normal\"\n");
        dir.write("profiles/quiet.toml", "name = \"quiet\"\n[egress.delay]\nmean = \"10ms\"\n");
        dir.write("profiles/broken.toml", "name = \"broken\"\n[egress.delay]\nmean = \"10ms\"\n  jitterr = \"1ms\"\n");
    }
    Parsed<Experiment> run(const std::string& body) {
        return parse_experiment_file(dir.write("profiles/experiments/e.toml", std::string(head) + body));
    }
};
}  // namespace

TEST_CASE("phases: profile relative to the experiment, inline overrides merged over it") {
    Fixture f;
    auto e = f.run(R"([[phase]]
name = "a"
duration = "20s"
profile = "../base.toml"
[phase.egress.delay]
mean = "80ms"
[phase.egress.loss]
p = "1%"
[[phase]]
duration = "5s"
[phase.egress.delay]
mean = "1ms"
)");
    INFO(nc_test::dump(e.diagnostics));
    REQUIRE(e.ok());
    const auto& x = *e.value;
    CHECK(x.name == "e");
    CHECK(x.target.dev == "veth0");
    CHECK(x.probe.target == "10.0.0.2:7777");
    CHECK(x.probe.rate_hz == 100.0);
    CHECK(x.baseline == 3s);
    REQUIRE(x.phases.size() == 2);
    const auto& d = *x.phases[0].profile.egress->delay;
    CHECK(x.phases[0].name == "a");
    CHECK(x.phases[0].duration == 20s);
    CHECK(d.mean == 80ms);                          // overridden
    CHECK(d.jitter == 30ms);                        // kept from the file
    CHECK(d.distribution == Distribution::normal);  // kept from the file
    CHECK(std::get<RandomLoss>(x.phases[0].profile.egress->loss->model).p == Approx(0.01));
    CHECK(x.phases[0].profile.name == "base");
    CHECK(x.phases[1].name == "phase-2");
    CHECK(x.phases[1].profile.egress->delay->mean == 1ms);
    CHECK(x.phases[1].thresholds.jitter_1s_max == 80ms);   // inherited
}

TEST_CASE("phase thresholds merge over the experiment's") {
    Fixture f;
    auto e = f.run(R"([[phase]]
duration = "1s"
[phase.thresholds]
loss_max = "5%"
p99_drift_max = "200%"
[phase.thresholds.alert]
periods = 2
)");
    INFO(nc_test::dump(e.diagnostics));
    REQUIRE(e.ok());
    const auto& t = e.value->phases[0].thresholds;
    CHECK(t.loss_max == Approx(0.05));
    CHECK(t.jitter_1s_max == 80ms);
    CHECK(t.p99_drift_max == Approx(2.0));
    REQUIRE(t.alert);
    CHECK(t.alert->periods == 2);
    CHECK(t.alert->jitter == 80ms);   // default of the rule
    CHECK(e.value->thresholds.loss_max == Approx(0.01));
    CHECK_FALSE(e.value->thresholds.alert);
}

TEST_CASE("ramps load both ends relative to the experiment") {
    Fixture f;
    auto e = f.run("[[phase]]\nduration = \"30s\"\nramp = { from = \"../quiet.toml\", to = \"../base.toml\", steps = 5 }\n");
    INFO(nc_test::dump(e.diagnostics));
    REQUIRE(e.ok());
    const auto& ph = e.value->phases[0];
    REQUIRE(ph.ramp);
    CHECK(ph.ramp->steps == 5);
    CHECK(ph.ramp->from.name == "quiet");
    CHECK(ph.ramp->to.name == "base");
    CHECK(ph.profile == ph.ramp->from);
}

TEST_CASE("experiment errors: positions in the experiment and in the referenced profile") {
    Fixture f;
    auto bad_override = f.run("[[phase]]\nduration = \"1s\"\nprofile = \"../base.toml\"\n[phase.egress.delay]\nmean = 5\n");
    NC_EXPECT_ERROR(bad_override, "phase[1].egress.delay.mean", 15, 8, "expected a duration");
    CHECK(nc_test::find_diag(bad_override.diagnostics, "phase[1].egress.delay.mean")->file.filename() == "e.toml");

    auto broken = f.run("[[phase]]\nduration = \"1s\"\nprofile = \"../broken.toml\"\n");
    INFO(nc_test::dump(broken.diagnostics));
    REQUIRE_FALSE(broken.ok());
    const auto* d = nc_test::find_diag(broken.diagnostics, "egress.delay.jitterr");
    REQUIRE(d);
    CHECK(d->file.filename() == "broken.toml");
    CHECK(d->line == 4);
    CHECK(d->column == 3);

    auto missing = f.run("[[phase]]\nduration = \"1s\"\nprofile = \"../nope.toml\"\n");
    NC_EXPECT_ERROR(missing, "phase[1].profile", 13, 11, "not found: looked for");

    // A rule that spans base and override: the override removes nothing, so mean + reorder is fine,
    // but reorder over a profile without delay is an error at the override.
    auto reorder = f.run("[[phase]]\nduration = \"1s\"\n[phase.egress.reorder]\np = \"1%\"\n");
    NC_EXPECT_ERROR(reorder, "phase[1].egress.reorder", 13, 1, "reorder without delay");

    auto both = f.run("[[phase]]\nduration = \"1s\"\nprofile = \"../base.toml\"\nramp = { from = \"../quiet.toml\", to = \"../base.toml\" }\n");
    NC_EXPECT_ERROR(both, "phase[1].ramp", 14, 8, "either profile or ramp");

    auto nodur = f.run("[[phase]]\nname = \"x\"\n");
    NC_EXPECT_ERROR(nodur, "phase[1].duration", 11, 1, "needs duration");

    auto unknown = f.run("[[phase]]\nduration = \"1s\"\nprofil = \"../base.toml\"\n");
    NC_EXPECT_ERROR(unknown, "phase[1].profil", 13, 1, "did you mean \"profile\"?");

    auto steps = f.run("[[phase]]\nduration = \"1s\"\nramp = { from = \"../quiet.toml\", to = \"../base.toml\", steps = 1 }\n");
    NC_EXPECT_ERROR(steps, "phase[1].ramp.steps", 13, 63, "expected an integer in [2, 10000]");
}

TEST_CASE("experiment errors: target, probe, phases") {
    nc_test::TempDir dir;
    auto none = parse_experiment_text("name = \"x\"\n", dir.path / "x.toml");
    REQUIRE_FALSE(none.ok());
    CHECK(nc_test::find_diag(none.diagnostics, "target"));
    CHECK(nc_test::find_diag(none.diagnostics, "probe"));
    CHECK(nc_test::find_diag(none.diagnostics, "phase"));
    auto nodev = parse_experiment_text("[target]\nbackend = \"netem\"\n[probe]\ntarget = \"h:1\"\n[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    NC_EXPECT_ERROR(nodev, "target.dev", 1, 1, "needs dev");
    auto dpdk = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\nmode = \"udp\"\n[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    INFO(nc_test::dump(dpdk.diagnostics));
    REQUIRE(dpdk.ok());
    CHECK(dpdk.value->target.control == "/run/netchaos/fwd.sock");
    auto port = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"10.0.0.1\"\n[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    NC_EXPECT_ERROR(port, "probe.target", 4, 10, "expected \"HOST:PORT\"");
    auto icmp = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"10.0.0.1\"\nmode = \"icmp\"\n[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    CHECK(icmp.ok());
    auto phase_type = parse_experiment_text("phase = 3\n[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\n", dir.path / "x.toml");
    NC_EXPECT_ERROR(phase_type, "phase", 1, 9, "expected [[phase]] tables");
    auto ratio = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\n[thresholds]\nspike_ratio_max = 1.5\n[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    NC_EXPECT_ERROR(ratio, "thresholds.spike_ratio_max", 6, 19, "expected a number in [0, 1]");
    const char* two = "[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\n"
                      "[[phase]]\nname = \"quiet\"\nduration = \"1s\"\n[[phase]]\nname = \"peak\"\nduration = \"1s\"\n";
    auto drift = parse_experiment_text(std::string("drift_baseline = \"quiet\"\n") + two, dir.path / "x.toml");
    INFO(nc_test::dump(drift.diagnostics));
    REQUIRE(drift.ok());
    CHECK(drift.value->drift_baseline == "quiet");
    auto nodrift = parse_experiment_text(std::string("drift_baseline = \"quite\"\n") + two, dir.path / "x.toml");
    NC_EXPECT_ERROR(nodrift, "drift_baseline", 1, 18, "no [[phase]] named \"quite\": expected one of quiet, peak");
}

TEST_CASE("experiment keys the backend does not use are refused rather than ignored") {
    // Each of these was accepted and silently ignored: an "ingress" dpdk experiment impaired
    // egress (a [match] phase once impaired every flow; the forwarder now has classes).
    nc_test::TempDir dir;
    const std::string probe = "[probe]\ntarget = \"h:1\"\n[[phase]]\nduration = \"1s\"\n";
    auto ingress = parse_experiment_text("[target]\nbackend = \"dpdk\"\ndirection = \"ingress\"\n" + probe, dir.path / "x.toml");
    NC_EXPECT_ERROR(ingress, "target.direction", 3, 13, "does not take direction = \"ingress\"");
    auto egress = parse_experiment_text("[target]\nbackend = \"dpdk\"\ndirection = \"egress\"\n" + probe, dir.path / "x.toml");
    INFO(nc_test::dump(egress.diagnostics));
    CHECK(egress.ok());   // what the forwarder does anyway (the shipped payment-morning says so)
    auto dev = parse_experiment_text("[target]\nbackend = \"dpdk\"\ndev = \"eth0\"\n" + probe, dir.path / "x.toml");
    NC_EXPECT_ERROR(dev, "target.dev", 3, 7, "does not use dev");
    auto ns = parse_experiment_text("[target]\nbackend = \"dpdk\"\nnetns = \"x\"\n" + probe, dir.path / "x.toml");
    NC_EXPECT_ERROR(ns, "target.netns", 3, 9, "does not use netns");
    auto ctl = parse_experiment_text("[target]\nbackend = \"netem\"\ndev = \"eth0\"\ncontrol = \"/x.sock\"\n" + probe, dir.path / "x.toml");
    NC_EXPECT_ERROR(ctl, "target.control", 4, 11, "does not use it");
    auto match = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\n[[phase]]\nname = \"one\"\n"
                                       "duration = \"1s\"\n[phase.egress.delay]\nmean = \"5ms\"\n[phase.match]\nprotocol = \"udp\"\ndport = 9000\n",
                                       dir.path / "x.toml");
    // The forwarder classifies per packet now: a [match] phase is one class there too.
    INFO(nc_test::dump(match.diagnostics));
    CHECK(match.ok());
    CHECK(match.value->phases[0].profile.classes.size() == 1);
    auto netem_match = parse_experiment_text("[target]\nbackend = \"netem\"\ndev = \"eth0\"\n[probe]\ntarget = \"h:1\"\n[[phase]]\n"
                                             "duration = \"1s\"\n[phase.egress.delay]\nmean = \"5ms\"\n[phase.match]\nprotocol = \"udp\"\ndport = 9000\n",
                                             dir.path / "x.toml");
    INFO(nc_test::dump(netem_match.diagnostics));
    CHECK(netem_match.ok());
}

TEST_CASE("probe key_file: relative to the experiment, udp only") {
    nc_test::TempDir dir;
    auto ok = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h:1\"\nkey_file = \"k/probe.key\"\n"
                                    "[[phase]]\nduration = \"1s\"\n", dir.path / "e/x.toml");
    INFO(nc_test::dump(ok.diagnostics));
    REQUIRE(ok.ok());
    CHECK(ok.value->probe.key_file == dir.path / "e/k/probe.key");
    auto icmp = parse_experiment_text("[target]\nbackend = \"dpdk\"\n[probe]\ntarget = \"h\"\nmode = \"icmp\"\nkey_file = \"k\"\n"
                                      "[[phase]]\nduration = \"1s\"\n", dir.path / "x.toml");
    NC_EXPECT_ERROR(icmp, "probe.key_file", 6, 12, "udp");
}
