// Pure parts of the kernel backend: u32 keys from [match], ledger JSON, error mapping,
// decoding netem options read back, IFB names, placement of [egress]/[ingress].
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>

#include "netem/apply.hpp"
#include "netem/ledger.hpp"
#include "netem/netlink.hpp"
#include "netem/show.hpp"
#include "netem/tcmsgs.hpp"

using namespace netchaos;
using namespace netchaos::netem;

TEST_CASE("u32 keys for an IPv4 UDP flow are what tc's `match ip` sends") {
    profile::FlowMatch m;
    m.dst = profile::Cidr{"10.213.0.0", 24, false};
    m.protocol = profile::Protocol::udp;
    m.dport = 9000;
    m.sport = 5;
    auto r = u32_match(m, false);
    REQUIRE(r);
    CHECK(r->eth_protocol == 0x0800);
    REQUIRE(r->keys.size() == 3);
    CHECK(r->keys[0] == U32Key{0x0AD50000u, 0xFFFFFF00u, 16});   // match ip dst 10.213.0.0/24
    CHECK(r->keys[1] == U32Key{17u << 16, 0x00FF0000u, 8});      // match ip protocol 17 0xff
    // match ip sport 5 0xffff match ip dport 9000 0xffff: one word, as tc packs it
    CHECK(r->keys[2] == U32Key{(5u << 16) | 9000u, 0xFFFFFFFFu, 20});
}

TEST_CASE("u32 keys for IPv6 split the prefix over 32-bit words") {
    profile::FlowMatch m;
    m.src = profile::Cidr{"2001:db8::", 40, true};
    auto r = u32_match(m, true);
    REQUIRE(r);
    CHECK(r->eth_protocol == 0x86DD);
    REQUIRE(r->keys.size() == 2);
    CHECK(r->keys[0] == U32Key{0x20010DB8u, 0xFFFFFFFFu, 8});
    CHECK(r->keys[1] == U32Key{0u, 0xFF000000u, 12});
}

TEST_CASE("u32 match rejects ports without tcp/udp and mixed IP versions (exit 3)") {
    profile::FlowMatch m;
    m.dport = 80;
    auto r = u32_match(m, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    profile::FlowMatch mixed;
    mixed.src = profile::Cidr{"10.0.0.1", 32, false};
    mixed.dst = profile::Cidr{"::1", 128, true};
    CHECK_FALSE(u32_matches(mixed));
}

TEST_CASE("a u32 filter message carries the selector and the mirred redirect") {
    U32Filter f{7, ingress_handle, 1, U32Match{0x0003, {}}, 0, 42};
    Bytes b = new_u32_filter(f, 9);
    std::string s(b.begin(), b.end());
    CHECK(s.find("u32") != std::string::npos);
    CHECK(s.find("mirred") != std::string::npos);
    tc_mirred p{};
    p.action = TC_ACT_STOLEN;
    p.eaction = 1;   // TCA_EGRESS_REDIR
    p.ifindex = 42;
    CHECK(s.find(std::string(reinterpret_cast<const char*>(&p), sizeof p)) != std::string::npos);
}

TEST_CASE("ledger JSON round-trips, including the previous tree, holder and namespace") {
    Ledger l;
    l.dev = "veth0";
    l.layout = "egress;";
    l.profile = "x";
    l.complete = true;
    l.watchdog_pid = 1234;
    l.generation = 0xFFFFFFFFFFFFull;
    Step root;
    root.kind = StepKind::root_qdisc;
    root.dev = "veth0";
    root.prev = QdiscSnapshot{"htb", 0x10000, {0x00, 0x01, 0xfe, 0xff},
                              {TcObject{TcType::tclass, 0xFFFFFFFFu, 0x10001, 0, "htb", std::nullopt, {1, 2}},
                               TcObject{TcType::qdisc, 0x10001, 0x100000, 0, "fq_codel", std::nullopt, {}},
                               TcObject{TcType::filter, 0x10000, 0x80000800u, 0x10008, "u32", 0u, {3}}}};
    root.handle = 0x6E650000;
    root.created = "netem";
    l.holder_pid = 42;
    l.holder_start = 123456;
    l.watchdog_start = 99;
    l.since = 1700000000;
    l.netns_inode = 4026531840ull;
    l.netns_cookie = 7;
    root.done = true;
    Step ifb;
    ifb.kind = StepKind::ifb_link;
    ifb.dev = "ifb-veth0";
    Step nm;
    nm.kind = StepKind::netem;
    nm.dev = "veth0";
    nm.parent = 0x6E630001;
    nm.handle = 0x6E640000;
    nm.side = "egress";
    nm.done = true;
    l.steps = {root, ifb, nm};
    auto back = ledger_from_json(to_json(l));
    REQUIRE(back);
    CHECK(*back == l);
    CHECK_FALSE(ledger_from_json("{\"dev\":\"x\",\"steps\":[{\"kind\":\"bogus\",\"dev\":\"x\"}]}"));
    // Truncated anywhere: an error, never a partial ledger.
    const std::string text = to_json(l);
    for (std::size_t n : {std::size_t(1), text.size() / 3, text.size() / 2, text.size() - 3})
        CHECK_FALSE(ledger_from_json(text.substr(0, n)));
}

TEST_CASE("kernel errors map to the messages users act on") {
    Context netem{"add netem qdisc", "veth0", "netem"};
    CHECK(map_error({ENOENT, "Specified qdisc kind is unknown"}, netem).message == no_netem_message);
    CHECK(map_error({ENOENT, ""}, netem).message == no_netem_message);
    CHECK(map_error({ENODEV, ""}, netem).message == "no such interface: veth0");
    auto eperm = map_error({EPERM, ""}, netem);
    CHECK(eperm.message.find("needs CAP_NET_ADMIN") != std::string::npos);
    CHECK(eperm.kind == netchaos::ErrorKind::system);
    // Other netem errors are not "no netem": the extack is passed through.
    auto inval = map_error({EINVAL, "Invalid slot parameters"}, netem);
    CHECK(inval.message != no_netem_message);
    CHECK(inval.message.find("Invalid slot parameters") != std::string::npos);
    // Unknown kinds other than netem are not reported as a missing netem.
    CHECK(map_error({ENOENT, "Specified qdisc kind is unknown"}, {"add prio qdisc", "v", "prio"}).message !=
          no_netem_message);
}

TEST_CASE("IFB names fit IFNAMSIZ and stay distinct") {
    CHECK(ifb_name_for("veth0") == "ifb-veth0");
    auto a = ifb_name_for("averyverylongname0"), b = ifb_name_for("averyverylongname1");
    CHECK(a.size() <= IFNAMSIZ - 1);
    CHECK(a != b);
}

TEST_CASE("netem options read back: rate64, ECN, GE loss as 1-h, slot") {
    Bytes o(sizeof(tc_netem_qopt), 0);
    auto put = [&](std::uint16_t type, const void* p, std::size_t n) {
        std::uint16_t len = static_cast<std::uint16_t>(4 + n);
        std::size_t at = o.size();
        o.resize(at + ((len + 3) & ~3u), 0);
        std::memcpy(o.data() + at, &len, 2);
        std::memcpy(o.data() + at + 2, &type, 2);
        std::memcpy(o.data() + at + 4, p, n);
    };
    tc_netem_rate rate{0xFFFFFFFFu, 14, 0, 0};
    put(TCA_NETEM_RATE, &rate, sizeof rate);
    std::uint64_t r64 = 12'500'000'000ull;
    put(TCA_NETEM_RATE64, &r64, sizeof r64);
    std::uint32_t one = 1;
    put(TCA_NETEM_ECN, &one, sizeof one);
    tc_netem_gemodel ge{0x80000000u, 0xFFFFFFFFu, 0, 0};   // h = 0 -> 1-h = 100%
    Bytes nest(4 + sizeof ge);
    std::uint16_t nl = static_cast<std::uint16_t>(nest.size()), nt = NETEM_LOSS_GE;
    std::memcpy(nest.data(), &nl, 2);
    std::memcpy(nest.data() + 2, &nt, 2);
    std::memcpy(nest.data() + 4, &ge, sizeof ge);
    put(TCA_NETEM_LOSS | 0x8000, nest.data(), nest.size());
    tc_netem_slot slot{1'000'000, 5'000'000, 10, 65536, 0, 0};
    put(TCA_NETEM_SLOT, &slot, sizeof slot);
    const auto imp = impairment_from_options(o);
    REQUIRE(imp.rate);
    CHECK(imp.rate->bytes_per_sec == r64);
    CHECK(imp.rate->packet_overhead == 14);
    REQUIRE(imp.loss);
    CHECK(imp.loss->ecn);
    const auto* gem = std::get_if<profile::GilbertElliott>(&imp.loss->model);
    REQUIRE(gem);
    CHECK(gem->p == Approx(0.5).epsilon(1e-6));
    CHECK(gem->one_minus_h == 1.0);
    REQUIRE(imp.slot);
    CHECK(imp.slot->max_delay == std::chrono::milliseconds(5));
    CHECK(imp.slot->max_packets == 10);
}

TEST_CASE("placement: [egress] on the root, [ingress] via IFB, --ingress takes one section") {
    profile::Profile p;
    p.egress = profile::Impairment{};
    p.ingress = profile::Impairment{};
    auto both = place(p, false);
    REQUIRE(both);
    REQUIRE(both->size() == 2);
    CHECK_FALSE((*both)[0].ingress);
    CHECK((*both)[1].ingress);
    auto in = place(p, true);
    REQUIRE(in->size() == 1);
    CHECK((*in)[0].imp == &*p.ingress);
    profile::Profile only_egress;
    only_egress.egress = profile::Impairment{};
    CHECK(place(only_egress, true)->at(0).imp == &*only_egress.egress);
    CHECK(place(profile::Profile{}, false).error().kind == netchaos::ErrorKind::bad_input);
    CHECK(layout_of(*both, p) != layout_of(*in, p));
}

TEST_CASE("placement refuses reorder = flow: one netem qdisc keeps one order (exit 3, naming the section)") {
    profile::Profile p;
    p.ingress = profile::Impairment{};
    p.ingress->delay = profile::Delay{.mean = std::chrono::milliseconds(40), .jitter = std::chrono::milliseconds(10),
                                      .order = profile::JitterOrder::flow};
    auto r = place(p, false);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    CHECK_THAT(r.error().message, Catch::Matchers::Contains("[ingress.delay] reorder = \"flow\"") &&
                                      Catch::Matchers::Contains("dpdk backend"));
    p.ingress->delay->order = profile::JitterOrder::preserve;
    CHECK(place(p, false));
}
