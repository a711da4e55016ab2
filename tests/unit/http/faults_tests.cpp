// Per-request HTTP fault decisions: the distributions and correlation come from the fault
// engine, routes match as documented, control headers count only when allowed.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "../fault/helpers.hpp"
#include "dist/normal.hpp"
#include "http/faults.hpp"
#include "profile/parse.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using fault_test::moments;

namespace {

profile::Http parse_http(const std::string& toml) {
    auto p = profile::parse_profile_text(toml, "t.toml");
    REQUIRE(p.ok());
    REQUIRE(p.value->http);
    return *p.value->http;
}

http::Decider decider(const std::string& toml, std::uint64_t seed = 1) {
    auto r = http::compile(parse_http(toml));
    REQUIRE(r.ok());
    return http::Decider(*r, seed);
}

http::RequestMeta get(std::string_view target, std::span<const http::Header> headers = {}) {
    return http::RequestMeta{"GET", target, headers};
}

}  // namespace

TEST_CASE("request delay normal(50ms, 10ms): the engine's distribution, KS against the normal CDF") {
    auto d = decider("[http.request_delay]\nmean = \"50ms\"\njitter = \"10ms\"\ndistribution = \"normal\"\n");
    std::vector<double> ms;
    for (int i = 0; i < 200'000; ++i) ms.push_back(d.decide(get("/"), i * 1'000'000LL).request_delay_ns / 1e6);
    const auto m = moments(ms);
    CHECK(m.mean == Approx(50.0).margin(0.1));
    CHECK(m.sigma == Approx(10.0).margin(0.1));
    // n = 2e5: the 1% critical value is 1.63/sqrt(n) = 0.0036.
    CHECK(fault_test::ks_distance(ms, [](double x) { return dist::normal_cdf((x - 50.0) / 10.0); }) < 0.0037);
}

TEST_CASE("request delay correlation is the engine's: lag-1 correlation of normal delays is rho") {
    auto d = decider("[http.request_delay]\nmean = \"50ms\"\njitter = \"10ms\"\ndistribution = \"normal\"\ncorrelation = \"50%\"\n");
    std::vector<double> x;
    for (int i = 0; i < 200'000; ++i) x.push_back(d.decide(get("/"), i).request_delay_ns / 1e6);
    const auto m = moments(x);
    double c = 0;
    for (std::size_t i = 1; i < x.size(); ++i) c += (x[i] - m.mean) * (x[i - 1] - m.mean);
    c /= (x.size() - 1) * m.sigma * m.sigma;
    CHECK(c == Approx(0.5).margin(0.01));
    CHECK(m.sigma == Approx(10.0).margin(0.2));   // the copula keeps the marginal sigma
}

TEST_CASE("abort 5% with status 429: share within 3 standard errors; response delay and throttle carried") {
    auto d = decider("[http]\nthrottle = \"8mbit\"\n[http.abort]\np = \"5%\"\nstatus = 429\n[http.response_delay]\nmean = \"20ms\"\n");
    const int n = 100'000;
    int aborted = 0;
    for (int i = 0; i < n; ++i) {
        const auto x = d.decide(get("/"), i);
        if (x.abort == http::AbortKind::status) {
            ++aborted;
            CHECK(x.status == 429);
        }
        if (i < 10) {
            CHECK(x.response_delay_ns == 20'000'000);
            CHECK(x.throttle_bps == 1'000'000u);
        }
    }
    const double se = std::sqrt(0.05 * 0.95 / n);
    CHECK(std::abs(aborted / double(n) - 0.05) < 3 * se);
}

TEST_CASE("abort reset") {
    auto d = decider("[http.abort]\np = \"100%\"\nreset = true\n");
    CHECK(d.decide(get("/"), 0).abort == http::AbortKind::reset);
}

TEST_CASE("routes: first match wins, by method, path prefix and header; the rest get [http]'s faults") {
    auto d = decider(R"([http.request_delay]
mean = "1ms"
[[http.route]]
method = "POST"
path_prefix = "/checkout"
[http.route.request_delay]
mean = "2ms"
[[http.route]]
header = "x-tier: gold"
[http.route.request_delay]
mean = "3ms"
[[http.route]]
path_prefix = "/checkout"
[http.route.request_delay]
mean = "4ms"
)");
    const http::Header gold[] = {{"X-Tier", " gold"}};
    const http::Header silver[] = {{"X-Tier", "silver"}};
    auto at = [&](std::string_view method, std::string_view target, std::span<const http::Header> h = {}) {
        return d.decide(http::RequestMeta{method, target, h}, 0);
    };
    CHECK(at("POST", "/checkout/pay?x=1").route == 0);
    CHECK(at("POST", "/checkout/pay?x=1").request_delay_ns == 2'000'000);
    CHECK(at("POST", "http://shop:8080/checkout").route == 0);   // absolute-form (forward proxy)
    CHECK(at("GET", "/checkout", gold).route == 1);
    CHECK(at("GET", "/checkout", silver).route == 2);
    CHECK(at("GET", "/checkout", silver).request_delay_ns == 4'000'000);
    CHECK(at("GET", "/check").route == -1);
    CHECK(at("GET", "/check").request_delay_ns == 1'000'000);
}

TEST_CASE("header control: ignored unless allowed; X-Jitter constant and distribution; X-Fault-Abort") {
    auto d = decider("[http.request_delay]\nmean = \"5ms\"\n");
    const http::Header fixed[] = {{"x-jitter", "150ms"}};
    CHECK(d.decide(get("/", fixed), 0, false).request_delay_ns == 5'000'000);
    CHECK_FALSE(d.decide(get("/", fixed), 0, false).from_header);
    const auto x = d.decide(get("/", fixed), 0, true);
    CHECK(x.request_delay_ns == 150'000'000);
    CHECK(x.from_header);

    const http::Header dist[] = {{"X-Jitter", "normal(50ms, 30ms)"}};
    std::vector<double> ms;
    for (int i = 0; i < 100'000; ++i) ms.push_back(d.decide(get("/", dist), i, true).request_delay_ns / 1e6);
    // Truncated at 0 (4.8% of N(50, 30) is below 0), so compare the median, which is 50.
    std::sort(ms.begin(), ms.end());
    CHECK(ms[ms.size() / 2] == Approx(50.0).margin(0.5));
    CHECK(ms.front() >= 0.0);

    const http::Header abort[] = {{"X-Fault-Abort", "429"}};
    CHECK(d.decide(get("/", abort), 0, false).abort == http::AbortKind::none);
    const auto a = d.decide(get("/", abort), 0, true);
    CHECK(a.abort == http::AbortKind::status);
    CHECK(a.status == 429);
}

TEST_CASE("header control: malformed or excessive values are errors, never a delay") {
    auto d = decider("[http]\nseed = 1\n");
    for (std::string_view v : {"soon", "normal(50ms)", "gauss(1ms, 2ms)", "normal(50ms, -1ms", "11s", "normal(9s, 2s)", "-5ms"}) {
        const http::Header h[] = {{"X-Jitter", v}};
        const auto x = d.decide(get("/", h), 0, true);
        INFO(v);
        CHECK_FALSE(x.header_error.empty());
        CHECK(x.request_delay_ns == 0);
    }
    for (std::string_view v : {"200", "600", "42", "4290", "abc"}) {
        const http::Header h[] = {{"X-Fault-Abort", v}};
        INFO(v);
        CHECK_FALSE(d.decide(get("/", h), 0, true).header_error.empty());
    }
    CHECK(http::parse_abort_header("reset")->reset);
    CHECK(http::is_control_header("x-JITTER"));
    CHECK_FALSE(http::is_control_header("X-Jitters"));
}

TEST_CASE("one seed, one series: two deciders with the same seed decide the same") {
    const std::string t = "[http.request_delay]\nmean = \"50ms\"\njitter = \"10ms\"\ndistribution = \"pareto\"\n[http.abort]\np = \"10%\"\n";
    auto a = decider(t, 42), b = decider(t, 42), c = decider(t, 43);
    int same_c = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto x = a.decide(get("/"), i), y = b.decide(get("/"), i), z = c.decide(get("/"), i);
        CHECK(x.request_delay_ns == y.request_delay_ns);
        CHECK(x.abort == y.abort);
        same_c += x.request_delay_ns == z.request_delay_ns;
    }
    CHECK(same_c < 100);
}

TEST_CASE("switch_rules: the new rules apply from the next request") {
    auto d = decider("[http.request_delay]\nmean = \"5ms\"\n");
    CHECK(d.decide(get("/"), 0).request_delay_ns == 5'000'000);
    d.switch_rules(*http::compile(parse_http("[http.request_delay]\nmean = \"7ms\"\n")));
    CHECK(d.decide(get("/"), 0).request_delay_ns == 7'000'000);
}

TEST_CASE("Pacer: a body leaves at the throttle rate from its start") {
    auto p = http::Pacer::make(1'000'000);   // 1 MB/s
    REQUIRE(p.ok());
    std::int64_t last = 0;
    for (int i = 0; i < 1000; ++i) last = p->release_ns(5'000, 1000);
    CHECK(last == 5'000 + 1'000'000'000);
}
