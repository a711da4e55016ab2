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
#include "netem/netlink.hpp"
#include "profile/profile.hpp"

namespace netchaos::netem {

// Which impairment goes where. Without --ingress: [egress] on the device's root and [ingress]
// through its IFB. With --ingress: the profile's [ingress] (or, if it has none, its [egress])
// through the IFB only. A profile with classes puts each class's section of that side (with
// --ingress: its [class.ingress], or its [class.egress]) on the class's own netem, and the
// top-level one on the htb default class (none: the unmatched traffic passes).
struct Placement {
    bool ingress = false;                 // false = root of the device, true = via IFB
    const profile::Impairment* imp = nullptr;   // the traffic no class takes (all of it without classes); nullptr: passes
    std::vector<const profile::Impairment*> classes;   // per [[class]], in order; nullptr: its packets pass
};
// Refuses what netem cannot do (per-flow order within one netem).
Result<std::vector<Placement>> place(const profile::Profile& p, bool ingress_flag);
// The one flow a profile of a single class and no unmatched impairment ([match], or one
// [[class]]) impairs. nullptr: another shape.
const profile::FlowMatch* single_match(const profile::Profile& p);
// A stable description of the qdisc tree a profile needs; equal layouts switch atomically.
std::string layout_of(const std::vector<Placement>& places, const profile::Profile& p);
// The impairment of the netem apply puts at `handle` for this placement (nullptr: none).
const profile::Impairment* impairment_at(const Placement& pl, std::uint32_t handle);
// The same, as the section of `p` it came from (for read-back into a profile): nullptr if none.
std::optional<profile::Impairment>* section_at(profile::Profile& p, bool ingress_side, std::uint32_t handle);

// Impairment + tables loaded from disk (the encoder itself does no I/O).
Result<EncodeInput> make_encode_input(const profile::Impairment& imp,
                                      const std::filesystem::path& profile_dir);

struct ApplyOptions {
    profile::Profile profile;
    std::string dev;
    bool ingress = false;
    std::optional<std::chrono::nanoseconds> duration;   // --for: a watchdog restores after it
    bool takeover = false;   // apply although another live controller holds the device
    // Send nothing, write nothing: ApplyReport gets the messages apply would send and the
    // ledger it would write. The device is read (its tree, the ledger) as apply reads it.
    bool dry_run = false;
    // How the caller named the namespace it applies in ("netns blue", "pid 42"), recorded in
    // the ledger; "" for the caller's own.
    std::string target;
};

struct ApplyReport {
    bool phase_switch = false;   // replaced the netem parameters in place (atomic)
    std::vector<std::string> actions;
    std::vector<std::string> warnings;   // stale or foreign state found and left alone
    int watchdog_pid = 0;
    // Dry run only: every netlink request, in order, byte for byte what apply would send
    // (an IFB to be created stands as RecordingSender::placeholder_ifindex), and the ledger
    // apply would leave (with the watchdog's pid still 0).
    std::vector<std::vector<std::uint8_t>> messages;
    std::optional<Ledger> ledger;
};

Result<ApplyReport> apply(const ApplyOptions& o);
// apply with its requests recorded, not sent: reads go to `kernel` (tests give a fake one).
Result<ApplyReport> dry_run(const ApplyOptions& o, Sender& kernel);

struct ClearReport {
    bool had_ledger = false;
    std::vector<std::string> warnings;
};
// Undo what the ledger of `dev` records (nothing that is no longer ours). With `discard`,
// forget the ledger (also a corrupt one) without undoing anything. A device held by another
// live `netchaos run` is refused (a system error) unless `takeover`.
Result<ClearReport> clear(const std::string& dev, bool discard = false, bool takeover = false);
// Every device with a ledger in this network namespace. A corrupt ledger is reported in
// `failed` and skipped; the others are still cleared.
struct ClearAllReport {
    std::vector<std::string> cleared, warnings;
    std::vector<Error> failed;
};
ClearAllReport clear_all();

// Root or ingress/clsact qdisc of an interface with every class, child qdisc and filter
// under it, as the kernel reports them. nullopt = none (ingress side only).
Result<std::optional<QdiscSnapshot>> snapshot_root(int ifindex);
Result<std::optional<QdiscSnapshot>> snapshot_ingress(int ifindex);

// The handle of the netem netchaos puts at a root ("nc"+2 in hex) for a profile without
// classes; tcmsgs.hpp has the handles of a class tree (6e63: .. 6e74:). The pref of the redirect filter it adds
// to an ingress/clsact that was already there.
inline constexpr std::uint32_t own_root_handle = 0x6E650000u;
inline constexpr std::uint16_t own_filter_pref = 0x6E63;

}  // namespace netchaos::netem
