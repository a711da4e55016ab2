#pragma once
// Hardware rx timestamps of one port: whether the PMD stamps frames, where the stamp sits in
// the mbuf, and the NIC clock -> TSC mapping. Ports without it keep on = false and the
// forwarder takes the TSC at the rx burst (the fallback the preflight and stats report).
#include <cstdint>

#include "nic_clock.hpp"

struct rte_eth_conf;

namespace netchaos::fwd {

struct HwRx {
    bool offered = false;      // RTE_ETH_RX_OFFLOAD_TIMESTAMP in the port's rx_offload_capa
    bool on = false;           // requested, registered and mapped: the lcore uses the stamps
    int offset = -1;           // mbuf dynfield offset of the stamp
    std::uint64_t flag = 0;    // ol_flags bit set on stamped mbufs
    NicToTsc map;
    NicClockPair last;         // the latest (TSC, NIC) read: the anchor of map
};

// A NIC clock read between two TSC reads, the tightest of `tries`; false when the PMD cannot.
bool read_nic_pair(std::uint16_t port, NicClockPair& out, int tries = 16);

// Before rte_eth_dev_configure: asks for the offload where the port offers it.
void request_hw_rx(std::uint16_t port, rte_eth_conf& conf, HwRx& hw);
// After rte_eth_dev_start: registers the stamp field and maps the NIC clock to the TSC from
// two reads `window_ms` apart. Leaves on = false when any step is unsupported. The lcore
// re-anchors the map once a second (a slope measured over 50 ms is a few ppm off, which
// would grow to milliseconds over an hour; re-anchored, the error stays below a microsecond).
void setup_hw_rx(std::uint16_t port, HwRx& hw, int window_ms = 50);

}  // namespace netchaos::fwd
