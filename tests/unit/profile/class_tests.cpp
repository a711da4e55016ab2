// [[class]]: several flow classes, each with a match and its own impairment; [match] is the
// one-class shorthand (one representation inside).
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "profile/parse.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;
using Sev = Diagnostic::Severity;

namespace {
const char* two_classes = R"(name = "two"
[egress.delay]
mean = "1ms"

[[class]]
name = "voice"
[class.match]
protocol = "udp"
dport = 9000
dscp = 46
[class.egress.delay]
mean = "30ms"
[class.ingress.loss]
p = "1%"

[[class]]
name = "v6"
match = { dst = "fd00:1::/64", src = "FD00:2::7/48", protocol = "tcp", sport = 443 }
[class.egress.delay]
mean = "5ms"
)";
}  // namespace

TEST_CASE("[[class]]: each class has its match and impairments; the top level is the unmatched traffic") {
    auto p = parse_profile_text(two_classes, "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto& v = *p.value;
    REQUIRE(v.egress);
    CHECK(v.egress->delay->mean == 1ms);
    REQUIRE(v.classes.size() == 2);
    const auto& a = v.classes[0];
    CHECK(a.name == "voice");
    CHECK(a.match.protocol == Protocol::udp);
    CHECK(a.match.dport == 9000);
    CHECK(a.match.dscp == 46);
    CHECK_FALSE(a.match.src);
    CHECK(a.egress->delay->mean == 30ms);
    CHECK(std::get<RandomLoss>(a.ingress->loss->model).p == Approx(0.01));
    const auto& b = v.classes[1];
    CHECK(b.match.dst->v6);
    CHECK(b.match.dst->address == "fd00:1::");
    CHECK(b.match.dst->prefix == 64);
    CHECK(b.match.src->address == "fd00:2::");   // host bits cleared (a warning says so)
    CHECK(b.match.sport == 443);
    CHECK(b.egress->delay->mean == 5ms);
    CHECK_FALSE(b.ingress);
    CHECK(nc_test::find_diag(p.diagnostics, "class[2].match.src", Sev::warning));
}

TEST_CASE("[[class]]: the normalized text parses back to the same profile") {
    auto p = parse_profile_text(two_classes, "t.toml");
    REQUIRE(p.ok());
    const std::string text = to_text(*p.value);
    auto q = parse_profile_text(text, "t.toml");
    INFO(text);
    INFO(nc_test::dump(q.diagnostics));
    REQUIRE(q.ok());
    q.value->source = p.value->source;
    CHECK(*q.value == *p.value);
    CHECK(to_text(*q.value) == text);
    CHECK_THAT(to_json(*p.value), Catch::Matchers::Contains("\"dscp\": 46"));
}

TEST_CASE("[match] is one class named match holding [egress]/[ingress]; the rest passes") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"80ms\"\n[match]\nprotocol = \"udp\"\nsport = 9000\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    CHECK_FALSE(p.value->egress);
    CHECK_FALSE(p.value->ingress);
    REQUIRE(p.value->classes.size() == 1);
    CHECK(p.value->classes[0].name == "match");
    CHECK(p.value->classes[0].match.sport == 9000);
    CHECK(p.value->classes[0].egress->delay->mean == 80ms);
    // Its normalized text is the [[class]] form: the same profile, written one way.
    auto q = parse_profile_text(to_text(*p.value), "t.toml");
    REQUIRE(q.ok());
    CHECK(q.value->classes == p.value->classes);
    CHECK_FALSE(q.value->egress);
}

TEST_CASE("[[class]] rules carry file:line:column") {
    // [match] and [[class]] together
    NC_EXPECT_ERROR(parse_profile_text("[match]\ndport = 1\nprotocol = \"udp\"\n[[class]]\n[class.egress.delay]\nmean = \"1ms\"\n", "t.toml"),
                    "match", 1, 1, "either [match]");
    // ports without tcp/udp, inside a class
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\nmatch = { dport = 53 }\n[class.egress.delay]\nmean = \"1ms\"\n", "t.toml"),
                    "class[1].match.protocol", 2, 19, "need protocol");
    // duplicate names
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\nname = \"a\"\n[class.egress.delay]\nmean = \"1ms\"\n"
                                       "[[class]]\nname = \"a\"\n[class.egress.delay]\nmean = \"2ms\"\n",
                                       "t.toml"),
                    "class[2].name", 6, 8, "used twice");
    // a name that cannot label stats
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\nname = \"a b\"\n[class.egress.delay]\nmean = \"1ms\"\n", "t.toml"), "class[1].name",
                    2, 8, "letters, digits");
    // DSCP out of range, a typo in a class, a bad delay in a class
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\nmatch = { dscp = 64 }\n[class.egress.delay]\nmean = \"1ms\"\n", "t.toml"),
                    "class[1].match.dscp", 2, 18, "[0, 63]");
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\nmatch = { dprot = 1 }\n[class.egress.delay]\nmean = \"1ms\"\n", "t.toml"),
                    "class[1].match.dprot", 2, 11, "did you mean \"dport\"");
    NC_EXPECT_ERROR(parse_profile_text("[[class]]\n[class.egress.delay]\nmean = \"1ms\"\njitter = \"-2ms\"\n", "t.toml"),
                    "class[1].egress.delay.jitter", 4, 10, "");
    // not an array of tables
    NC_EXPECT_ERROR(parse_profile_text("class = 3\n", "t.toml"), "class", 1, 9, "[[class]]");
    // too many classes
    std::string many;
    for (std::size_t i = 0; i <= max_classes; ++i) many += "[[class]]\n[class.egress.delay]\nmean = \"1ms\"\n";
    auto m = parse_profile_text(many, "t.toml");
    CHECK_FALSE(m.ok());
    CHECK(nc_test::find_diag(m.diagnostics, "class"));
}

TEST_CASE("[[class]]: a class without a match shadows the ones after it (warning)") {
    auto p = parse_profile_text("[[class]]\n[class.egress.delay]\nmean = \"1ms\"\n[[class]]\nmatch = { protocol = \"udp\" }\n"
                                "[class.egress.delay]\nmean = \"2ms\"\n",
                                "t.toml");
    REQUIRE(p.ok());
    CHECK(p.value->classes[0].name == "class1");
    CHECK(nc_test::find_diag(p.diagnostics, "class[1]", Sev::warning));
}

TEST_CASE("[[class]]: a class without directions exempts its flow (it passes, the rest is impaired)") {
    auto p = parse_profile_text("[egress.delay]\nmean = \"10ms\"\n[[class]]\nname = \"ssh\"\nmatch = { protocol = \"tcp\", dport = 22 }\n",
                                "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    CHECK(nc_test::count(p.diagnostics, Sev::warning) == 0);
    CHECK_FALSE(p.value->classes[0].egress);
    auto q = parse_profile_text(to_text(*p.value), "t.toml");
    REQUIRE(q.ok());
    CHECK(q.value->classes == p.value->classes);
    // Only a class that passes and nothing else impaired: the profile impairs nothing.
    auto none = parse_profile_text("[match]\nprotocol = \"udp\"\n", "t.toml");
    REQUIRE(none.ok());
    CHECK(nc_test::count(none.diagnostics, Sev::warning) == 1);
}
