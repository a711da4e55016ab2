#pragma once
// Gaps in the forwarding loop that are the host's, not the forwarder's: a VM that takes the
// core away (this 2-vCPU VM does it ~300 times a second for 20-100 us, and now and then for
// 1-3 ms), a descheduled thread. The loop reads the clock at a few points whose own work
// between them is bounded (an rx burst, or a release budget of due packets); a longer gap
// between two reads is a stall. A release due before the last stall ended, and sent after
// it, is late because of it: counted apart (late_after_stall), not in the release-error
// histogram, so that histogram is the forwarder's own precision. No DPDK: unit-tested alone.
#include <cstdint>

namespace netchaos::fwd {

class StallWatch {
public:
    explicit StallWatch(std::uint64_t threshold_ticks = 0) : threshold_(threshold_ticks) {}

    // Every clock read of the loop; returns the gap since the previous one when it was a
    // stall (longer than the threshold), else 0.
    std::uint64_t mark(std::uint64_t now) {
        const std::uint64_t gap = now - prev_;
        const bool first = prev_ == 0;
        prev_ = now;
        if (first || gap <= threshold_) return 0;
        end_ = now;
        return gap;
    }
    // Sent now, due at `due`: was it waiting while the host had the core?
    bool delayed(std::uint64_t due) const { return due < end_; }
    std::uint64_t threshold() const { return threshold_; }

private:
    std::uint64_t threshold_;
    std::uint64_t prev_ = 0;
    std::uint64_t end_ = 0;   // clock read that ended the last stall (0: none yet)
};

}  // namespace netchaos::fwd
