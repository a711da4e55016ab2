#pragma once
// Release queue: a timing wheel keyed by TSC. No DPDK in here (T is any trivially copyable
// handle, an rte_mbuf* in the forwarder), so it is unit-tested alone.
//
// - Slots of 2^slot_shift ticks, 2^slots_log2 of them (a horizon of ~0.27 s at 1 us slots);
//   releases further out wait in a min-heap and move into the wheel as it turns.
// - Within the slot being released each entry is checked against `now`, so order-preserving
//   releases leave on their exact TSC whatever the slot width; with reordering jitter an
//   entry can wait behind a later one of the same slot (at most one slot width).
// - Each slot is a FIFO list, slots are visited in order, and the heap breaks ties by push
//   order, so releases that are non-decreasing (order-preserving jitter) leave in push order.
// - Nodes come from a preallocated pool: push never allocates; a full pool refuses the push.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace netchaos::fwd {

template <class T>
class ReleaseWheel {
public:
    static constexpr std::uint32_t nil = ~std::uint32_t{0};

    ReleaseWheel(std::uint32_t capacity, unsigned slot_shift, unsigned slots_log2)
        : shift_(slot_shift), mask_((std::uint64_t{1} << slots_log2) - 1),
          slot_(std::size_t{1} << slots_log2, Slot{nil, nil}), node_(capacity) {
        far_.reserve(1024);
        for (std::uint32_t i = 0; i < capacity; ++i) node_[i].next = i + 1 < capacity ? i + 1 : nil;
        free_ = capacity ? 0 : nil;
    }

    std::uint32_t capacity() const { return static_cast<std::uint32_t>(node_.size()); }
    std::uint32_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::uint64_t horizon_ticks() const { return (mask_ + 1) << shift_; }

    // Queue `item` for release at TSC `due`. A due time already past is released at the
    // next pop. Returns false when the node pool is exhausted.
    bool push(std::uint64_t due, T item) {
        if (free_ == nil) return false;
        const std::uint32_t n = free_;
        Node& nd = node_[n];
        free_ = nd.next;
        nd.due = due;
        nd.item = item;
        nd.next = nil;
        ++size_;
        if (!started_) { cursor_ = due >> shift_; started_ = true; }
        std::uint64_t abs = due >> shift_;
        if (abs < cursor_) abs = cursor_;
        if (abs - cursor_ > mask_) {
            far_.push_back(Far{due, seq_++, n});
            std::push_heap(far_.begin(), far_.end(), later);
        } else {
            append(abs & mask_, n);
            ++near_;
        }
        return true;
    }

    // Hands every item due at `now` (at most `max`) to emit(item, due), in release order.
    template <class F>
    std::uint32_t pop_due(std::uint64_t now, std::uint32_t max, F&& emit) {
        std::uint32_t out = 0;
        if (size_ == 0) return 0;
        const std::uint64_t now_abs = now >> shift_;
        if (near_ == 0) {  // nothing in the wheel: jump instead of walking empty slots
            std::uint64_t to = now_abs;
            if (!far_.empty()) to = std::min(to, far_.front().due >> shift_);
            if (to > cursor_) cursor_ = to;
            migrate();
        }
        while (cursor_ <= now_abs && out < max) {
            Slot& sl = slot_[cursor_ & mask_];
            // A slot ahead: its head node (its slot line was asked for one turn ago) and the
            // slot line after it, so the next turn does not start on two cold misses.
            if (const std::uint32_t h = slot_[(cursor_ + 1) & mask_].head; h != nil) __builtin_prefetch(&node_[h]);
            __builtin_prefetch(&slot_[(cursor_ + 2) & mask_]);
            std::uint32_t n = sl.head;
            while (n != nil && out < max && node_[n].due <= now) {
                Node& nd = node_[n];
                sl.head = nd.next;
                if (sl.head == nil) sl.tail = nil;
                else __builtin_prefetch(&node_[sl.head]);
                const std::uint64_t d = nd.due;
                const T it = nd.item;
                nd.next = free_;
                free_ = n;
                --size_;
                --near_;
                ++out;
                emit(it, d);
                n = sl.head;
            }
            if (n != nil) break;         // head not due yet, or budget spent
            if (cursor_ == now_abs) break;
            ++cursor_;
            migrate();
            if (near_ == 0 && far_.empty()) { cursor_ = now_abs; break; }
        }
        return out;
    }

    // Drops everything (shutdown with --on-exit drop): emit(item, due) for each, any order.
    template <class F>
    void drain_all(F&& emit) {
        for (Slot& sl : slot_) {
            for (std::uint32_t n = sl.head; n != nil;) {
                const std::uint32_t nx = node_[n].next;
                emit(node_[n].item, node_[n].due);
                node_[n].next = free_;
                free_ = n;
                n = nx;
            }
            sl.head = sl.tail = nil;
        }
        for (const Far& f : far_) {
            emit(node_[f.node].item, node_[f.node].due);
            node_[f.node].next = free_;
            free_ = f.node;
        }
        far_.clear();
        size_ = near_ = 0;
    }

private:
    struct Far {
        std::uint64_t due;
        std::uint64_t seq;
        std::uint32_t node;
    };
    static bool later(const Far& a, const Far& b) { return a.due != b.due ? a.due > b.due : a.seq > b.seq; }

    void append(std::uint64_t s, std::uint32_t n) {
        Slot& sl = slot_[s];
        if (sl.tail == nil) sl.head = n; else node_[sl.tail].next = n;
        sl.tail = n;
    }
    // Moves heap entries that came within the horizon into their slots.
    void migrate() {
        while (!far_.empty()) {
            const Far f = far_.front();
            std::uint64_t abs = f.due >> shift_;
            if (abs < cursor_) abs = cursor_;
            if (abs - cursor_ > mask_) break;
            std::pop_heap(far_.begin(), far_.end(), later);
            far_.pop_back();
            append(abs & mask_, f.node);
            ++near_;
        }
    }

    struct Slot {   // head and tail together: one cache miss per slot, not two
        std::uint32_t head, tail;
    };
    unsigned shift_;
    std::uint64_t mask_;
    // One node is one line's worth (two per 64-byte line at 8-byte T): its due time, item
    // and link are read together at release, after 100 us or more in which they went cold.
    struct alignas(32) Node {
        std::uint64_t due;
        T item;
        std::uint32_t next;
    };
    static_assert(sizeof(T) > 8 || sizeof(Node) == 32, "a node in half a line");
    std::vector<Slot> slot_;
    std::vector<Node> node_;
    std::vector<Far> far_;
    std::uint32_t free_ = nil;
    std::uint32_t size_ = 0;   // all queued
    std::uint32_t near_ = 0;   // queued in the wheel (not the heap)
    std::uint64_t cursor_ = 0; // absolute slot number being released
    std::uint64_t seq_ = 0;
    bool started_ = false;
};

}  // namespace netchaos::fwd
