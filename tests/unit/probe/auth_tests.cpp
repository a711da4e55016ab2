// The reflector's defences that need no socket: the datagram HMAC and the per-source
// token buckets (time passed in).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <vector>

#include "probe/reflector.hpp"
#include "probe/wire.hpp"

using namespace netchaos::probe;

namespace {
std::vector<std::uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
sockaddr_storage v4(const char* ip, std::uint16_t port) {
    sockaddr_storage ss{};
    auto& a = reinterpret_cast<sockaddr_in&>(ss);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    return ss;
}
}  // namespace

TEST_CASE("wire HMAC: signed datagrams verify; any change, another key or no MAC does not") {
    const auto key = bytes("correct horse battery staple");
    std::vector<std::uint8_t> buf(100, 0xab);
    wire::encode(wire::Packet{wire::Kind::request, 7, 1, 123, 0, 0}, buf);
    CHECK_FALSE(wire::verify(buf, key));   // not signed
    wire::sign(buf, key);
    CHECK(wire::has_mac(buf));
    CHECK(wire::verify(buf, key));
    CHECK(wire::decode(buf).packet->seq == 1);   // the header still decodes
    CHECK_FALSE(wire::verify(buf, bytes("correct horse battery stapler")));
    for (std::size_t i : {std::size_t{0}, std::size_t{6}, std::size_t{17}, std::size_t{50}, std::size_t{99}}) {
        auto t = buf;
        t[i] ^= 1;
        INFO("flipped byte " << i);
        CHECK_FALSE(wire::verify(t, key));
    }
    CHECK_FALSE(wire::verify(std::span(buf).first(wire::auth_size - 1), key));   // too short for a MAC
    CHECK_FALSE(wire::verify(std::span(buf).first(99), key));                    // truncated
    // A reflector's reply: new stamps, re-signed, same size.
    auto reply = buf;
    wire::make_reply(reply, 0, 2500);
    CHECK_FALSE(wire::verify(reply, key));   // the request's MAC does not cover the reply
    wire::sign(reply, key);
    CHECK(wire::verify(reply, key));
    CHECK(reply.size() == buf.size());
}

TEST_CASE("source limiter: a burst, then the rate; per address, ports ignored") {
    SourceLimiter lim(100.0, 10.0, 42);   // 100/s, 10 deep
    const auto a = v4("192.0.2.1", 1000), a2 = v4("192.0.2.1", 2000), b = v4("198.51.100.7", 1000);
    std::int64_t t = 1'000'000'000;
    int ok = 0;
    for (int i = 0; i < 50; ++i) ok += lim.allow(i % 2 ? a : a2, t);   // another port is the same source
    CHECK(ok == 10);
    CHECK(lim.allow(b, t));   // another address has its own bucket
    t += 100'000'000;         // 100 ms: 10 more tokens
    ok = 0;
    for (int i = 0; i < 50; ++i) ok += lim.allow(a, t);
    CHECK(ok == 10);
    t += 5'000'000;           // 5 ms: half a token
    CHECK_FALSE(lim.allow(a, t));
    t += 5'000'000;
    CHECK(lim.allow(a, t));
    // A flood from 100000 spoofed sources costs a fixed table, and each is still limited.
    SourceLimiter big(1.0, 1.0, 7, 64);
    int replies = 0;
    for (std::uint32_t i = 0; i < 100000; ++i) {
        sockaddr_storage s{};
        auto& in = reinterpret_cast<sockaddr_in&>(s);
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(0x0a000000u + i);
        replies += big.allow(s, t);
    }
    CHECK(replies <= 64);   // at most one per slot within the same instant
    SourceLimiter none(0.0, 1.0, 1);
    for (int i = 0; i < 1000; ++i) REQUIRE(none.allow(a, t));
}
