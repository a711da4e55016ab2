// The lease of `apply --for`, shared by netchaos-fwd and netchaos http-proxy: what it
// reverts to, when, and what ends it.
#include <catch2/catch.hpp>

#include "fwdctl/lease.hpp"

using netchaos::fwdctl::Lease;
using namespace std::chrono_literals;
using tp = std::chrono::steady_clock::time_point;

TEST_CASE("a lease reverts to what was there before the first leased load, at the last deadline") {
    Lease<std::string> l;
    const tp t0{};
    CHECK_FALSE(l.active());
    l.loaded("base", 10s, t0);                 // base -> A for 10 s
    REQUIRE(l.active());
    CHECK(l.due(t0 + 9s) == nullptr);
    l.loaded("A", 5s, t0 + 8s);                // A -> B, lease moved to t0 + 13 s, still reverts to base
    CHECK(l.due(t0 + 12s) == nullptr);
    REQUIRE(l.due(t0 + 13s) != nullptr);
    CHECK(*l.due(t0 + 13s) == "base");
    CHECK(l.remaining(t0 + 12s) == 1s);
    CHECK(l.remaining(t0 + 20s) == 0s);        // never negative
    l.end();                                   // the caller reverted
    CHECK_FALSE(l.active());
    CHECK(l.due(t0 + 20s) == nullptr);
}

TEST_CASE("a load without a lease ends the lease: nothing reverts later") {
    Lease<int> l;
    l.loaded(1, 1s, tp{});
    l.loaded(2, std::nullopt, tp{} + 500ms);
    CHECK_FALSE(l.active());
    CHECK(l.due(tp{} + 1h) == nullptr);
}

TEST_CASE("a revert that failed stays due until end()") {
    Lease<int> l;
    l.loaded(7, 1s, tp{});
    REQUIRE(l.due(tp{} + 2s));
    REQUIRE(l.due(tp{} + 3s));   // still there: the server tries again
    CHECK(*l.reverts_to() == 7);
}

TEST_CASE("lease_ms must be a positive integer of at most a year") {
    using netchaos::fwdctl::parse_lease;
    CHECK(parse_lease(nlohmann::json{{"cmd", "load"}}).value() == std::nullopt);
    CHECK(parse_lease(nlohmann::json{{"lease_ms", 1500}}).value() == std::chrono::milliseconds(1500));
    for (auto bad : {nlohmann::json(0), nlohmann::json(-5), nlohmann::json("10s"), nlohmann::json(1.5),
                     nlohmann::json(366LL * 86'400'000 + 1)}) {
        INFO(bad.dump());
        auto r = parse_lease(nlohmann::json{{"lease_ms", bad}});
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    }
}
