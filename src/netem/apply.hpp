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
// through the IFB only.
struct Placement {
    bool ingress = false;                 // false = root of the device, true = via IFB
    const profile::Impairment* imp = nullptr;
};
// Refuses what one netem tree cannot do (several classes; per-flow order).
Result<std::vector<Placement>> place(const profile::Profile& p, bool ingress_flag);
// The one flow a profile of a single class and no unmatched impairment ([match], or one
// [[class]]) impairs: netem under an htb class with a u32 filter. nullptr: every packet.
const profile::FlowMatch* single_match(const profile::Profile& p);
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

// The handle of the netem netchaos puts at a root ("nc"+2 in hex), next to tcmsgs.hpp's
// 6e63: (htb for [match]) and 6e64: (netem under it); the pref of the redirect filter it adds
// to an ingress/clsact that was already there.
inline constexpr std::uint32_t own_root_handle = 0x6E650000u;
inline constexpr std::uint16_t own_filter_pref = 0x6E63;

}  // namespace netchaos::netem
