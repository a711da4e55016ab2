#pragma once
// The forwarder's preflight: is this machine fit to hold packets for microseconds?
// Facts in (gathered by preflight_facts.cpp from CPUID, /proc, /sys and ethdev), findings out.
// Pure, no DPDK, so every check has unit tests with synthetic facts
// (tests/unit/fwd_preflight/). netchaos-fwd prints the findings at start and, with
// --preflight, exits on them (main.cpp maps blocks() to exit 4, otherwise 0).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sizing.hpp"

namespace netchaos::fwd::preflight {

// na: the check cannot apply here, and the finding says why (a virtual port has no link speed).
enum class Level { ok, na, warn, block };

struct Finding {
    std::string check;   // stable id: "tsc.invariant", "port0.link", ...
    Level level = Level::ok;
    std::string what;    // the fact, one line
    std::string fix;     // one line; empty when ok or n/a
};

struct TscFacts {
    bool cpuid_known = false;       // CPUID leaf 0x80000007 exists
    bool invariant = false;         // CPUID 0x80000007 EDX bit 8
    bool hypervisor = false;        // CPUID 1 ECX bit 31
    double hz_first = 0;            // two back-to-back calibrations against CLOCK_MONOTONIC
    double hz_second = 0;
    double window_ms = 0;           // length of each
    double nominal_hz = 0;          // rte_get_tsc_hz()
};

struct HugepageSize {
    std::uint64_t kb = 0;
    std::uint64_t total = 0;
    std::uint64_t free = 0;
};
struct MemoryFacts {
    bool no_huge = false;           // --no-huge among the EAL arguments
    std::vector<HugepageSize> sizes;
};

struct PortFacts {
    std::uint16_t port = 0;
    std::string name;               // "0000:3b:00.0", "net_null0"
    std::string driver;             // "net_ixgbe", "net_null", "net_af_xdp"
    bool physical = false;          // on the PCI bus; a vdev has no link or node of its own
    bool link_known = false;
    bool link_up = false;
    std::uint32_t speed_mbps = 0;   // 0: unknown
    bool full_duplex = true;
    bool autoneg = false;
    std::uint16_t mtu = 0;          // 0: unknown
    bool promiscuous = false;
    int numa = -1;                  // -1: not reported
    // A vdev over a kernel interface (net_af_xdp, net_af_packet: dev_info.if_index): that
    // interface's state and MTU are what frames really meet, not the vdev's fixed report.
    std::string kernel_if;          // "" when none
    bool kernel_if_up = false;      // IFF_UP and IFF_RUNNING
    std::uint16_t kernel_mtu = 0;
    bool rx_timestamp = false;      // RTE_ETH_RX_OFFLOAD_TIMESTAMP offered
    bool nic_clock = false;         // rte_eth_read_clock works (so NIC time maps to TSC)
};

struct LcoreFacts {
    unsigned lcore = 0;
    unsigned cpu = 0;
    int numa = -1;
};

// A thread seen running on the forwarding cpu during the calibration window.
struct BusyThread {
    int pid = 0;
    int tid = 0;
    std::string comm;
    double share = 0;               // of one cpu over the window, 0..1
};

struct HostFacts {
    int numa_nodes = 1;
    std::string isolated;           // /sys/devices/system/cpu/isolated ("1-3")
    std::string nohz_full;          // /sys/devices/system/cpu/nohz_full
    std::string cmdline;            // /proc/cmdline
};

struct PoolFacts {
    PoolPlan plan;
    double rate_hint_pps = 0;
    std::chrono::nanoseconds max_delay{0};
    std::uint64_t per_mbuf_bytes = 0;
};

struct Facts {
    TscFacts tsc;
    MemoryFacts memory;
    HostFacts host;
    LcoreFacts lcore;
    std::vector<BusyThread> busy;   // already filtered to the lcore's cpu, others' threads
    std::vector<PortFacts> ports;
    std::optional<PoolFacts> pool;  // none when the pool was never planned (EAL failed)
    std::size_t max_frame = 1518;
};

// Thresholds, with the reasoning in preflight.cpp.
constexpr double tsc_warn_ppm = 50;
constexpr double tsc_block_ppm = 500;
constexpr double busy_share = 0.05;

std::vector<Finding> check(const Facts& f);
std::vector<Finding> check_tsc(const TscFacts& t);
std::vector<Finding> check_memory(const MemoryFacts& m, const std::vector<PortFacts>& ports);
std::vector<Finding> check_port(const PortFacts& p, std::size_t max_frame);
std::vector<Finding> check_numa(const HostFacts& h, const LcoreFacts& l, const std::vector<PortFacts>& ports);
std::vector<Finding> check_isolation(const HostFacts& h, const LcoreFacts& l, const std::vector<BusyThread>& busy);
std::vector<Finding> check_pool(const PoolFacts& p, const std::vector<PortFacts>& ports);
std::vector<Finding> check_clock(const std::vector<PortFacts>& ports);

bool blocks(const std::vector<Finding>& fs);     // anything at Level::block (main.cpp exits 4)
// What stops a normal start (not --preflight): a blocking port finding (a link down, a
// refused promiscuous mode), with which nothing would cross. A blocking TSC finding costs
// precision, not the bench: the start prints it and forwards; --preflight gates on it.
bool blocks_start(const std::vector<Finding>& fs);
const char* level_name(Level l);                 // "ok", "n/a", "WARN", "BLOCK"
// The report: a header, one line per finding, an indented "fix:" line under each warning or
// block, and a summary line.
std::string render(const std::vector<Finding>& fs);

// Helpers the gathering side uses, pure so they are tested too.
// "0-2,5,7-8" -> {0,1,2,5,7,8}; an unparsable list gives what parsed before the fault.
std::vector<unsigned> parse_cpu_list(std::string_view s);
// The value of KEY= on a kernel command line ("isolcpus=managed_irq,domain,2-3" -> "2-3":
// flags before the list are dropped), or "" when absent.
std::string cmdline_cpus(std::string_view cmdline, std::string_view key);

// One line of /proc/PID/task/TID/stat.
struct TaskStat {
    std::string comm;
    char state = '?';
    std::uint64_t cpu_ticks = 0;    // utime + stime
    int processor = -1;             // cpu it last ran on
};
std::optional<TaskStat> parse_task_stat(std::string_view line);

struct TaskSample {
    int pid = 0;
    int tid = 0;
    TaskStat stat;
};
// Threads of other processes that last ran on `cpu` and used at least busy_share of a cpu
// between two scans `window_s` apart (ticks_per_s: sysconf(_SC_CLK_TCK)), busiest first.
std::vector<BusyThread> busy_on(const std::vector<TaskSample>& before, const std::vector<TaskSample>& after,
                                double window_s, long ticks_per_s, unsigned cpu, int self_pid);

}  // namespace netchaos::fwd::preflight
