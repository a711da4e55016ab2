#pragma once
// The ledger: what netchaos changed on one interface, written to disk BEFORE each change so
// that `clear`, the watchdog, or the next apply can undo it even after a crash. One file per
// interface and network namespace: /run/netchaos/ledger/net<inode>-<cookie>/<dev>.json
// (interface names repeat across namespaces, and tests run in private ones concurrently). The
// namespace's inode alone is reused once it dies; its cookie (SO_NETNS_COOKIE) is not, so a
// ledger left by a dead namespace is never read as this one's.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "netem/tree.hpp"

namespace netchaos::netem {

// A root (or ingress/clsact) qdisc as read back before the first change, with every class,
// child qdisc and filter under it. handle 0 = the kernel's default.
struct QdiscSnapshot {
    std::string kind;
    std::uint32_t handle = 0;
    std::vector<std::uint8_t> options;   // raw TCA_OPTIONS payload
    std::vector<TcObject> children;      // classes, child qdiscs, filters, in dump order
    bool is_default() const { return handle == 0; }
    bool operator==(const QdiscSnapshot&) const = default;
};

enum class StepKind {
    root_qdisc,      // replaced dev's root with ours (`handle`); undo = rebuild `prev`'s tree
                     // (or delete ours if it was the default), if the root is still ours
    ifb_link,        // created `name`; undo = delete the link (its qdiscs go with it)
    ingress_qdisc,   // added ffff: ingress on dev; undo = delete it (filters go with it).
                     // With `prev`: an ingress/clsact was there, recorded, and left alone
    tc_class,        // htb class; removed with its qdisc, kept for the record
    filter,          // u32 filter; removed with its parent qdisc, or, at an ingress/clsact
                     // that was there before (`info` = our reserved pref), deleted by itself
    netem,           // where a netem qdisc lives (dev, parent, handle): a phase switch replaces it
};

struct Step {
    StepKind kind = StepKind::root_qdisc;
    std::string dev;                        // device the step acts on (or the ifb name)
    std::optional<QdiscSnapshot> prev;      // root_qdisc only; nullopt = nothing to restore
    std::uint32_t parent = 0, handle = 0;   // netem / filter / root_qdisc (ours)
    std::uint32_t info = 0;                 // filter: pref << 16 | protocol (network order)
    std::string side;                       // netem: "egress" | "ingress"
    std::string created;                    // root_qdisc: the kind we put there (netem, htb)
    bool done = false;                      // the kernel acknowledged it
    bool operator==(const Step&) const = default;
};

struct Ledger {
    std::string dev;
    std::string layout;           // what the tree looks like; equal layout = atomic phase switch
    std::string profile;          // name, for show
    std::string applied;          // the applied profile, normalized (profile::to_text): what show
                                  // cannot read back from the kernel (names, tables, [match])
    std::string applied_from;     // its file: relative table paths resolve against it
    bool complete = false;        // false = an apply died midway: roll back before anything else
    int watchdog_pid = 0;
    std::uint64_t watchdog_start = 0;  // its start time (/proc/PID/stat): a reused pid is not it
    std::uint64_t generation = 0; // a watchdog only restores the apply that started it
    // Who holds the device: the `netchaos run` that applied (NETCHAOS_HOLDER_PID), else none.
    int holder_pid = 0;
    std::uint64_t holder_start = 0;
    std::int64_t since = 0;       // unix seconds of the first apply
    std::uint64_t netns_inode = 0, netns_cookie = 0;
    std::uint64_t netns_dev = 0;  // nsfs st_dev: (dev, inode) is the namespace's identity
    // How the user named the namespace ("netns blue", "pid 42"; "" = the caller's own): `clear`
    // of a target that is gone finds its ledgers by it (src/drive/netns.hpp).
    std::string target;
    std::vector<Step> steps;
    bool operator==(const Ledger&) const = default;
};

std::string to_json(const Ledger& l);
Result<Ledger> ledger_from_json(const std::string& text);

// Linux's dev_valid_name(): 1..15 bytes, not "." or "..", no '/', ':' or white space. A
// name is a file name under the ledger directory, so this is what keeps it there.
Result<void> validate_dev(const std::string& dev);

// This network namespace: nsfs inode and SO_NETNS_COOKIE (0 if the kernel has none, < 5.14).
struct NetnsId {
    std::uint64_t inode = 0, cookie = 0, dev = 0;
};
NetnsId current_netns();

// Directory for the current network namespace ($NETCHAOS_RUN_DIR overrides /run/netchaos).
std::filesystem::path ledger_dir();
std::filesystem::path ledger_path(const std::string& dev);

// nullopt if there is none; an error (code 4) if it is unreadable or corrupt. Writes are atomic
// (O_EXCL|O_NOFOLLOW temp file + rename) in a 0700 directory.
Result<std::optional<Ledger>> load_ledger(const std::string& dev);
Result<void> save_ledger(const Ledger& l);
void remove_ledger(const std::string& dev);
std::vector<std::string> ledger_devices();

// Ledger directories of dead namespaces that had this one's inode (another cookie, or an
// old directory without one): removed, one line each saying what was discarded.
std::vector<std::string> discard_dead_namespace_ledgers();

// Every ledger, in any namespace's directory, that records `target` (Ledger::target), with
// the file it is in. Unreadable or corrupt files are skipped.
struct TargetLedger {
    std::filesystem::path file;
    Ledger ledger;
};
std::vector<TargetLedger> ledgers_of_target(const std::string& target);
// Every ledger of every namespace (the same walk, no filter).
std::vector<TargetLedger> all_ledgers();
// Removes a ledger file found by ledgers_of_target, and its directory once empty.
void remove_ledger_file(const std::filesystem::path& file);

// Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone.
std::uint64_t process_start_time(int pid);
// The process still runs and is the one recorded (same start time).
bool same_process(int pid, std::uint64_t start);

// An exclusive flock on the namespace's ledger directory, held for the lifetime of the object, so
// apply, clear and the watchdog never interleave on one interface.
class LedgerLock {
public:
    static Result<LedgerLock> acquire(const std::string& dev);
    LedgerLock(LedgerLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    LedgerLock& operator=(LedgerLock&&) = delete;
    ~LedgerLock();
private:
    explicit LedgerLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace netchaos::netem
