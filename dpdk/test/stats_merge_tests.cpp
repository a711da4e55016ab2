// --lcores N: the lanes' stats summed into one direction (stats.hpp merge), as every reader
// (control stats, show, drive's parser, the exporter) sees them.
#include <catch2/catch.hpp>

#include "stats.hpp"

using namespace netchaos::fwd;

TEST_CASE("merge: counters and histograms add, in flight adds, the worst error wins") {
    std::array<DirStats, 2> lane0, lane1;
    LoopStats loop0, loop1;
    bump(lane0[0].rx, 10);
    bump(lane1[0].rx, 32);
    bump(lane0[0].tx, 7);
    bump(lane1[0].tx, 5);
    bump(lane1[1].dropped_fault, 3);
    lane0[0].in_flight.store(4);
    lane1[0].in_flight.store(6);
    lane0[0].record_error(100, true);
    lane0[0].record_error(5000, false);   // behind the previous, due at the same instant
    lane1[0].record_error(100, true);
    lane1[0].record_error(900, true);
    bump(lane0[0].held_hist[static_cast<std::size_t>(Histogram::index(1000))], 2);
    bump(lane1[0].held_hist[static_cast<std::size_t>(Histogram::index(1000))], 5);
    bump(loop0.stalls, 1);
    bump(loop1.stalls, 2);
    loop0.stall_max_ns.store(800'000);
    loop1.stall_max_ns.store(600'000);
    bump(loop0.iterations, 100);
    bump(loop1.iterations, 50);
    bump(loop0.pmd_rx_ticks, 640); bump(loop0.pmd_rx_pkts, 64);
    bump(loop1.pmd_rx_ticks, 360); bump(loop1.pmd_rx_pkts, 36);
    bump(loop1.pmd_tx_ticks, 77);  bump(loop1.pmd_tx_pkts, 7);

    const std::vector<LaneView> lanes{{&lane0, &loop0}, {&lane1, &loop1}};
    const Snapshot s = snapshot(lanes, 0);
    CHECK(s.rx == 42);
    CHECK(s.tx == 12);
    CHECK(s.in_flight == 10);
    CHECK(s.err_max_ns == 5000);
    CHECK(s.err_sum_ns == 6100);
    CHECK(s.err_hist[static_cast<std::size_t>(Histogram::index(100))] == 2);
    CHECK(s.err_hist[static_cast<std::size_t>(Histogram::index(900))] == 1);
    CHECK(s.first_err_hist[static_cast<std::size_t>(Histogram::index(100))] == 2);
    CHECK(s.first_err_hist[static_cast<std::size_t>(Histogram::index(900))] == 1);
    CHECK(s.first_err_hist[static_cast<std::size_t>(Histogram::index(5000))] == 0);
    CHECK(s.held_hist[static_cast<std::size_t>(Histogram::index(1000))] == 7);
    CHECK(snapshot(lanes, 1).dropped_fault == 3);
    CHECK(snapshot(lanes, 1).rx == 0);
    // The merged JSON is the one-lane format: 4 release errors, the max the larger lane's.
    const auto j = to_json(s);
    CHECK(j["release_error_ns"]["count"] == 4);
    CHECK(j["release_error_ns"]["max"] == 5000);
    CHECK(j["release_error_first_ns"]["count"] == 3);
    CHECK(j["release_error_first_ns"]["p99"] == Histogram::upper(Histogram::index(900)));
    CHECK(j["rx"] == 42);

    const LoopSnapshot l = loop_snapshot(lanes);
    CHECK(l.stalls == 3);
    CHECK(l.stall_max_ns == 800'000);
    CHECK(l.iterations == 150);
    CHECK(l.pmd_rx_ticks == 1000);   // the PMD samples sum over lanes
    CHECK(l.pmd_rx_pkts == 100);
    CHECK(l.pmd_tx_ticks == 77);
    CHECK(l.pmd_tx_pkts == 7);
}

TEST_CASE("merge of one lane is that lane") {
    std::array<DirStats, 2> lane;
    LoopStats loop;
    bump(lane[1].tx, 9);
    lane[1].record_error(42, true);
    const Snapshot one = snapshot(lane[1]);
    const Snapshot merged = snapshot(std::vector<LaneView>{{&lane, &loop}}, 1);
    CHECK(merged.tx == one.tx);
    CHECK(merged.err_max_ns == one.err_max_ns);
    CHECK(merged.err_hist == one.err_hist);
    CHECK(merged.first_err_hist == one.first_err_hist);
}
