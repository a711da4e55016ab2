#include <catch2/catch.hpp>
#include <sstream>

#include "experiment/fidelity.hpp"
#include "experiment/samples.hpp"
#include "fakes.hpp"

using namespace netchaos::experiment;
using namespace netchaos::profile;
using namespace std::chrono_literals;

TEST_CASE("prediction: base plus both directions' means; sigmas add in quadrature") {
    Profile p = fakes::delay_profile("p", 30ms, 20ms);
    p.ingress = Impairment{};
    p.ingress->delay = Delay{.mean = 5ms, .jitter = 15ms, .distribution = Distribution::normal};
    auto pr = predict(p, Moments{100, 12.0, 1.0});
    CHECK(pr.applicable);
    // netem's normal table has mean ~0 and sigma ~1 (8192): the model uses its real moments.
    CHECK(pr.mean_ms == Approx(12.0 + 30 + 5).margin(0.1));
    CHECK(pr.sigma_ms == Approx(std::sqrt(1.0 + 400 + 225)).epsilon(0.01));
}

TEST_CASE("prediction: uniform jitter is a half-width, sigma = w / sqrt(3)") {
    Profile p = fakes::delay_profile("u", 50ms, 30ms, Distribution::uniform);
    auto pr = predict(p, Moments{100, 0.0, 0.0});
    CHECK(pr.mean_ms == Approx(50));
    CHECK(pr.sigma_ms == Approx(30 / std::sqrt(3.0)));
}

TEST_CASE("prediction: slot and reorder are outside the model (n/a, never a false miss)") {
    Profile p = fakes::delay_profile("s", 10ms, 0ms);
    p.egress->slot = Slot{.min_delay = 1ms, .max_delay = 5ms};
    auto pr = predict(p, Moments{100, 0.1, 0.01});
    CHECK_FALSE(pr.applicable);
    auto f = check_fidelity("s", pr, Moments{100, 99, 99}, 0.1);
    CHECK(f.pass);
    CHECK_FALSE(f.applicable);
}

TEST_CASE("fidelity check: within tolerance passes, beyond fails, tiny values use the floor") {
    Prediction pr{true, 50, 20, ""};
    CHECK(check_fidelity("x", pr, Moments{1000, 54, 21}, 0.10).pass);
    auto miss = check_fidelity("x", pr, Moments{1000, 56, 20}, 0.10);
    CHECK_FALSE(miss.pass);
    CHECK(miss.mean_error == Approx(0.12));
    CHECK_FALSE(check_fidelity("x", pr, Moments{1000, 50, 15}, 0.10).pass);   // sigma 25% low
    // Baseline 0.1 ms, sigma 0.02: 0.3 ms measured is 200% off but 0.2 ms absolute: noise.
    CHECK(check_fidelity("x", Prediction{true, 0.1, 0.02, ""}, Moments{1000, 0.3, 0.05}, 0.10).pass);
}

TEST_CASE("density overlay integrates to ~1 and peaks near the predicted mean") {
    auto d = predicted_density({{fakes::delay_profile("p", 40ms, 10ms), 1.0}}, Moments{100, 1.0, 0.1});
    REQUIRE(d.size() == 120);
    double area = 0, peak_x = 0, peak = 0;
    for (std::size_t i = 1; i < d.size(); ++i) area += d[i].second * (d[i].first - d[i - 1].first);
    for (auto [x, y] : d)
        if (y > peak) peak = y, peak_x = x;
    CHECK(area == Approx(1.0).margin(0.03));
    CHECK(peak_x == Approx(41).margin(3));
}

TEST_CASE("csv parse: header, lost rows, dup rows, bad rows name the line") {
    std::istringstream in("seq,send_ns,rtt_ns,status\n0,100,2000000,ok\n1,200,,lost\n1,210,2100000,dup\n");
    auto s = parse_csv(in);
    REQUIRE(s);
    REQUIRE(s->size() == 3);
    CHECK((*s)[1].rtt_ns == -1);
    CHECK((*s)[2].status == Sample::Status::dup);
    std::istringstream bad("seq,send_ns,rtt_ns,status\n0,100,x,ok\n");
    auto b = parse_csv(bad);
    REQUIRE_FALSE(b);
    CHECK(b.error().message.find("line 2") != std::string::npos);
}

TEST_CASE("window line parse accepts the probe's JSON and ignores others") {
    auto w = parse_window_line(R"({"type":"window","t_ns":123,"elapsed_s":1,"sent":100,"received":99,"loss":0.01,)"
                               R"("rtt_mean_ms":12.5,"jitter_1s_ms":3.5,"spike_ratio":0.1,"p50_ms":12,"p99_ms":20})");
    REQUIRE(w);
    CHECK(w->t_ns == 123);
    CHECK(w->jitter_1s_ms == 3.5);
    CHECK_FALSE(parse_window_line(R"({"type":"summary","sent":1})"));
    CHECK_FALSE(parse_window_line("not json"));
}

TEST_CASE("stats: loss, moments, window jitter, spike ratio, SLO checks") {
    std::vector<Sample> s;
    // 10 s at 100 Hz; windows 0-4 calm (1 ms +- 0), windows 5-9 alternate 0 / 100 ms (sigma 50).
    for (int i = 0; i < 1000; ++i) {
        std::int64_t t = std::int64_t(i) * 10'000'000;
        double rtt = i < 500 ? 1.0 : (i % 2 ? 100.0 : 0.0);
        bool lost = i % 100 == 0;
        s.push_back({i, t, lost ? -1 : std::int64_t(rtt * 1e6), lost ? Sample::Status::lost : Sample::Status::ok});
    }
    Thresholds th;
    th.spike_level = 40ms;
    th.jitter_1s_max = 80ms;
    th.loss_max = 0.005;
    th.spike_ratio_max = 0.6;
    auto st = compute_stats(s, 0, 10'000'000'000, th);
    CHECK(st.sent == 1000);
    CHECK(st.loss == Approx(0.01));
    CHECK(st.jitter_1s_max_ms == Approx(50).margin(0.5));
    CHECK(st.spike_ratio == Approx(0.5));   // 5 of 10 windows
    auto j = window_jitter_ms(s, 0, 10'000'000'000, th.window);
    auto checks = slo_checks(st, j, th, nullptr);
    REQUIRE(checks.size() == 3);
    CHECK(checks[0].name == "jitter_1s_max");
    CHECK(checks[0].pass);
    CHECK(checks[1].pass);                   // spike 0.5 <= 0.6
    CHECK_FALSE(checks[2].pass);             // loss 1% > 0.5%
    th.alert = AlertRule{.spike_ratio = 0.3, .jitter = 40ms, .periods = 2, .period = 2s};
    auto with_alert = slo_checks(st, j, th, nullptr);
    CHECK(with_alert.back().name == "alert");
    CHECK_FALSE(with_alert.back().pass);     // periods ending at 6, 8, 10 s fire... ratio > 0.3 from 8 s
}
