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

    // Starts the wheel's turn at `now` unless a push started it (at its due time). A wheel
    // whose first push comes long after the clock started (ReleaseQueue's, used only when a
    // release is earlier than one before it) must not turn from that push's due time: a later
    // push due before it would wait for it.
    void start(std::uint64_t now) {
        if (!started_) { cursor_ = now >> shift_; started_ = true; }
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

// A direction's release queue: a FIFO in front of the wheel. A release that is not earlier
// than the FIFO's last one, pushed while the wheel is empty, goes to the FIFO: a store at its
// tail and, at release, a load at its head, both sequential, where the wheel costs a node
// from its pool, a slot list append and a slot walk (each a likely cache miss after 100 us).
// Order-preserving releases (reorder = false, a constant delay, a rate) are all of that
// kind, so they never touch the wheel; jitter that reorders goes to the wheel.
//
// The FIFO is a list of 4 KiB chunks from a pool whose free chunks are reused last-freed
// first: its memory follows what is in flight (a chunk freed at the head is the next one
// the tail takes, still in cache), where one ring sized for the capacity (32 MiB) would
// store every entry into a line untouched since the ring last wrapped.
//
// Order: while the wheel holds anything every push goes to it, so whenever both hold items
// every FIFO item was pushed before every wheel item. pop_due empties the FIFO's due items
// first: two releases with the same due time leave in push order, and releases that do not
// decrease leave in push order, as the wheel alone guarantees.
template <class T>
class ReleaseQueue {
public:
    ReleaseQueue(std::uint32_t capacity, unsigned slot_shift, unsigned slots_log2)
        : chunk_(capacity / per_chunk + 2), wheel_(capacity, slot_shift, slots_log2), capacity_(capacity) {
        free_.reserve(chunk_.size());
        for (std::size_t c = chunk_.size(); c-- > 0;) free_.push_back(static_cast<std::uint32_t>(c));
    }

    std::uint32_t size() const { return fifo_size_ + wheel_.size(); }
    bool empty() const { return size() == 0; }
    std::uint32_t fifo_size() const { return fifo_size_; }

    // Queue `item` for release at TSC `due`. Returns false when the queue holds `capacity`.
    bool push(std::uint64_t due, T item) {
        if (size() >= capacity_) return false;
        if (wheel_.empty() && (fifo_size_ == 0 || due >= last_due_)) {
            if (tail_pos_ == per_chunk) {   // the tail chunk is full, or there is none
                if (free_.empty()) return wheel_.push(due, item);
                const std::uint32_t c = free_.back();
                free_.pop_back();
                if (fifo_size_ == 0) { head_ = c; head_pos_ = 0; }
                else chunk_[tail_].next = c;
                tail_ = c;
                tail_pos_ = 0;
            }
            chunk_[tail_].e[tail_pos_++] = Entry{due, item};
            ++fifo_size_;
            last_due_ = due;
            return true;
        }
        return wheel_.push(due, item);
    }

    // Hands every item due at `now` (at most `max`) to emit(item, due): the FIFO's first.
    template <class F>
    std::uint32_t pop_due(std::uint64_t now, std::uint32_t max, F&& emit) {
        std::uint32_t out = 0;
        wheel_.start(now);
        while (fifo_size_ && out < max) {
            const Entry e = chunk_[head_].e[head_pos_];
            if (e.due > now) break;
            __builtin_prefetch(&chunk_[head_].e[head_pos_ + 8]);   // two lines ahead (within the chunk's padding)
            pop_head();
            ++out;
            emit(e.item, e.due);
        }
        if (out < max && !wheel_.empty()) out += wheel_.pop_due(now, max - out, emit);
        return out;
    }

    // Drops everything: emit(item, due) for each, any order.
    template <class F>
    void drain_all(F&& emit) {
        while (fifo_size_) {
            const Entry e = chunk_[head_].e[head_pos_];
            pop_head();
            emit(e.item, e.due);
        }
        wheel_.drain_all(emit);
    }

private:
    struct Entry {
        std::uint64_t due;
        T item;
    };
    static constexpr std::uint32_t per_chunk = 248;   // 8 entries' padding for the prefetch ahead
    struct Chunk {
        Entry e[per_chunk + 8];
        std::uint32_t next;
    };

    void pop_head() {
        --fifo_size_;
        if (++head_pos_ == per_chunk || fifo_size_ == 0) {
            const std::uint32_t next = chunk_[head_].next;
            free_.push_back(head_);   // the tail's next chunk: reused while still in cache
            if (fifo_size_ == 0) { tail_pos_ = per_chunk; return; }
            head_ = next;
            head_pos_ = 0;
        }
    }

    std::vector<Chunk> chunk_;
    std::vector<std::uint32_t> free_;   // a stack: last freed, first reused
    // tail_pos_ == per_chunk: the tail chunk is full, or the FIFO is empty and has none.
    std::uint32_t head_ = 0, head_pos_ = 0, tail_ = 0, tail_pos_ = per_chunk;
    std::uint32_t fifo_size_ = 0;
    std::uint64_t last_due_ = 0;
    ReleaseWheel<T> wheel_;
    std::uint32_t capacity_;
};

}  // namespace netchaos::fwd
