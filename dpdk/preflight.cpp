#include "preflight.hpp"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <sstream>

namespace netchaos::fwd::preflight {
namespace {

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    std::vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

Finding ok(std::string check, std::string what) { return {std::move(check), Level::ok, std::move(what), ""}; }
Finding na(std::string check, std::string what) { return {std::move(check), Level::na, std::move(what), ""}; }
Finding warn(std::string check, std::string what, std::string fix) {
    return {std::move(check), Level::warn, std::move(what), std::move(fix)};
}
Finding block(std::string check, std::string what, std::string fix) {
    return {std::move(check), Level::block, std::move(what), std::move(fix)};
}

std::string port_id(const PortFacts& p) { return "port" + std::to_string(p.port); }
std::string port_label(const PortFacts& p) { return fmt("port %u (%s, %s)", p.port, p.name.c_str(), p.driver.c_str()); }

bool has_cpu(const std::vector<unsigned>& v, unsigned c) { return std::find(v.begin(), v.end(), c) != v.end(); }

double ms(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

const char* level_name(Level l) {
    switch (l) {
        case Level::ok: return "ok";
        case Level::na: return "n/a";
        case Level::warn: return "WARN";
        case Level::block: return "BLOCK";
    }
    return "?";
}

// Invariant TSC: without it the TSC changes rate with P-states and stops in deep C-states,
// and every delay the wheel schedules in TSC ticks is off by that much. Stability: the two
// calibrations are back to back against CLOCK_MONOTONIC, so their rates differ only by
// sampling error (a preempted read, ~1 us in 100 ms = 10 ppm), NTP slewing of MONOTONIC
// (at most 500 ppm, usually far less) and a TSC that really wanders. 50 ppm is 5 us per
// 100 ms of delay, below what the forwarder delivers on a VM; 500 ppm (50 us per 100 ms) is
// an error a bench operator would not accept unknowingly.
std::vector<Finding> check_tsc(const TscFacts& t) {
    std::vector<Finding> out;
    const std::string vm = t.hypervisor ? "; under a hypervisor: as steady as the host's TSC and its migration policy" : "";
    if (!t.cpuid_known)
        out.push_back(block("tsc.invariant", "CPUID has no leaf 0x80000007: cannot tell whether the TSC is invariant",
                            "run on an x86 CPU that reports invariant TSC (grep nonstop_tsc /proc/cpuinfo)"));
    // In a guest the bit is the hypervisor's CPU model, not the TSC's behaviour (many hosts
    // with a steady TSC do not pass it on), so there the measured stability decides and a
    // missing bit warns; on bare metal a TSC without it follows frequency scaling: it blocks.
    else if (!t.invariant && t.hypervisor)
        out.push_back(warn("tsc.invariant", "the guest's CPUID does not report an invariant TSC (0x80000007 EDX[8]): tsc.stable below is what was measured",
                           "expose it to the guest (qemu/KVM: -cpu host,+invtsc; pin the VM, no live migration)"));
    else if (!t.invariant)
        out.push_back(block("tsc.invariant", "the TSC is not invariant (CPUID 0x80000007 EDX[8] clear): its rate follows frequency scaling, so delays drift",
                            "use a CPU with an invariant TSC (grep nonstop_tsc /proc/cpuinfo)"));
    else
        out.push_back(ok("tsc.invariant", "invariant TSC (CPUID 0x80000007 EDX[8])" + vm));

    if (t.hz_first <= 0 || t.hz_second <= 0) {
        out.push_back(block("tsc.stable", "the TSC was not calibrated", "see the error above; the calibration needs no privilege"));
        return out;
    }
    const double mean = (t.hz_first + t.hz_second) / 2;
    const double ppm = std::fabs(t.hz_first - t.hz_second) / mean * 1e6;
    const std::string what = fmt("two %.0f ms calibrations against CLOCK_MONOTONIC: %.6f and %.6f GHz, %.1f ppm apart "
                                 "(%.1f us per 100 ms of delay)",
                                 t.window_ms, t.hz_first / 1e9, t.hz_second / 1e9, ppm, ppm * 0.1);
    const std::string nominal = t.nominal_hz > 0 ? fmt("; rte_get_tsc_hz is %+.3f%% off, so the measured rate is used",
                                                       (t.nominal_hz / mean - 1) * 100)
                                                 : "";
    const std::string fix = "run again on an idle machine; dmesg | grep -i tsc (\"unstable\" means use another host); "
                            "stop NTP stepping the clock (chronyc tracking)";
    if (ppm > tsc_block_ppm) out.push_back(block("tsc.stable", what + nominal, fix));
    else if (ppm > tsc_warn_ppm) out.push_back(warn("tsc.stable", what + nominal, fix));
    else out.push_back(ok("tsc.stable", what + nominal));
    return out;
}

std::vector<Finding> check_memory(const MemoryFacts& m, const std::vector<PortFacts>& ports) {
    const bool physical = std::any_of(ports.begin(), ports.end(), [](const PortFacts& p) { return p.physical; });
    std::uint64_t total_kb = 0, free_kb = 0;
    std::string sizes;
    for (const auto& s : m.sizes) {
        total_kb += s.kb * s.total;
        free_kb += s.kb * s.free;
        if (s.total) sizes += fmt("%s%llu x %llu kB (%llu free)", sizes.empty() ? "" : ", ", static_cast<unsigned long long>(s.total),
                                  static_cast<unsigned long long>(s.kb), static_cast<unsigned long long>(s.free));
    }
    const std::string reserve = "echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages "
                                "(docs/forwarder.md sizes it for rate x delay)";
    if (m.no_huge) {
        if (physical)
            return {warn("hugepages", "--no-huge with a PCI port: the pool sits on 4 KiB pages (TLB misses cost rate) and the NIC DMAs into them",
                         "drop --no-huge and reserve hugepages: " + reserve)};
        return {ok("hugepages", "--no-huge chosen, and every port is virtual: 4 KiB pages are fine here")};
    }
    if (total_kb == 0)
        return {block("hugepages", "no hugepages reserved and no --no-huge: EAL has no memory for the pool", reserve + "; or --no-huge for a veth bench")};
    return {ok("hugepages", fmt("%s = %llu MB reserved, %llu MB free", sizes.c_str(), static_cast<unsigned long long>(total_kb / 1024),
                                static_cast<unsigned long long>(free_kb / 1024)))};
}

std::vector<Finding> check_port(const PortFacts& p, std::size_t max_frame) {
    std::vector<Finding> out;
    const std::string id = port_id(p);
    out.push_back(ok(id + ".driver", port_label(p) + (p.physical ? ", PCI" : ", virtual device")));

    // Link: a vdev's link is whatever its driver reports (net_null: always up at 10 Gb/s).
    if (!p.link_known)
        out.push_back(warn(id + ".link", port_label(p) + ": the driver does not report link status", "check the link on the peer (ethtool)"));
    else if (!p.physical && !p.kernel_if.empty())
        out.push_back(p.kernel_if_up ? na(id + ".link", fmt("%s has no physical link: speed and duplex do not apply; its interface %s is up",
                                                           p.driver.c_str(), p.kernel_if.c_str()))
                                     : warn(id + ".link", fmt("%s's interface %s is down (or has no carrier): nothing arrives",
                                                              p.driver.c_str(), p.kernel_if.c_str()),
                                            fmt("ip link set %s up, and its peer", p.kernel_if.c_str())));
    else if (!p.physical)
        out.push_back(p.link_up ? na(id + ".link", fmt("%s has no physical link: speed and duplex do not apply (it reports %u Mb/s, up)",
                                                      p.driver.c_str(), p.speed_mbps))
                                : warn(id + ".link", fmt("%s reports its link down", p.driver.c_str()),
                                       "bring the interface under the vdev up (ip link set IF up)"));
    else if (!p.link_up)
        out.push_back(block(id + ".link", port_label(p) + ": link down",
                            "check cable, transceiver and the peer port (ethtool PEER-IF); a link coming up later: --ignore-preflight"));
    else if (!p.full_duplex)
        out.push_back(warn(id + ".link", fmt("link up, %u Mb/s, HALF duplex: collisions add their own jitter", p.speed_mbps),
                           "set both ends to autonegotiate, or full duplex"));
    else
        out.push_back(ok(id + ".link", fmt("link up, %u Mb/s, full duplex%s", p.speed_mbps, p.autoneg ? ", autoneg" : "")));

    // Frame size: the port takes MTU + 18 (Ethernet header and a VLAN tag or the CRC); the
    // forwarder calls anything above --max-frame oversize. They should agree: a larger
    // --max-frame counts nothing the NIC already dropped (those show up as port ierrors), a
    // smaller one calls ordinary frames oversize (and drops them with --malformed drop).
    const std::uint16_t mtu = p.kernel_mtu ? p.kernel_mtu : p.mtu;
    const std::string whose = p.kernel_mtu ? p.kernel_if + " MTU" : "MTU";
    const std::string raise = p.kernel_mtu ? "ip link set " + p.kernel_if + " mtu" : "raise the port's MTU to";
    if (mtu == 0) {
        out.push_back(na(id + ".mtu", p.driver + " does not report an MTU: --max-frame cannot be checked against it"));
    } else {
        const std::size_t takes = std::size_t{mtu} + 18;
        if (takes < max_frame)
            out.push_back(warn(id + ".mtu", fmt("%s %u takes frames up to %zu B, below --max-frame %zu: frames in between are dropped by the port, "
                                                "not counted as oversize", whose.c_str(), mtu, takes, max_frame),
                               fmt("--max-frame %zu, or %s %zu", takes, raise.c_str(), max_frame - 18)));
        else if (takes > max_frame)
            out.push_back(warn(id + ".mtu", fmt("%s %u takes frames up to %zu B, above --max-frame %zu: ordinary frames count as oversize",
                                                whose.c_str(), mtu, takes, max_frame),
                               fmt("--max-frame %zu", takes)));
        else
            out.push_back(ok(id + ".mtu", fmt("%s %u = --max-frame %zu - 18", whose.c_str(), mtu, max_frame)));
    }

    if (p.promiscuous)
        out.push_back(ok(id + ".promiscuous", "promiscuous: every frame on the wire reaches the forwarder"));
    else
        out.push_back(block(id + ".promiscuous", "promiscuous mode is off (the driver refused it): frames not addressed to this port's MAC are dropped",
                            "allow it (an SR-IOV VF: ip link set PF vf N trust on), or point the peers' next hop at the port MACs"));
    return out;
}

std::vector<Finding> check_numa(const HostFacts& h, const LcoreFacts& l, const std::vector<PortFacts>& ports) {
    if (h.numa_nodes <= 1) return {na("numa", "one NUMA node: ports and lcore cannot be apart")};
    std::vector<Finding> out;
    for (const auto& p : ports) {
        const std::string id = port_id(p) + ".numa";
        if (!p.physical) out.push_back(na(id, p.driver + " is a virtual device: no NUMA node of its own"));
        else if (p.numa < 0 || l.numa < 0) out.push_back(na(id, "the platform reports no NUMA node for the port or the lcore"));
        else if (p.numa != l.numa)
            out.push_back(warn(id, fmt("%s is on node %d, lcore %u (cpu %u) on node %d: every packet crosses the interconnect",
                                       port_label(p).c_str(), p.numa, l.lcore, l.cpu, l.numa),
                               fmt("-l with a cpu of node %d (lscpu -e shows them), and hugepages on that node", p.numa)));
        else out.push_back(ok(id, fmt("port %u and lcore %u (cpu %u) share node %d", p.port, l.lcore, l.cpu, p.numa)));
    }
    return out;
}

std::vector<Finding> check_isolation(const HostFacts& h, const LcoreFacts& l, const std::vector<BusyThread>& busy) {
    std::vector<Finding> out;
    auto isolated = parse_cpu_list(h.isolated);
    for (unsigned c : parse_cpu_list(cmdline_cpus(h.cmdline, "isolcpus"))) if (!has_cpu(isolated, c)) isolated.push_back(c);
    auto nohz = parse_cpu_list(h.nohz_full);
    for (unsigned c : parse_cpu_list(cmdline_cpus(h.cmdline, "nohz_full"))) if (!has_cpu(nohz, c)) nohz.push_back(c);
    const bool iso = has_cpu(isolated, l.cpu), tickless = has_cpu(nohz, l.cpu);
    const std::string boot = fmt("boot with isolcpus=%u nohz_full=%u rcu_nocbs=%u and run with -l %u", l.cpu, l.cpu, l.cpu, l.cpu);
    if (iso && tickless)
        out.push_back(ok("lcore.isolated", fmt("lcore %u runs on cpu %u: isolated (isolcpus) and tickless (nohz_full)", l.lcore, l.cpu)));
    else if (iso)
        out.push_back(warn("lcore.isolated", fmt("cpu %u is isolated but not nohz_full: the scheduler tick still interrupts it", l.cpu),
                           fmt("add nohz_full=%u rcu_nocbs=%u to the kernel command line", l.cpu, l.cpu)));
    else
        out.push_back(warn("lcore.isolated", fmt("lcore %u runs on cpu %u, which is not isolated: other work is scheduled on it, "
                                                 "each preemption a late release", l.lcore, l.cpu),
                           l.cpu == 0 ? boot + " (a cpu other than 0, which keeps housekeeping)" : boot));

    if (busy.empty()) {
        out.push_back(ok("lcore.busy", fmt("no other thread used more than %.0f%% of cpu %u during the calibration", busy_share * 100, l.cpu)));
    } else {
        std::string list;
        double total = 0;
        for (std::size_t i = 0; i < busy.size(); ++i) {
            total += busy[i].share;
            if (i < 3) list += fmt("%s%s (pid %d tid %d) %.0f%%", i ? ", " : "", busy[i].comm.c_str(), busy[i].pid, busy[i].tid, busy[i].share * 100);
        }
        if (busy.size() > 3) list += fmt(" and %zu more", busy.size() - 3);
        out.push_back(warn("lcore.busy", fmt("other threads ran on cpu %u during the calibration (%.0f%% of it): %s", l.cpu, total * 100, list.c_str()),
                           fmt("move them (taskset -apc OTHER-CPUS PID) or pick an idle, isolated cpu with -l")));
    }
    return out;
}

std::vector<Finding> check_pool(const PoolFacts& p, const std::vector<PortFacts>& ports) {
    std::vector<Finding> out;
    const double need_mb = static_cast<double>(p.plan.wanted * p.per_mbuf_bytes) / (1 << 20);
    const std::string basis = fmt("%.0f pps (--rate-hint) x %.3f ms max delay", p.rate_hint_pps, ms(p.max_delay));
    if (p.plan.capped)
        out.push_back(warn("pool", fmt("the pool holds %llu mbufs, %s needs %llu: packets beyond it are dropped",
                                       static_cast<unsigned long long>(p.plan.mbufs), basis.c_str(),
                                       static_cast<unsigned long long>(p.plan.wanted)),
                           fmt("give EAL %.0f MB more (-m, or more hugepages), or lower --rate-hint", need_mb - static_cast<double>(p.plan.mbufs * p.per_mbuf_bytes) / (1 << 20))));
    else
        out.push_back(ok("pool", fmt("%llu mbufs (%.0f MB) cover %s", static_cast<unsigned long long>(p.plan.mbufs),
                                     static_cast<double>(p.plan.mbufs * p.per_mbuf_bytes) / (1 << 20), basis.c_str())));

    // At line rate: the smallest frames (64 B + 20 B preamble and gap on the wire) of the
    // slowest physical port, held for the max delay.
    std::uint32_t speed = 0;
    std::string virt;
    for (const auto& pt : ports) {
        if (pt.physical && pt.link_up && pt.speed_mbps && (!speed || pt.speed_mbps < speed)) speed = pt.speed_mbps;
        if (!pt.physical && virt.empty()) virt = pt.driver;
    }
    if (!speed) {
        out.push_back(na("pool.line_rate", (virt.empty() ? std::string("no port reports a link speed") : virt + " has no link speed") +
                                               ": the pool is sized for --rate-hint alone"));
    } else if (p.max_delay.count() == 0) {
        out.push_back(na("pool.line_rate", "no profile at start (max delay 0): a profile loaded later uses this same pool"));
    } else {
        const double line_pps = speed * 1e6 / (84 * 8);
        const auto need = static_cast<std::uint64_t>(line_pps * std::chrono::duration<double>(p.max_delay).count());
        const std::string what = fmt("at line rate (%u Mb/s of 64-byte frames, %.2f Mpps) %.3f ms of delay holds %llu mbufs; the pool has %llu",
                                     speed, line_pps / 1e6, ms(p.max_delay), static_cast<unsigned long long>(need),
                                     static_cast<unsigned long long>(p.plan.mbufs));
        if (need > p.plan.mbufs)
            out.push_back(warn("pool.line_rate", what + fmt(": a line-rate burst longer than %.3f ms runs it dry",
                                                            static_cast<double>(p.plan.mbufs) / line_pps * 1e3),
                               fmt("--rate-hint %.0f and memory for %.0f MB of mbufs, if the bench can send that", line_pps,
                                   static_cast<double>(need * p.per_mbuf_bytes) / (1 << 20))));
        else
            out.push_back(ok("pool.line_rate", what));
    }
    return out;
}

std::vector<Finding> check_clock(const std::vector<PortFacts>& ports) {
    std::vector<Finding> out;
    for (const auto& p : ports) {
        const std::string id = port_id(p) + ".rx_clock";
        if (p.rx_timestamp && p.nic_clock)
            out.push_back(ok(id, fmt("%s stamps rx in hardware: rx times are its clock mapped to the TSC", p.driver.c_str())));
        else if (p.rx_timestamp)
            out.push_back(na(id, p.driver + " offers rx timestamps but no readable clock (rte_eth_read_clock) to map them: "
                                            "rx times are the TSC at the rx burst (fallback)"));
        else
            out.push_back(na(id, p.driver + " offers no rx timestamp offload: rx times are the TSC at the rx burst (fallback)"));
    }
    return out;
}

std::vector<Finding> check(const Facts& f) {
    std::vector<Finding> out;
    auto add = [&](std::vector<Finding> v) { for (auto& x : v) out.push_back(std::move(x)); };
    add(check_tsc(f.tsc));
    add(check_memory(f.memory, f.ports));
    for (const auto& p : f.ports) add(check_port(p, f.max_frame));
    add(check_clock(f.ports));
    add(check_numa(f.host, f.lcore, f.ports));
    add(check_isolation(f.host, f.lcore, f.busy));
    if (f.pool) add(check_pool(*f.pool, f.ports));
    return out;
}

bool blocks(const std::vector<Finding>& fs) {
    return std::any_of(fs.begin(), fs.end(), [](const Finding& x) { return x.level == Level::block; });
}

bool blocks_start(const std::vector<Finding>& fs) {
    return std::any_of(fs.begin(), fs.end(), [](const Finding& x) { return x.level == Level::block && x.check.rfind("port", 0) == 0; });
}

std::string render(const std::vector<Finding>& fs) {
    std::ostringstream o;
    o << "netchaos-fwd: preflight (what each check means: docs/forwarder.md)\n";
    int n[4] = {0, 0, 0, 0};
    for (const auto& x : fs) {
        ++n[static_cast<int>(x.level)];
        o << fmt("  %-5s %-20s ", level_name(x.level), x.check.c_str()) << x.what << "\n";
        if (!x.fix.empty()) o << "        fix: " << x.fix << "\n";
    }
    o << fmt("netchaos-fwd: preflight: %d ok, %d n/a, %d warnings, %d blocking\n", n[0], n[1], n[2], n[3]);
    return o.str();
}

std::vector<unsigned> parse_cpu_list(std::string_view s) {
    std::vector<unsigned> out;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    std::size_t i = 0;
    auto num = [&](unsigned& v) {
        if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
        v = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 1'000'000) v = v * 10 + static_cast<unsigned>(s[i++] - '0');
        return true;
    };
    while (i < s.size()) {
        unsigned a = 0, b = 0;
        if (!num(a)) break;
        b = a;
        if (i < s.size() && s[i] == '-') { ++i; if (!num(b) || b < a || b - a > 65536) break; }
        for (unsigned c = a; c <= b; ++c) out.push_back(c);
        if (i < s.size() && s[i] != ',') break;
        ++i;
    }
    return out;
}

std::string cmdline_cpus(std::string_view cmdline, std::string_view key) {
    std::string_view rest = cmdline;
    std::string found;
    while (!rest.empty()) {
        const auto sp = rest.find(' ');
        std::string_view word = rest.substr(0, sp);
        rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
        if (word == "--") break;   // what follows is init's, not the kernel's
        if (word.size() > key.size() && word.substr(0, key.size()) == key && word[key.size()] == '=') {
            std::string_view v = word.substr(key.size() + 1);
            // isolcpus=nohz,domain,managed_irq,2-3: the flags come first, the list last.
            std::string_view list;
            while (!v.empty()) {
                const auto c = v.find(',');
                std::string_view item = v.substr(0, c);
                v = c == std::string_view::npos ? std::string_view{} : v.substr(c + 1);
                if (!item.empty() && item[0] >= '0' && item[0] <= '9') {
                    list = std::string_view(item.data(), static_cast<std::size_t>(word.data() + word.size() - item.data()));
                    break;
                }
            }
            found = std::string(list);   // the last occurrence wins, as in the kernel
        }
    }
    return found;
}

std::optional<TaskStat> parse_task_stat(std::string_view line) {
    // pid (comm) state ppid ... : comm may hold spaces and ')', so split at the last ')'.
    const auto open = line.find('(');
    const auto close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open || close + 2 >= line.size()) return std::nullopt;
    TaskStat t;
    t.comm = std::string(line.substr(open + 1, close - open - 1));
    std::istringstream in{std::string(line.substr(close + 2))};
    std::vector<std::string> f;   // f[0] = field 3 (state)
    for (std::string w; in >> w;) f.push_back(w);
    if (f.size() < 37) return std::nullopt;
    t.state = f[0].empty() ? '?' : f[0][0];
    try {
        t.cpu_ticks = std::stoull(f[11]) + std::stoull(f[12]);   // fields 14, 15
        t.processor = std::stoi(f[36]);                          // field 39
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return t;
}

std::vector<BusyThread> busy_on(const std::vector<TaskSample>& before, const std::vector<TaskSample>& after,
                                double window_s, long ticks_per_s, unsigned cpu, int self_pid) {
    std::vector<BusyThread> out;
    if (window_s <= 0 || ticks_per_s <= 0) return out;
    for (const auto& a : after) {
        if (a.pid == self_pid || a.stat.processor != static_cast<int>(cpu)) continue;
        const auto b = std::find_if(before.begin(), before.end(), [&](const TaskSample& x) { return x.tid == a.tid; });
        if (b == before.end() || a.stat.cpu_ticks < b->stat.cpu_ticks) continue;   // born during the window, or a reused tid
        const double share = static_cast<double>(a.stat.cpu_ticks - b->stat.cpu_ticks) / static_cast<double>(ticks_per_s) / window_s;
        if (share >= busy_share) out.push_back({a.pid, a.tid, a.stat.comm, std::min(share, 1.0)});
    }
    std::sort(out.begin(), out.end(), [](const BusyThread& x, const BusyThread& y) { return x.share > y.share; });
    return out;
}

}  // namespace netchaos::fwd::preflight
