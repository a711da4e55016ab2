#pragma once
// How many mbufs the profile needs in flight, and what memory allows. Pure.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "profile/profile.hpp"

namespace netchaos::fwd {

// Longest release delay the impairment plausibly asks for (mean + 5 sigma, slot windows).
inline std::chrono::nanoseconds max_delay(const profile::Impairment& imp) {
    std::chrono::nanoseconds d{0};
    if (imp.delay) d += imp.delay->mean + 5 * imp.delay->jitter;
    if (imp.slot) d += std::max(imp.slot->max_delay, imp.slot->dist_delay + 5 * imp.slot->dist_jitter);
    return d;
}

struct PoolPlan {
    std::uint64_t wanted = 0;    // rate hint x max delay + ring slack
    std::uint64_t fits = 0;      // what the memory can hold
    std::uint64_t mbufs = 0;     // min(wanted or explicit, fits)
    bool capped = false;
};

// explicit_mbufs: --pool (0 = automatic); per_mbuf_bytes: element size in the mempool;
// free_bytes: heap left after EAL and PMDs took theirs.
inline PoolPlan plan_pool(double rate_pps, std::chrono::nanoseconds delay, std::uint64_t explicit_mbufs,
                          std::uint64_t per_mbuf_bytes, std::uint64_t free_bytes) {
    constexpr std::uint64_t slack = 4 * 4096;   // rx/tx rings of two ports, bursts, caches
    PoolPlan p;
    const double in_flight = rate_pps * std::chrono::duration<double>(delay).count();
    p.wanted = explicit_mbufs ? explicit_mbufs : std::max<std::uint64_t>(32768, static_cast<std::uint64_t>(in_flight * 1.25) + slack);
    p.fits = per_mbuf_bytes ? free_bytes / per_mbuf_bytes : 0;
    p.mbufs = std::min(p.wanted, p.fits);
    p.capped = p.mbufs < p.wanted;
    return p;
}

// The mempool driver behind the per-lcore caches. "auto": a stack (LIFO), which hands back
// the mbufs spilled last, still warm; DPDK's default ring is a FIFO over the whole pool and
// hands back the ones freed longest ago. Except with AF_XDP ports, whose umem is carved from
// the pool: on the netns bench the veths forwarded nothing with the stack driver (cause not
// found; the ring is what the AF_XDP PMD is documented and tested with). An explicit name
// is taken as given.
inline std::string pool_driver(const std::string& asked, bool any_af_xdp) {
    if (asked != "auto") return asked;
    return any_af_xdp ? "ring_mp_mc" : "stack";
}

// Where the mbuf pool's memory comes from: "eal" (the EAL's heap) or "thp" (an anonymous
// mapping on transparent huge pages, thp_heap.hpp). "auto" takes thp only where it helps and
// cannot hurt: the EAL runs without hugepages (so its heap is 4 KiB pages, and the mbufs in
// flight overrun the TLB: -15% ns per packet on net_null, docs/performance.md), and every
// port is a software port that reaches the mbufs by virtual address. A device that DMAs
// needs the EAL's IOVAs, and AF_XDP registers the pool's memory as its umem, tested with the
// EAL's. `why` says which rule decided.
struct PoolMemory {
    std::string where;   // "eal" or "thp"
    std::string why;
};
inline bool software_port(const std::string& driver) {
    return driver == "net_null" || driver == "net_ring" || driver == "net_pcap" || driver == "net_tap";
}
template <class Drivers>
PoolMemory pool_memory(const std::string& asked, bool eal_hugepages, const Drivers& drivers) {
    if (asked == "eal" || asked == "thp") return {asked, "--pool-memory " + asked};
    if (eal_hugepages) return {"eal", "the EAL has hugepages"};
    for (const std::string& d : drivers)
        if (!software_port(d)) return {"eal", "port driver " + d + " needs the EAL's memory"};
    return {"thp", "no hugepages, software ports only"};
}

}  // namespace netchaos::fwd
