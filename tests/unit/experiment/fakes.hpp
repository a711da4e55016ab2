#pragma once
// Fakes for the runner's edges: a manual monotonic clock, a fault target that records what
// was applied when, a probe that synthesizes RTTs from the active profile, and a command
// that finishes at a set time.
#include <cmath>
#include <optional>

#include "common/clock.hpp"
#include "experiment/runner.hpp"

namespace fakes {

using namespace netchaos;
using namespace netchaos::experiment;
using namespace std::chrono_literals;

struct FakeTimer final : Timer {
    std::int64_t t = 1'000'000'000'000;   // arbitrary monotonic origin
    std::function<void(std::int64_t)> on_sleep;   // e.g. raise a signal at some time
    std::int64_t now_ns() const override { return t; }
    void sleep_until(std::int64_t until, const std::atomic<int>& stop) override {
        if (stop.load()) return;
        if (until > t) t = until;
        if (on_sleep) on_sleep(t);
    }
};

struct Event {
    std::int64_t t;
    std::optional<profile::Profile> applied;   // nullopt = clear
};

struct FakeTarget final : FaultTarget {
    FakeTimer& timer;
    std::vector<Event> history;
    int fail_on_apply = -1;   // index of the apply call that fails
    int applies = 0;
    explicit FakeTarget(FakeTimer& t) : timer(t) {}
    Result<void> apply(const profile::Profile& p) override {
        if (applies++ == fail_on_apply) return make_error("boom");
        history.push_back({timer.t, p});
        return {};
    }
    Result<void> clear() override {
        history.push_back({timer.t, std::nullopt});
        return {};
    }
    std::string describe() const override { return "fake"; }
    const profile::Profile* active_at(std::int64_t t) const {
        const profile::Profile* p = nullptr;
        for (const auto& e : history)
            if (e.t <= t) p = e.applied ? &*e.applied : nullptr;
        return p;
    }
};

// RTT = base (0.2 ms, sigma 0.02 ms) + per direction mean + jitter * N(0,1); `truncate`
// clamps each direction's delay at zero, as a real emulator must.
struct FakeProbe final : ProbeSource {
    FakeTimer& timer;
    FakeTarget& target;
    bool truncate = true;
    double jitter_scale = 1.0;   // < 1: an emulator that delivers less jitter than asked
    double idle_noise_ms = 0;    // |N(0, x)| added while no fault is active: CPU noise after the baseline
    std::int64_t noise_from = 0; // ...from this time on (the baseline stays quiet)
    double loss_every = 0;   // every Nth packet lost
    std::int64_t deaf_after_ns = -1;   // from start + this on, every packet is lost (-1: never)
    std::int64_t dies_after_ns = -1;   // from start + this on, the probe has exited (-1: never)
    std::int64_t start_t = 0;
    std::int64_t windows_done_ns = 0;
    Rng window_rng{11};
    explicit FakeProbe(FakeTimer& t, FakeTarget& g) : timer(t), target(g) {}
    Result<void> start() override {
        start_t = timer.t;
        return {};
    }
    // 1 s windows on the probe's own grid (from its start), computed by src/metrics as the
    // real probe does.
    std::vector<Window> poll() override {
        std::vector<Window> out;
        for (; windows_done_ns + 1'000'000'000 <= timer.t - start_t; windows_done_ns += 1'000'000'000) {
            const std::int64_t from = start_t + windows_done_ns, to = from + 1'000'000'000;
            auto s = samples(from, to, window_rng);
            std::vector<metrics::Window> w;
            metrics::summarize(s, metrics::Nanos{from}, metrics::Nanos{to}, metrics::Config{}, &w);
            out.push_back({to, w.at(0)});
        }
        return out;
    }
    Result<std::vector<Record>> stop() override {
        Rng rng(7);
        return samples(start_t, timer.t, rng);
    }
    std::vector<Record> samples(std::int64_t from, std::int64_t to, Rng& rng) const {
        std::vector<Record> out;
        auto normal = [&] {
            double u1 = std::max(1e-12, rng.uniform()), u2 = rng.uniform();
            return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
        };
        std::int64_t seq = (from - start_t) / 10'000'000;
        // Order-preserving jitter (reorder = false) releases no packet before the previous
        // one in its direction: release_i = max(release_{i-1}, t_i + d_i), in ms.
        double last[2] = {-1e300, -1e300};
        for (std::int64_t t = from; t < to; t += 10'000'000, ++seq) {
            double rtt = 0.2 + 0.02 * normal();
            const auto* active = target.active_at(t);
            if ((!active || (!active->egress && !active->ingress)) && idle_noise_ms > 0 && t >= noise_from) rtt += idle_noise_ms * std::abs(normal());
            if (const auto* p = active) {
                int dir = 0;
                for (const auto* imp : {p->egress ? &*p->egress : nullptr, p->ingress ? &*p->ingress : nullptr}) {
                    ++dir;
                    if (!imp || !imp->delay) continue;
                    double d = imp->delay->mean.count() / 1e6 + imp->delay->jitter.count() / 1e6 * normal() * jitter_scale;
                    if (truncate) d = std::max(0.0, d);
                    if (imp->delay->order == profile::JitterOrder::preserve) {
                        const double at = double(t) / 1e6;
                        d = std::max(at + d, last[dir - 1]) - at;
                        last[dir - 1] = at + d;
                    }
                    rtt += d;
                }
            }
            bool lost = (loss_every > 0 && seq % std::int64_t(loss_every) == 0) || (deaf_after_ns >= 0 && t >= start_t + deaf_after_ns);
            Record r{std::uint64_t(seq), metrics::Nanos{t}, std::nullopt, 0};
            if (!lost) r.rtt = metrics::Nanos{std::int64_t(rtt * 1e6)};
            out.push_back(r);
        }
        return out;
    }
    std::string describe() const override { return "fake probe"; }
    std::optional<std::string> failure() override {
        if (dies_after_ns >= 0 && timer.t >= start_t + dies_after_ns) return "probe exited 1: netchaos probe: port unreachable";
        return std::nullopt;
    }
};

struct FakeCommand final : CommandRunner {
    FakeTimer& timer;
    std::int64_t runtime_ns;
    int status;
    std::int64_t started = -1;
    bool terminated = false;
    FakeCommand(FakeTimer& t, std::int64_t rt, int st) : timer(t), runtime_ns(rt), status(st) {}
    Result<void> start(const std::vector<std::string>&) override {
        started = timer.t;
        return {};
    }
    std::optional<int> poll() override {
        if (started >= 0 && timer.t >= started + runtime_ns) return status;
        return std::nullopt;
    }
    int terminate() override {
        terminated = true;
        return 143;
    }
};

inline profile::Profile delay_profile(const std::string& name, std::chrono::nanoseconds mean,
                                      std::chrono::nanoseconds jitter,
                                      profile::Distribution d = profile::Distribution::normal) {
    profile::Profile p;
    p.name = name;
    profile::Impairment imp;
    imp.delay = profile::Delay{.mean = mean, .jitter = jitter, .distribution = d};
    p.egress = imp;
    return p;
}

inline profile::Experiment make_experiment(std::vector<profile::Phase> phases) {
    profile::Experiment e;
    e.name = "unit";
    e.baseline = 3s;
    e.thresholds.fidelity_tolerance = 0.10;
    for (auto& p : phases) p.thresholds = e.thresholds;
    e.phases = std::move(phases);
    return e;
}

}  // namespace fakes
