// The probe's exporter on the deterministic prober (ManualClock, scripted replies): what a
// scrape returns must be exactly what src/metrics measured, lost probes never in the RTT
// series, and `--duration 0` runs until stopped.
#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>

#include "export/families.hpp"
#include "scrape.hpp"
#include "export/probe_exporter.hpp"
#include "export/server.hpp"
#include "probe/prober.hpp"
#include "scripted.hpp"

using namespace netchaos;
using export_test::sample;
using namespace std::chrono_literals;

namespace {
const std::string L = R"({mode="udp",target="10.0.0.2:7777"})";
std::string with_le(const std::string& name, const std::string& le) {
    return name + R"({mode="udp",target="10.0.0.2:7777",le=")" + le + "\"}";
}

struct Wired {
    exporter::ProbeExporter prom{"10.0.0.2:7777", "udp"};
    std::vector<metrics::Window> windows;
    probe::ProbeCallbacks cb;
    Wired() {
        cb.added = [this](const metrics::Added& a) { prom.added(a); };
        cb.totals = [this](const metrics::Totals& t) { prom.totals(t); };
        cb.window = [this](const metrics::Window& w, std::int64_t) {
            prom.window(w);
            windows.push_back(w);
        };
    }
};
}  // namespace

TEST_CASE("exporter: latency buckets are 10 us to 10 s, 5 per decade") {
    const auto& b = exporter::latency_buckets();
    REQUIRE(b.size() == 31);
    CHECK(b.front() == Approx(10e-6));
    CHECK(b.back() == Approx(10.0));
    for (std::size_t i = 1; i < b.size(); ++i) CHECK(b[i] / b[i - 1] == Approx(1.585).epsilon(0.03));
}

TEST_CASE("exporter: a scrape holds what src/metrics measured; a lost probe is never an RTT") {
    ManualClock clock;
    clock.set(std::chrono::steady_clock::time_point(1000s));
    // Every 4th probe lost; RTT 20 ms + 1 ms per seq mod 4 (20, 21, 22); probe 7 answered twice.
    probe_test::Scripted t(clock, [](std::uint64_t seq) -> std::optional<Nanos> {
        if (seq % 4 == 3) return std::nullopt;
        return 20ms + 1ms * static_cast<int>(seq % 4);
    });
    t.dups = [](std::uint64_t seq) { return seq == 6 ? 1u : 0u; };
    Wired w;
    probe::ProbeOptions o;
    o.rate_hz = 100;
    o.duration = 3s;
    o.timeout = 500ms;
    std::atomic<bool> stop{false};
    auto run = probe::run_probe(o, t, clock, stop, w.cb);
    REQUIRE(run);
    const metrics::Summary& s = run->summary;
    const std::string text = w.prom.text();
    INFO(text);
    REQUIRE(s.sent == 300);
    REQUIRE(s.lost == 75);
    CHECK(sample(text, "netchaos_probe_sent_total" + L) == Approx(double(s.sent)));
    CHECK(sample(text, "netchaos_probe_received_total" + L) == Approx(double(s.received)));
    CHECK(sample(text, "netchaos_probe_lost_total" + L) == Approx(75));
    CHECK(sample(text, "netchaos_probe_duplicated_total" + L) == Approx(1));
    CHECK(sample(text, "netchaos_probe_reordered_total" + L) == Approx(double(s.reordered)));
    CHECK(sample(text, "netchaos_probe_windows_total" + L) == Approx(3));
    // The RTT histogram: received probes only (blackbox_exporter#984 exports a loss as 0).
    CHECK(sample(text, "netchaos_probe_rtt_seconds_count" + L) == Approx(225));
    CHECK(sample(text, "netchaos_probe_rtt_seconds_sum" + L) == Approx(s.rtt_mean_ns * 225 / 1e9));
    CHECK(sample(text, with_le("netchaos_probe_rtt_seconds_bucket", "0.016")) == Approx(0));
    CHECK(sample(text, with_le("netchaos_probe_rtt_seconds_bucket", "0.025")) == Approx(225));
    // |IPDV|: consecutive seqs both answered, 2 pairs per 4 seqs (0-1, 1-2), 1 ms each.
    CHECK(sample(text, "netchaos_probe_ipdv_abs_seconds_count" + L) == Approx(double(s.ipdv_pairs)));
    CHECK(sample(text, "netchaos_probe_ipdv_abs_seconds_sum" + L) == Approx(s.ipdv_mean_ns * double(s.ipdv_pairs) / 1e9));
    // The gauges hold the last window's figures.
    REQUIRE(w.windows.size() == 3);
    REQUIRE(w.windows.back().jitter_ns);
    CHECK(sample(text, "jitter_1s_seconds" + L) == Approx(*w.windows.back().jitter_ns / 1e9));
    CHECK(sample(text, "jitter_spike_ratio" + L) == Approx(w.windows.back().spike_ratio));
    CHECK(sample(text, "netchaos_probe_window_loss_ratio" + L) == Approx(0.25));
}

TEST_CASE("exporter: spike ratio and jitter_1s follow the windows; no jitter is NaN, not 0") {
    ManualClock clock;
    clock.set(std::chrono::steady_clock::time_point(50s));
    // Window 0: all lost (no jitter_1s); windows 1-2: RTT alternating 10 / 210 ms (sd ~100 ms).
    probe_test::Scripted t(clock, [](std::uint64_t seq) -> std::optional<Nanos> {
        if (seq < 10) return std::nullopt;
        return seq % 2 ? 210ms : 10ms;
    });
    Wired w;
    std::vector<std::string> scrapes;
    auto window = w.cb.window;
    w.cb.window = [&](const metrics::Window& win, std::int64_t end) {
        window(win, end);
        scrapes.push_back(w.prom.text());
    };
    probe::ProbeOptions o;
    o.rate_hz = 10;
    o.duration = 3s;
    o.timeout = 500ms;
    std::atomic<bool> stop{false};
    REQUIRE(probe::run_probe(o, t, clock, stop, w.cb));
    REQUIRE(scrapes.size() == 3);
    const auto j0 = sample(scrapes[0], "jitter_1s_seconds" + L);
    REQUIRE(j0);
    CHECK(std::isnan(*j0));
    CHECK(sample(scrapes[0], "jitter_spike_ratio" + L) == Approx(0));
    CHECK(sample(scrapes[0], "netchaos_probe_rtt_seconds_count" + L) == Approx(0));
    CHECK(sample(scrapes[1], "jitter_1s_seconds" + L) == Approx(*w.windows[1].jitter_ns / 1e9));
    CHECK(*sample(scrapes[1], "jitter_1s_seconds" + L) > 0.08);
    // Windows without a jitter_1s are outside the ratio: 1 of 1, then 2 of 2.
    CHECK(sample(scrapes[1], "jitter_spike_ratio" + L) == Approx(1));
    CHECK(sample(scrapes[2], "jitter_spike_ratio" + L) == Approx(1));
}

TEST_CASE("prober: duration 0 runs until stopped, and every window sent in is closed") {
    ManualClock clock;
    clock.set(std::chrono::steady_clock::time_point(7s));
    probe_test::Scripted t(clock, [](std::uint64_t) -> std::optional<Nanos> { return 5ms; });
    Wired w;
    std::atomic<bool> stop{false};
    auto window = w.cb.window;
    w.cb.window = [&](const metrics::Window& win, std::int64_t end) {
        window(win, end);
        if (win.index == 4) stop.store(true);
    };
    probe::ProbeOptions o;
    o.rate_hz = 50;
    o.duration = 0s;
    o.timeout = 200ms;
    auto run = probe::run_probe(o, t, clock, stop, w.cb);
    REQUIRE(run);
    CHECK(run->interrupted);
    CHECK(run->summary.windows >= 5);
    CHECK(run->summary.sent == run->summary.received);
    CHECK(sample(w.prom.text(), "netchaos_probe_sent_total" + L) == Approx(double(run->summary.sent)));
}

TEST_CASE("exporter: --metrics-listen addresses") {
    CHECK(exporter::check_listen("127.0.0.1:9464"));
    CHECK(exporter::check_listen("[::1]:0"));
    CHECK(exporter::check_listen("0.0.0.0:65535"));
    for (const char* bad : {"9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:x", "::1:9464", "[::1:9464"}) {
        INFO(bad);
        const auto r = exporter::check_listen(bad);
        REQUIRE(!r);
        CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    }
}

TEST_CASE("exporter: the server binds, reports its port, and refuses a port in use") {
    exporter::ProbeExporter prom("h:1", "udp");
    auto a = exporter::Server::start("127.0.0.1:0", prom.registry());
    REQUIRE(a);
    CHECK((*a)->port() > 0);
    CHECK((*a)->url() == "http://127.0.0.1:" + std::to_string((*a)->port()) + "/metrics");
    auto b = exporter::Server::start("127.0.0.1:" + std::to_string((*a)->port()), prom.registry());
    REQUIRE(!b);
    CHECK(b.error().kind == netchaos::ErrorKind::system);
    CHECK_THAT(b.error().message, Catch::Contains("Address already in use"));
}
