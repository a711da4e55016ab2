// The preflight checks on synthetic facts: each check's ok, n/a, warning and blocking
// outcome, that every warning and block carries a fix, and the parsers the gathering side
// relies on (cpu lists, the kernel command line, /proc task stat lines).
#include <catch2/catch.hpp>

#include <algorithm>

#include "preflight.hpp"

using namespace netchaos::fwd;
using namespace netchaos::fwd::preflight;
using namespace std::chrono_literals;

namespace {

const Finding& find(const std::vector<Finding>& fs, const std::string& check) {
    const auto it = std::find_if(fs.begin(), fs.end(), [&](const Finding& f) { return f.check == check; });
    if (it == fs.end()) FAIL("no finding " << check);
    return *it;
}
bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TscFacts good_tsc() {
    TscFacts t;
    t.cpuid_known = t.invariant = true;
    t.hz_first = 2.9e9;
    t.hz_second = 2.9e9 * (1 + 3e-6);
    t.window_ms = 100;
    t.nominal_hz = 2.9e9 * 1.0019;
    return t;
}

PortFacts nic(std::uint16_t id) {
    PortFacts p;
    p.port = id;
    p.name = "0000:3b:00." + std::to_string(id);
    p.driver = "net_ixgbe";
    p.physical = true;
    p.link_known = p.link_up = true;
    p.speed_mbps = 10000;
    p.full_duplex = true;
    p.autoneg = true;
    p.mtu = 1500;
    p.promiscuous = true;
    p.numa = 0;
    return p;
}

// What net_null reports: a fixed 10 Gb/s link that is always up, on no bus and no node.
PortFacts null_port(std::uint16_t id) {
    PortFacts p = nic(id);
    p.name = "net_null" + std::to_string(id);
    p.driver = "net_null";
    p.physical = p.autoneg = false;
    p.numa = -1;
    return p;
}

Facts bench() {
    Facts f;
    f.tsc = good_tsc();
    f.memory.sizes = {{2048, 1024, 1000}};
    f.host.numa_nodes = 2;
    f.host.isolated = "2-3\n";
    f.host.nohz_full = "2-3\n";
    f.lcore = {1, 2, 0};
    f.ports = {nic(0), nic(1)};
    PoolFacts p;
    p.rate_hint_pps = 200000;
    p.max_delay = 10ms;
    p.per_mbuf_bytes = 2500;
    p.plan = plan_pool(p.rate_hint_pps, p.max_delay, 0, p.per_mbuf_bytes, 1ull << 30);
    f.pool = p;
    return f;
}

}  // namespace

TEST_CASE("a well set up NIC bench passes; every warning and block has a one-line fix") {
    auto fs = check(bench());
    CHECK(!blocks(fs));
    for (const auto& f : fs) {
        INFO(f.check << ": " << f.what);
        if (f.level == Level::warn || f.level == Level::block) {
            CHECK(!f.fix.empty());
            CHECK(f.fix.find('\n') == std::string::npos);
        }
        CHECK(f.what.find('\n') == std::string::npos);
    }
    CHECK(find(fs, "tsc.invariant").level == Level::ok);
    CHECK(find(fs, "tsc.stable").level == Level::ok);
    CHECK(find(fs, "hugepages").level == Level::ok);
    CHECK(find(fs, "port0.link").level == Level::ok);
    CHECK(has(find(fs, "port0.link").what, "10000 Mb/s, full duplex"));
    CHECK(find(fs, "port1.mtu").level == Level::ok);
    CHECK(find(fs, "port0.numa").level == Level::ok);
    CHECK(find(fs, "lcore.isolated").level == Level::ok);
    CHECK(find(fs, "lcore.busy").level == Level::ok);
    CHECK(find(fs, "pool").level == Level::ok);
    // 10 ms at 14.88 Mpps is 148809 mbufs; the plan (200 kpps) has 32768.
    CHECK(find(fs, "pool.line_rate").level == Level::warn);
    CHECK(has(find(fs, "pool.line_rate").what, "14.88 Mpps"));
    CHECK(find(fs, "port0.rx_clock").level == Level::na);
    const std::string text = render(fs);
    CHECK(has(text, "  ok    tsc.invariant"));
    CHECK(has(text, "        fix: --rate-hint 14880952"));
    CHECK(has(text, "0 blocking"));
}

TEST_CASE("TSC: not invariant blocks on bare metal; in a guest it warns and the measured stability decides") {
    auto t = good_tsc();
    t.invariant = false;
    auto f = find(check_tsc(t), "tsc.invariant");
    CHECK(f.level == Level::block);
    CHECK(has(f.fix, "grep nonstop_tsc"));
    t.hypervisor = true;
    f = find(check_tsc(t), "tsc.invariant");
    CHECK(f.level == Level::warn);
    CHECK(has(f.fix, "+invtsc"));
    t.hypervisor = false;
    t.cpuid_known = false;
    CHECK(find(check_tsc(t), "tsc.invariant").level == Level::block);
}

TEST_CASE("TSC: two calibrations apart by more than 50 ppm warn, by more than 500 ppm block") {
    auto t = good_tsc();
    t.hz_second = t.hz_first * (1 + 40e-6);
    CHECK(find(check_tsc(t), "tsc.stable").level == Level::ok);
    t.hz_second = t.hz_first * (1 + 60e-6);
    CHECK(find(check_tsc(t), "tsc.stable").level == Level::warn);
    t.hz_second = t.hz_first * (1 - 600e-6);
    const auto f = find(check_tsc(t), "tsc.stable");
    CHECK(f.level == Level::block);
    CHECK(has(f.what, "600.2 ppm apart"));
    CHECK(has(f.what, "60.0 us per 100 ms"));
    t.hz_second = 0;
    CHECK(find(check_tsc(t), "tsc.stable").level == Level::block);
    CHECK(has(find(check_tsc(good_tsc()), "tsc.stable").what, "rte_get_tsc_hz is +0.190% off"));
}

TEST_CASE("hugepages: none without --no-huge blocks; --no-huge is fine on vdevs, a warning with a NIC") {
    MemoryFacts m;
    m.sizes = {{2048, 0, 0}, {1048576, 0, 0}};
    auto f = find(check_memory(m, {null_port(0)}), "hugepages");
    CHECK(f.level == Level::block);
    CHECK(has(f.fix, "nr_hugepages"));
    m.no_huge = true;
    CHECK(find(check_memory(m, {null_port(0), null_port(1)}), "hugepages").level == Level::ok);
    CHECK(find(check_memory(m, {nic(0), null_port(1)}), "hugepages").level == Level::warn);
    m.no_huge = false;
    m.sizes = {{2048, 512, 100}, {1048576, 2, 2}};
    f = find(check_memory(m, {nic(0)}), "hugepages");
    CHECK(f.level == Level::ok);
    CHECK(has(f.what, "3072 MB reserved, 2248 MB free"));
}

TEST_CASE("port link: down blocks on a NIC; a vdev's link is n/a and says why") {
    auto p = nic(0);
    p.link_up = false;
    CHECK(find(check_port(p, 1518), "port0.link").level == Level::block);
    p = nic(0);
    p.full_duplex = false;
    CHECK(find(check_port(p, 1518), "port0.link").level == Level::warn);
    const auto f = find(check_port(null_port(1), 1518), "port1.link");
    CHECK(f.level == Level::na);
    CHECK(has(f.what, "net_null has no physical link"));
    auto v = null_port(1);
    v.link_up = false;
    CHECK(find(check_port(v, 1518), "port1.link").level == Level::warn);
    v.link_known = false;
    CHECK(find(check_port(v, 1518), "port1.link").level == Level::warn);
}

TEST_CASE("port MTU against --max-frame: either mismatch warns with the flag that fixes it") {
    auto p = nic(0);
    CHECK(find(check_port(p, 1518), "port0.mtu").level == Level::ok);
    auto f = find(check_port(p, 9018), "port0.mtu");
    CHECK(f.level == Level::warn);
    CHECK(has(f.fix, "--max-frame 1518, or raise the port's MTU to 9000"));
    p.mtu = 9000;
    f = find(check_port(p, 1518), "port0.mtu");
    CHECK(f.level == Level::warn);
    CHECK(has(f.fix, "--max-frame 9018"));
    p.mtu = 0;
    CHECK(find(check_port(p, 1518), "port0.mtu").level == Level::na);
}

TEST_CASE("a vdev over a kernel interface: that interface's state and MTU are checked") {
    auto p = null_port(0);
    p.driver = "net_af_xdp";
    p.kernel_if = "veth0";
    p.kernel_if_up = true;
    p.kernel_mtu = 9000;   // the vdev itself reports 1500
    auto fs = check_port(p, 1518);
    CHECK(find(fs, "port0.link").level == Level::na);
    CHECK(has(find(fs, "port0.link").what, "its interface veth0 is up"));
    CHECK(find(fs, "port0.mtu").level == Level::warn);
    CHECK(has(find(fs, "port0.mtu").what, "veth0 MTU 9000 takes frames up to 9018 B, above --max-frame 1518"));
    CHECK(find(check_port(p, 9018), "port0.mtu").level == Level::ok);
    CHECK(has(find(check_port(p, 9100), "port0.mtu").fix, "--max-frame 9018, or ip link set veth0 mtu 9082"));
    p.kernel_if_up = false;
    fs = check_port(p, 9018);
    CHECK(find(fs, "port0.link").level == Level::warn);
    CHECK(find(fs, "port0.link").fix == "ip link set veth0 up, and its peer");
}

TEST_CASE("promiscuous off blocks") {
    auto p = nic(1);
    p.promiscuous = false;
    const auto f = find(check_port(p, 1518), "port1.promiscuous");
    CHECK(f.level == Level::block);
    CHECK(has(f.fix, "trust on"));
    CHECK(blocks(check_port(p, 1518)));
    CHECK(blocks_start(check_port(p, 1518)));
}

TEST_CASE("a start refuses only on a blocking port finding; --preflight on any block") {
    auto t = good_tsc();
    t.hz_second = t.hz_first * 1.001;
    const auto tsc = check_tsc(t);
    CHECK(blocks(tsc));
    CHECK(!blocks_start(tsc));
    auto p = nic(0);
    p.link_up = false;
    CHECK(blocks_start(check_port(p, 1518)));
    CHECK(!blocks_start(check_port(nic(0), 1518)));
}

TEST_CASE("NUMA: apart warns, single node and vdevs are n/a") {
    HostFacts h;
    h.numa_nodes = 2;
    LcoreFacts l{1, 20, 1};
    auto p = nic(0);
    auto f = find(check_numa(h, l, {p}), "port0.numa");
    CHECK(f.level == Level::warn);
    CHECK(has(f.fix, "node 0"));
    l.numa = 0;
    CHECK(find(check_numa(h, l, {p}), "port0.numa").level == Level::ok);
    CHECK(find(check_numa(h, l, {null_port(0)}), "port0.numa").level == Level::na);
    p.numa = -1;
    CHECK(find(check_numa(h, l, {p}), "port0.numa").level == Level::na);
    h.numa_nodes = 1;
    CHECK(find(check_numa(h, l, {p}), "numa").level == Level::na);
}

TEST_CASE("isolation: from sysfs or the command line; busy threads listed") {
    HostFacts h;
    LcoreFacts l{0, 0, 0};
    auto f = find(check_isolation(h, l, {}), "lcore.isolated");
    CHECK(f.level == Level::warn);
    CHECK(has(f.fix, "isolcpus=0 nohz_full=0 rcu_nocbs=0"));
    CHECK(has(f.fix, "other than 0"));
    l = {1, 3, 0};
    h.cmdline = "ro quiet isolcpus=domain,managed_irq,2-3 nohz_full=3";
    CHECK(find(check_isolation(h, l, {}), "lcore.isolated").level == Level::ok);
    h.cmdline = "isolcpus=3";
    CHECK(find(check_isolation(h, l, {}), "lcore.isolated").level == Level::warn);
    h.nohz_full = "1,3";
    CHECK(find(check_isolation(h, l, {}), "lcore.isolated").level == Level::ok);
    std::vector<BusyThread> busy = {{10, 11, "cc1plus", 0.8}, {20, 20, "ninja", 0.1}, {30, 31, "a", 0.06}, {40, 40, "b", 0.05}};
    f = find(check_isolation(h, l, busy), "lcore.busy");
    CHECK(f.level == Level::warn);
    CHECK(has(f.what, "(101% of it): cc1plus (pid 10 tid 11) 80%, ninja (pid 20 tid 20) 10%, a (pid 30 tid 31) 6% and 1 more"));
    CHECK(find(check_isolation(h, l, {}), "lcore.busy").level == Level::ok);
}

TEST_CASE("pool: capped by memory warns with the memory to add; line rate n/a on vdevs") {
    PoolFacts p;
    p.rate_hint_pps = 1e6;
    p.max_delay = 100ms;
    p.per_mbuf_bytes = 2048;
    p.plan = plan_pool(p.rate_hint_pps, p.max_delay, 0, p.per_mbuf_bytes, 100ull << 20);   // 51200 fit, 141384 wanted
    auto fs = check_pool(p, {null_port(0), null_port(1)});
    CHECK(find(fs, "pool").level == Level::warn);
    CHECK(has(find(fs, "pool").fix, "give EAL 176 MB more"));
    CHECK(find(fs, "pool.line_rate").level == Level::na);
    CHECK(has(find(fs, "pool.line_rate").what, "net_null has no link speed"));
    p.plan = plan_pool(p.rate_hint_pps, p.max_delay, 0, p.per_mbuf_bytes, 1ull << 30);
    auto slow = nic(0);
    slow.speed_mbps = 1000;   // 1.488 Mpps x 100 ms = 148809 > 141384
    fs = check_pool(p, {nic(0), slow});
    CHECK(find(fs, "pool").level == Level::ok);
    CHECK(find(fs, "pool.line_rate").level == Level::warn);
    CHECK(has(find(fs, "pool.line_rate").what, "1000 Mb/s"));
    p.max_delay = 60ms;   // 89285 needed at line rate, 91384 planned
    p.plan = plan_pool(p.rate_hint_pps, p.max_delay, 0, p.per_mbuf_bytes, 1ull << 30);
    CHECK(find(check_pool(p, {slow}), "pool.line_rate").level == Level::ok);
    p.max_delay = 0ns;
    CHECK(find(check_pool(p, {slow}), "pool.line_rate").level == Level::na);
}

TEST_CASE("rx clock: hardware timestamps only with a readable NIC clock, otherwise the TSC fallback said so") {
    auto p = nic(0);
    CHECK(has(find(check_clock({p}), "port0.rx_clock").what, "(fallback)"));
    p.rx_timestamp = true;
    CHECK(has(find(check_clock({p}), "port0.rx_clock").what, "no readable clock"));
    p.nic_clock = true;
    CHECK(find(check_clock({p}), "port0.rx_clock").level == Level::ok);
}

TEST_CASE("cpu lists and the kernel command line") {
    CHECK(parse_cpu_list("0-2,5,7-8\n") == std::vector<unsigned>{0, 1, 2, 5, 7, 8});
    CHECK(parse_cpu_list("").empty());
    CHECK(parse_cpu_list("\n").empty());
    CHECK(parse_cpu_list("3,x") == std::vector<unsigned>{3});
    CHECK(parse_cpu_list("5-2").empty());
    CHECK(cmdline_cpus("ro isolcpus=2-3 quiet", "isolcpus") == "2-3");
    CHECK(cmdline_cpus("isolcpus=nohz,domain,1,3-4", "isolcpus") == "1,3-4");
    CHECK(cmdline_cpus("isolcpus=1 isolcpus=2", "isolcpus") == "2");
    CHECK(cmdline_cpus("xisolcpus=1 nohz_full=1", "isolcpus").empty());
    CHECK(cmdline_cpus("quiet -- isolcpus=1", "isolcpus").empty());
}

TEST_CASE("/proc task stat lines, and which threads were busy on the cpu") {
    const std::string line =
        "1234 (cc1 plus (x)) R 1 2 3 4 5 6 7 8 9 10 150 50 0 0 20 0 1 0 100 200 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0";
    auto t = parse_task_stat(line);
    REQUIRE(t);
    CHECK(t->comm == "cc1 plus (x)");
    CHECK(t->state == 'R');
    CHECK(t->cpu_ticks == 200);
    CHECK(t->processor == 1);
    CHECK(!parse_task_stat("1234 (short) R 1 2"));
    CHECK(!parse_task_stat("garbage"));

    auto ts = [](int cpu, std::uint64_t ticks, std::string comm = "x") { TaskStat s; s.comm = comm; s.processor = cpu; s.cpu_ticks = ticks; return s; };
    std::vector<TaskSample> before = {{10, 10, ts(1, 100)}, {10, 11, ts(1, 100)}, {20, 20, ts(0, 0)}, {99, 99, ts(1, 0)}, {30, 30, ts(1, 50)}};
    std::vector<TaskSample> after = {{10, 10, ts(1, 102, "hog")}, {10, 11, ts(1, 150, "hog2")}, {20, 20, ts(0, 40)},
                                     {99, 99, ts(1, 100)}, {30, 30, ts(1, 50)}, {40, 40, ts(1, 100)}};
    // window 0.5 s at 100 ticks/s: tid 10 used 4%, tid 11 100%, tid 20 ran on cpu 0,
    // pid 99 is ourselves, tid 30 idle, tid 40 was born during the window.
    const auto b = busy_on(before, after, 0.5, 100, 1, 99);
    REQUIRE(b.size() == 1);
    CHECK(b[0].tid == 11);
    CHECK(b[0].comm == "hog2");
    CHECK(b[0].share == Approx(1.0));
    CHECK(busy_on(before, after, 0, 100, 1, 99).empty());
}
