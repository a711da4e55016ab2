// flow_class_of: the forwarder's per-packet class, on IPv4 and IPv6 frames built by hand.
#include <catch2/catch.hpp>

#include <arpa/inet.h>

#include <vector>

#include "flow_class.hpp"
#include "frame.hpp"

using namespace netchaos;
using namespace netchaos::fwd;

namespace {
// Ethernet (+ optional VLAN tag) + IPv4 + 8 bytes of UDP/TCP header.
std::vector<std::uint8_t> v4(const char* src, const char* dst, std::uint8_t proto, std::uint16_t sport, std::uint16_t dport,
                             std::uint8_t dscp = 0, bool vlan = false, std::uint16_t frag = 0) {
    std::vector<std::uint8_t> f(14 + (vlan ? 4 : 0) + 20 + 8 + 18, 0);
    std::size_t o = 12;
    if (vlan) { f[o] = 0x81; f[o + 1] = 0x00; o += 4; }
    f[o] = 0x08; f[o + 1] = 0x00;
    std::uint8_t* ip = f.data() + o + 2;
    ip[0] = 0x45;
    ip[1] = static_cast<std::uint8_t>(dscp << 2 | 1);   // ECT(1) must not disturb the DSCP
    const auto total = static_cast<std::uint16_t>(f.size() - (o + 2));
    ip[2] = static_cast<std::uint8_t>(total >> 8); ip[3] = static_cast<std::uint8_t>(total);
    ip[6] = static_cast<std::uint8_t>(frag >> 8); ip[7] = static_cast<std::uint8_t>(frag);
    ip[8] = 64; ip[9] = proto;
    inet_pton(AF_INET, src, ip + 12);
    inet_pton(AF_INET, dst, ip + 16);
    ip[20] = static_cast<std::uint8_t>(sport >> 8); ip[21] = static_cast<std::uint8_t>(sport);
    ip[22] = static_cast<std::uint8_t>(dport >> 8); ip[23] = static_cast<std::uint8_t>(dport);
    return f;
}

std::vector<std::uint8_t> v6(const char* src, const char* dst, std::uint8_t next, std::uint16_t sport, std::uint16_t dport,
                             std::uint8_t dscp = 0) {
    std::vector<std::uint8_t> f(14 + 40 + 8 + 8, 0);
    f[12] = 0x86; f[13] = 0xdd;
    std::uint8_t* ip = f.data() + 14;
    const std::uint8_t tc = static_cast<std::uint8_t>(dscp << 2 | 2);
    ip[0] = static_cast<std::uint8_t>(0x60 | tc >> 4);
    ip[1] = static_cast<std::uint8_t>(tc << 4);
    ip[4] = 0; ip[5] = 16;   // payload length
    ip[6] = next; ip[7] = 64;
    inet_pton(AF_INET6, src, ip + 8);
    inet_pton(AF_INET6, dst, ip + 24);
    ip[40] = static_cast<std::uint8_t>(sport >> 8); ip[41] = static_cast<std::uint8_t>(sport);
    ip[42] = static_cast<std::uint8_t>(dport >> 8); ip[43] = static_cast<std::uint8_t>(dport);
    return f;
}

profile::Cidr cidr(const char* a, int prefix, bool is6) { return profile::Cidr{a, static_cast<std::uint8_t>(prefix), is6}; }

unsigned class_of(const std::vector<std::uint8_t>& f, const std::vector<ClassRule>& rules) {
    const FrameInfo info = classify(f.data(), f.size(), 1518);
    return flow_class_of(f.data(), f.size(), info, rules.data(), static_cast<unsigned>(rules.size()));
}
}  // namespace

TEST_CASE("flow_class_of: ports pick the class, first match wins, the rest is unmatched (IPv4)") {
    profile::FlowMatch a, b;
    a.protocol = b.protocol = profile::Protocol::udp;
    a.dport = 9000;
    b.dport = 9001;
    const std::vector<ClassRule> rules{compile_rule(a), compile_rule(b)};
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9000), rules) == 1);
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9001), rules) == 2);
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9002), rules) == 0);
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 6, 5555, 9000), rules) == 0);    // TCP to 9000
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9000, 0, true), rules) == 1);   // behind a VLAN tag
    // A non-first fragment has no ports: a port rule does not take it.
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9000, 0, false, 0x0010), rules) == 0);
    // A match without addresses takes IPv6 too.
    CHECK(class_of(v6("fd00::1", "fd00::2", 17, 5555, 9001), rules) == 2);
    // No rules: everything unmatched; non-IP always unmatched.
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9000), {}) == 0);
    std::vector<std::uint8_t> arp(60, 0);
    arp[12] = 0x08; arp[13] = 0x06;
    CHECK(class_of(arp, rules) == 0);
    // First match wins: a catch-all before the port rule takes everything IP.
    const std::vector<ClassRule> shadow{compile_rule(profile::FlowMatch{}), compile_rule(a)};
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 5555, 9000), shadow) == 1);
}

TEST_CASE("flow_class_of: CIDRs, protocol, sport and DSCP (IPv4)") {
    profile::FlowMatch m;
    m.src = cidr("10.1.0.0", 16, false);
    m.dst = cidr("192.168.7.0", 24, false);
    m.protocol = profile::Protocol::tcp;
    m.sport = 443;
    m.dscp = 46;
    const std::vector<ClassRule> rules{compile_rule(m)};
    CHECK(class_of(v4("10.1.200.3", "192.168.7.9", 6, 443, 1234, 46), rules) == 1);
    CHECK(class_of(v4("10.2.0.3", "192.168.7.9", 6, 443, 1234, 46), rules) == 0);    // src outside /16
    CHECK(class_of(v4("10.1.200.3", "192.168.8.9", 6, 443, 1234, 46), rules) == 0);  // dst outside /24
    CHECK(class_of(v4("10.1.200.3", "192.168.7.9", 17, 443, 1234, 46), rules) == 0); // UDP
    CHECK(class_of(v4("10.1.200.3", "192.168.7.9", 6, 444, 1234, 46), rules) == 0);  // sport
    CHECK(class_of(v4("10.1.200.3", "192.168.7.9", 6, 443, 1234, 0), rules) == 0);   // DSCP 0
    // An IPv4 rule never takes IPv6.
    CHECK(class_of(v6("fd00::1", "fd00::2", 6, 443, 1234, 46), rules) == 0);
    profile::FlowMatch icmp;
    icmp.protocol = profile::Protocol::icmp;
    const std::vector<ClassRule> ir{compile_rule(icmp)};
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 1, 0, 0), ir) == 1);
    CHECK(class_of(v6("fd00::1", "fd00::2", 58, 0, 0), ir) == 1);   // ICMPv6 for IPv6 frames
    CHECK(class_of(v6("fd00::1", "fd00::2", 1, 0, 0), ir) == 0);
}

TEST_CASE("flow_class_of: IPv6 prefixes, ports and traffic class") {
    profile::FlowMatch m;
    m.dst = cidr("fd00:1::", 64, true);
    m.src = cidr("fd00:2::", 33, true);   // a prefix that ends inside a byte
    m.protocol = profile::Protocol::udp;
    m.dport = 9000;
    m.dscp = 10;
    const std::vector<ClassRule> rules{compile_rule(m)};
    CHECK(class_of(v6("fd00:2:7fff::9", "fd00:1::abcd", 17, 1, 9000, 10), rules) == 1);
    CHECK(class_of(v6("fd00:2:8000::9", "fd00:1::abcd", 17, 1, 9000, 10), rules) == 0);   // bit 33 set
    CHECK(class_of(v6("fd00:2::9", "fd00:1:0:1::abcd", 17, 1, 9000, 10), rules) == 0);   // dst outside /64
    CHECK(class_of(v6("fd00:2::9", "fd00:1::abcd", 17, 1, 9001, 10), rules) == 0);
    CHECK(class_of(v6("fd00:2::9", "fd00:1::abcd", 17, 1, 9000, 11), rules) == 0);
    CHECK(class_of(v4("10.0.0.1", "10.0.0.2", 17, 1, 9000, 10), rules) == 0);   // IPv6 rule, IPv4 frame
}
