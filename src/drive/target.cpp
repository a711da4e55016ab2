#include "drive/target.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "drive/gone.hpp"
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

// Median and maximum of durations, in ms.
std::pair<double, double> median_max_ms(const std::vector<std::int64_t>& ns) {
    if (ns.empty()) return {0.0, 0.0};
    std::vector<metrics::Nanos> v;
    for (auto x : ns) v.emplace_back(x);
    std::sort(v.begin(), v.end());
    return {double(metrics::percentile_sorted(v, 50).count()) / 1e6, double(v.back().count()) / 1e6};
}
}  // namespace

NetnsRef InProcessTarget::where() const {
    if (t_.pid > 0) return {NetnsRef::Kind::pid, std::to_string(t_.pid), t_.pid, t_.container.empty() ? "" : "container " + t_.container};
    if (!t_.netns.empty()) return {NetnsRef::Kind::name, t_.netns, 0, {}};
    return {};
}

Result<PinnedNetns> InProcessTarget::pin() {
    const NetnsRef ref = where();
    auto ns = pin_netns(ref);
    if (!ns) {
        if (target_gone(ref)) gone_why_ = ref.label() + " no longer exists";
        return gone() ? make_error("target gone: " + gone_why_) : ns.error();
    }
    if (ref.is_current()) return ns;
    // The first apply fixes which namespace this target is: a name made again, or a pid
    // reused by another process, is another namespace, and not ours to touch.
    if (!identity_) identity_ = ns->identity();
    else if (!(*identity_ == ns->identity())) {
        gone_why_ = ref.label() + " now names another network namespace (net:[" + std::to_string(ns->identity().ino) +
                    "], not net:[" + std::to_string(identity_->ino) + "])";
        return make_error("target gone: " + gone_why_);
    }
    return ns;
}

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
        auto ns = pin();
        if (!ns) return ns.error();
        const NetnsRef ref = where();
        r = within(*ns, [&]() -> Result<void> {
            netem::ApplyOptions o{p, t_.dev, t_.direction == profile::Direction::ingress, std::nullopt, false, false,
                                  ref.is_current() ? "" : ref.label()};
            auto a = netem::apply(o);
            if (!a) return a.error();
            return {};
        });
        // The namespace went away under the apply (its device with it): that is the target
        // ending, not the apply failing.
        if (!r && !ref.is_current() && target_gone(ref)) {
            gone_why_ = ref.label() + " disappeared during the apply (" + r.error().message + ")";
            return make_error("target gone: " + gone_why_);
        }
    }
    if (r) switch_ns_.push_back(mono_ns() - t0);
    return r;
}

Result<void> InProcessTarget::clear() {
    if (t_.backend != profile::Backend::netem) return fwdctl::clear(control(), peer());
    if (gone()) {
        // Its qdiscs went with the namespace: discard what the ledger still says of them
        // (restoring it instead where the namespace turns out to live on).
        auto now = pin_netns(where());
        auto rep = settle_gone_target(where(), now && identity_ && !(*identity_ == now->identity()) ? &*now : nullptr);
        if (!rep.failed.empty()) return rep.failed.front();
        return {};
    }
    auto ns = pin();
    if (!ns) return ns.error();
    return within(*ns, [&]() -> Result<void> {
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
           (where().is_current() ? "" : " in " + where().label());
}

std::string InProcessTarget::switch_summary() const {
    if (switch_ns_.empty()) return {};
    const auto [med, mx] = median_max_ms(switch_ns_);
    char b[200];
    std::snprintf(b, sizeof b, "phase switches: %zu, decision to ack median %.3f ms, max %.3f ms (%s, in process)", switch_ns_.size(), med, mx,
                  t_.backend == profile::Backend::dpdk   ? "forwarder control socket"
                  : t_.backend == profile::Backend::http ? "http proxy control socket"
                                                         : "netem over netlink");
    return b;
}

TargetSet::TargetSet(const std::vector<profile::Target>& ts) {
    entries_.reserve(ts.size());
    for (const auto& t : ts) entries_.push_back({InProcessTarget(t), false, "not applied", {}});
}

Result<void> TargetSet::apply_each(const std::function<const profile::Profile&(std::size_t)>& pick, const std::string& label) {
    const std::size_t n = entries_.size();
    std::vector<std::optional<Error>> errs(n);
    std::vector<std::int64_t> ack(n, 0);
    std::vector<bool> tried(n, false);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) {
        if (entries_[i].target.gone()) continue;
        tried[i] = true;
        // One thread per target: the targets switch together, not one after another.
        threads.emplace_back([&, i] {
            auto r = entries_[i].target.apply(pick(i));
            ack[i] = mono_ns();
            if (!r) errs[i] = r.error();
        });
    }
    for (auto& t : threads) t.join();
    std::optional<Error> failed;
    std::vector<std::int64_t> acks;
    for (std::size_t i = 0; i < n; ++i) {
        if (!tried[i]) continue;
        Entry& e = entries_[i];
        e.applied = true;   // a half-done apply is rolled back too
        if (!errs[i]) {
            acks.push_back(ack[i]);
            continue;
        }
        if (e.target.gone()) {
            e.gone_note = "gone during '" + label + "': " + e.target.gone_why();
            continue;
        }
        if (!failed) {
            const std::string who = e.target.config().name.empty() ? "" : "target " + e.target.config().name + ": ";
            failed = Error{who + errs[i]->message, errs[i]->kind};
        }
    }
    if (acks.size() >= 2) skew_ns_.push_back(*std::max_element(acks.begin(), acks.end()) - *std::min_element(acks.begin(), acks.end()));
    if (failed) return *failed;
    return {};
}

Result<void> TargetSet::apply(const profile::Profile& p) {
    return apply_each([&](std::size_t) -> const profile::Profile& { return p; }, p.name);
}

Result<void> TargetSet::apply_step(const experiment::Step& s) {
    return apply_each(
        [&](std::size_t i) -> const profile::Profile& {
            const auto& own = entries_[i].target.config().phase_profiles;
            auto it = own.find(s.phase);
            return it == own.end() ? s.profile : it->second;
        },
        s.label());
}

Result<void> TargetSet::clear() {
    std::optional<Error> failed;
    for (auto& e : entries_) {
        if (!e.applied) continue;
        auto r = e.target.clear();
        if (e.target.gone()) {
            if (e.gone_note.empty()) e.gone_note = "gone before its rollback: " + e.target.gone_why();
            e.rollback = r ? "target gone" : "target gone; discarding its ledger failed: " + r.error().message;
        } else {
            e.rollback = r ? "restored" : "failed: " + r.error().message;
        }
        if (!r && !failed) failed = r.error();
        if (r) e.applied = false;
    }
    if (failed) return *failed;
    return {};
}

std::string TargetSet::describe() const {
    if (entries_.size() == 1) return entries_[0].target.describe();
    std::string s = std::to_string(entries_.size()) + " targets: ";
    for (std::size_t i = 0; i < entries_.size(); ++i)
        s += (i ? "; " : "") + entries_[i].target.config().name + " (" + entries_[i].target.describe() + ")";
    return s;
}

std::optional<experiment::EmulatorTruth> TargetSet::truth() {
    // The fidelity check compares one path's probe with one emulator's counters.
    if (entries_.size() != 1) return std::nullopt;
    return entries_[0].target.truth();
}

void TargetSet::fill_report(report::Report& r) const {
    for (const auto& e : entries_) {
        report::TargetResult t;
        t.name = e.target.config().name;
        t.describe = e.target.describe();
        t.switches = e.target.switch_ns().size();
        std::tie(t.switch_median_ms, t.switch_max_ms) = median_max_ms(e.target.switch_ns());
        t.state = e.target.gone() ? "gone" : e.rollback.starts_with("failed") ? "failed" : "ok";
        t.rollback = e.rollback;
        t.note = e.gone_note;
        r.targets.push_back(std::move(t));
    }
    if (entries_.size() >= 2) {
        const auto [med, mx] = median_max_ms(skew_ns_);
        r.skew = report::SwitchSkew{skew_ns_.size(), med, mx};
    }
}

std::vector<std::string> TargetSet::switch_summary() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) {
        auto s = e.target.switch_summary();
        if (s.empty()) continue;
        out.push_back(entries_.size() > 1 ? "target " + e.target.config().name + ": " + s : s);
    }
    if (entries_.size() >= 2 && !skew_ns_.empty()) {
        const auto [med, mx] = median_max_ms(skew_ns_);
        char b[160];
        std::snprintf(b, sizeof b, "switch skew between targets: %zu switches, median %.3f ms, max %.3f ms (first to last acknowledgement)",
                      skew_ns_.size(), med, mx);
        out.push_back(b);
    }
    return out;
}

}  // namespace netchaos::drive
