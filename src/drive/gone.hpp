#pragma once
// Ledgers left for a target whose namespace is not the one it names now: a netns that was
// deleted (and maybe made again under the same name), a PID that exited. Each such ledger's
// namespace is looked for by identity (drive::find_holder): still alive (a pod's sandbox keeps
// it while a container restarts), it is entered and restored; gone, its qdiscs went with it
// and the ledger is discarded, saying so.
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "drive/netns.hpp"

namespace netchaos::drive {

struct GoneReport {
    std::vector<std::string> notes;    // one line per ledger: restored where, or discarded why
    std::vector<Error> failed;         // a live namespace whose restore failed
    bool any() const { return !notes.empty() || !failed.empty(); }
};

// `now`: the namespace `ref` resolves to today, nullptr when the target itself is gone. Only
// ledgers recorded under ref.label() in another namespace (another identity or cookie) are
// touched.
GoneReport settle_gone_target(const NetnsRef& ref, const PinnedNetns* now);

// Every ledger under the ledger directory whose controller is gone (no live `netchaos run`
// holding it, no live `apply --for` watchdog): restored in its namespace where that lives on
// (found by identity), discarded where it is gone. What a DaemonSet agent runs at start, so a
// killed agent's faults do not outlive it (pumba#147). Applies by hand without --for have no
// controller and are left alone (listed in `kept`).
struct StaleReport : GoneReport {
    std::vector<std::string> kept;
};
StaleReport settle_stale_ledgers();

}  // namespace netchaos::drive
