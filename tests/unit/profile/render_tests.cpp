// Normalization: every default explicit, and text -> parse -> text is a fixed point. Every
// shipped profile and experiment validates.
#include "helpers.hpp"

#include <nlohmann/json.hpp>

#include "profile/kind.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

namespace {
std::vector<std::filesystem::path> shipped(FileKind kind) {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(std::filesystem::path(NETCHAOS_SOURCE_DIR) / "profiles"))
        if (e.path().extension() == ".toml" && detect_kind(e.path()) == kind) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

TEST_CASE("to_text makes every default explicit") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"5ms\"\n[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"1%\"\n", "d.toml");
    REQUIRE(p.ok());
    auto text = to_text(*p.value);
    for (const char* line : {"name = \"d\"", "limit = 1000", "jitter = \"0\"", "# distribution: none (no jitter)", "correlation = \"0%\"",
                             "reorder = false", "model = \"gilbert-elliott\"", "r = \"99%\"", "one_minus_h = \"100%\"", "one_minus_k = \"0%\"", "ecn = false"})
        CHECK_THAT(text, Catch::Matchers::Contains(line));
}

TEST_CASE("a tiny probability renders without an exponent and reads back (the fuzzer's crash)") {
    auto p = parse_profile_text("[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"2%\"\none_minus_k = \"0.00000000000000000000000000000000000000000000000000000000000000000008198552921648689607%\"\n", "t.toml");
    REQUIRE(p.ok());
    const auto once = to_text(*p.value);
    CHECK_THAT(once, !Catch::Matchers::Contains("e-"));
    auto again = parse_profile_text(once, "t.toml");
    REQUIRE(again.ok());
    CHECK(to_text(*again.value) == once);
}

TEST_CASE("reorder = \"flow\" parses, renders and round-trips; another string is an error at its line") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"40ms\"\njitter = \"10ms\"\nreorder = \"flow\"\n", "f.toml");
    REQUIRE(p.ok());
    CHECK(p.value->egress->delay->order == JitterOrder::flow);
    const std::string text = to_text(*p.value);
    CHECK_THAT(text, Catch::Matchers::Contains("reorder = \"flow\""));
    auto again = parse_profile_text(text, "f.toml");
    REQUIRE(again.ok());
    CHECK(to_text(*again.value) == text);
    CHECK(nlohmann::json::parse(to_json(*p.value))["egress"]["delay"]["reorder"] == "flow");
    auto bad = parse_profile_text("[egress.delay]\nmean = \"40ms\"\njitter = \"10ms\"\nreorder = \"flows\"\n", "b.toml");
    REQUIRE_FALSE(bad.ok());
    REQUIRE(bad.diagnostics.size() == 1);
    CHECK(bad.diagnostics[0].line == 4);
    CHECK_THAT(bad.diagnostics[0].message, Catch::Matchers::Contains("\"flow\" (order kept per 5-tuple)"));
}

TEST_CASE("to_json is stable and carries machine units") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"50ms\"\njitter = \"30ms\"\ndistribution = \"normal\"\n[egress.rate]\nrate = \"100mbit\"\n", "j.toml");
    REQUIRE(p.ok());
    auto j = nlohmann::json::parse(to_json(*p.value));
    CHECK(j["name"] == "j");
    CHECK(j["egress"]["delay"]["mean_ns"] == 50'000'000);
    CHECK(j["egress"]["delay"]["jitter_ns"] == 30'000'000);
    CHECK(j["egress"]["delay"]["distribution"] == "normal");
    CHECK(j["egress"]["rate"]["bytes_per_sec"] == 12'500'000);
    CHECK(j["egress"]["limit"] == 1000);
    CHECK(j["ingress"].is_null());
    CHECK(to_json(*p.value) == to_json(*parse_profile_text(to_text(*p.value), "j.toml").value));
}

TEST_CASE("strings with quotes and control characters survive to_text") {
    auto p = parse_profile_text("name = \"a \\\"q\\\" \\\\ b\\tc\"\ndescription = \"line\\nbreak\"\n", "s.toml");
    REQUIRE(p.ok());
    auto again = parse_profile_text(to_text(*p.value), "s.toml");
    INFO(to_text(*p.value));
    REQUIRE(again.ok());
    CHECK(again.value->name == p.value->name);
    CHECK(again.value->description == "line\nbreak");
}

TEST_CASE("every shipped profile validates and round-trips through to_text") {
    auto files = shipped(FileKind::profile);
    CHECK(files.size() >= 10);
    for (const auto& f : files) {
        INFO(f);
        auto p = parse_profile_file(f);
        INFO(nc_test::dump(p.diagnostics));
        REQUIRE(p.ok());
        CHECK(nc_test::count(p.diagnostics, Diagnostic::Severity::error) == 0);
        CHECK_FALSE(p.value->description.empty());
        auto text = to_text(*p.value);
        auto again = parse_profile_text(text, f);   // same name: relative tables resolve alike
        INFO(text);
        INFO(nc_test::dump(again.diagnostics));
        REQUIRE(again.ok());
        CHECK(to_text(*again.value) == text);
        CHECK(to_json(*again.value) == to_json(*p.value));
        CHECK(again.value->egress.has_value() == p.value->egress.has_value());
        if (p.value->egress && p.value->egress->delay) {
            CHECK(again.value->egress->delay->mean == p.value->egress->delay->mean);
            CHECK(again.value->egress->delay->jitter == p.value->egress->delay->jitter);
        }
    }
}

TEST_CASE("every shipped experiment validates") {
    auto files = shipped(FileKind::experiment);
    CHECK(files.size() >= 2);
    for (const auto& f : files) {
        INFO(f);
        auto e = parse_experiment_file(f);
        INFO(nc_test::dump(e.diagnostics));
        REQUIRE(e.ok());
        CHECK_FALSE(e.value->phases.empty());
        CHECK_FALSE(e.value->description.empty());
    }
}

TEST_CASE("shipped numbers: ops 50+-30 normal and payment gateway morning") {
    auto dir = std::filesystem::path(NETCHAOS_SOURCE_DIR) / "profiles";
    auto ops = parse_profile_file(dir / "ops-50ms-30ms-normal.toml");
    REQUIRE(ops.ok());
    CHECK(ops.value->egress->delay->mean == 50ms);
    CHECK(ops.value->egress->delay->jitter == 30ms);
    CHECK(ops.value->egress->delay->distribution == Distribution::normal);
    CHECK(ops.value->egress->delay->order == JitterOrder::preserve);
    auto pay = parse_profile_file(dir / "payment-gateway-morning.toml");
    REQUIRE(pay.ok());
    const auto& eg = *pay.value->egress->delay;
    // RTT = 12 ms ingress floor + max(N(70, 43), 0) on egress: mean ~83 ms, sigma ~41 ms.
    CHECK(pay.value->ingress->delay->mean == 12ms);
    double mu = 70, s = 43, a = mu / s;
    double Phi = 0.5 * std::erfc(-a / std::sqrt(2.0)), phi = std::exp(-a * a / 2) / std::sqrt(2 * M_PI);
    double mean = mu * Phi + s * phi;
    double sd = std::sqrt((mu * mu + s * s) * Phi + mu * s * phi - mean * mean);
    CHECK(std::chrono::duration<double, std::milli>(eg.mean).count() == mu);
    CHECK(std::chrono::duration<double, std::milli>(eg.jitter).count() == s);
    CHECK(12 + mean == Approx(83).margin(0.5));
    CHECK(sd == Approx(41).margin(0.5));
    CHECK(std::get<RandomLoss>(pay.value->egress->loss->model).p < 0.0001);
}
