#pragma once
// Gathers the preflight's facts from the machine: CPUID, /sys, /proc and ethdev. The checks
// themselves are pure (preflight.hpp); this is the I/O edge.
#include <cstdint>
#include <vector>

#include "hw_rx.hpp"
#include "preflight.hpp"

namespace netchaos::fwd::preflight {

// CPUID leaves 1 and 0x80000007 (rates are filled in from the calibration).
TscFacts cpuid_tsc();
MemoryFacts memory_facts(bool no_huge);
HostFacts host_facts();
// Every thread of every process (/proc/*/task/*/stat); unreadable ones are skipped.
std::vector<TaskSample> scan_tasks();

// The rest needs EAL.
LcoreFacts lcore_facts();
// A started port; hw: what setup_hw_rx made of its rx timestamps.
PortFacts port_facts(std::uint16_t port, const HwRx& hw);

}  // namespace netchaos::fwd::preflight
