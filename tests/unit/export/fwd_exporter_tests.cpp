// The forwarder's collector on hand-filled counters: names, labels, the regrouped
// release-error histogram (exact cumulative counts at powers of two) and the profile series.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "export/families.hpp"
#include "scrape.hpp"
#include "export/fwd_exporter.hpp"

using namespace netchaos;
using export_test::sample;

TEST_CASE("fwd exporter: counters by direction and reason, in flight, stalls") {
    std::array<fwd::DirStats, 2> dir;
    fwd::LoopStats loop;
    fwd::bump(dir[0].rx, 1000);
    fwd::bump(dir[0].tx, 990);
    fwd::bump(dir[0].dropped_fault, 7);
    fwd::bump(dir[1].dropped_queue_full, 3);
    fwd::bump(dir[1].ecn_marked, 2);
    dir[0].in_flight.store(5);
    fwd::bump(loop.stalls, 4);
    fwd::bump(loop.stall_ns_total, 2'500'000);
    exporter::FwdCollector c(dir, loop);
    const std::string t = exporter::render(c.Collect());
    INFO(t);
    CHECK(sample(t, R"(netchaos_fwd_rx_packets_total{direction="0to1"})") == 1000);
    CHECK(sample(t, R"(netchaos_fwd_tx_packets_total{direction="0to1"})") == 990);
    CHECK(sample(t, R"(netchaos_fwd_rx_packets_total{direction="1to0"})") == 0);
    CHECK(sample(t, R"(netchaos_fwd_dropped_packets_total{direction="0to1",reason="fault"})") == 7);
    CHECK(sample(t, R"(netchaos_fwd_dropped_packets_total{direction="1to0",reason="queue_full"})") == 3);
    CHECK(sample(t, R"(netchaos_fwd_ecn_marked_packets_total{direction="1to0"})") == 2);
    CHECK(sample(t, R"(netchaos_fwd_in_flight_packets{direction="0to1"})") == 5);
    CHECK(sample(t, "netchaos_fwd_stalls_total") == 4);
    CHECK(sample(t, "netchaos_fwd_stall_seconds_total") == Approx(0.0025));
}

TEST_CASE("fwd exporter: release errors regrouped at powers of two, exactly") {
    std::array<fwd::DirStats, 2> dir;
    fwd::LoopStats loop;
    // 2^k - 1 ns is the last value of the bucket below le = 2^k; 2^k itself is above it.
    for (std::uint64_t ns : {100ull, 1023ull, 1024ull, 5000ull, 1'000'000ull}) dir[1].record_error(ns, true);
    exporter::FwdCollector c(dir, loop);
    const std::string t = exporter::render(c.Collect());
    INFO(t);
    // The count of the bucket whose le parses to `bound` seconds (labels print 16 digits).
    auto le = [&](double bound) -> std::optional<double> {
        const std::string head = R"(netchaos_fwd_release_error_seconds_bucket{direction="1to0",le=")";
        std::istringstream in(t);
        for (std::string line; std::getline(in, line);)
            if (line.rfind(head, 0) == 0) {
                const double b = std::stod(line.substr(head.size()));
                if (b == bound || std::abs(b - bound) < 1e-12 * bound) return std::stod(line.substr(line.rfind(' ') + 1));
            }
        return std::nullopt;
    };
    CHECK(le(128e-9) == 1);      // 100
    CHECK(le(1024e-9) == 2);     // + 1023
    CHECK(le(2048e-9) == 3);     // + 1024
    CHECK(le(4096e-9) == 3);
    CHECK(le(8192e-9) == 4);     // + 5000
    CHECK(le(524288e-9) == 4);
    CHECK(le(1048576e-9) == 5);  // + 1e6
    CHECK(le(17.179869184) == 5);
    CHECK(le(INFINITY) == 5);
    CHECK(sample(t, R"(netchaos_fwd_release_error_seconds_count{direction="1to0"})") == 5);
    CHECK(sample(t, R"(netchaos_fwd_release_error_seconds_sum{direction="1to0"})") == Approx(1'007'147e-9));
    CHECK(sample(t, R"(netchaos_fwd_release_error_seconds_count{direction="0to1"})") == 0);
}

TEST_CASE("fwd exporter: the active profile as info and requested moments") {
    std::array<fwd::DirStats, 2> dir;
    fwd::LoopStats loop;
    exporter::FwdCollector c(dir, loop);
    c.set_profile(0, {"morning (egress)", "[egress.delay]\nmean = \"35ms\"\n", 0.035, 0.02});
    c.set_profile(1, {"passthrough", "", 0.0, 0.0});
    std::string t = exporter::render(c.Collect());
    const std::string h = exporter::profile_hash("[egress.delay]\nmean = \"35ms\"\n");
    CHECK(h.size() == 16);
    CHECK(h != exporter::profile_hash("[egress.delay]\nmean = \"36ms\"\n"));
    CHECK(sample(t, R"(netchaos_fwd_profile_info{direction="0to1",hash=")" + h + R"x(",profile="morning (egress)"})x") == 1);
    CHECK(sample(t, R"(netchaos_fwd_requested_delay_mean_seconds{direction="0to1"})") == Approx(0.035));
    CHECK(sample(t, R"(netchaos_fwd_requested_delay_stddev_seconds{direction="0to1"})") == Approx(0.02));
    CHECK(sample(t, R"(netchaos_fwd_requested_delay_mean_seconds{direction="1to0"})") == 0);
    // Unknown moments (a table the forwarder cannot read): no sample rather than a wrong one.
    c.set_profile(0, {"custom (egress)", "x", std::nullopt, std::nullopt});
    t = exporter::render(c.Collect());
    CHECK(!sample(t, R"(netchaos_fwd_requested_delay_mean_seconds{direction="0to1"})"));
}
