#pragma once
// The kernel backend's I/O edge: apply a profile as netem qdiscs (root, IFB ingress, or a
// per-flow netem under prio), switch phases atomically, and undo everything from the ledger.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "netem/encode.hpp"
#include "netem/ledger.hpp"
#include "profile/profile.hpp"

namespace netchaos::netem {

// Which impairment goes where. Without --ingress: [egress] on the device's root and [ingress]
// through its IFB. With --ingress: the profile's [ingress] (or, if it has none, its [egress])
// through the IFB only.
struct Placement {
    bool ingress = false;                 // false = root of the device, true = via IFB
    const profile::Impairment* imp = nullptr;
};
Result<std::vector<Placement>> place(const profile::Profile& p, bool ingress_flag);
// A stable description of the qdisc tree a profile needs; equal layouts switch atomically.
std::string layout_of(const std::vector<Placement>& places, const profile::Profile& p);

// Impairment + tables loaded from disk (the encoder itself does no I/O).
Result<EncodeInput> make_encode_input(const profile::Impairment& imp,
                                      const std::filesystem::path& profile_dir);

struct ApplyOptions {
    profile::Profile profile;
    std::string dev;
    bool ingress = false;
    std::optional<std::chrono::nanoseconds> duration;   // --for: a watchdog restores after it
};

struct ApplyReport {
    bool phase_switch = false;   // replaced the netem parameters in place (atomic)
    std::vector<std::string> actions;
    int watchdog_pid = 0;
};

Result<ApplyReport> apply(const ApplyOptions& o);

// Undo what the ledger of `dev` records. false = nothing was recorded.
Result<bool> clear(const std::string& dev);
// Every device with a ledger in this network namespace; returns the devices cleared.
Result<std::vector<std::string>> clear_all();

// Root qdisc of an interface as the kernel reports it (kind, handle, raw TCA_OPTIONS).
Result<std::optional<QdiscSnapshot>> snapshot_root(int ifindex);

}  // namespace netchaos::netem
