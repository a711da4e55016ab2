// Several [[class]] entries on the netem backend: the htb root and u32 filters are tc's bytes
// (captured by scripts/capture-tc-class-golden.sh into tests/golden/classes/), the u32 keys of
// every match field for IPv4 and IPv6, and the whole tree apply --dry-run sends, its phase
// switch in place and the tc commands show-profile --as-tc prints for it.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netem/apply.hpp"
#include "netem/requests.hpp"
#include "netem/tc_words.hpp"
#include "netem/tcmsgs.hpp"
#include "profile/parse.hpp"
#include "support.hpp"

using namespace netchaos;
using namespace netchaos::netem;
using netem_test::hex;
using netem_test::read_golden;

namespace {

const std::filesystem::path class_golden = std::filesystem::path(NETCHAOS_SOURCE_DIR) / "tests/golden/classes";

profile::Cidr v4(const char* a, std::uint8_t prefix) { return {a, prefix, false}; }
profile::Cidr v6(const char* a, std::uint8_t prefix) { return {a, prefix, true}; }

// A message's type, flags (with the ACK the sender adds) and everything after nlmsghdr, with
// the tcmsg's ifindex zeroed, as the golden files hold them.
struct Wire {
    std::string type, flags, body;
};
Wire wire_of(Bytes b) {
    auto* h = reinterpret_cast<nlmsghdr*>(b.data());
    char t[16], f[16];
    std::snprintf(t, sizeof t, "0x%x", h->nlmsg_type);
    std::snprintf(f, sizeof f, "0x%x", h->nlmsg_flags | NLM_F_ACK);
    std::fill(b.begin() + NLMSG_HDRLEN + 4, b.begin() + NLMSG_HDRLEN + 8, 0);   // tcm_ifindex
    return {t, f, hex(b.data() + NLMSG_HDRLEN, b.size() - NLMSG_HDRLEN)};
}

void check_golden(const std::string& name, const Bytes& msg) {
    const auto g = read_golden(class_golden / (name + ".txt"));
    INFO(name << ": tc " << g.at("args"));
    REQUIRE_FALSE(g.at("body").empty());
    const Wire w = wire_of(msg);
    CHECK(w.type == g.at("type"));
    CHECK(w.flags == g.at("flags"));
    CHECK(w.body == g.at("body"));
}

Bytes filter_bytes(const profile::FlowMatch& m, bool six, std::uint16_t pref, std::uint32_t classid) {
    auto k = u32_match(m, six);
    REQUIRE(k);
    return new_u32_filter(U32Filter{5, match_root_handle, pref, *k, classid, std::nullopt}, 1);
}

}  // namespace

TEST_CASE("class tree: htb roots are tc's bytes (default ff sends the unmatched traffic to its netem)") {
    check_golden("htb_root_pass", new_qdisc(QdiscOp::replace, 5, root_parent, match_root_handle, "htb", htb_options(), 1));
    check_golden("htb_root_default",
                 new_qdisc(QdiscOp::replace, 5, root_parent, match_root_handle, "htb", htb_options(1000, unmatched_minor), 1));
}

TEST_CASE("class tree: u32 filters are tc's bytes for every match field, IPv4 and IPv6") {
    profile::FlowMatch udp9000{.protocol = profile::Protocol::udp, .dport = 9000};
    check_golden("u32_v4_udp_dport", filter_bytes(udp9000, false, class_filter_pref(0, false), class_id(0)));
    check_golden("u32_v6_udp_dport", filter_bytes(udp9000, true, class_filter_pref(0, true), class_id(0)));

    profile::FlowMatch all4{.src = v4("192.0.2.0", 24), .dst = v4("10.213.0.7", 32), .protocol = profile::Protocol::tcp,
                            .sport = 443, .dport = 5201, .dscp = 46};
    check_golden("u32_v4_all_fields", filter_bytes(all4, false, class_filter_pref(1, false), class_id(1)));
    profile::FlowMatch all6{.src = v6("2001:db8:aa00::", 40), .dst = v6("fd00::2", 128), .protocol = profile::Protocol::tcp,
                            .sport = 443, .dport = 5201, .dscp = 46};
    check_golden("u32_v6_all_fields", filter_bytes(all6, true, class_filter_pref(1, true), class_id(1)));

    profile::FlowMatch icmp{.protocol = profile::Protocol::icmp};
    check_golden("u32_v4_icmp", filter_bytes(icmp, false, class_filter_pref(2, false), class_id(2)));
    check_golden("u32_v6_icmp", filter_bytes(icmp, true, class_filter_pref(2, true), class_id(2)));   // next header 58

    check_golden("u32_v4_empty", filter_bytes(profile::FlowMatch{}, false, 1, class_id(0)));
    profile::FlowMatch sport{.protocol = profile::Protocol::udp, .sport = 9001};
    check_golden("u32_v6_sport_only", filter_bytes(sport, true, 2, class_id(0)));
}

TEST_CASE("u32 keys, IPv4: each field at its offset in the header") {
    const auto keys = [](const profile::FlowMatch& m) {
        auto r = u32_match(m, false);
        REQUIRE(r);
        CHECK(r->eth_protocol == ETH_P_IP);
        return r->keys;
    };
    CHECK(keys({.src = v4("192.0.2.0", 24)}) == std::vector<U32Key>{{0xC0000200u, 0xFFFFFF00u, 12}});
    CHECK(keys({.dst = v4("10.1.2.3", 32)}) == std::vector<U32Key>{{0x0A010203u, 0xFFFFFFFFu, 16}});
    CHECK(keys({.dst = v4("10.0.0.0", 8)}) == std::vector<U32Key>{{0x0A000000u, 0xFF000000u, 16}});
    CHECK(keys({.protocol = profile::Protocol::tcp}) == std::vector<U32Key>{{6u << 16, 0x00FF0000u, 8}});
    CHECK(keys({.protocol = profile::Protocol::icmp}) == std::vector<U32Key>{{1u << 16, 0x00FF0000u, 8}});
    CHECK(keys({.dscp = 46}) == std::vector<U32Key>{{46u << 18, 0x00FC0000u, 0}});   // TOS 0xb8
    CHECK(keys({.dscp = 63}) == std::vector<U32Key>{{0x00FC0000u, 0x00FC0000u, 0}});
    CHECK(keys({.protocol = profile::Protocol::udp, .sport = 9001}) ==
          std::vector<U32Key>{{17u << 16, 0x00FF0000u, 8}, {9001u << 16, 0xFFFF0000u, 20}});
    CHECK(keys({.protocol = profile::Protocol::udp, .dport = 9000}) ==
          std::vector<U32Key>{{17u << 16, 0x00FF0000u, 8}, {9000u, 0x0000FFFFu, 20}});
    // sport and dport share the word at 20: one key, as tc packs it.
    CHECK(keys({.protocol = profile::Protocol::udp, .sport = 1, .dport = 2}) ==
          std::vector<U32Key>{{17u << 16, 0x00FF0000u, 8}, {0x00010002u, 0xFFFFFFFFu, 20}});
    CHECK(keys({}).empty());
}

TEST_CASE("u32 keys, IPv6: addresses at 8/24 by word, next header at 6, traffic class, ports at 40/42") {
    const auto keys = [](const profile::FlowMatch& m) {
        auto r = u32_match(m, true);
        REQUIRE(r);
        CHECK(r->eth_protocol == ETH_P_IPV6);
        return r->keys;
    };
    CHECK(keys({.src = v6("2001:db8::", 32)}) == std::vector<U32Key>{{0x20010DB8u, 0xFFFFFFFFu, 8}});
    CHECK(keys({.src = v6("2001:db8:aa00::", 40)}) ==
          std::vector<U32Key>{{0x20010DB8u, 0xFFFFFFFFu, 8}, {0xAA000000u, 0xFF000000u, 12}});
    CHECK(keys({.dst = v6("fd00::2", 128)}) == std::vector<U32Key>{{0xFD000000u, 0xFFFFFFFFu, 24},
                                                                   {0, 0xFFFFFFFFu, 28},
                                                                   {0, 0xFFFFFFFFu, 32},
                                                                   {2, 0xFFFFFFFFu, 36}});
    CHECK(keys({.dst = v6("fd00::", 8)}) == std::vector<U32Key>{{0xFD000000u, 0xFF000000u, 24}});
    CHECK(keys({.protocol = profile::Protocol::udp}) == std::vector<U32Key>{{17u << 8, 0x0000FF00u, 4}});
    CHECK(keys({.protocol = profile::Protocol::icmp}) == std::vector<U32Key>{{58u << 8, 0x0000FF00u, 4}});
    CHECK(keys({.dscp = 46}) == std::vector<U32Key>{{46u << 22, 0x0FC00000u, 0}});   // traffic class 0xb8
    CHECK(keys({.protocol = profile::Protocol::tcp, .sport = 443}) ==
          std::vector<U32Key>{{6u << 8, 0x0000FF00u, 4}, {443u << 16, 0xFFFF0000u, 40}});
    CHECK(keys({.protocol = profile::Protocol::tcp, .dport = 5201}) ==
          std::vector<U32Key>{{6u << 8, 0x0000FF00u, 4}, {5201u, 0x0000FFFFu, 40}});
    CHECK(keys({.protocol = profile::Protocol::udp, .sport = 1, .dport = 2}) ==
          std::vector<U32Key>{{17u << 8, 0x0000FF00u, 4}, {0x00010002u, 0xFFFFFFFFu, 40}});
}

TEST_CASE("u32 matches: one per IP version of the addresses, both without addresses; bad input refused") {
    auto both = u32_matches({.protocol = profile::Protocol::udp, .dport = 9000});
    REQUIRE(both);
    REQUIRE(both->size() == 2);
    CHECK((*both)[0].eth_protocol == ETH_P_IP);
    CHECK((*both)[1].eth_protocol == ETH_P_IPV6);
    auto only4 = u32_matches({.dst = v4("10.0.0.0", 24)});
    REQUIRE(only4);
    REQUIRE(only4->size() == 1);
    CHECK((*only4)[0].eth_protocol == ETH_P_IP);
    auto only6 = u32_matches({.src = v6("fd00::", 64), .dst = v6("fd01::", 64)});
    REQUIRE(only6);
    REQUIRE(only6->size() == 1);
    CHECK((*only6)[0].eth_protocol == ETH_P_IPV6);

    auto mixed = u32_matches({.src = v4("10.0.0.1", 32), .dst = v6("::1", 128)});
    REQUIRE_FALSE(mixed);
    CHECK(mixed.error().kind == ErrorKind::bad_input);
    auto ports = u32_matches({.dport = 80});
    REQUIRE_FALSE(ports);
    CHECK(ports.error().kind == ErrorKind::bad_input);
    CHECK_FALSE(u32_match({.src = v6("fd00::", 64)}, false));   // an IPv6 address in an IPv4 filter
    CHECK_FALSE(u32_match({.dst = v4("bad", 8)}, false));
}

namespace {

// Two UDP classes (dport 9000 at 30 ms, dport 9001 at 5 ms), unmatched traffic at `unmatched`
// (empty: it passes), v4 and v6 alike.
profile::Profile two_classes(const std::string& d9000, const std::string& d9001, const std::string& unmatched) {
    std::string t = "name = \"two\"\n";
    if (!unmatched.empty()) t += "[egress.delay]\nmean = \"" + unmatched + "\"\n";
    t += "[[class]]\nname = \"a\"\nmatch = { protocol = \"udp\", dport = 9000 }\n[class.egress.delay]\nmean = \"" + d9000 + "\"\n";
    t += "[[class]]\nname = \"b\"\nmatch = { protocol = \"udp\", dport = 9001 }\n[class.egress.delay]\nmean = \"" + d9001 + "\"\n";
    auto p = profile::parse_profile_text(t, std::filesystem::temp_directory_path() / "two.toml");
    REQUIRE(p.ok());
    return *p.value;
}

struct RunDir {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("nc-classes-" + std::to_string(::getpid()));
    RunDir() {
        std::filesystem::remove_all(dir);
        ::setenv("NETCHAOS_RUN_DIR", dir.c_str(), 1);
    }
    ~RunDir() {
        std::filesystem::remove_all(dir);
        ::unsetenv("NETCHAOS_RUN_DIR");
    }
};

std::vector<std::string> commands_of(const ApplyReport& r) {
    std::vector<std::string> out;
    for (const auto& d : decode_requests(r.messages, [](int i) { return i == 3 ? std::string("eth0") : std::string(); }))
        out.push_back(d.command);
    return out;
}

}  // namespace

TEST_CASE("apply --dry-run of two classes and an unmatched [egress]: htb, a class + netem each, v4 and v6 filters") {
    RunDir run;
    netem_test::EmptyKernel kernel;
    ApplyOptions o{two_classes("30ms", "5ms", "1ms"), "eth0", false, std::nullopt, false, true, {}};
    auto r = dry_run(o, kernel);
    REQUIRE(r);
    const auto c = commands_of(*r);
    REQUIRE(c.size() == 11);
    CHECK(c[0] == "tc qdisc replace dev eth0 root handle 6e63: htb default ff direct_qlen 1000");
    const std::string cls = " htb rate 10gbit ceil 10gbit burst 200000 cburst 200000 quantum 60000";
    CHECK(c[1] == "tc class add dev eth0 parent 6e63: classid 6e63:ff" + cls);
    CHECK(c[2].starts_with("tc qdisc add dev eth0 parent 6e63:ff handle 6e74: netem delay 1ms"));
    CHECK(c[3] == "tc class add dev eth0 parent 6e63: classid 6e63:1" + cls);
    CHECK(c[4].starts_with("tc qdisc add dev eth0 parent 6e63:1 handle 6e64: netem delay 30ms"));
    CHECK(c[5] == "tc class add dev eth0 parent 6e63: classid 6e63:2" + cls);
    CHECK(c[6].starts_with("tc qdisc add dev eth0 parent 6e63:2 handle 6e65: netem delay 5ms"));
    CHECK(c[7] == "tc filter add dev eth0 parent 6e63: pref 1 protocol ip u32 match u32 0x00110000 0x00ff0000 at 8 "
                  "match u32 0x00002328 0x0000ffff at 20 classid 6e63:1");
    CHECK(c[8] == "tc filter add dev eth0 parent 6e63: pref 2 protocol ipv6 u32 match u32 0x00001100 0x0000ff00 at 4 "
                  "match u32 0x00002328 0x0000ffff at 40 classid 6e63:1");
    CHECK(c[9] == "tc filter add dev eth0 parent 6e63: pref 3 protocol ip u32 match u32 0x00110000 0x00ff0000 at 8 "
                  "match u32 0x00002329 0x0000ffff at 20 classid 6e63:2");
    CHECK(c[10] == "tc filter add dev eth0 parent 6e63: pref 4 protocol ipv6 u32 match u32 0x00001100 0x0000ff00 at 4 "
                   "match u32 0x00002329 0x0000ffff at 40 classid 6e63:2");
    // The ledger: one root step (what was there before), three netems to switch in place.
    REQUIRE(r->ledger);
    std::size_t netems = 0, roots = 0;
    for (const auto& s : r->ledger->steps) {
        netems += s.kind == StepKind::netem;
        roots += s.kind == StepKind::root_qdisc;
    }
    CHECK(netems == 3);
    CHECK(roots == 1);
    CHECK_FALSE(std::filesystem::exists(ledger_path("eth0")));   // a dry run writes nothing
}

TEST_CASE("apply --dry-run without an unmatched impairment: htb default 0, the rest passes unshaped") {
    RunDir run;
    netem_test::EmptyKernel kernel;
    ApplyOptions o{two_classes("30ms", "5ms", ""), "eth0", false, std::nullopt, false, true, {}};
    auto r = dry_run(o, kernel);
    REQUIRE(r);
    const auto c = commands_of(*r);
    REQUIRE(c.size() == 9);
    CHECK(c[0] == "tc qdisc replace dev eth0 root handle 6e63: htb direct_qlen 1000");
    CHECK(c[1].starts_with("tc class add dev eth0 parent 6e63: classid 6e63:1 "));
}

TEST_CASE("a phase switch between two-class profiles of one shape replaces the three netems in place") {
    RunDir run;
    netem_test::EmptyKernel kernel;
    auto first = dry_run({two_classes("30ms", "5ms", "1ms"), "eth0", false, std::nullopt, false, true, {}}, kernel);
    REQUIRE(first);
    REQUIRE(save_ledger(*first->ledger));
    auto second = dry_run({two_classes("50ms", "7ms", "2ms"), "eth0", false, std::nullopt, false, true, {}}, kernel);
    REQUIRE(second);
    CHECK(second->phase_switch);
    const auto c = commands_of(*second);
    REQUIRE(c.size() == 3);
    CHECK(c[0].starts_with("tc qdisc replace dev eth0 parent 6e63:ff handle 6e74: netem delay 2ms"));
    CHECK(c[1].starts_with("tc qdisc replace dev eth0 parent 6e63:1 handle 6e64: netem delay 50ms"));
    CHECK(c[2].starts_with("tc qdisc replace dev eth0 parent 6e63:2 handle 6e65: netem delay 7ms"));
    // Another shape (the unmatched traffic now passes) is not a switch: apply undoes and rebuilds,
    // which a dry run refuses to guess at.
    auto other = dry_run({two_classes("50ms", "7ms", ""), "eth0", false, std::nullopt, false, true, {}}, kernel);
    REQUIRE_FALSE(other);
    CHECK_THAT(other.error().message, Catch::Matchers::Contains("another layout"));
}

TEST_CASE("placement of classes: per side, --ingress takes each class's [ingress] or its [egress]") {
    auto p = two_classes("30ms", "5ms", "1ms");
    p.classes[1].ingress = p.classes[1].egress;
    p.classes[1].egress.reset();
    auto both = place(p, false);
    REQUIRE(both);
    REQUIRE(both->size() == 2);
    const auto& e = (*both)[0];
    const auto& i = (*both)[1];
    CHECK_FALSE(e.ingress);
    CHECK(e.imp == &*p.egress);
    CHECK(e.classes == std::vector<const profile::Impairment*>{&*p.classes[0].egress, nullptr});
    CHECK(i.ingress);
    CHECK(i.imp == nullptr);   // no top-level [ingress]: unmatched ingress traffic passes
    CHECK(i.classes == std::vector<const profile::Impairment*>{nullptr, &*p.classes[1].ingress});
    auto in = place(p, true);
    REQUIRE(in);
    REQUIRE(in->size() == 1);
    CHECK((*in)[0].imp == &*p.egress);
    CHECK((*in)[0].classes == std::vector<const profile::Impairment*>{&*p.classes[0].egress, &*p.classes[1].ingress});
    // Where each netem's section is, for the phase switch and show's read-back.
    CHECK(impairment_at(e, class_netem_handle(0)) == &*p.classes[0].egress);
    CHECK(impairment_at(e, class_netem_handle(1)) == nullptr);
    CHECK(impairment_at(e, unmatched_netem_handle) == &*p.egress);
    CHECK(section_at(p, true, class_netem_handle(1)) == &p.classes[1].ingress);
    CHECK(section_at(p, false, unmatched_netem_handle) == &p.egress);
    CHECK(section_at(p, false, class_netem_handle(2)) == nullptr);   // no third class
    profile::Profile flat;
    flat.egress = profile::Impairment{};
    CHECK(section_at(flat, false, own_root_handle) == &flat.egress);
    // The layout changes with a match, with a class's netem coming or going, with the default's.
    const auto layout = layout_of(*both, p);
    auto q = p;
    q.classes[0].match.dscp = 46;
    CHECK(layout_of(*place(q, false), q) != layout);
    q = p;
    q.egress.reset();
    CHECK(layout_of(*place(q, false), q) != layout);
    q = p;
    q.classes[0].egress->delay->mean = std::chrono::milliseconds(99);
    CHECK(layout_of(*place(q, false), q) == layout);
}

TEST_CASE("show-profile --as-tc of two classes: the tree apply builds, in its order") {
    auto s = tc_script(two_classes("30ms", "5ms", "1ms"), "eth0");
    REQUIRE(s);
    const auto& c = s->commands;
    REQUIRE(c.size() == 11);
    CHECK(c[0] == "tc qdisc add dev eth0 root handle 6e63: htb default ff");
    CHECK(c[1].starts_with("tc class add dev eth0 parent 6e63: classid 6e63:ff htb rate 10gbit ceil 10gbit"));
    CHECK(c[2].starts_with("tc qdisc add dev eth0 parent 6e63:ff handle 6e74: netem delay 1ms"));
    CHECK(c[4].starts_with("tc qdisc add dev eth0 parent 6e63:1 handle 6e64: netem delay 30ms"));
    CHECK(c[6].starts_with("tc qdisc add dev eth0 parent 6e63:2 handle 6e65: netem delay 5ms"));
    CHECK(c[7] == "tc filter add dev eth0 parent 6e63: protocol ip prio 1 u32 match ip protocol 17 0xff match ip dport 9000 0xffff flowid 6e63:1");
    CHECK(c[8] == "tc filter add dev eth0 parent 6e63: protocol ipv6 prio 2 u32 match ip6 protocol 17 0xff match ip6 dport 9000 0xffff flowid 6e63:1");
    CHECK(c[10] == "tc filter add dev eth0 parent 6e63: protocol ipv6 prio 4 u32 match ip6 protocol 17 0xff match ip6 dport 9001 0xffff flowid 6e63:2");
}

TEST_CASE("apply --ingress --dry-run of two classes: the class tree goes on the IFB, then the redirect") {
    RunDir run;
    netem_test::EmptyKernel kernel;
    auto r = dry_run({two_classes("30ms", "5ms", ""), "eth0", true, std::nullopt, false, true, {}}, kernel);
    REQUIRE(r);
    const auto c = commands_of(*r);
    REQUIRE(c.size() == 12);
    CHECK(c[0] == "ip link add ifb-eth0 up type ifb");
    CHECK(c[1] == "tc qdisc replace dev ifb-eth0 root handle 6e63: htb direct_qlen 1000");
    CHECK(c[3].starts_with("tc qdisc add dev ifb-eth0 parent 6e63:1 handle 6e64: netem delay 30ms"));
    CHECK(c[5].starts_with("tc qdisc add dev ifb-eth0 parent 6e63:2 handle 6e65: netem delay 5ms"));
    CHECK(c[9].starts_with("tc filter add dev ifb-eth0 parent 6e63: pref 4 protocol ipv6 u32 "));
    CHECK(c[10] == "tc qdisc add dev eth0 ingress");
    CHECK(c[11].starts_with("tc filter add dev eth0 parent ffff: pref 1 protocol all u32 "));
    REQUIRE(r->ledger);
    for (const auto& s : r->ledger->steps)
        if (s.kind == StepKind::netem) CHECK(s.side == "ingress");
}
