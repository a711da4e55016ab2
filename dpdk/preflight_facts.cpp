#include "preflight_facts.hpp"

#include <cpuid.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace netchaos::fwd::preflight {
namespace fs = std::filesystem;
namespace {

std::string slurp(const fs::path& p) {
    std::ifstream f(p);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::uint64_t read_u64(const fs::path& p) {
    try { return std::stoull(slurp(p)); } catch (const std::exception&) { return 0; }
}

bool numeric(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }); }

}  // namespace

TscFacts cpuid_tsc() {
    TscFacts t;
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) t.hypervisor = (c >> 31) & 1;
    if (__get_cpuid_max(0x80000000u, nullptr) >= 0x80000007u && __get_cpuid(0x80000007u, &a, &b, &c, &d)) {
        t.cpuid_known = true;
        t.invariant = (d >> 8) & 1;
    }
    return t;
}

MemoryFacts memory_facts(bool no_huge) {
    MemoryFacts m;
    m.no_huge = no_huge;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
        const std::string n = e.path().filename().string();   // hugepages-2048kB
        if (n.rfind("hugepages-", 0) != 0) continue;
        HugepageSize s;
        try { s.kb = std::stoull(n.substr(10)); } catch (const std::exception&) { continue; }
        s.total = read_u64(e.path() / "nr_hugepages");
        s.free = read_u64(e.path() / "free_hugepages");
        m.sizes.push_back(s);
    }
    return m;
}

HostFacts host_facts() {
    HostFacts h;
    h.numa_nodes = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/devices/system/node", ec)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("node", 0) == 0 && numeric(n.substr(4))) ++h.numa_nodes;
    }
    if (h.numa_nodes == 0) h.numa_nodes = 1;
    h.isolated = slurp("/sys/devices/system/cpu/isolated");
    h.nohz_full = slurp("/sys/devices/system/cpu/nohz_full");
    h.cmdline = slurp("/proc/cmdline");
    return h;
}

std::vector<TaskSample> scan_tasks() {
    std::vector<TaskSample> out;
    std::error_code ec;
    for (const auto& p : fs::directory_iterator("/proc", ec)) {
        const std::string pid = p.path().filename().string();
        if (!numeric(pid)) continue;
        std::error_code ec2;
        for (const auto& t : fs::directory_iterator(p.path() / "task", ec2)) {
            const std::string tid = t.path().filename().string();
            if (!numeric(tid)) continue;
            std::ifstream f(t.path() / "stat");
            std::string line;
            if (!std::getline(f, line)) continue;
            if (auto s = parse_task_stat(line)) out.push_back({std::stoi(pid), std::stoi(tid), std::move(*s)});
        }
    }
    return out;
}

LcoreFacts lcore_facts() {
    LcoreFacts l;
    l.lcore = rte_lcore_id();
    l.cpu = rte_lcore_to_cpu_id(static_cast<int>(l.lcore));
    l.numa = static_cast<int>(rte_lcore_to_socket_id(l.lcore));
    return l;
}

PortFacts port_facts(std::uint16_t port, const HwRx& hw) {
    PortFacts p;
    p.port = port;
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) == 0) {
        p.driver = info.driver_name ? info.driver_name : "?";
        if (info.device) {
            p.name = rte_dev_name(info.device);
            const rte_bus* bus = rte_dev_bus(info.device);
            p.physical = bus && std::string(rte_bus_name(bus)) == "pci";
        }
    }
    // rte_eth_link_get waits for autonegotiation where the PMD supports waiting (up to 9 s on
    // some NICs): a link still training is not reported as down.
    rte_eth_link link{};
    if (rte_eth_link_get(port, &link) == 0) {
        p.link_known = true;
        p.link_up = link.link_status == RTE_ETH_LINK_UP;
        p.speed_mbps = link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed;
        p.full_duplex = link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
        p.autoneg = link.link_autoneg == RTE_ETH_LINK_AUTONEG;
    }
    std::uint16_t mtu = 0;
    if (rte_eth_dev_get_mtu(port, &mtu) == 0) p.mtu = mtu;
    p.promiscuous = rte_eth_promiscuous_get(port) == 1;
    p.numa = rte_eth_dev_socket_id(port);
    // The kernel interface under an af_xdp/af_packet vdev, asked in this netns.
    char ifname[IF_NAMESIZE] = {};
    if (!p.physical && info.if_index && if_indextoname(info.if_index, ifname)) {
        p.kernel_if = ifname;
        if (const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); s >= 0) {
            ifreq r{};
            std::snprintf(r.ifr_name, sizeof r.ifr_name, "%s", ifname);
            if (::ioctl(s, SIOCGIFFLAGS, &r) == 0) p.kernel_if_up = (r.ifr_flags & IFF_UP) && (r.ifr_flags & IFF_RUNNING);
            if (::ioctl(s, SIOCGIFMTU, &r) == 0 && r.ifr_mtu > 0 && r.ifr_mtu <= 65535) p.kernel_mtu = static_cast<std::uint16_t>(r.ifr_mtu);
            ::close(s);
        }
    }
    p.rx_timestamp = hw.offered;
    p.nic_clock = hw.on;
    return p;
}

}  // namespace netchaos::fwd::preflight
