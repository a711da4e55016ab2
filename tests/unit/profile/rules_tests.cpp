// Cross-field rules: netem's own and ours. Each rule: the message, and where it points.
#include "helpers.hpp"
#include "dist/table.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;
using Sev = Diagnostic::Severity;

TEST_CASE("rule: jitter without a delay is an error; jitter over an explicit 0 is allowed") {
    auto p = parse_profile_text("[egress.delay]\njitter = \"10ms\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.delay.jitter", 2, 10, "jitter without a delay");
    auto ok = parse_profile_text("[egress.delay]\nmean = \"0\"\njitter = \"10ms\"\n", "t.toml");
    INFO(nc_test::dump(ok.diagnostics));
    REQUIRE(ok.ok());
    // uniform, jitter > mean: half of the uniform mass is below zero.
    const auto* w = nc_test::find_diag(ok.diagnostics, "egress.delay.jitter", Sev::warning);
    REQUIRE(w);
    CHECK_THAT(w->message, Catch::Matchers::Contains("50% of the distribution"));
}

TEST_CASE("rule: reorder without delay") {
    auto p = parse_profile_text("[egress.reorder]\np = \"5%\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.reorder", 1, 1, "reorder without delay");
    auto zero = parse_profile_text("[egress.delay]\nmean = \"0\"\n[egress.reorder]\np = \"5%\"\n", "t.toml");
    NC_EXPECT_ERROR(zero, "egress.reorder", 3, 1, "reorder without delay");
    auto ok = parse_profile_text("[egress.delay]\nmean = \"10ms\"\n[egress.reorder]\np = \"5%\"\n", "t.toml");
    CHECK(ok.ok());
    CHECK(ok.value->egress->reorder->gap == 1);
}

TEST_CASE("rule: probabilities outside 0-100%") {
    auto p = parse_profile_text("[egress.duplicate]\np = \"101%\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.duplicate.p", 2, 5, "outside 0-100%");
    auto c = parse_profile_text("[egress.delay]\nmean = \"1ms\"\ncorrelation = 1.5\n", "t.toml");
    NC_EXPECT_ERROR(c, "egress.delay.correlation", 3, 15, "outside 0-100%");
    auto n = parse_profile_text("[egress.corrupt]\np = -0.1\n", "t.toml");
    NC_EXPECT_ERROR(n, "egress.corrupt.p", 2, 5, "outside 0-100%");
}

TEST_CASE("rule: a distribution without jitter") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"10ms\"\ndistribution = \"pareto\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.delay.distribution", 3, 16, "without jitter");
    auto zero = parse_profile_text("[egress.delay]\nmean = \"10ms\"\njitter = \"0\"\ndistribution = \"normal\"\n", "t.toml");
    NC_EXPECT_ERROR(zero, "egress.delay.distribution", 4, 16, "without jitter");
}

TEST_CASE("rule: limit smaller than rate x delay is a warning with the packets in flight") {
    auto p = parse_profile_text("[egress]\nlimit = 1000\n[egress.delay]\nmean = \"200ms\"\n[egress.rate]\nrate = \"100mbit\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());   // warnings do not fail
    const auto* w = nc_test::find_diag(p.diagnostics, "egress.limit", Sev::warning);
    REQUIRE(w);
    CHECK(w->line == 2);
    CHECK(w->column == 9);
    CHECK_THAT(w->message, Catch::Matchers::Contains("100mbit x 200ms holds 1667 packets of 1500 B"));
    // Default limit: the warning points at the rate.
    auto d = parse_profile_text("[egress.delay]\nmean = \"200ms\"\n[egress.rate]\nrate = \"100mbit\"\n", "t.toml");
    const auto* wd = nc_test::find_diag(d.diagnostics, "egress.limit", Sev::warning);
    REQUIRE(wd);
    CHECK(wd->line == 4);
    auto fits = parse_profile_text("[egress]\nlimit = 2000\n[egress.delay]\nmean = \"200ms\"\n[egress.rate]\nrate = \"100mbit\"\n", "t.toml");
    CHECK(nc_test::count(fits.diagnostics, Sev::warning) == 0);
}

TEST_CASE("rule: normal jitter larger than the mean warns with the truncated mass") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"30ms\"\njitter = \"41ms\"\ndistribution = \"normal\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto* w = nc_test::find_diag(p.diagnostics, "egress.delay.jitter", Sev::warning);
    REQUIRE(w);
    CHECK(w->line == 3);
    CHECK(w->column == 10);
    // Phi(-30/41) = 23.2%
    CHECK_THAT(w->message, Catch::Matchers::Contains("truncated at zero, 23.2% of the distribution"));
    auto below = parse_profile_text("[egress.delay]\nmean = \"50ms\"\njitter = \"30ms\"\ndistribution = \"normal\"\n", "t.toml");
    CHECK(nc_test::count(below.diagnostics, Sev::warning) == 0);
    // A mean that failed to parse is not a mean of 0: one error, no truncation warning.
    auto bad = parse_profile_text("[egress.delay]\nmean = \"70parsecs\"\njitter = \"43ms\"\ndistribution = \"normal\"\n", "t.toml");
    INFO(nc_test::dump(bad.diagnostics));
    CHECK(nc_test::count(bad.diagnostics, Sev::error) == 1);
    CHECK(nc_test::count(bad.diagnostics, Sev::warning) == 0);
}

TEST_CASE("rule: ecn needs a loss probability") {
    auto p = parse_profile_text("[egress.loss]\np = \"0%\"\necn = true\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.loss.ecn", 3, 7, "ecn = true needs a loss probability");
}

TEST_CASE("rule: each fault needs its probability") {
    NC_EXPECT_ERROR(parse_profile_text("[egress.loss]\ncorrelation = \"5%\"\n", "t.toml"), "egress.loss", 1, 1, "needs a probability p");
    NC_EXPECT_ERROR(parse_profile_text("[egress.duplicate]\ncorrelation = \"5%\"\n", "t.toml"), "egress.duplicate", 1, 1, "needs a probability p");
    NC_EXPECT_ERROR(parse_profile_text("[egress.corrupt]\n", "t.toml"), "egress.corrupt", 1, 1, "needs a probability p");
    NC_EXPECT_ERROR(parse_profile_text("[egress.loss]\nmodel = \"markov4\"\np32 = \"5%\"\n", "t.toml"), "egress.loss", 1, 1, "needs p13");
}

TEST_CASE("rule: markov4 transitions out of a state cannot exceed 100%") {
    auto p = parse_profile_text("[egress.loss]\nmodel = \"markov4\"\np13 = \"60%\"\np14 = \"50%\"\n", "t.toml");
    NC_EXPECT_ERROR(p, "egress.loss.p14", 4, 7, "p13 + p14 is 110%");
    auto q = parse_profile_text("[egress.loss]\nmodel = \"markov4\"\np13 = \"1%\"\np31 = \"90%\"\np32 = \"20%\"\n", "t.toml");
    NC_EXPECT_ERROR(q, "egress.loss.p32", 5, 7, "p31 + p32 is 110%");
}

TEST_CASE("rule: custom distributions need exactly one table source") {
    auto none = parse_profile_text("[egress.delay]\nmean = \"1ms\"\njitter = \"1ms\"\ndistribution = \"custom\"\n", "t.toml");
    NC_EXPECT_ERROR(none, "egress.delay.distribution", 4, 16, "needs table = \"file.dist\"");
    auto missing = parse_profile_text("[egress.delay]\nmean = \"1ms\"\njitter = \"1ms\"\ntable = \"nope.dist\"\n", "/tmp/t.toml");
    NC_EXPECT_ERROR(missing, "egress.delay.table", 4, 9, "\"nope.dist\" not found (looked for /tmp/nope.dist)");
    auto both = parse_profile_text("[egress.delay]\ntable = \"x.dist\"\nsamples = [1.0, 2.0]\n", "t.toml");
    NC_EXPECT_ERROR(both, "egress.delay.samples", 3, 11, "either table or samples");
    auto one = parse_profile_text("[egress.delay]\nsamples = [1.0]\n", "t.toml");
    NC_EXPECT_ERROR(one, "egress.delay.samples", 2, 11, "at least 2 samples");
    auto neg = parse_profile_text("[egress.delay]\nsamples = [1.0, -2.0]\n", "t.toml");
    NC_EXPECT_ERROR(neg, "egress.delay.samples", 2, 17, "got float -2");
    auto type = parse_profile_text("[egress.delay]\nsamples = \"1,2\"\n", "t.toml");
    NC_EXPECT_ERROR(type, "egress.delay.samples", 2, 11, "expected an array");
    auto other = parse_profile_text("[egress.delay]\nmean = \"1ms\"\njitter = \"1ms\"\ndistribution = \"normal\"\ntable = \"x.dist\"\n", "t.toml");
    CHECK_FALSE(other.ok());
}

TEST_CASE("custom samples give mean and sigma unless set; a file table resolves next to the profile") {
    auto p = parse_profile_text("[egress.delay]\nsamples = [10, 20, 30]\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto& d = *p.value->egress->delay;
    CHECK(d.distribution == Distribution::custom);
    CHECK(d.mean == 20ms);
    CHECK(d.jitter == 10ms);   // sample standard deviation
    CHECK(d.table->samples_ms.size() == 3);
    auto set = parse_profile_text("[egress.delay]\nmean = \"5ms\"\nsamples = [10, 20, 30]\n", "t.toml");
    REQUIRE(set.ok());
    CHECK(set.value->egress->delay->mean == 5ms);

    nc_test::TempDir dir;
    dir.write("tables/x.dist", "0 1 -1\n");
    auto f = parse_profile_file(dir.write("p.toml", "[egress.delay]\nmean = \"5ms\"\njitter = \"2ms\"\ntable = \"tables/x.dist\"\n"));
    INFO(nc_test::dump(f.diagnostics));
    REQUIRE(f.ok());
    CHECK(f.value->egress->delay->table->file == "tables/x.dist");   // as written: relative to the profile
    CHECK(f.value->egress->delay->distribution == Distribution::custom);
    dir.write("tables/bad.dist", "# header\n1 2 3\n4 40000 5\n");
    auto bad = parse_profile_file(dir.write("b.toml", "[egress.delay]\nmean = \"5ms\"\njitter = \"2ms\"\ntable = \"tables/bad.dist\"\n"));
    NC_EXPECT_ERROR(bad, "egress.delay.table", 3, 3, "distribution table: outside the signed 16-bit range");
    CHECK(nc_test::find_diag(bad.diagnostics, "egress.delay.table")->file.filename() == "bad.dist");
    dir.write("tables/word.dist", "1 x2\n");
    auto word = parse_profile_file(dir.write("w.toml", "[egress.delay]\nmean = \"5ms\"\njitter = \"2ms\"\ntable = \"tables/word.dist\"\n"));
    NC_EXPECT_ERROR(word, "egress.delay.table", 1, 3, "distribution table: not an integer");
    CHECK(nc_test::find_diag(word.diagnostics, "egress.delay.table")->message.find("x2") == std::string::npos);
    dir.write("tables/empty.dist", "# nothing\n");
    auto empty = parse_profile_file(dir.write("e.toml", "[egress.delay]\nmean = \"5ms\"\njitter = \"2ms\"\ntable = \"tables/empty.dist\"\n"));
    CHECK_FALSE(empty.ok());
    auto nojit = parse_profile_file(dir.write("q.toml", "[egress.delay]\nmean = \"5ms\"\ntable = \"tables/x.dist\"\n"));
    NC_EXPECT_ERROR(nojit, "egress.delay.table", 3, 9, "without jitter");
}

TEST_CASE("rule: slot is a window or a distribution, and max >= min") {
    auto inv = parse_profile_text("[egress.slot]\nmin_delay = \"5ms\"\nmax_delay = \"1ms\"\n", "t.toml");
    NC_EXPECT_ERROR(inv, "egress.slot.max_delay", 3, 13, "smaller than min_delay");
    auto both = parse_profile_text("[egress.slot]\nmin_delay = \"1ms\"\ndistribution = \"normal\"\ndelay = \"1ms\"\njitter = \"1ms\"\n", "t.toml");
    NC_EXPECT_ERROR(both, "egress.slot", 3, 16, "not both");
    auto none = parse_profile_text("[egress.slot]\npackets = 5\n", "t.toml");
    NC_EXPECT_ERROR(none, "egress.slot", 1, 1, "slot needs min_delay");
    auto only_min = parse_profile_text("[egress.slot]\nmin_delay = \"2ms\"\n", "t.toml");
    REQUIRE(only_min.ok());
    CHECK(only_min.value->egress->slot->max_delay == 2ms);
    auto dist = parse_profile_text("[egress.slot]\ndistribution = \"pareto\"\ndelay = \"2ms\"\njitter = \"1ms\"\n", "t.toml");
    REQUIRE(dist.ok());
    CHECK(dist.value->egress->slot->distribution == Distribution::pareto);
    CHECK(dist.value->egress->slot->dist_delay == 2ms);
}

TEST_CASE("rule: ports need tcp or udp; address families must agree; host bits warn") {
    auto p = parse_profile_text("[match]\nprotocol = \"icmp\"\ndport = 53\n", "t.toml");
    NC_EXPECT_ERROR(p, "match.protocol", 3, 9, "need protocol = \"tcp\" or \"udp\"");
    auto mix = parse_profile_text("[match]\nsrc = \"10.0.0.0/8\"\ndst = \"fd00::/8\"\n", "t.toml");
    NC_EXPECT_ERROR(mix, "match.dst", 3, 7, "mix IPv4 and IPv6");
    auto host = parse_profile_text("[egress.delay]\nmean = \"1ms\"\n[match]\ndst = \"10.1.2.3/16\"\n", "t.toml");
    REQUIRE(host.ok());
    CHECK(host.value->classes.at(0).match.dst->address == "10.1.0.0");
    const auto* w = nc_test::find_diag(host.diagnostics, "match.dst", Sev::warning);
    REQUIRE(w);
    CHECK_THAT(w->message, Catch::Matchers::Contains("matching 10.1.0.0/16"));
}

TEST_CASE("rule: rate must be positive") {
    NC_EXPECT_ERROR(parse_profile_text("[egress.rate]\nrate = \"0mbit\"\n", "t.toml"), "egress.rate.rate", 2, 8, "rate needs a value > 0");
    NC_EXPECT_ERROR(parse_profile_text("[egress.rate]\ncell_size = 53\n", "t.toml"), "egress.rate.rate", 1, 1, "rate needs a value > 0");
}

TEST_CASE("a profile that impairs nothing is valid with a warning") {
    auto p = parse_profile_text("name = \"nothing\"\n", "t.toml");
    REQUIRE(p.ok());
    CHECK(nc_test::count(p.diagnostics, Sev::warning) == 1);
}

TEST_CASE("rule: reorder = true with a rate warns (the rate keeps order on both backends)") {
    const std::string delay = "[egress.delay]\nmean = \"40ms\"\njitter = \"10ms\"\nreorder = true\n";
    auto p = parse_profile_text(delay + "[egress.rate]\nrate = \"10mbit\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto* w = nc_test::find_diag(p.diagnostics, "egress.delay.reorder", Sev::warning);
    REQUIRE(w);
    CHECK_THAT(w->message, Catch::Matchers::Contains("keeps packet order"));
    CHECK(w->line == 4);
    auto no_rate = parse_profile_text(delay, "t.toml");
    CHECK(nc_test::count(no_rate.diagnostics, Sev::warning) == 0);
}

TEST_CASE("rule: table paths stay in the profile's directory unless allowed, and errors never quote a file") {
    // Found as: table = "/etc/shadow" was read as root and its first bytes came back in the
    // error message.
    nc_test::TempDir dir;
    dir.write("outside/secret.dist", "hunter2-password 1 2\n");
    dir.write("outside/ok.dist", "0 1 -1\n");
    dir.write("prof/tables/x.dist", "0 1 -1\n");
    const std::string body = "[egress.delay]\nmean = \"5ms\"\njitter = \"2ms\"\ntable = ";
    auto inside = parse_profile_file(dir.write("prof/in.toml", body + "\"tables/x.dist\"\n"));
    INFO(nc_test::dump(inside.diagnostics));
    CHECK(inside.ok());
    auto up = parse_profile_file(dir.write("prof/up.toml", body + "\"../outside/ok.dist\"\n"));
    NC_EXPECT_ERROR(up, "egress.delay.table", 4, 9, "outside the profile's directory");
    CHECK_THAT(nc_test::find_diag(up.diagnostics, "egress.delay.table")->message, Catch::Contains("--allow-path"));
    auto abs = parse_profile_file(dir.write("prof/abs.toml", body + "\"" + (dir.path / "outside/secret.dist").string() + "\"\n"));
    NC_EXPECT_ERROR(abs, "egress.delay.table", 4, 9, "outside the profile's directory");
    auto etc = parse_profile_file(dir.write("prof/etc.toml", body + "\"/etc/passwd\"\n"));
    NC_EXPECT_ERROR(etc, "egress.delay.table", 4, 9, "outside the profile's directory");
    // iproute2's own table directories are system tables, allowed as tc allows them.
    for (const auto& d : netchaos::dist::tc_table_dirs()) {
        if (!std::filesystem::exists(d / "experimental.dist")) continue;
        auto sys = parse_profile_file(dir.write("prof/sys.toml", body + "\"" + (d / "experimental.dist").string() + "\"\n"));
        INFO(nc_test::dump(sys.diagnostics));
        CHECK(sys.ok());
    }
    std::filesystem::create_symlink(dir.path / "outside/ok.dist", dir.path / "prof/tables/link.dist");
    auto link = parse_profile_file(dir.write("prof/link.toml", body + "\"tables/link.dist\"\n"));
    NC_EXPECT_ERROR(link, "egress.delay.table", 4, 9, "outside the profile's directory");

    set_table_policy({true, {dir.path / "outside"}});
    auto allowed = parse_profile_file(dir.path / "prof/up.toml");
    auto allowed_link = parse_profile_file(dir.path / "prof/link.toml");
    auto still_etc = parse_profile_file(dir.path / "prof/etc.toml");
    auto secret = parse_profile_file(dir.path / "prof/abs.toml");
    set_table_policy({});
    INFO(nc_test::dump(allowed.diagnostics));
    CHECK(allowed.ok());
    CHECK(allowed_link.ok());
    CHECK_FALSE(still_etc.ok());
    REQUIRE_FALSE(secret.ok());
    for (const auto& d : secret.diagnostics) CHECK_THAT(d.message, !Catch::Contains("hunter2"));
    // The same file through the engine's loader: position, no contents.
    auto t = netchaos::dist::load_file(dir.path / "outside/secret.dist");
    REQUIRE_FALSE(t);
    CHECK_THAT(t.error().message, !Catch::Contains("hunter2") && Catch::Contains("secret.dist:1:1"));
}
