// The probe's pure edges: wire format, address parsing.
#include <catch2/catch.hpp>

#include <netinet/in.h>

#include "common/clock.hpp"
#include "probe/net.hpp"
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
        CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    }
}
