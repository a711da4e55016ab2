#include "drive/gone.hpp"

#include "netem/apply.hpp"
#include "netem/ledger.hpp"

namespace netchaos::drive {

namespace {
netem::NetnsId id_of(const PinnedNetns& ns) {
    netem::NetnsId me;
    (void)within(ns, [&]() -> Result<void> {
        me = netem::current_netns();
        return {};
    });
    return me;
}
// The recorded namespace of `l`, if it still lives: found by (dev, inode), and the recorded
// one only with the recorded cookie (inodes are reused once a namespace dies).
struct Live {
    PinnedNetns ns;
    NetnsRef holder;
};
std::optional<Live> live_namespace_of(const netem::Ledger& l) {
    std::optional<NetnsRef> holder = find_holder({l.netns_dev, l.netns_inode});
    if (!holder) return std::nullopt;
    auto p = pin_netns(*holder);
    if (!p) return std::nullopt;
    const auto me = id_of(*p);
    if (me.inode != l.netns_inode || me.cookie != l.netns_cookie) return std::nullopt;
    return Live{std::move(*p), *holder};
}
}  // namespace

GoneReport settle_gone_target(const NetnsRef& ref, const PinnedNetns* now) {
    GoneReport rep;
    auto targets = netem::ledgers_of_target(ref.label());
    if (targets.empty()) return rep;
    const netem::NetnsId live = now ? id_of(*now) : netem::NetnsId{};
    for (auto& [file, l] : targets) {
        if (now && live.inode == l.netns_inode && live.cookie == l.netns_cookie) continue;   // the live target's own
        const std::string what = l.dev + " (profile " + l.profile + ")";
        const std::string ns = "net:[" + std::to_string(l.netns_inode) + "]";
        if (auto alive = live_namespace_of(l)) {
            const auto& holder = alive->holder;
            auto r = within(alive->ns, [&]() -> Result<void> {
                auto c = netem::clear(l.dev, false, false);
                if (!c) return c.error();
                return {};
            });
            if (r) rep.notes.push_back(ref.label() + " no longer names " + ns + ", but that namespace lives on (" +
                                       holder.label() + "): restored " + what + " there");
            else rep.failed.push_back(make_error(ref.label() + ": restoring " + what + " in " + ns + " (" + holder.label() +
                                                 "): " + r.error().message, r.error().kind));
            continue;
        }
        netem::remove_ledger_file(file);
        rep.notes.push_back("target gone: " + ref.label() + " (" + ns + ") no longer exists; discarded its ledger of " + what +
                            ": nothing to undo, its qdiscs went with the namespace");
    }
    return rep;
}

StaleReport settle_stale_ledgers() {
    StaleReport rep;
    for (auto& [file, l] : netem::all_ledgers()) {
        const std::string what = l.dev + " (profile " + l.profile + (l.target.empty() ? "" : ", " + l.target) + ")";
        const bool held = l.holder_pid && netem::same_process(l.holder_pid, l.holder_start);
        const bool leased = l.watchdog_pid && netem::same_process(l.watchdog_pid, l.watchdog_start);
        if (held || leased) {
            rep.kept.push_back(what + ": " + (held ? "held by the live run pid " + std::to_string(l.holder_pid)
                                                  : "its --for watchdog pid " + std::to_string(l.watchdog_pid) + " restores it"));
            continue;
        }
        if (!l.holder_pid && !l.watchdog_pid && l.complete) {
            rep.kept.push_back(what + ": applied by hand, no controller (clear it with netchaos clear)");
            continue;
        }
        auto alive = live_namespace_of(l);
        if (!alive) {
            netem::remove_ledger_file(file);
            rep.notes.push_back("discarded the ledger of " + what + ": its namespace net:[" + std::to_string(l.netns_inode) +
                                "] is gone, and its qdiscs with it");
            continue;
        }
        // takeover: the recorded controller is dead; that is why this ledger is stale.
        auto r = within(alive->ns, [&]() -> Result<void> {
            auto c = netem::clear(l.dev, false, true);
            if (!c) return c.error();
            return {};
        });
        if (r) rep.notes.push_back("restored " + what + " in net:[" + std::to_string(l.netns_inode) + "] (" + alive->holder.label() +
                                   "): its controller is gone");
        else rep.failed.push_back(make_error("restoring " + what + ": " + r.error().message, r.error().kind));
    }
    return rep;
}

}  // namespace netchaos::drive
