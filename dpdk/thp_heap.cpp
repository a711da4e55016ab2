#include "thp_heap.hpp"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

namespace netchaos::fwd {
namespace {

constexpr std::size_t huge = 2u << 20;

// AnonHugePages of the mappings within [addr, addr + len), from /proc/self/smaps (kB -> bytes).
// By range, not by start address: the kernel may merge the region with a neighbour.
std::size_t anon_huge_bytes(const void* addr, std::size_t len) {
    const auto lo = reinterpret_cast<std::uintptr_t>(addr), hi = lo + len;
    std::ifstream in("/proc/self/smaps");
    std::string line;
    bool in_it = false;
    std::size_t total = 0;
    while (std::getline(in, line)) {
        unsigned long a = 0, b = 0;
        char dash = 0;
        std::istringstream hs(line);
        // A mapping's header ("start-end perms ..."); field lines ("Name:   N kB") fail this.
        if (hs >> std::hex >> a >> dash >> b && dash == '-' && line.find(':') > line.find(' ')) {
            in_it = a < hi && b > lo;
        } else if (in_it && line.rfind("AnonHugePages:", 0) == 0) {
            std::istringstream ss(line.substr(14));
            std::size_t kb = 0;
            ss >> kb;
            total += kb * 1024;
        }
    }
    return total;
}

}  // namespace

ThpHeap make_thp_heap(const char* name, std::size_t bytes) {
    ThpHeap h;
    const std::size_t len = (bytes + huge - 1) / huge * huge;
    // Over-map by one huge page so the region can start on a 2 MiB boundary (a huge page
    // can only back an aligned 2 MiB range); the unaligned ends are unmapped again.
    void* raw = mmap(nullptr, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
        h.why = std::string("mmap ") + std::to_string(len + huge) + " B: " + std::strerror(errno);
        return h;
    }
    const auto base = reinterpret_cast<std::uintptr_t>(raw);
    const std::uintptr_t start = (base + huge - 1) / huge * huge;
    if (start > base) munmap(raw, start - base);
    if (const std::uintptr_t end = base + len + huge; end > start + len) munmap(reinterpret_cast<void*>(start + len), end - start - len);
    void* p = reinterpret_cast<void*>(start);
    if (madvise(p, len, MADV_HUGEPAGE) != 0) {
        h.why = std::string("madvise(MADV_HUGEPAGE): ") + std::strerror(errno);
        munmap(p, len);
        return h;
    }
    // Fault every huge page in now (one write each): the forwarding lcore must not fault,
    // and the kernel picks the page size at the first fault of each 2 MiB range.
    for (std::size_t off = 0; off < len; off += huge) static_cast<volatile char*>(p)[off] = 0;
    h.bytes = len;
    h.huge_bytes = anon_huge_bytes(p, len);
    if (rte_malloc_heap_create(name) != 0 && rte_errno != EEXIST) {
        h.why = std::string("rte_malloc_heap_create: ") + rte_strerror(rte_errno);
        munmap(p, len);
        return h;
    }
    // No IOVAs: the pages are not pinned for DMA, so this heap serves software ports
    // (net_null, net_ring, ...) and not a device that DMAs into the mbufs.
    if (rte_malloc_heap_memory_add(name, p, len, nullptr, 0, huge) != 0) {
        h.why = std::string("rte_malloc_heap_memory_add: ") + rte_strerror(rte_errno);
        munmap(p, len);
        return h;
    }
    h.socket = rte_malloc_heap_get_socket(name);
    if (h.socket < 0) h.why = std::string("rte_malloc_heap_get_socket: ") + rte_strerror(rte_errno);
    return h;
}

}  // namespace netchaos::fwd
