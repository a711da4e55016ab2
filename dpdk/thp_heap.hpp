#pragma once
// The mbuf pool's memory on transparent huge pages, for EALs run with --no-huge.
//
// Without hugepages the EAL maps its memory in 4 KiB pages, and an mbuf with the default
// 2 KiB data room takes most of a page: the ~6,000 mbufs a saturated forwarder holds in flight
// (rate x delay) span ~3,000 pages, past what the TLB covers, so each one a packet's tx touches
// again after its delay costs a page walk. Anonymous memory with MADV_HUGEPAGE is backed by
// 2 MiB pages where the kernel allows it (transparent_hugepage/enabled = madvise or always);
// the region joins DPDK as an external malloc heap, and the pool is created on that heap.
#include <cstddef>
#include <string>

namespace netchaos::fwd {

struct ThpHeap {
    int socket = -1;           // the heap's socket id for rte_*_create; -1: not made
    std::size_t bytes = 0;     // mapped
    std::size_t huge_bytes = 0;// of which backed by huge pages (AnonHugePages of the mapping)
    std::string why;           // when socket < 0: the exact reason
};

// Maps `bytes` (rounded up to 2 MiB), asks for huge pages, faults it in, and adds it to a
// DPDK malloc heap named `name`. Call after rte_eal_init.
ThpHeap make_thp_heap(const char* name, std::size_t bytes);

}  // namespace netchaos::fwd
