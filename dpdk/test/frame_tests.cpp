#include <catch2/catch.hpp>
#include <algorithm>
#include <vector>

#include "frame.hpp"
#include "sizing.hpp"
#include "stats.hpp"
#include "tsc_clock.hpp"

using namespace netchaos::fwd;

namespace {
std::vector<std::uint8_t> ipv4_frame(std::uint8_t tos, std::size_t payload = 26) {
    std::vector<std::uint8_t> f(14 + 20 + payload, 0);
    f[12] = 0x08; f[13] = 0x00;
    std::uint8_t* ip = f.data() + 14;
    ip[0] = 0x45; ip[1] = tos;
    const auto total = static_cast<std::uint16_t>(20 + payload);
    ip[2] = static_cast<std::uint8_t>(total >> 8); ip[3] = static_cast<std::uint8_t>(total);
    ip[8] = 64; ip[9] = 17;
    ip[12] = 10; ip[13] = 213; ip[15] = 1; ip[16] = 10; ip[17] = 213; ip[19] = 2;
    const std::uint16_t c = inet_checksum(ip, 20);
    ip[10] = static_cast<std::uint8_t>(c >> 8); ip[11] = static_cast<std::uint8_t>(c);
    return f;
}
}  // namespace

TEST_CASE("classify IPv4, IPv6, non-IP and VLAN") {
    auto f = ipv4_frame(0x02);
    auto i = classify(f.data(), f.size(), 1518);
    CHECK(i.kind == FrameKind::ipv4);
    CHECK(i.l3_offset == 14);
    CHECK(i.ecn == 2);

    std::vector<std::uint8_t> arp(42, 0);
    arp[12] = 0x08; arp[13] = 0x06;
    CHECK(classify(arp.data(), arp.size(), 1518).kind == FrameKind::non_ip);

    std::vector<std::uint8_t> v6(14 + 40 + 8, 0);
    v6[12] = 0x86; v6[13] = 0xdd; v6[14] = 0x60; v6[15] = 0x10;   // traffic class 0x01: ECT(1)
    v6[19] = 8;
    auto j = classify(v6.data(), v6.size(), 1518);
    CHECK(j.kind == FrameKind::ipv6);
    CHECK(j.ecn == 1);

    std::vector<std::uint8_t> vlan(f.size() + 4);
    std::copy(f.begin(), f.begin() + 12, vlan.begin());
    vlan[12] = 0x81; vlan[13] = 0x00; vlan[16] = 0x08; vlan[17] = 0x00;
    std::copy(f.begin() + 14, f.end(), vlan.begin() + 18);
    auto k = classify(vlan.data(), vlan.size(), 1518);
    CHECK(k.kind == FrameKind::ipv4);
    CHECK(k.l3_offset == 18);
}

TEST_CASE("malformed frames are classified, never read past their end") {
    std::vector<std::uint8_t> tiny(20, 0xff);
    tiny[12] = 0x08; tiny[13] = 0x00;
    CHECK(classify(tiny.data(), tiny.size(), 1518).kind == FrameKind::runt);
    CHECK(classify(tiny.data(), 5, 1518).kind == FrameKind::runt);
    CHECK(classify(nullptr, 0, 1518).kind == FrameKind::runt);

    auto f = ipv4_frame(0, 100);
    f[14 + 2] = 0x05; f[14 + 3] = 0xdc;   // total length 1500 > what is there
    CHECK(classify(f.data(), f.size(), 1518).kind == FrameKind::truncated);
    auto g = ipv4_frame(0, 100);
    g[14] = 0x4f;   // IHL 60 bytes, fits, total 120 >= 60: valid with options
    CHECK(classify(g.data(), g.size(), 1518).kind == FrameKind::ipv4);
    g[14] = 0x43;   // IHL 12 bytes: impossible
    CHECK(classify(g.data(), g.size(), 1518).kind == FrameKind::truncated);

    std::vector<std::uint8_t> jumbo(9000, 0);
    jumbo[12] = 0x08;
    CHECK(classify(jumbo.data(), jumbo.size(), 1518).kind == FrameKind::oversize);
    CHECK(is_malformed(FrameKind::oversize));
    CHECK_FALSE(is_malformed(FrameKind::non_ip));
}

TEST_CASE("CE marking keeps the IPv4 header checksum valid") {
    for (std::uint8_t tos : {0x01, 0x02, 0xb9, 0xfe}) {
        auto f = ipv4_frame(tos);
        const auto info = classify(f.data(), f.size(), 1518);
        REQUIRE(set_ce(f.data(), f.size(), info));
        CHECK((f[15] & 3) == 3);
        CHECK((f[15] & 0xfc) == (tos & 0xfc));
        CHECK(inet_checksum(f.data() + 14, 20) == 0);   // a valid header sums to 0xffff
    }
    std::vector<std::uint8_t> arp(42, 0);
    arp[12] = 0x08; arp[13] = 0x06;
    CHECK_FALSE(set_ce(arp.data(), arp.size(), classify(arp.data(), arp.size(), 1518)));
}

TEST_CASE("flip_bit flips exactly one bit, modulo the frame") {
    std::vector<std::uint8_t> f(10, 0);
    flip_bit(f.data(), f.size(), 83);   // 83 % 80 = 3
    CHECK(f[0] == 0x08);
    int ones = 0;
    for (auto b : f) ones += __builtin_popcount(b);
    CHECK(ones == 1);
    flip_bit(nullptr, 0, 5);   // no frame, no crash
}

TEST_CASE("histogram buckets are monotone and percentiles are upper edges") {
    std::uint64_t prev = 0;
    for (std::uint64_t v : {0ull, 1ull, 7ull, 8ull, 9ull, 100ull, 1000ull, 123456ull, 1ull << 40}) {
        const int i = Histogram::index(v);
        CHECK(Histogram::upper(i) >= v);
        if (i > 0) CHECK(Histogram::upper(i - 1) < v);
        CHECK(Histogram::upper(i) >= prev);
        prev = Histogram::upper(i);
    }
    std::array<std::uint64_t, Histogram::buckets> h{};
    for (int v = 1; v <= 1000; ++v) ++h[static_cast<std::size_t>(Histogram::index(static_cast<std::uint64_t>(v) * 10))];
    const auto p50 = percentile(h, 0.5), p99 = percentile(h, 0.99);
    CHECK(p50 >= 5000);
    CHECK(p50 <= 5000 * 1.13);
    CHECK(p99 >= 9900);
    CHECK(p99 <= 9900 * 1.13);
}

TEST_CASE("TSC calibration slope and conversions") {
    const ClockSample a{1'000'000'000, 5'000'000'000ull}, b{1'200'000'000, 5'000'000'000ull + 419'200'000ull};
    const double hz = ticks_per_sec(a, b);
    CHECK(hz == Approx(2.096e9));
    const TscClock c = TscClock::from_rate(a.tsc, hz);
    CHECK(c.to_ns(a.tsc + 2'096'000) == 1'000'000);
    CHECK(c.to_tsc(1'000'000) == a.tsc + 2'096'000);
}

TEST_CASE("pool plan: rate x delay, capped by memory") {
    using namespace std::chrono_literals;
    netchaos::profile::Impairment imp;
    imp.delay = netchaos::profile::Delay{};
    imp.delay->mean = 100ms;
    imp.delay->jitter = 10ms;
    CHECK(max_delay(imp) == 150ms);
    auto p = plan_pool(1e7, 100ms, 0, 2500, 1ull << 30);   // 1M in flight
    CHECK(p.wanted >= 1'250'000);
    CHECK(p.fits == (1ull << 30) / 2500);
    CHECK(p.capped);
    CHECK(p.mbufs == p.fits);
    auto q = plan_pool(1000, 10ms, 0, 2500, 1ull << 30);
    CHECK_FALSE(q.capped);
    CHECK(q.mbufs == 32768);
}

TEST_CASE("pool driver: auto is a stack, a ring with AF_XDP ports; a name is taken as given") {
    CHECK(pool_driver("auto", false) == "stack");
    CHECK(pool_driver("auto", true) == "ring_mp_mc");
    CHECK(pool_driver("stack", true) == "stack");
    CHECK(pool_driver("ring_mp_mc", false) == "ring_mp_mc");
}

TEST_CASE("pool memory: auto takes huge pages only without EAL hugepages and with software ports alone") {
    using V = std::vector<std::string>;
    CHECK(pool_memory("auto", false, V{"net_null", "net_null"}).where == "thp");
    CHECK(pool_memory("auto", false, V{"net_ring", "net_tap"}).where == "thp");
    CHECK(pool_memory("auto", true, V{"net_null", "net_null"}).where == "eal");
    CHECK(pool_memory("auto", true, V{"net_null", "net_null"}).why == "the EAL has hugepages");
    const PoolMemory xdp = pool_memory("auto", false, V{"net_null", "net_af_xdp"});
    CHECK(xdp.where == "eal");
    CHECK(xdp.why == "port driver net_af_xdp needs the EAL's memory");
    CHECK(pool_memory("auto", false, V{"net_ice", "net_ice"}).where == "eal");
    CHECK(pool_memory("thp", true, V{"net_af_xdp"}).where == "thp");   // asked for by name: taken
    CHECK(pool_memory("eal", false, V{"net_null"}).where == "eal");
}

TEST_CASE("flow_hash: the 5-tuple decides; payload, TTL and checksum do not; later fragments share one flow") {
    auto f = ipv4_frame(0);
    std::uint8_t* ip = f.data() + 14;
    ip[20] = 0x9c; ip[21] = 0x40; ip[22] = 0x1e; ip[23] = 0x61;   // UDP 40000 -> 7777
    auto hash = [](std::vector<std::uint8_t>& x) { return flow_hash(x.data(), x.size(), classify(x.data(), x.size(), 1518)); };
    const std::uint32_t h = hash(f);
    auto same = f;
    same[14 + 8] = 3; same[14 + 30] ^= 0xff;   // TTL and a payload byte
    CHECK(hash(same) == h);
    auto other_port = f;
    other_port[14 + 21] = 0x41;                // source port 40001
    CHECK(hash(other_port) != h);
    auto other_addr = f;
    other_addr[14 + 15] = 9;                   // another source address
    CHECK(hash(other_addr) != h);
    auto tcp = f;
    tcp[14 + 9] = 6;                           // same ports, TCP
    CHECK(hash(tcp) != h);
    // A non-first fragment carries no ports: it hashes as the addresses and protocol alone,
    // whatever its payload bytes say.
    auto frag1 = f, frag2 = other_port;
    frag1[14 + 7] = 0x10; frag2[14 + 7] = 0x10;   // fragment offset 16
    CHECK(hash(frag1) == hash(frag2));
    std::vector<std::uint8_t> arp(42, 0);
    arp[12] = 0x08; arp[13] = 0x06;
    CHECK(hash(arp) == 0);
    // Over 10^4 source ports, the flow slots (4096) are filled evenly: no slot holds more
    // than 4x its share (a weak hash folds whole port ranges into a few slots).
    std::vector<int> slot(4096, 0);
    for (int port = 0; port < 10000; ++port) {
        auto x = f;
        x[14 + 20] = static_cast<std::uint8_t>(port >> 8); x[14 + 21] = static_cast<std::uint8_t>(port);
        ++slot[hash(x) & 4095];
    }
    CHECK(*std::max_element(slot.begin(), slot.end()) <= 4 * 10000 / 4096 + 2);
}
