// The probe's pure edges: wire format, address parsing, the [thresholds] reader.
#include <catch2/catch.hpp>

#include <netinet/in.h>

#include "common/clock.hpp"
#include "probe/net.hpp"
#include "probe/thresholds_toml.hpp"
#include "probe/wire.hpp"

using namespace netchaos;
using namespace netchaos::probe;
using namespace std::chrono_literals;

TEST_CASE("wire: encode/decode round trip, reply stamping keeps the padding") {
    wire::Packet p{wire::Kind::request, 0x1122334455667788ULL, 42, 123456789, 0, 0};
    std::vector<std::uint8_t> buf(100, 0xab);
    wire::encode(p, buf);
    CHECK(buf[0] == 'N');
    CHECK(buf[3] == 'R');
    auto d = wire::decode(buf);
    REQUIRE(d.packet);
    CHECK(*d.packet == p);
    wire::make_reply(buf, 1000, 1500);
    d = wire::decode(buf);
    REQUIRE(d.packet);
    CHECK(d.packet->kind == wire::Kind::reply);
    CHECK(d.packet->seq == 42);
    CHECK(d.packet->send_ns == 123456789);
    CHECK(d.packet->srv_tx_ns - d.packet->srv_rx_ns == 500);
    CHECK(buf[99] == 0xab);
}

TEST_CASE("wire: every malformed input is rejected with a reason") {
    std::vector<std::uint8_t> buf(wire::header_size, 0);
    wire::encode(wire::Packet{}, buf);
    CHECK(wire::decode(std::span(buf).first(47)).error == wire::DecodeError::too_short);
    CHECK_FALSE(wire::decode(std::span(buf).first(0)).packet);
    auto bad = buf;
    bad[0] ^= 1;
    CHECK(wire::decode(bad).error == wire::DecodeError::bad_magic);
    bad = buf;
    bad[4] = 2;
    CHECK(wire::decode(bad).error == wire::DecodeError::bad_version);
    bad = buf;
    bad[5] = 7;
    CHECK(wire::decode(bad).error == wire::DecodeError::bad_kind);
    // Random bytes of random lengths: never UB (run under sanitizers), almost never valid.
    Rng rng(7);
    int valid = 0;
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::uint8_t> junk(rng() % 120);
        for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
        valid += wire::decode(junk).packet.has_value();
    }
    CHECK(valid == 0);
}

TEST_CASE("endpoints: IPv4, IPv6, ports, and bad input with code 3") {
    auto a = net::parse_endpoint("10.0.0.2:7777", true);
    REQUIRE(a.ok());
    CHECK(a->family() == AF_INET);
    CHECK(a->port() == 7777);
    CHECK(a->text == "10.0.0.2:7777");
    auto b = net::parse_endpoint("[::1]:9", true);
    REQUIRE(b.ok());
    CHECK(b->family() == AF_INET6);
    CHECK(b->text == "[::1]:9");
    auto c = net::parse_endpoint("10.0.0.2", false);   // icmp: no port
    REQUIRE(c.ok());
    CHECK(c->port() == 0);
    auto v6bare = net::parse_endpoint("fe80::1", false);
    REQUIRE(v6bare.ok());
    CHECK(v6bare->family() == AF_INET6);
    for (const char* bad : {"10.0.0.2", "10.0.0.2:0", "10.0.0.2:65536", "10.0.0.2:7x", "10.0.0.2:", ":7777",
                            "[::1", "[::1]7777", "", "no.such.host.invalid:1"}) {
        auto r = net::parse_endpoint(bad, true);
        INFO(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == 3);
    }
}

TEST_CASE("[thresholds] table: every key, units, alert sub-table") {
    auto t = read_thresholds_text(R"(
name = "exp"
[thresholds]
jitter_1s_max = "80ms"
spike_ratio_max = 0.6
p99_rtt_max = "200ms"
loss_max = "1%"
p99_drift_max = "200%"
fidelity_tolerance = "10%"
spike_level = "50ms"
window = "500ms"
spike_windows = 30
[thresholds.alert]
spike_ratio = 0.5
jitter = "70ms"
periods = 4
period = "2s"
)", "x.toml");
    REQUIRE(t.ok());
    CHECK(t->jitter_1s_max == 80ms);
    CHECK(t->spike_ratio_max == Approx(0.6));
    CHECK(t->p99_rtt_max == 200ms);
    CHECK(t->loss_max == Approx(0.01));
    CHECK(t->p99_drift_max == Approx(2.0));
    CHECK(t->fidelity_tolerance == Approx(0.1));
    CHECK(t->spike_level == 50ms);
    CHECK(t->window == 500ms);
    CHECK(t->spike_windows == 30);
    REQUIRE(t->alert);
    CHECK(t->alert->spike_ratio == Approx(0.5));
    CHECK(t->alert->jitter == 70ms);
    CHECK(t->alert->periods == 4);
    CHECK(t->alert->period == 2s);

    auto defaults = read_thresholds_text("[thresholds]\nloss_max = 0.001\n", "d.toml");
    REQUIRE(defaults.ok());
    CHECK(defaults->loss_max == Approx(0.001));
    CHECK_FALSE(defaults->alert);
    CHECK(defaults->window == 1s);
    CHECK(defaults->spike_windows == 60);
}

TEST_CASE("[thresholds] errors carry file:line:column and the key") {
    auto msg = [](const char* text) {
        auto r = read_thresholds_text(text, "t.toml");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == 3);
        return r.error().message;
    };
    CHECK_THAT(msg("[thresholds]\np99_rtt_max = \"50 parsecs\"\n"),
               Catch::StartsWith("t.toml:2:15: error: thresholds.p99_rtt_max:"));
    CHECK_THAT(msg("[thresholds]\njiter_1s_max = \"5ms\"\n"),
               Catch::StartsWith("t.toml:2:1: error: thresholds.jiter_1s_max: unknown key"));
    CHECK_THAT(msg("[thresholds]\nloss_max = \"150%\"\n"), Catch::Contains("thresholds.loss_max"));
    CHECK_THAT(msg("[thresholds]\n[thresholds.alert]\nperiods = 0\n"),
               Catch::StartsWith("t.toml:3:11: error: thresholds.alert.periods"));
    CHECK_THAT(msg("[thresholds\n"), Catch::StartsWith("t.toml:1:"));
    CHECK_THAT(msg("name = 1\n"), Catch::Contains("no [thresholds] table"));
    CHECK_THAT(msg("[thresholds]\np99_rtt_max = 5\n"), Catch::Contains("expected a string"));
}
