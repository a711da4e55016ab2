#pragma once
// Injected time and randomness: production code asks these interfaces, tests pass fakes.
#include <chrono>
#include <cstdint>
#include <random>

namespace netchaos {

using Nanos = std::chrono::nanoseconds;

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::steady_clock::time_point now() const = 0;
};

class SteadyClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
};

// A clock the test moves by hand.
class ManualClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override { return t_; }
    void advance(Nanos d) { t_ += d; }
    void set(std::chrono::steady_clock::time_point t) { t_ = t; }
private:
    std::chrono::steady_clock::time_point t_{};
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
