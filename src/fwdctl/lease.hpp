#pragma once
// A profile that reverts by itself (`apply --for`). The control server that holds the
// faults keeps the deadline, not the controller that asked, so the revert happens even when
// the controller is killed. One implementation for both servers that speak this protocol:
// netchaos-fwd (State = its per-direction models) and netchaos http-proxy (State = its rules).
//
// A leased load remembers what was in effect before it. A later leased load keeps the first
// revert target (what was there before all the leases) and moves the deadline; a load
// without a lease, or a clear, ends the lease.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace netchaos::fwdctl {

// The "lease_ms" of a load request: absent (no lease), or 1 ms .. a year.
inline Result<std::optional<std::chrono::milliseconds>> parse_lease(const nlohmann::json& req) {
    if (!req.contains("lease_ms")) return std::optional<std::chrono::milliseconds>{};
    const auto& l = req["lease_ms"];
    if (!l.is_number_integer() || l.get<std::int64_t>() <= 0 || l.get<std::int64_t>() > 366LL * 86'400'000)
        return make_error("lease_ms must be a positive integer (milliseconds, at most a year)", ErrorKind::bad_input);
    return std::optional<std::chrono::milliseconds>(l.get<std::int64_t>());
}

template <class State>
class Lease {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // After a load succeeded: `before` is what was in effect until then.
    void loaded(const State& before, std::optional<std::chrono::milliseconds> lease, time_point now) {
        if (!lease) return end();
        if (!revert_) revert_ = before;
        deadline_ = now + *lease;
    }
    void end() { revert_.reset(); }

    // What to put back once the deadline has passed; the caller calls end() when that worked
    // (a failed revert is tried again at the next check).
    const State* due(time_point now) const { return revert_ && now >= deadline_ ? &*revert_ : nullptr; }

    bool active() const { return revert_.has_value(); }
    const State* reverts_to() const { return revert_ ? &*revert_ : nullptr; }
    std::chrono::milliseconds remaining(time_point now) const {
        return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - now));
    }

private:
    std::optional<State> revert_;
    time_point deadline_{};
};

}  // namespace netchaos::fwdctl
