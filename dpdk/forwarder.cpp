#include "forwarder.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "frame.hpp"
#include "release_wheel.hpp"
#include "stall_watch.hpp"

namespace netchaos::fwd {
namespace {

constexpr std::uint16_t tx_batch = 64;

// Transmit buffer of one direction: due packets gather here and leave in bursts.
struct TxBuf {
    std::uint16_t port = 0;
    std::uint16_t n = 0;
    rte_mbuf* pkts[tx_batch];
    std::uint64_t due[tx_batch];   // scheduled TSC, for the release-error histogram
    std::uint64_t last_due = 0;    // the previous packet's (is this one the first of its instant?)
};

class Loop {
public:
    Loop(const ForwarderConfig& cfg, Shared& sh) : cfg_(cfg), sh_(sh), ln_(*sh.lanes.at(cfg.lane)) {
        // Order-preserving releases go to the queue's FIFO; the rest to its wheel: ~1 us slots,
        // 2^18 of them (2 MB) cover ~0.27 s, further releases wait in the heap.
        // Wider slots mean fewer cold slot lines per packet; precision is kept by the per-entry
        // due check in the current slot.
        const double slot_ticks = sh.clock.ticks_per_ns * 1024.0;
        unsigned shift = 0;
        while ((2.0 * static_cast<double>(1ull << shift)) <= slot_ticks) ++shift;
        for (int d = 0; d < 2; ++d) {
            queue_[d] = std::make_unique<ReleaseQueue<rte_mbuf*>>(cfg.queue_capacity, shift, 18);
            // Every class's engine exists from the start (pass-through until a profile has that
            // many classes): a load only switches models, it never allocates on the lcore.
            engine_[d][0].emplace(cfg.initial[d].model, cfg.seed[d]);
            for (std::size_t k = 1; k < n_engines; ++k)
                engine_[d][k].emplace(fault::passthrough(), cfg.seed[d] + 0x9e3779b97f4a7c15ull * k);
            if (cfg.share_rate)
                for (std::size_t k = 0; k < n_engines; ++k) engine_[d][k]->share_link(&sh.link[static_cast<std::size_t>(d)][k]);
            set_classes(d, cfg.initial[d]);
            limit_[d] = cfg.initial[d].limit ? cfg.initial[d].limit : cfg.queue_capacity;
            tx_[d].port = cfg.port[1 - d];
        }
        watch_ = StallWatch(sh.clock.ticks(cfg.stall_ns));
        for (int d = 0; d < 2; ++d) { hw_[d] = cfg.hw[d]; any_hw_ = any_hw_ || hw_[d].on; }
        remap_ticks_ = sh.clock.ticks(1'000'000'000);
    }

    void run() {
        watch_.mark(rte_rdtsc());
        std::uint64_t iters = 0;
        while (!sh_.stop.load(std::memory_order_relaxed)) {
            const std::uint64_t now = tick();
            if ((++iters & 0xff) == 0) bump(ln_.loop.iterations, 256);
            if (any_hw_ && now >= next_remap_) remap(now);
            poll_control();
            // Release (and send) after each direction's rx burst, not once per loop: at
            // saturation a due packet then waits for one burst's work, not for two.
            for (int d = 0; d < 2; ++d) {
                receive(d);
                const std::uint64_t t = note(rte_rdtsc());
                for (int e = 0; e < 2; ++e) release(e, t, now);
                flush_all();
            }
        }
        finish();
    }

private:
    // Loop start.
    std::uint64_t tick() { return note(rte_rdtsc()); }

    // A clock read of the loop (its start, and after each rx burst: between two of them the
    // loop does one burst's work or one release budget): a longer gap is a host stall.
    std::uint64_t note(std::uint64_t now) {
        if (const std::uint64_t gap = watch_.mark(now)) {
            const auto ns = static_cast<std::uint64_t>(static_cast<double>(gap) * sh_.clock.ns_per_tick);
            bump(ln_.loop.stalls);
            bump(ln_.loop.stall_ns_total, ns);
            if (ns > ln_.loop.stall_max_ns.load(std::memory_order_relaxed)) ln_.loop.stall_max_ns.store(ns, std::memory_order_relaxed);
        }
        return now;
    }

    // NIC clock -> TSC, re-anchored once a second from a fresh pair (4 register reads per
    // port, a few us, once a second: the price of keeping NIC-stamped rx times within ~1 us).
    void remap(std::uint64_t now) {
        next_remap_ = now + remap_ticks_;
        for (int d = 0; d < 2; ++d) {
            if (!hw_[d].on) continue;
            NicClockPair p;
            if (!read_nic_pair(cfg_.port[d], p, 4)) continue;
            if (const NicToTsc m = map_nic_clock(hw_[d].last, p); m.valid()) hw_[d].map = m;
            hw_[d].last = p;
        }
    }

    void poll_control() {
        if (const auto* next = ln_.mailbox.claim()) {
            for (int d = 0; d < 2; ++d) {
                const auto& m = (*next)[static_cast<std::size_t>(d)];
                if (!m) continue;
                engine_[d][0]->switch_model(m->model);
                set_classes(d, *m);
                limit_[d] = m->limit ? m->limit : cfg_.queue_capacity;
            }
            ln_.mailbox.done();
        }
        const auto rg = sh_.reset_gen.load(std::memory_order_relaxed);
        if (rg != seen_reset_) {
            seen_reset_ = rg;
            for (auto& s : ln_.dir) s.err_max_ns.store(0, std::memory_order_relaxed);
            ln_.loop.stall_max_ns.store(0, std::memory_order_relaxed);
        }
    }

    // The rules into the lcore's own array (a small copy), each class's model into its engine.
    void set_classes(int d, const DirModel& m) {
        reads_[d] = frame_reads(m, cfg_.malformed);
        nrules_[d] = static_cast<unsigned>(std::min(m.classes.size(), profile::max_classes));
        for (unsigned k = 0; k < nrules_[d]; ++k) {
            rules_[d][k] = m.classes[k].rule;
            engine_[d][k + 1]->switch_model(m.classes[k].model);
        }
    }

    void receive(int d) {
        rte_mbuf* pkts[fault::BurstDecisions::max];
        const bool timed = (++rx_calls_[d] & 63) == 0;   // LoopStats::pmd_*: one call in 64 per direction
        const std::uint64_t before = timed ? rte_rdtsc() : 0;
        const std::uint16_t n = rte_eth_rx_burst(cfg_.port[d], cfg_.queue, pkts, cfg_.burst);
        if (n == 0) return;
        const std::uint64_t rx_tsc = rte_rdtsc();
        if (timed) { bump(ln_.loop.pmd_rx_ticks, rx_tsc - before); bump(ln_.loop.pmd_rx_pkts, n); }
        const std::int64_t rx_ns = sh_.clock.to_ns(rx_tsc);
        DirStats& st = ln_.dir[static_cast<std::size_t>(d)];
        bump(st.rx, n);
        // Per packet, as the engine wants them (struct of arrays): rx time, length, ECN, flow.
        std::int64_t* const t_rx = burst_.t_rx;
        std::uint32_t* const len = burst_.len;
        std::uint8_t* const ecn = burst_.ecn;
        std::uint32_t* const flow = burst_.flow;
        FrameInfo* const info = burst_.info;
        const HwRx& hw = hw_[d];
        const bool frames = reads_[d] != 0;
        std::uint16_t kept = 0;
        if (frames) {
            // classify() reads each frame's first line, which is cold (the NIC or PMD wrote it):
            // ask for the whole burst first so the misses overlap instead of queueing one by one.
            for (std::uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
        }
        for (std::uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            // With NIC stamps, the packet's own arrival (mapped to TSC) starts its delay, not
            // the burst read: time waiting in the rx ring counts against the delay.
            std::int64_t pkt_ns = rx_ns;
            // A stamp cannot be later than the burst read; one that maps later is mapping error.
            if (hw.on && (m->ol_flags & hw.flag))
                pkt_ns = sh_.clock.to_ns(std::min(rx_tsc, hw.map.to_tsc(*RTE_MBUF_DYNFIELD(m, hw.offset, const std::uint64_t*))));
            const std::uint32_t plen = rte_pktmbuf_pkt_len(m);
            FrameInfo fi{FrameKind::non_ip, 0, 0};
            if (frames) {
                const std::size_t seg_len = rte_pktmbuf_data_len(m);
                fi = classify(rte_pktmbuf_mtod(m, const std::uint8_t*), seg_len, cfg_.max_frame);
                if (plen > cfg_.max_frame && fi.kind != FrameKind::oversize) {
                    // multi-segment jumbo: the first segment alone may look fine
                    if (malformed(st, FrameKind::oversize, m)) continue;
                } else if (is_malformed(fi.kind)) {
                    if (malformed(st, fi.kind, m)) continue;
                } else if (fi.kind == FrameKind::non_ip) {
                    bump(st.non_ip);
                }
            } else if (plen > cfg_.max_frame) {
                // Frame data unread: oversize is the one defect the mbuf's length shows.
                if (malformed(st, FrameKind::oversize, m)) continue;
            }
            pkts[kept] = m;
            t_rx[kept] = pkt_ns;
            len[kept] = plen;
            info[kept] = fi;
            ecn[kept] = fi.ecn != 0;
            ++kept;
        }
        // The profile's limit is checked before the engine decides, as netem checks its queue
        // length before it draws a delay: a packet that finds `limit` queued is dropped without
        // a draw and takes no place in the release order. Decided first, its draw would push
        // the packets behind it (reorder = false), and at saturation the dropped third of a
        // burst would lengthen every kept packet's stay.
        ReleaseQueue<rte_mbuf*>& queue = *queue_[d];
        const std::uint32_t queued = queue.size();
        const std::uint32_t room = queued < limit_[d] ? limit_[d] - queued : 0;
        if (kept > room) {
            bump(st.dropped_queue_full, kept - room);
            rte_pktmbuf_free_bulk(pkts + room, kept - room);
            kept = static_cast<std::uint16_t>(room);
        }
        if (kept == 0) return;
        fault::BurstDecisions& dec = dec_;
        if (nrules_[d] == 0) {
            fault::Engine& engine = *engine_[d][0];
            const bool per_flow = engine.per_flow();
            if (per_flow)
                for (std::uint16_t i = 0; i < kept; ++i)
                    flow[i] = flow_hash(rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), rte_pktmbuf_data_len(pkts[i]), info[i]);
            engine.decide_burst(kept, t_rx, len, frames ? ecn : nullptr, per_flow ? flow : nullptr, dec);
        } else {
            decide_classes(d, pkts, kept, t_rx, len, ecn, info, dec);
        }
        // Release times to TSC over the whole burst: no branch, independent iterations.
        std::uint64_t due[fault::BurstDecisions::max];
        const double tpn = sh_.clock.ticks_per_ns;
        const std::uint64_t tsc0 = sh_.clock.tsc0;
        for (std::uint16_t i = 0; i < kept; ++i)
            due[i] = tsc0 + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<double>(dec.release_ns[i]) * tpn));
        HoldSums sums;
        for (std::uint16_t i = 0; i < kept; ++i) {
            rte_mbuf* m = pkts[i];
            rte_mbuf* copy = nullptr;
            if (dec.any_action) {
                const std::uint8_t f = dec.flags[i];
                if (f & fault::BurstDecisions::drop) {
                    bump(st.dropped_fault);
                    rte_pktmbuf_free(m);
                    continue;
                }
                auto* data = rte_pktmbuf_mtod(m, std::uint8_t*);
                const std::size_t seg_len = rte_pktmbuf_data_len(m);
                if ((f & fault::BurstDecisions::ecn_mark) && set_ce(data, seg_len, info[i])) bump(st.ecn_marked);
                if (f & fault::BurstDecisions::duplicate) {
                    // A corrupted original must not corrupt its duplicate: copy bytes then.
                    if (f & fault::BurstDecisions::corrupt) copy = rte_pktmbuf_copy(m, cfg_.pool, 0, UINT32_MAX);
                    else { rte_mbuf_refcnt_update(m, 1); copy = m; }
                    if (copy) bump(st.duplicated);
                }
                if (f & fault::BurstDecisions::corrupt) { flip_bit(data, seg_len, dec.corrupt_bit[i]); bump(st.corrupted); }
            }
            sums.add(st, dec.drawn_ns[i], dec.release_ns[i] - t_rx[i], (dec.flags[i] & fault::BurstDecisions::pushed) != 0);
            enqueue(d, queue, st, due[i], m, rx_tsc);
            if (copy) enqueue(d, queue, st, due[i], copy, rx_tsc);
        }
        sums.publish(st);
    }

    // Classes: the burst is split by class, keeping arrival order within each, and each
    // class's engine decides its share in one decide_burst; the results go back in place.
    void decide_classes(int d, rte_mbuf* const* pkts, std::uint16_t n, const std::int64_t* t_rx, const std::uint32_t* len,
                        const std::uint8_t* ecn, const FrameInfo* info, fault::BurstDecisions& dec) {
        constexpr std::size_t B = fault::BurstDecisions::max;
        std::uint8_t idx[n_engines][B];
        std::uint8_t cnt[n_engines] = {};
        std::uint32_t flow[B];
        bool per_flow[n_engines];   // once a burst, not an out-of-line call per packet
        for (unsigned k = 0; k <= nrules_[d]; ++k) per_flow[k] = engine_[d][k]->per_flow();
        for (std::uint16_t i = 0; i < n; ++i) {
            const auto* data = rte_pktmbuf_mtod(pkts[i], const std::uint8_t*);
            const std::size_t seg_len = rte_pktmbuf_data_len(pkts[i]);
            const unsigned k = flow_class_of(data, seg_len, info[i], rules_[d], nrules_[d]);
            flow[i] = per_flow[k] ? flow_hash(data, seg_len, info[i]) : 0;
            idx[k][cnt[k]++] = static_cast<std::uint8_t>(i);
        }
        dec.any_action = false;
        for (std::size_t k = 0; k < n_engines; ++k) {
            const std::size_t c = cnt[k];
            if (c == 0) continue;
            if (c == n) {
                // The whole burst is one class (one flow's burst, or all unmatched): its
                // engine decides in place, with no gather into and scatter from class arrays.
                engine_[d][k]->decide_burst(n, t_rx, len, ecn, flow, dec);
                count_class(d, k, n, t_rx, dec);
                return;
            }
            std::int64_t g_rx[B];
            std::uint32_t g_len[B], g_flow[B];
            std::uint8_t g_ecn[B];
            for (std::size_t j = 0; j < c; ++j) {
                const std::size_t i = idx[k][j];
                g_rx[j] = t_rx[i];
                g_len[j] = len[i];
                g_ecn[j] = ecn[i];
                g_flow[j] = flow[i];
            }
            engine_[d][k]->decide_burst(c, g_rx, g_len, g_ecn, g_flow, cls_dec_);
            dec.any_action = dec.any_action || cls_dec_.any_action;
            for (std::size_t j = 0; j < c; ++j) {
                const std::size_t i = idx[k][j];
                dec.release_ns[i] = cls_dec_.release_ns[j];
                dec.drawn_ns[i] = cls_dec_.drawn_ns[j];
                dec.corrupt_bit[i] = cls_dec_.corrupt_bit[j];
                dec.flags[i] = cls_dec_.flags[j];
            }
            count_class(d, k, c, g_rx, cls_dec_);
        }
    }

    // Class k's counters for c packets it decided (rx times and decisions in the same order).
    void count_class(int d, std::size_t k, std::size_t c, const std::int64_t* rx, const fault::BurstDecisions& cd) {
        ClassStats& cs = ln_.cls[static_cast<std::size_t>(d)][k];
        std::uint64_t dropped = 0, held = 0, held_us = 0;
        for (std::size_t j = 0; j < c; ++j) {
            if (cd.flags[j] & fault::BurstDecisions::drop) { ++dropped; continue; }
            const std::int64_t held_ns = cd.release_ns[j] - rx[j];
            ++held;
            held_us += static_cast<std::uint64_t>(held_ns > 0 ? (held_ns + 500) / 1000 : 0);
        }
        bump(cs.rx, c);
        if (dropped) bump(cs.dropped_fault, dropped);
        if (held) { bump(cs.held, held); bump(cs.held_sum_us, held_us); }
    }

    // The drop policy for a malformed frame: counts it, frees it and returns true to drop.
    bool malformed(DirStats& st, FrameKind k, rte_mbuf* m) {
        count_malformed(st, k);
        if (cfg_.malformed != MalformedPolicy::drop) return false;
        bump(st.malformed_dropped);
        rte_pktmbuf_free(m);
        return true;
    }

    static void count_malformed(DirStats& st, FrameKind k) {
        bump(st.malformed);
        if (k == FrameKind::runt) bump(st.malformed_runt);
        else if (k == FrameKind::truncated) bump(st.malformed_truncated);
        else bump(st.malformed_oversize);
    }

    void enqueue(int d, ReleaseQueue<rte_mbuf*>& queue, DirStats& st, std::uint64_t due, rte_mbuf* m, std::uint64_t now) {
        // Already due and nothing queued ahead of it: straight to the tx buffer.
        if (due <= now && queue.empty()) { emit(d, m, due, now); return; }
        if (queue.size() >= limit_[d] || !queue.push(due, m)) {
            bump(st.dropped_queue_full);
            rte_pktmbuf_free(m);
        }
    }

    void emit(int d, rte_mbuf* m, std::uint64_t due, std::uint64_t /*now*/) {
        // The PMD frees the mbuf after tx: its header went cold while queued, so ask for both
        // lines (refcnt, next) now rather than miss on each one inside the tx burst.
        rte_prefetch0(m);
        rte_prefetch0(RTE_PTR_ADD(m, RTE_CACHE_LINE_SIZE));
        TxBuf& tx = tx_[d];
        tx.pkts[tx.n] = m;
        tx.due[tx.n++] = due;
        if (tx.n == tx_batch) flush(d);
    }

    void release(int d, std::uint64_t now, std::uint64_t /*loop_start*/) {
        ReleaseQueue<rte_mbuf*>& queue = *queue_[d];
        queue.pop_due(now, 2 * tx_batch, [&](rte_mbuf* m, std::uint64_t due) { emit(d, m, due, now); });
        ln_.dir[static_cast<std::size_t>(d)].in_flight.store(queue.size(), std::memory_order_relaxed);
    }

    void flush(int d) {
        TxBuf& tx = tx_[d];
        DirStats& st = ln_.dir[static_cast<std::size_t>(d)];
        // Release error = the TSC at the tx call - the scheduled TSC. Packets that were due
        // before a stall ended are counted apart: that lateness is the host's, not ours.
        const std::uint64_t t = rte_rdtsc();
        ErrorSums err;
        std::uint64_t late = 0;
        for (std::uint16_t i = 0; i < tx.n; ++i) {
            const bool first = tx.due[i] != tx.last_due;
            tx.last_due = tx.due[i];
            if (watch_.delayed(tx.due[i])) ++late;
            else err.add(st, t > tx.due[i] ? static_cast<std::uint64_t>(static_cast<double>(t - tx.due[i]) * sh_.clock.ns_per_tick) : 0, first);
        }
        err.publish(st);
        if (late) bump(st.late_after_stall, late);
        std::uint16_t sent = 0;
        const bool timed = (++tx_calls_[d] & 63) == 0;
        const std::uint64_t before = timed ? rte_rdtsc() : 0;
        for (int tries = 0; tries < 4 && sent < tx.n; ++tries)
            sent += rte_eth_tx_burst(tx.port, cfg_.queue, tx.pkts + sent, static_cast<std::uint16_t>(tx.n - sent));
        if (timed) { bump(ln_.loop.pmd_tx_ticks, rte_rdtsc() - before); bump(ln_.loop.pmd_tx_pkts, sent); }
        bump(st.tx, sent);
        if (sent < tx.n) {
            bump(st.dropped_tx, tx.n - sent);
            rte_pktmbuf_free_bulk(tx.pkts + sent, tx.n - sent);
        }
        tx.n = 0;
    }
    void flush_all() { for (int d = 0; d < 2; ++d) if (tx_[d].n) flush(d); }

    // After stop: --on-exit drain keeps releasing on schedule (no more rx), drop frees.
    void finish() {
        if (cfg_.on_exit == ExitPolicy::drain) {
            const std::uint64_t limit = rte_rdtsc() + sh_.clock.ticks(cfg_.drain_max_ns);
            while ((!queue_[0]->empty() || !queue_[1]->empty()) && rte_rdtsc() < limit) {
                const std::uint64_t now = tick();
                for (int d = 0; d < 2; ++d) release(d, rte_rdtsc(), now);
                flush_all();
            }
        }
        flush_all();
        for (int d = 0; d < 2; ++d) {
            std::uint64_t n = 0;
            queue_[d]->drain_all([&](rte_mbuf* m, std::uint64_t) { rte_pktmbuf_free(m); ++n; });
            bump(ln_.dir[static_cast<std::size_t>(d)].dropped_exit, n);
            ln_.dir[static_cast<std::size_t>(d)].in_flight.store(0, std::memory_order_relaxed);
        }
    }

    const ForwarderConfig& cfg_;
    Shared& sh_;
    Lane& ln_;   // this lcore's stats and mailbox
    std::unique_ptr<ReleaseQueue<rte_mbuf*>> queue_[2];
    static constexpr std::size_t n_engines = engines_per_dir;
    std::optional<fault::Engine> engine_[2][n_engines];   // [d][0] = unmatched, [d][k] = class k
    ClassRule rules_[2][profile::max_classes];
    unsigned nrules_[2] = {0, 0};
    unsigned reads_[2] = {0, 0};   // frame_reads() of each direction's model
    fault::BurstDecisions dec_;
    // receive()'s per-packet arrays: members, not locals, since FrameInfo's initializers
    // would otherwise fill all 64 on every call.
    struct BurstScratch {
        std::int64_t t_rx[fault::BurstDecisions::max];
        std::uint32_t len[fault::BurstDecisions::max];
        std::uint8_t ecn[fault::BurstDecisions::max];
        std::uint32_t flow[fault::BurstDecisions::max];
        FrameInfo info[fault::BurstDecisions::max];
    } burst_;
    fault::BurstDecisions cls_dec_;   // one class's share of a burst
    std::uint32_t limit_[2] = {0, 0};
    TxBuf tx_[2];
    StallWatch watch_;
    std::uint32_t seen_reset_ = 0;
    HwRx hw_[2];
    bool any_hw_ = false;
    std::uint64_t remap_ticks_ = 0;
    std::uint64_t next_remap_ = 0;
    // rx burst calls and tx flushes, per direction (the loop alternates them: one count for
    // both would sample one direction only), for the PMD sample
    std::uint32_t rx_calls_[2] = {0, 0}, tx_calls_[2] = {0, 0};
};

}  // namespace

int run_forwarder(const ForwarderConfig& cfg, Shared& shared) {
    if (cfg.lane == 0 && fault::test_sigma_scale() != 1.0) {
        std::printf("netchaos-fwd: TEST HOOK: every delay jitter is scaled by %g (NETCHAOS_TEST_ENGINE_SIGMA_SCALE)\n",
                    fault::test_sigma_scale());
        std::fflush(stdout);
    }
    auto loop = std::make_unique<Loop>(cfg, shared);
    if (cfg.lane == 0) shared.running.store(true, std::memory_order_release);
    loop->run();
    if (cfg.lane == 0) shared.running.store(false, std::memory_order_release);
    return 0;
}

}  // namespace netchaos::fwd
