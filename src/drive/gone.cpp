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
}  // namespace

GoneReport settle_gone_target(const NetnsRef& ref, const PinnedNetns* now) {
    GoneReport rep;
    auto targets = netem::ledgers_of_target(ref.label());
    if (targets.empty()) return rep;
    const netem::NetnsId live = now ? id_of(*now) : netem::NetnsId{};
    for (auto& [file, l] : targets) {
        const NetnsIdentity id{l.netns_dev, l.netns_inode};
        if (now && live.inode == l.netns_inode && live.cookie == l.netns_cookie) continue;   // the live target's own
        const std::string what = l.dev + " (profile " + l.profile + ")";
        const std::string ns = "net:[" + std::to_string(l.netns_inode) + "]";
        // A namespace found by (dev, inode) is the recorded one only with the recorded cookie:
        // inodes are reused once a namespace dies.
        std::optional<PinnedNetns> alive;
        std::optional<NetnsRef> holder = find_holder(id);
        if (holder)
            if (auto p = pin_netns(*holder)) {
                const auto me = id_of(*p);
                if (me.inode == l.netns_inode && me.cookie == l.netns_cookie) alive = std::move(*p);
            }
        if (alive) {
            auto r = within(*alive, [&]() -> Result<void> {
                auto c = netem::clear(l.dev, false, false);
                if (!c) return c.error();
                return {};
            });
            if (r) rep.notes.push_back(ref.label() + " no longer names " + ns + ", but that namespace lives on (" +
                                       holder->label() + "): restored " + what + " there");
            else rep.failed.push_back(make_error(ref.label() + ": restoring " + what + " in " + ns + " (" + holder->label() +
                                                 "): " + r.error().message, r.error().kind));
            continue;
        }
        netem::remove_ledger_file(file);
        rep.notes.push_back("target gone: " + ref.label() + " (" + ns + ") no longer exists; discarded its ledger of " + what +
                            ": nothing to undo, its qdiscs went with the namespace");
    }
    return rep;
}

}  // namespace netchaos::drive
