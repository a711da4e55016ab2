#pragma once
// A transport whose replies come from a script, on a ManualClock: the prober's grid,
// windows and records become deterministic (no sockets, no scheduler).
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "probe/transport.hpp"

namespace probe_test {

struct Scripted final : netchaos::probe::Transport {
    using Nanos = std::chrono::nanoseconds;
    netchaos::ManualClock& clock;
    std::function<std::optional<Nanos>(std::uint64_t)> rtt;   // nullopt: no reply
    std::function<std::uint32_t(std::uint64_t)> dups = [](std::uint64_t) { return 0u; };
    std::mutex m;
    std::multimap<std::int64_t, std::uint64_t> due;   // arrival -> seq
    std::vector<std::int64_t> sends;                  // send_ns passed to send(), by seq

    Scripted(netchaos::ManualClock& c, std::function<std::optional<Nanos>(std::uint64_t)> r) : clock(c), rtt(std::move(r)) {}
    int send(std::uint64_t seq, std::int64_t send_ns) override {
        std::lock_guard lk(m);
        sends.push_back(send_ns);
        if (auto r = rtt(seq))
            for (std::uint32_t k = 0; k <= dups(seq); ++k) due.emplace(send_ns + r->count(), seq);   // dups arrive with it
        return 0;
    }
    void poll(Nanos wait, netchaos::probe::Sink& sink) override {
        std::vector<std::pair<std::int64_t, std::uint64_t>> ready;
        {
            std::lock_guard lk(m);
            const std::int64_t now = clock.now_ns();
            while (!due.empty() && due.begin()->first <= now) {
                ready.emplace_back(*due.begin());
                due.erase(due.begin());
            }
        }
        for (const auto& [t, seq] : ready) sink.reply({seq, t, std::nullopt, 0});
        // Virtual time moves with the sender; do not spin a core while waiting for it.
        if (ready.empty() && wait.count() > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    const char* describe() const override { return "scripted"; }
};

}  // namespace probe_test
