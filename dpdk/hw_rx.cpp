// rte_eth_read_clock is still experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1
#include "hw_rx.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include <chrono>
#include <thread>

namespace netchaos::fwd {
// The tightest of a few, so a slow register read or a preemption does not skew the pair.
bool read_nic_pair(std::uint16_t port, NicClockPair& out, int tries) {
    std::uint64_t best = ~0ull;
    for (int i = 0; i < tries; ++i) {
        std::uint64_t nic = 0;
        const std::uint64_t t0 = rte_rdtsc_precise();
        if (rte_eth_read_clock(port, &nic) != 0) return false;
        const std::uint64_t t1 = rte_rdtsc_precise();
        if (t1 - t0 < best) { best = t1 - t0; out = {t0 + (t1 - t0) / 2, nic}; }
    }
    return true;
}

void request_hw_rx(std::uint16_t port, rte_eth_conf& conf, HwRx& hw) {
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0) return;
    hw.offered = (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_TIMESTAMP) != 0;
    if (hw.offered) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_TIMESTAMP;
}

void setup_hw_rx(std::uint16_t port, HwRx& hw, int window_ms) {
    hw.on = false;
    if (!hw.offered) return;
    if (rte_mbuf_dyn_rx_timestamp_register(&hw.offset, &hw.flag) != 0) return;
    NicClockPair a, b;
    if (!read_nic_pair(port, a)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));
    if (!read_nic_pair(port, b)) return;
    hw.map = map_nic_clock(a, b);
    hw.last = b;
    hw.on = hw.map.valid();
}

}  // namespace netchaos::fwd
