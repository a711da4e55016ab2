// Decisions per second of the fault engine for a few profiles, on one core, against a peer
// measured in the same run: drawing N(mean, sigma) delays with libstdc++'s
// std::normal_distribution over std::mt19937_64 (what a naive engine would do per packet).
// Figures are per CPU-second of the benchmark thread.
// Usage: fault_bench [decisions per profile, default 20000000]
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "fault/engine.hpp"

using namespace std::chrono_literals;
namespace profile = netchaos::profile;
namespace fault = netchaos::fault;

namespace {

struct Case {
    std::string name;
    profile::Impairment imp;
};

profile::Delay delay(profile::Duration mean, profile::Duration jitter, profile::Distribution d, double corr = 0) {
    profile::Delay x;
    x.mean = mean;
    x.jitter = jitter;
    x.distribution = d;
    x.correlation = corr;
    return x;
}

std::vector<Case> cases() {
    std::vector<Case> c;
    c.push_back({"passthrough (empty profile)", {}});
    profile::Impairment i;
    i.delay = delay(100us, 20us, profile::Distribution::normal);
    c.push_back({"normal(100us, 20us), order kept", i});
    i.delay->order = profile::JitterOrder::reorder;
    c.push_back({"normal(100us, 20us), reorder", i});
    i = {};
    i.delay = delay(5ms, 1ms, profile::Distribution::normal, 0.25);
    i.loss = profile::Loss{profile::RandomLoss{0.01, 0.25}, false};
    c.push_back({"normal 25% corr + random loss 1% 25% corr", i});
    i = {};
    i.delay = delay(20ms, 5ms, profile::Distribution::pareto);
    c.push_back({"pareto table (20ms, 5ms)", i});
    i = {};
    i.delay = delay(10ms, 2ms, profile::Distribution::paretonormal, 0.5);
    i.loss = profile::Loss{profile::GilbertElliott{0.01, 0.3, 1.0, 0.0}, true};
    i.duplicate = profile::Duplicate{0.01, 0};
    i.corrupt = profile::Corrupt{0.001, 0};
    i.reorder = profile::Reorder{0.05, 0, 5};
    i.rate = profile::Rate{125'000'000, 24, 0, 0};
    c.push_back({"everything: paretonormal corr, GE+ecn, dup, corrupt, reorder, 1gbit", i});
    i = {};
    i.loss = profile::Loss{profile::Markov4{0.02, 0.3, 0.1, 0.05, 0.01}, false};
    i.slot = profile::Slot{1ms, 5ms, std::nullopt, 0ns, 0ns, 32, 65536};
    c.push_back({"markov4 loss + slot(1-5ms, 32 pkts)", i});
    return c;
}

// Thread CPU time, not wall time: the 2-core VM is shared, and time spent descheduled is not
// the engine's cost.
double cpu_now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
    const long n = argc > 1 ? std::atol(argv[1]) : 20'000'000;
    if (n <= 0) {
        std::fprintf(stderr, "usage: fault_bench [decisions > 0]\n");
        return 3;
    }
    // Peer: std::normal_distribution + mt19937_64, one delay per packet.
    std::mt19937_64 mt(1);
    std::normal_distribution<double> nd(100e3, 20e3);
    double t0 = cpu_now();
    double sink = 0;
    for (long k = 0; k < n; ++k) sink += nd(mt);
    const double peer = n / (cpu_now() - t0);
    std::printf("%-70s %8.2f M/s  %6.1f ns  (peer)\n", "std::normal_distribution<mt19937_64> draw", peer / 1e6, 1e9 / peer);

    for (const auto& c : cases()) {
        auto m = fault::compile(c.imp);
        if (!m) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), m.error().message.c_str());
            return 3;
        }
        fault::Engine e(*m, 42);
        std::int64_t acc = 0;
        t0 = cpu_now();
        for (long k = 0; k < n; ++k) {
            const auto d = e.decide(k * 100, 64 + static_cast<std::uint32_t>(k & 1023), k & 1);
            acc += d.release_ns + d.drop;
        }
        const double rate = n / (cpu_now() - t0);
        sink += static_cast<double>(acc);
        std::printf("%-70s %8.2f M/s  %6.1f ns  %5.2fx peer\n", c.name.c_str(), rate / 1e6, 1e9 / rate, rate / peer);
    }
    std::fprintf(stderr, "(checksum %g)\n", sink);
    return 0;
}
