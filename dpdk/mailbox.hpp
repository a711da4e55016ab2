#pragma once
// Control -> lcore hand-over without locks, with a withdrawal that cannot race the lcore.
//
// One word, `state`, says who owns `next`: idle (the control thread), posted (offered to the
// lcore, which may claim it), claimed (the lcore is switching to it). The control thread
// posts and then waits for the ack; if the lcore does not claim within the deadline, the
// control thread withdraws with a compare-and-swap posted -> idle. Exactly one of the two
// CASes (claim, withdraw) wins, so a withdrawn request is never applied later, and a claimed
// one always completes (the control thread then waits for its ack: a claimed switch is a few
// pointer swaps). Before this, a timed-out request stayed posted and the lcore could apply
// it seconds later, while the control thread was already overwriting `next`.
// Only one control thread posts. Pure atomics: unit-tested in dpdk/test/mailbox_tests.cpp.
#include <atomic>
#include <cstdint>

namespace netchaos::fwd {

template <class T>
class Mailbox {
public:
    // Control thread. Fill next() while idle, then post(); returns the request's generation.
    T& next() { return next_; }
    std::uint64_t post() {
        const std::uint64_t gen = ++posted_gen_;
        state_.store(gen << 2 | posted, std::memory_order_release);
        return gen;
    }
    bool acked(std::uint64_t gen) const { return ack_gen_.load(std::memory_order_acquire) == gen; }
    // True: the request is withdrawn and will never be applied. False: the lcore claimed it
    // first; wait for acked(gen), it is being applied now.
    bool withdraw(std::uint64_t gen) {
        std::uint64_t expect = gen << 2 | posted;
        return state_.compare_exchange_strong(expect, idle, std::memory_order_acq_rel);
    }

    // Lcore. One relaxed-cost load per loop iteration when nothing is posted.
    const T* claim() {
        std::uint64_t s = state_.load(std::memory_order_acquire);
        if ((s & 3) != posted) return nullptr;
        if (!state_.compare_exchange_strong(s, (s & ~std::uint64_t{3}) | claimed, std::memory_order_acq_rel)) return nullptr;
        claimed_gen_ = s >> 2;
        return &next_;
    }
    void done() {   // after claim() returned non-null and the lcore switched
        state_.store(idle, std::memory_order_release);
        ack_gen_.store(claimed_gen_, std::memory_order_release);
    }

private:
    static constexpr std::uint64_t idle = 0, posted = 1, claimed = 2;
    alignas(64) std::atomic<std::uint64_t> state_{idle};
    std::atomic<std::uint64_t> ack_gen_{0};
    std::uint64_t posted_gen_ = 0;    // control thread only
    std::uint64_t claimed_gen_ = 0;   // lcore only
    T next_{};
};

}  // namespace netchaos::fwd
