// [egress.delay] trace = "x.ncr": the file is read when the profile is parsed, relative to the
// profile and confined like a distribution table; every bad input names the profile's
// file:line:column; the rendered text carries the points inline and parses back the same.
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "profile/parse.hpp"
#include "trace/trace.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using nc_test::TempDir;

namespace {
// 100/s for `n` probes: RTT 20 ms for the first half, 60 ms after; every `lose`-th lost.
trace::Trace two_level(int n, int lose = 0) {
    trace::Trace t;
    for (int i = 0; i < n; ++i) {
        metrics::Record r;
        r.seq = static_cast<std::uint64_t>(i);
        r.send = std::chrono::milliseconds(1000 + 10 * i);   // the first send need not be at 0
        if (!(lose && i % lose == lose - 1)) r.rtt = std::chrono::milliseconds(i < n / 2 ? 20 : 60);
        t.records.push_back(r);
    }
    return t;
}
}  // namespace

TEST_CASE("trace delay: read relative to the profile, lost probes left out, period one interval past the span") {
    TempDir dir;
    std::filesystem::create_directories(dir.path / "traces");
    REQUIRE(trace::write(dir.path / "traces" / "morning.ncr", two_level(100, 10)));
    auto p = profile::parse_profile_file(dir.write("p.toml", "[egress.delay]\ntrace = \"traces/morning.ncr\"\nat_end = \"hold\"\ngranularity = \"250ms\"\n"));
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto& tr = *p.value->egress->delay->trace;
    CHECK(tr.points.size() == 90);
    CHECK(tr.points.front().at == 0ms);
    CHECK(tr.points.front().delay == 20ms);
    CHECK(tr.points.back().at == 980ms);   // the 100th probe was lost
    CHECK(tr.points.back().delay == 60ms);
    CHECK(tr.period == 1000ms);
    CHECK(tr.at_end == profile::TraceEnd::hold);
    CHECK(tr.granularity == 250ms);
    // Rendered with the points inline, it parses back to the same delay without the file.
    std::filesystem::remove(dir.path / "traces" / "morning.ncr");
    auto back = profile::parse_profile_text(profile::to_text(*p.value), "<back>");
    INFO(nc_test::dump(back.diagnostics));
    REQUIRE(back.ok());
    auto want = *p.value->egress->delay->trace;
    want.file.clear();
    CHECK(*back.value->egress->delay->trace == want);
    CHECK(back.value->egress->delay->order == p.value->egress->delay->order);
}

TEST_CASE("trace delay: bad input names the profile's line:column") {
    TempDir dir;
    REQUIRE(trace::write(dir.path / "ok.ncr", two_level(10)));
    REQUIRE(trace::write(dir.path / "all-lost.ncr", two_level(4, 1)));
    dir.write("empty.csv", "time,rtt_ms\n");
    dir.write("bad.csv", "time,rtt_ms\n0.0,12\n0.01,x\n");
    auto parse = [&](const std::string& text) { return profile::parse_profile_file(dir.write("p.toml", text)); };

    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"missing.ncr\"\n"), "egress.delay.trace", 2, 9, "not found");
    NC_EXPECT_ERROR(parse("[egress.delay]\n  trace = \"empty.csv\"\n"), "egress.delay.trace", 2, 11, "empty trace");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"bad.csv\"\n"), "egress.delay.trace", 2, 9, "bad.csv:3:");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"all-lost.ncr\"\n"), "egress.delay.trace", 2, 9, "no answered probe");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"ok.ncr\"\nmean = \"10ms\"\n"), "egress.delay.mean", 3, 8, "either trace");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"ok.ncr\"\njitter = \"1ms\"\n"), "egress.delay.jitter", 3, 10, "either trace");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"ok.ncr\"\ndistribution = \"normal\"\n"), "egress.delay.distribution", 3, 16, "either trace");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"ok.ncr\"\nat_end = \"stop\"\n"), "egress.delay.at_end", 3, 10, "loop");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace = \"ok.ncr\"\ngranularity = \"50ms\"\n"), "egress.delay.granularity", 3, 15, "below 100ms");
    NC_EXPECT_ERROR(parse("[egress.delay]\nmean = \"5ms\"\nat_end = \"hold\"\n"), "egress.delay.trace", 3, 10, "need trace");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace_points = [[0.0, 1.0], [\"a\", 2]]\n"), "egress.delay.trace_points", 2, 29, "expected [time_ms, delay_ms]");
    NC_EXPECT_ERROR(parse("[egress.delay]\ntrace_points = [[5.0, 1.0], [4.0, 2]]\n"), "egress.delay.trace_points", 2, 29, "non-decreasing");
    NC_EXPECT_ERROR(parse("[[class]]\nmatch = { protocol = \"udp\" }\n[class.egress.delay]\ntrace = \"nope.ncr\"\n"), "class[1].egress.delay.trace", 4, 9, "not found");
}

TEST_CASE("trace delay: confined to the profile's directory like a table, --allow-path widens it") {
    TempDir dir, other;
    REQUIRE(trace::write(other.path / "t.ncr", two_level(10)));
    const auto file = dir.write("p.toml", "[ingress.delay]\ntrace = \"" + (other.path / "t.ncr").string() + "\"\n");
    NC_EXPECT_ERROR(profile::parse_profile_file(file), "ingress.delay.trace", 2, 9, "delay trace");
    NC_EXPECT_ERROR(profile::parse_profile_file(file), "ingress.delay.trace", 2, 9, "--allow-path");
    profile::TablePolicy pol;
    pol.allowed.push_back(other.path);
    profile::set_table_policy(pol);
    auto ok = profile::parse_profile_file(file);
    profile::set_table_policy({});
    INFO(nc_test::dump(ok.diagnostics));
    CHECK(ok.ok());
}

TEST_CASE("mm_link: read relative to the profile, mean rate derived, inline round trip, errors with line:column") {
    TempDir dir;
    dir.write("up.trace", "1\n1\n\n3\n10\n");
    auto p = profile::parse_profile_file(dir.write("p.toml", "[egress.rate]\nmm_link = \"up.trace\"\n"));
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto& r = *p.value->egress->rate;
    REQUIRE(r.mm_link);
    CHECK(r.mm_link->ms == std::vector<std::uint32_t>{1, 1, 3, 10});
    CHECK(r.bytes_per_sec == 600000);   // 4 x 1500 B per 10 ms
    auto back = profile::parse_profile_text(profile::to_text(*p.value), "<back>");
    INFO(nc_test::dump(back.diagnostics));
    REQUIRE(back.ok());
    CHECK(back.value->egress->rate->mm_link->ms == r.mm_link->ms);
    CHECK(back.value->egress->rate->bytes_per_sec == r.bytes_per_sec);

    dir.write("bad.trace", "1\n2\n  x3\n");
    dir.write("back.trace", "5\n4\n");
    dir.write("empty.trace", "\n\n");
    auto parse = [&](const std::string& text) { return profile::parse_profile_file(dir.write("q.toml", text)); };
    NC_EXPECT_ERROR(parse("[egress.rate]\nmm_link = \"bad.trace\"\n"), "egress.rate.mm_link", 2, 11, "bad.trace:3:3: expected a whole number");
    NC_EXPECT_ERROR(parse("[egress.rate]\nmm_link = \"back.trace\"\n"), "egress.rate.mm_link", 2, 11, "back.trace:2:1: 4 ms after 5 ms");
    NC_EXPECT_ERROR(parse("[egress.rate]\nmm_link = \"empty.trace\"\n"), "egress.rate.mm_link", 2, 11, "no delivery opportunity");
    NC_EXPECT_ERROR(parse("[egress.rate]\nmm_link = \"none.trace\"\n"), "egress.rate.mm_link", 2, 11, "not found");
    NC_EXPECT_ERROR(parse("[egress.rate]\nmm_link = \"up.trace\"\nrate = \"1mbit\"\n"), "egress.rate.rate", 3, 8, "either rate");
}
