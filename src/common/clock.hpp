#pragma once
// Injected time and randomness: production code asks these interfaces, tests pass fakes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <time.h>

namespace netchaos {

using Nanos = std::chrono::nanoseconds;

// Monotonic time that can also be waited on. The probe's grid and windows run on one of
// these: SteadyClock in production, ManualClock in tests (a wait jumps to its deadline, so a
// ten-second probe runs in milliseconds and lands every send exactly on its slot).
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::steady_clock::time_point now() const = 0;
    // Returns at `t` or later, or earlier once *stop is set.
    virtual void sleep_until(std::chrono::steady_clock::time_point t, const std::atomic<bool>* stop = nullptr) = 0;
    std::int64_t now_ns() const { return now().time_since_epoch().count(); }
};

// CLOCK_MONOTONIC (what steady_clock is on Linux). sleep_until sleeps to `spin` before the
// deadline, then reads the clock until it passes: a wake-up from sleep is late by tens of
// microseconds on a busy host, a bounded spin is not.
class SteadyClock final : public Clock {
public:
    explicit SteadyClock(Nanos spin = Nanos{0}) : spin_(spin) {}
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
    void sleep_until(std::chrono::steady_clock::time_point t, const std::atomic<bool>* stop = nullptr) override {
        // Absolute sleep: no drift from computing a relative one. A signal (EINTR) ends it
        // early only when it also set *stop.
        const std::int64_t wake = (t - spin_).time_since_epoch().count();
        if (now().time_since_epoch().count() < wake) {
            const timespec ts{static_cast<time_t>(wake / 1'000'000'000), static_cast<long>(wake % 1'000'000'000)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR)
                if (stop && stop->load()) return;
        }
        while (now() < t && !(stop && stop->load())) {
        }
    }
private:
    Nanos spin_;
};

// A clock the test moves by hand; sleeping moves it to the deadline. Safe to read and move
// from several threads.
class ManualClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override {
        return std::chrono::steady_clock::time_point(Nanos{t_.load()});
    }
    void sleep_until(std::chrono::steady_clock::time_point t, const std::atomic<bool>* = nullptr) override {
        const std::int64_t want = t.time_since_epoch().count();
        std::int64_t cur = t_.load();
        while (cur < want && !t_.compare_exchange_weak(cur, want)) {
        }
    }
    void advance(Nanos d) { t_.fetch_add(d.count()); }
    void set(std::chrono::steady_clock::time_point t) { t_.store(t.time_since_epoch().count()); }
private:
    std::atomic<std::int64_t> t_{0};
};

// Fast, seedable 64-bit generator (xoshiro256**). Deterministic for a seed, no global state.
class Rng {
public:
    using result_type = std::uint64_t;
    explicit Rng(std::uint64_t seed = 0x9e3779b97f4a7c15ULL) { reseed(seed); }
    void reseed(std::uint64_t seed) {
        for (auto& w : s_) {  // splitmix64 expands the seed
            seed += 0x9e3779b97f4a7c15ULL;
            std::uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            w = z ^ (z >> 31);
        }
    }
    static constexpr result_type min() { return 0; }
    static constexpr result_type max() { return ~result_type{0}; }
    result_type operator()() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
        s_[2] ^= t; s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform double in [0, 1).
    double uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
    std::uint32_t next_u32() { return static_cast<std::uint32_t>((*this)() >> 32); }
private:
    static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4]{};
};

}  // namespace netchaos
