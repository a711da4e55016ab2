// Issue 18 (a new user's first hour): each case reproduces a trap or a misleading message
// a new user met, through the same entry points `validate` uses.
#include "helpers.hpp"

#include "profile/loss.hpp"

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

TEST_CASE("item 5: loss = { mean = \"0.5%\", burst = 4 } derives GE p = 0.1256%, r = 25% (the user's hand arithmetic)") {
    auto p = parse_profile_text("[egress]\nloss = { mean = \"0.5%\", burst = 4 }\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    CHECK(nc_test::count(p.diagnostics, S::warning) == 0);
    const auto& g = std::get<GilbertElliott>(p.value->egress->loss->model);
    CHECK(g.r == Approx(0.25));
    CHECK(g.p == Approx(0.005 / (4 * 0.995)));
    CHECK(g.p * 100 == Approx(0.1256).epsilon(1e-3));
    CHECK(g.one_minus_h == 1.0);
    CHECK(g.one_minus_k == 0.0);
    auto sum = summarize(p.value->egress->loss->model);
    CHECK(sum.mean_loss == Approx(0.005));
    REQUIRE(sum.mean_burst);
    CHECK(*sum.mean_burst == Approx(4.0));
    // show-profile prints both, in text and JSON.
    CHECK_THAT(to_text(*p.value), Catch::Matchers::Contains("# mean loss 0.5%, mean burst 4 packets"));
    CHECK_THAT(to_json(*p.value), Catch::Matchers::Contains("\"mean_loss\": 0.005") && Catch::Matchers::Contains("\"mean_burst\": 4"));
}

TEST_CASE("item 5: mean/burst mistakes are errors that say what to write") {
    auto both = parse_profile_text("[egress.loss]\nmean = \"1%\"\nburst = 3\np = \"1%\"\n", "t.toml");
    NC_EXPECT_ERROR(both, "egress.loss.p", 4, 5, "either mean and burst");
    auto alone = parse_profile_text("[egress.loss]\nmean = \"1%\"\n", "t.toml");
    NC_EXPECT_ERROR(alone, "egress.loss.burst", 2, 8, "mean needs burst");
    auto small = parse_profile_text("[egress.loss]\nmean = \"1%\"\nburst = 0.5\n", "t.toml");
    NC_EXPECT_ERROR(small, "egress.loss.burst", 3, 9, "expected a number in [1,");
    auto random = parse_profile_text("[egress.loss]\nmodel = \"random\"\nmean = \"1%\"\nburst = 2\n", "t.toml");
    NC_EXPECT_ERROR(random, "egress.loss.mean", 3, 8, "only applies to model = \"gilbert-elliott\"");
    CHECK(nc_test::find_diag(random.diagnostics, "egress.loss") == nullptr);   // one cause, one error: no "needs p" too
    auto unreachable = parse_profile_text("[egress.loss]\nmean = \"90%\"\nburst = 1\n", "t.toml");
    NC_EXPECT_ERROR(unreachable, "egress.loss.mean", 2, 8, "cannot be reached");
}

TEST_CASE("item 5: GE with only p (tc's r = 1 - p) warns that its bursts average 1 packet") {
    auto p = parse_profile_text("[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"0.5%\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto* w = nc_test::find_diag(p.diagnostics, "egress.loss.p", S::warning);
    REQUIRE(w != nullptr);
    CHECK_THAT(w->message, Catch::Matchers::Contains("mean burst is 1.01 packets") && Catch::Matchers::Contains("r defaults to 1 - p") &&
                               Catch::Matchers::Contains("burst = 4 }"));
    auto bursty = parse_profile_text("[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"0.1256%\"\nr = \"25%\"\n", "t.toml");
    REQUIRE(bursty.ok());
    CHECK(nc_test::count(bursty.diagnostics, S::warning) == 0);
}

TEST_CASE("item 5: mean loss and mean burst of every model") {
    // Random: bursts are runs of independent losses, 1 / (1 - p).
    auto rnd = summarize(RandomLoss{0.2, 0});
    CHECK(rnd.mean_loss == 0.2);
    CHECK(*rnd.mean_burst == Approx(1.25));
    CHECK_FALSE(summarize(RandomLoss{0.2, 0.5}).mean_burst);
    // Gilbert-Elliott with losses in both states: pi_bad = p / (p + r).
    GilbertElliott g{0.02, 0.25, 0.6, 0.001};
    auto ge = summarize(g);
    double pib = 0.02 / 0.27;
    CHECK(ge.mean_loss == Approx(pib * 0.6 + (1 - pib) * 0.001));
    REQUIRE(ge.mean_burst);
    CHECK(*ge.mean_burst > 1.0);
    CHECK(*ge.mean_burst < 4.0);
    // Markov4 with no way back into the burst: p13 = 1%, p31 = 50% -> bursts of 2, loss 1/(1+2)... exactly:
    // pi3 / pi1 = p13 / p31, so loss = pi3 = 0.01 / 0.51.
    Markov4 m{0.01, 0.5, 0.0, 1.0, 0.0};
    auto m4 = summarize(m);
    CHECK(m4.mean_loss == Approx(0.01 / 0.51));
    CHECK(*m4.mean_burst == Approx(2.0));
    CHECK(summarize(Markov4{}).mean_loss == 0);
}

TEST_CASE("item 7: one root cause, one error: a jiter typo does not also say \"distribution without jitter\"") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"5ms\"\njiter = \"1ms\"\ndistribution = \"normal\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.delay.jiter", 3, 1, "did you mean \"jitter\"?");
    CHECK(nc_test::count(p.diagnostics, S::error) == 1);
    auto loss = parse_profile_text("[egress.loss]\npp = \"1%\"\n", "t.toml");
    NC_EXPECT_ERROR(loss, "egress.loss.pp", 2, 1, "did you mean \"p\"?");
    CHECK(nc_test::count(loss.diagnostics, S::error) == 1);
    auto rate = parse_profile_text("[egress.rate]\nrat = \"1mbit\"\n", "t.toml");
    CHECK(nc_test::count(rate.diagnostics, S::error) == 1);
    // Without a typo the rule still holds.
    auto nojit = parse_profile_text("[egress.delay]\nmean = \"5ms\"\ndistribution = \"normal\"\n", "t.toml");
    NC_EXPECT_ERROR(nojit, "egress.delay.distribution", 3, 16, "without jitter");
}

TEST_CASE("item 7: backend = \"dpkd\" gives one error (did you mean dpdk), not first \"netem needs dev\"") {
    auto e = parse_experiment_text("[target]\nbackend = \"dpkd\"\n[probe]\ntarget = \"10.0.0.2:7777\"\n[[phase]]\nduration = \"5s\"\n", "e.toml");
    NC_EXPECT_ERROR(e, "target.backend", 2, 11, "did you mean \"dpdk\"?");
    CHECK(nc_test::count(e.diagnostics, S::error) == 1);
    CHECK(nc_test::find_diag(e.diagnostics, "target.dev") == nullptr);
}

TEST_CASE("item 7: toml++ messages in TOML terms") {
    struct Case {
        const char* text;
        int line, column;
        const char* says;
    };
    for (const auto& c : {Case{"[egress.delay]\nmean = \"5ms\njitter = \"1ms\"\n", 2, 8, "unterminated string"},
                          Case{"[egress.delay]\nmean = '5ms\n", 2, 8, "unterminated string"},
                          Case{"description = \"\"\"abc\n", 1, 0, "unterminated string: the file ends inside it"},
                          Case{"[egress.delay]\nmean = 5ms\n", 2, 0, "must be a quoted string"},
                          Case{"[egress.delay]\nmean = \"5ms\"\nmean = \"6ms\"\n", 3, 0, "key 'mean' is set twice"},
                          Case{"[egress.delay\nmean = \"5ms\"\n", 1, 0, "unclosed table header"},
                          Case{"[egress.delay]\nmean \"5ms\"\n", 2, 0, "expected '=' after the key"},
                          Case{"[egress]\nloss = { p = \"1%\",\n", 2, 0, "unclosed inline table"},
                          Case{"[egress]\n[egress]\n", 2, 0, "table 'egress' is defined twice"}}) {
        auto p = parse_profile_text(c.text, "t.toml");
        INFO(c.text << "\n" << nc_test::dump(p.diagnostics));
        REQUIRE(p.diagnostics.size() == 1);
        const auto& d = p.diagnostics[0];
        CHECK(d.line == c.line);
        if (c.column) CHECK(d.column == c.column);
        CHECK_THAT(d.message, Catch::Matchers::Contains(c.says));
        CHECK_THAT(d.message, !Catch::Matchers::Contains("Error while parsing") && !Catch::Matchers::Contains("control characters"));
    }
}

TEST_CASE("item 7: a profile named by an experiment that is missing is reported resolved, with the experiment's directory") {
    nc_test::TempDir dir;
    auto file = dir.write("exp/e.toml", "[target]\nbackend = \"netem\"\ndev = \"veth0\"\n[probe]\ntarget = \"10.0.0.2:7777\"\n"
                                        "[[phase]]\nduration = \"5s\"\nprofile = \"../nothere.toml\"\n");
    auto e = parse_experiment_file(file);
    auto abs = std::filesystem::absolute(dir.path).lexically_normal();
    NC_EXPECT_ERROR(e, "phase[1].profile", 8, 11, "looked for " + (abs / "nothere.toml").string() + " (relative to the experiment's directory " + (abs / "exp").string() + ")");
    CHECK(nc_test::count(e.diagnostics, S::error) == 1);
}

TEST_CASE("item 6: p99_drift_floor = \"5ms\" is read with the thresholds") {
    auto e = experiment_with_probe("[thresholds]\np99_drift_max = \"200%\"\np99_drift_floor = \"5ms\"\n");
    INFO(nc_test::dump(e.diagnostics));
    REQUIRE(e.ok());
    REQUIRE(e.value->thresholds.p99_drift_floor);
    CHECK(*e.value->thresholds.p99_drift_floor == 5ms);
}
