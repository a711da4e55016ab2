#pragma once
// The ledger: what netchaos changed on one interface, written to disk BEFORE each change so
// that `clear`, the watchdog, or the next apply can undo it even after a crash. One file per
// interface and network namespace: /run/netchaos/ledger/net<netns inode>/<dev>.json
// (interface names repeat across namespaces, and tests run in private ones concurrently).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace netchaos::netem {

// A root qdisc as read back before we replaced it. handle 0 = the kernel's default.
struct QdiscSnapshot {
    std::string kind;
    std::uint32_t handle = 0;
    std::vector<std::uint8_t> options;   // raw TCA_OPTIONS payload
    bool is_default() const { return handle == 0; }
    bool operator==(const QdiscSnapshot&) const = default;
};

enum class StepKind {
    root_qdisc,      // replaced dev's root; undo = restore `prev` (or delete ours if default)
    ifb_link,        // created `name`; undo = delete the link (its qdiscs go with it)
    ingress_qdisc,   // added ffff: ingress on dev; undo = delete it (filters go with it)
    tc_class,        // htb class; removed with its qdisc, kept for the record
    filter,          // u32 filter; removed with its parent qdisc, kept for the record
    netem,           // where a netem qdisc lives (dev, parent, handle): a phase switch replaces it
};

struct Step {
    StepKind kind = StepKind::root_qdisc;
    std::string dev;                        // device the step acts on (or the ifb name)
    std::optional<QdiscSnapshot> prev;      // root_qdisc only; nullopt = nothing to restore
    std::uint32_t parent = 0, handle = 0;   // netem / filter
    std::string side;                       // netem: "egress" | "ingress"
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
    std::uint64_t generation = 0; // a watchdog only restores the apply that started it
    std::vector<Step> steps;
    bool operator==(const Ledger&) const = default;
};

std::string to_json(const Ledger& l);
Result<Ledger> ledger_from_json(const std::string& text);

// Directory for the current network namespace ($NETCHAOS_RUN_DIR overrides /run/netchaos).
std::filesystem::path ledger_dir();
std::filesystem::path ledger_path(const std::string& dev);

// nullopt if there is none. Writes are atomic (temp file + rename).
Result<std::optional<Ledger>> load_ledger(const std::string& dev);
Result<void> save_ledger(const Ledger& l);
void remove_ledger(const std::string& dev);
std::vector<std::string> ledger_devices();

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
