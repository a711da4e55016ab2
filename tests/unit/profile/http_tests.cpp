// The [http] table: every key lands in the model, every mistake has file:line:column.
#include "helpers.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;
using Sev = Diagnostic::Severity;

TEST_CASE("[http]: a full table fills the model, routes in file order") {
    auto p = parse_profile_text(R"(name = "checkout"
[http]
seed = 9
throttle = "1mbit"
[http.request_delay]
mean = "50ms"
jitter = "10ms"
distribution = "normal"
correlation = "25%"
[http.response_delay]
mean = "20ms"
[http.abort]
p = "5%"
status = 429
[[http.route]]
name = "pay"
method = "POST"
path_prefix = "/checkout"
header = "X-Tier:  gold "
[http.route.abort]
p = "1%"
reset = true
[[http.route]]
path_prefix = "/static"
throttle = "512kbit"
)", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    CHECK(nc_test::count(p.diagnostics, Sev::warning) == 0);
    REQUIRE(p.value->http);
    const Http& h = *p.value->http;
    CHECK(h.seed == 9u);
    CHECK(h.faults.throttle == 125000u);
    REQUIRE(h.faults.request_delay);
    CHECK(h.faults.request_delay->mean == 50ms);
    CHECK(h.faults.request_delay->jitter == 10ms);
    CHECK(h.faults.request_delay->distribution == Distribution::normal);
    CHECK(h.faults.request_delay->correlation == Approx(0.25));
    REQUIRE(h.faults.response_delay);
    CHECK(h.faults.response_delay->mean == 20ms);
    REQUIRE(h.faults.abort);
    CHECK(h.faults.abort->p == Approx(0.05));
    CHECK(h.faults.abort->status == 429);
    CHECK_FALSE(h.faults.abort->reset);
    REQUIRE(h.routes.size() == 2);
    CHECK(h.routes[0].name == "pay");
    CHECK(h.routes[0].match.method == "POST");
    CHECK(h.routes[0].match.path_prefix == "/checkout");
    CHECK(h.routes[0].match.header == "X-Tier");
    CHECK(h.routes[0].match.header_value == "gold");
    REQUIRE(h.routes[0].faults.abort);
    CHECK(h.routes[0].faults.abort->reset);
    CHECK_FALSE(h.routes[0].faults.request_delay);
    CHECK(h.routes[1].faults.throttle == 64000u);
}

TEST_CASE("[http] alone is a profile that impairs something (no warning)") {
    auto p = parse_profile_text("[http.request_delay]\nmean = \"5ms\"\n", "t.toml");
    REQUIRE(p.ok());
    CHECK(nc_test::count(p.diagnostics, Sev::warning) == 0);
}

TEST_CASE("[http]: mistakes point at their key") {
    NC_EXPECT_ERROR(parse_profile_text("[http.abort]\np = \"5%\"\nstatus = 600\n", "t.toml"), "http.abort.status", 3, 10, "400");
    NC_EXPECT_ERROR(parse_profile_text("[http.abort]\np = \"5%\"\nstatus = 429\nreset = true\n", "t.toml"), "http.abort.status", 3, 10, "not both");
    NC_EXPECT_ERROR(parse_profile_text("[http.abort]\nstatus = 429\n", "t.toml"), "http.abort", 1, 1, "needs a probability p");
    NC_EXPECT_ERROR(parse_profile_text("[http]\nthrottle = \"0mbit\"\n", "t.toml"), "http.throttle", 2, 12, "rate > 0");
    NC_EXPECT_ERROR(parse_profile_text("[http]\nthrotle = \"1mbit\"\n", "t.toml"), "http.throtle", 2, 1, "throttle");
    NC_EXPECT_ERROR(parse_profile_text("[http.request_delay]\njitter = \"5ms\"\n", "t.toml"), "http.request_delay.jitter", 2, 10, "without a delay");
    NC_EXPECT_ERROR(parse_profile_text("[http.request_delay]\nmean = \"5ms\"\nreorder = true\n", "t.toml"), "http.request_delay.reorder", 3, 11, "does not apply");
    NC_EXPECT_ERROR(parse_profile_text("[[http.route]]\nmethod = \"PO ST\"\n", "t.toml"), "http.route[0].method", 2, 10, "HTTP method");
    NC_EXPECT_ERROR(parse_profile_text("[[http.route]]\npath_prefix = \"checkout\"\n", "t.toml"), "http.route[0].path_prefix", 2, 15, "starting with");
    NC_EXPECT_ERROR(parse_profile_text("[[http.route]]\nheader = \": gold\"\n", "t.toml"), "http.route[0].header", 2, 10, "Name: value");
    NC_EXPECT_ERROR(parse_profile_text("[http]\nroute = 3\n", "t.toml"), "http.route", 2, 9, "[[http.route]]");
    NC_EXPECT_ERROR(parse_profile_text("[[http.route]]\nmethod = \"GET\"\n[http.route.abort]\np = \"150%\"\n", "t.toml"), "http.route[0].abort.p", 4, 5, "");
}

TEST_CASE("[http]: a route that matches everything warns that later routes never apply") {
    auto p = parse_profile_text("[[http.route]]\nthrottle = \"1mbit\"\n[[http.route]]\nmethod = \"GET\"\n", "t.toml");
    INFO(nc_test::dump(p.diagnostics));
    REQUIRE(p.ok());
    const auto* w = nc_test::find_diag(p.diagnostics, "http.route[0]", Sev::warning);
    REQUIRE(w);
    CHECK(w->line == 1);
    CHECK_THAT(w->message, Catch::Matchers::Contains("never apply"));
}

TEST_CASE("[http]: to_text prints every key and reads back to the same model") {
    auto p = parse_profile_text(R"(name = "rt"
[http]
seed = 4
throttle = "2mbit"
[http.request_delay]
mean = "50ms"
jitter = "10ms"
distribution = "pareto"
correlation = "10%"
[http.abort]
p = "5%"
status = 503
[[http.route]]
name = "pay"
method = "POST"
path_prefix = "/checkout"
header = "X-Tier: gold"
[http.route.response_delay]
mean = "20ms"
[http.route.abort]
p = "1%"
reset = true
[[http.route]]
path_prefix = "/static"
)", "t.toml");
    REQUIRE(p.ok());
    const std::string text = to_text(*p.value);
    INFO(text);
    auto back = parse_profile_text(text, "t.toml");
    INFO(nc_test::dump(back.diagnostics));
    REQUIRE(back.ok());
    CHECK(back.value->http == p.value->http);
    CHECK_THAT(to_json(*p.value), Catch::Matchers::Contains("\"path_prefix\": \"/checkout\""));
}

TEST_CASE("experiments: backend http, [target] proxy, [probe] mode http, inline [phase.http]") {
    const std::string probe = "[probe]\nmode = \"http\"\ntarget = \"http://127.0.0.1:8080/x\"\n";
    const std::string phase = "[[phase]]\nname = \"p\"\nduration = \"2s\"\n[phase.http.abort]\np = \"5%\"\nstatus = 429\n";
    auto ok = parse_experiment_text("[target]\nbackend = \"http\"\nproxy = \"http://127.0.0.1:3128\"\n" + probe + phase, "e.toml");
    INFO(nc_test::dump(ok.diagnostics));
    REQUIRE(ok.ok());
    CHECK(ok.value->target.backend == Backend::http);
    CHECK(ok.value->target.control == "/run/netchaos/http.sock");
    CHECK(ok.value->target.proxy == "http://127.0.0.1:3128");
    CHECK(ok.value->probe.mode == ProbeMode::http);
    REQUIRE(ok.value->phases.size() == 1);
    REQUIRE(ok.value->phases[0].profile.http);
    CHECK(ok.value->phases[0].profile.http->faults.abort->status == 429);
    NC_EXPECT_ERROR(parse_experiment_text("[target]\nbackend = \"http\"\ndev = \"eth0\"\n" + probe + phase, "e.toml"), "target.dev", 3, 7, "does not use dev");
    NC_EXPECT_ERROR(parse_experiment_text("[target]\nbackend = \"netem\"\ndev = \"eth0\"\nproxy = \"http://a:1\"\n" + probe + phase, "e.toml"), "target.proxy", 4, 9, "needs backend");
    NC_EXPECT_ERROR(parse_experiment_text("[target]\nbackend = \"http\"\n[probe]\nmode = \"http\"\ntarget = \"127.0.0.1:80\"\n" + phase, "e.toml"), "probe.target", 5, 10, "http://HOST:PORT/PATH");
}

TEST_CASE("with_absolute_tables: every delay table, [http] ones too, becomes absolute from the profile's folder") {
    Profile p;
    p.source = "/srv/profiles/checkout.toml";
    auto table = [](const char* f) {
        Delay d;
        d.table = CustomTable{f, {}};
        return d;
    };
    p.egress = Impairment{};
    p.egress->delay = table("tables/a.dist");
    p.http = Http{};
    p.http->faults.request_delay = table("b.dist");
    p.http->faults.response_delay = table("/abs/c.dist");
    HttpRoute r;
    r.faults.response_delay = table("../d.dist");
    p.http->routes.push_back(r);
    const auto q = with_absolute_tables(p);
    CHECK(q.egress->delay->table->file == "/srv/profiles/tables/a.dist");
    CHECK(q.http->faults.request_delay->table->file == "/srv/profiles/b.dist");
    CHECK(q.http->faults.response_delay->table->file == "/abs/c.dist");   // already absolute: kept
    CHECK(q.http->routes[0].faults.response_delay->table->file == "/srv/profiles/../d.dist");
    CHECK(p.http->faults.request_delay->table->file == "b.dist");        // the input is not changed
}
