// How long encode_qdisc takes for typical profiles, against `tc qdisc add ... netem` building
// and sending the same options (tc's whole run, measured by the caller: see run.sh).
//   bench_netem_encode [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dist/table.hpp"
#include "netem/encode.hpp"

using namespace netchaos;
using namespace std::chrono_literals;

namespace {

struct Bench {
    const char* name;
    netem::EncodeInput in;
    netem::Op op;
};

double ns_per_encode(const Bench& b, int iterations) {
    std::size_t bytes = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iterations; ++i) {
        auto m = netem::encode_qdisc(b.in, netem::QdiscTarget{2}, b.op, static_cast<std::uint32_t>(i));
        if (!m) {
            std::fprintf(stderr, "%s: %s\n", b.name, m.error().message.c_str());
            std::exit(1);
        }
        bytes += m->size();
    }
    const auto t1 = std::chrono::steady_clock::now();
    if (bytes == 0) std::exit(1);  // keeps the loop observable
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / iterations;
}

}  // namespace

int main(int argc, char** argv) {
    const int iterations = argc > 1 ? std::atoi(argv[1]) : 20000;
    netem::EncodeInput simple;
    simple.imp.delay = profile::Delay{};
    simple.imp.delay->mean = 10ms;

    netem::EncodeInput wan = simple;  // delay 50ms 10ms 25% distribution normal loss 0.5% 25% rate 10mbit
    wan.imp.delay->mean = 50ms;
    wan.imp.delay->jitter = 10ms;
    wan.imp.delay->correlation = 0.25;
    wan.imp.delay->distribution = profile::Distribution::normal;
    wan.imp.loss = profile::Loss{profile::RandomLoss{0.005, 0.25}, false};
    wan.imp.rate = profile::Rate{1'250'000, 0, 0, 0};
    wan.delay_dist = dist::for_distribution(profile::Distribution::normal).value();

    netem::EncodeInput big = wan;
    big.delay_dist = dist::generate(profile::Distribution::normal, dist::max_entries);

    const Bench benches[] = {
        {"delay 10ms (add)", simple, netem::Op::add},
        {"wan, 4096-entry table (add)", wan, netem::Op::add},
        {"wan, 4096-entry table (replace)", wan, netem::Op::replace},
        {"wan, 16384-entry table (add)", big, netem::Op::add},
    };
    for (const auto& b : benches) {
        ns_per_encode(b, iterations / 10);  // warm up
        std::printf("%-34s %9.0f ns/message\n", b.name, ns_per_encode(b, iterations));
    }
    // Loading the table (what tc does on every run) is part of an apply too.
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 200; ++i) (void)dist::for_distribution(profile::Distribution::normal);
    const auto t1 = std::chrono::steady_clock::now();
    std::printf("%-34s %9.0f ns/load\n", "normal.dist load",
                std::chrono::duration<double, std::nano>(t1 - t0).count() / 200);
}
