#include "drive/target.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "drive/netns.hpp"
#include "fwdctl/client.hpp"
#include "metrics/metrics.hpp"
#include "netem/apply.hpp"
#include "profile/parse.hpp"

namespace netchaos::drive {

namespace {
std::int64_t mono_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

std::filesystem::path InProcessTarget::control() const {
    return t_.control.empty() ? std::filesystem::path(fwdctl::default_socket) : t_.control;
}

std::string_view InProcessTarget::peer() const {
    return t_.backend == profile::Backend::http ? "http proxy" : "forwarder";
}

Result<void> InProcessTarget::apply(const profile::Profile& p) {
    const std::int64_t t0 = mono_ns();
    Result<void> r;
    if (t_.backend != profile::Backend::netem) {
        // The forwarder and the HTTP proxy take the normalized profile on their control socket.
        // Table paths absolute: they have another working directory. The experiment's parse
        // already checked where its tables may come from.
        r = fwdctl::load(control(), {profile::to_text(profile::with_absolute_tables(p)), p.name, "both", std::nullopt}, peer());
    } else {
        r = within_netns(t_.netns, [&]() -> Result<void> {
            netem::ApplyOptions o{p, t_.dev, t_.direction == profile::Direction::ingress, std::nullopt, false};
            auto a = netem::apply(o);
            if (!a) return a.error();
            return {};
        });
    }
    if (r) switch_ns_.push_back(mono_ns() - t0);
    return r;
}

Result<void> InProcessTarget::clear() {
    if (t_.backend != profile::Backend::netem) return fwdctl::clear(control(), peer());
    return within_netns(t_.netns, [&]() -> Result<void> {
        auto c = netem::clear(t_.dev);
        if (!c) return c.error();
        return {};
    });
}

std::optional<experiment::EmulatorTruth> truth_of_stats(const nlohmann::json& r) {
    if (!r.value("ok", false) || !r.contains("directions")) return std::nullopt;
    experiment::EmulatorTruth t;
    const auto& dirs = r["directions"];
    for (std::size_t d = 0; d < 2; ++d) {
        const char* name = d == 0 ? "0to1" : "1to0";
        if (!dirs.contains(name)) return std::nullopt;
        const auto& j = dirs[name];
        if (!j.contains("held")) return std::nullopt;   // a forwarder without ground-truth counters
        auto u = [&](const char* k) { return j.value(k, std::uint64_t{0}); };
        t.dir[d] = {u("rx"), u("held"), u("pushed_by_order"), double(u("drawn_sum_us")), double(u("drawn_sumsq_us2")),
                    double(u("held_sum_us")), double(u("held_sumsq_us2"))};
    }
    return t;
}

std::optional<experiment::EmulatorTruth> InProcessTarget::truth() {
    if (t_.backend != profile::Backend::dpdk) return std::nullopt;
    auto r = fwdctl::request(control(), nlohmann::json{{"cmd", "stats"}});
    if (!r) return std::nullopt;
    return truth_of_stats(*r);
}

std::string InProcessTarget::describe() const {
    if (t_.backend == profile::Backend::http) return "http proxy, control " + t_.control.string();
    if (t_.backend == profile::Backend::dpdk)
        return "dpdk forwarder, control " + (t_.control.empty() ? std::string("(default)") : t_.control.string());
    return "netem " + t_.dev + (t_.direction == profile::Direction::ingress ? " ingress" : " egress") +
           (t_.netns.empty() ? "" : " in netns " + t_.netns);
}

std::string InProcessTarget::switch_summary() const {
    if (switch_ns_.empty()) return {};
    std::vector<metrics::Nanos> v;
    for (auto ns : switch_ns_) v.emplace_back(ns);
    std::sort(v.begin(), v.end());
    const double med = double(metrics::percentile_sorted(v, 50).count()) / 1e6, mx = double(v.back().count()) / 1e6;
    char b[200];
    std::snprintf(b, sizeof b, "phase switches: %zu, decision to ack median %.3f ms, max %.3f ms (%s, in process)", v.size(), med, mx,
                  t_.backend == profile::Backend::dpdk   ? "forwarder control socket"
                  : t_.backend == profile::Backend::http ? "http proxy control socket"
                                                         : "netem over netlink");
    return b;
}

}  // namespace netchaos::drive
