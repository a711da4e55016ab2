#include "netem/apply.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <linux/if_ether.h>
#include <random>
#include <sstream>

#include "dist/table.hpp"
#include "netem/netlink.hpp"
#include "netem/tcmsgs.hpp"
#include "profile/parse.hpp"

namespace netchaos::netem {

namespace fs = std::filesystem;

namespace {
// The profile's file as an absolute path, so the ledger's record resolves from any directory.
std::string absolute_source(const profile::Profile& p) {
    std::error_code ec;
    auto a = p.source.empty() ? p.source : fs::absolute(p.source, ec);
    return (ec ? p.source : a).string();
}
}  // namespace

Result<std::vector<Placement>> place(const profile::Profile& p, bool ingress_flag) {
    std::vector<Placement> out;
    if (ingress_flag) {
        const profile::Impairment* imp = p.ingress ? &*p.ingress : p.egress ? &*p.egress : nullptr;
        if (imp) out.push_back({true, imp});
    } else {
        if (p.egress) out.push_back({false, &*p.egress});
        if (p.ingress) out.push_back({true, &*p.ingress});
    }
    if (out.empty())
        return make_error(p.source.string() + ": profile has no [egress] or [ingress] section", 3);
    return out;
}

std::string layout_of(const std::vector<Placement>& places, const profile::Profile& p) {
    std::ostringstream s;
    for (const auto& pl : places) s << (pl.ingress ? "ingress;" : "egress;");
    if (p.match) {
        const auto& m = *p.match;
        s << "match:" << (m.src ? m.src->address + "/" + std::to_string(m.src->prefix) : "*") << ","
          << (m.dst ? m.dst->address + "/" + std::to_string(m.dst->prefix) : "*") << ","
          << static_cast<int>(m.protocol) << "," << (m.sport ? std::to_string(*m.sport) : "*") << ","
          << (m.dport ? std::to_string(*m.dport) : "*");
    }
    return s.str();
}

Result<EncodeInput> make_encode_input(const profile::Impairment& imp, const fs::path& profile_dir) {
    EncodeInput in;
    in.imp = imp;
    if (imp.delay && imp.delay->jitter.count() > 0) {
        auto t = dist::for_delay(*imp.delay, profile_dir);
        if (!t) return t.error();
        in.delay_dist = std::move(*t);
    }
    if (imp.slot && imp.slot->distribution) {
        auto t = dist::for_distribution(*imp.slot->distribution);
        if (!t) return t.error();
        in.slot_dist = std::move(*t);
    }
    return in;
}

namespace {

Step make_step(StepKind k, std::string dev, std::uint32_t parent = 0, std::uint32_t handle = 0,
               std::string side = {}) {
    Step s;
    s.kind = k;
    s.dev = std::move(dev);
    s.parent = parent;
    s.handle = handle;
    s.side = std::move(side);
    return s;
}
Step root_step(std::string dev, std::optional<QdiscSnapshot> prev) {
    Step s = make_step(StepKind::root_qdisc, std::move(dev));
    s.prev = std::move(prev);
    return s;
}

int ifindex_of(const std::string& dev) { return static_cast<int>(if_nametoindex(dev.c_str())); }

Error no_such_interface(const std::string& dev) {
    return make_error("no such interface: " + dev, 4);
}

Result<std::optional<QdiscSnapshot>> snapshot_root_with(Netlink& nl, int ifindex) {
    std::optional<QdiscSnapshot> found;
    Ack a = nl.dump(dump_qdiscs(nl.next_seq()), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWQDISC || found) return;
        auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(h));
        if (t->tcm_ifindex != ifindex || t->tcm_parent != root_parent) return;
        QdiscSnapshot s;
        s.handle = t->tcm_handle;
        auto* at = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(h, sizeof(tcmsg)));
        auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(h));
        for (; mnl_attr_ok(at, static_cast<int>(end - reinterpret_cast<const char*>(at))); at = mnl_attr_next(at)) {
            if (mnl_attr_get_type(at) == TCA_KIND) s.kind = mnl_attr_get_str(at);
            if (mnl_attr_get_type(at) == TCA_OPTIONS) {
                auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(at));
                s.options.assign(p, p + mnl_attr_get_payload_len(at));
            }
        }
        found = std::move(s);
    });
    if (!a.ok()) return map_error(a, {"read qdiscs", "", ""});
    return found;
}

// Undo one recorded step. Errors that mean "already gone" are success.
Result<void> undo(Netlink& nl, const Step& s) {
    auto gone = [](const Ack& a) {
        return a.ok() || a.error == ENOENT || a.error == EINVAL || a.error == ENODEV;
    };
    switch (s.kind) {
    case StepKind::root_qdisc: {
        int idx = ifindex_of(s.dev);
        if (!idx) return {};   // the device went away, and its qdiscs with it
        if (!s.prev || s.prev->is_default()) {
            Ack a = nl.transact(del_qdisc(idx, root_parent, 0, nl.next_seq()));
            if (!gone(a)) return map_error(a, {"delete root qdisc", s.dev, ""});
        } else {
            Ack a = nl.transact(new_qdisc(QdiscOp::replace, idx, root_parent, s.prev->handle,
                                          s.prev->kind, s.prev->options, nl.next_seq()));
            if (!a.ok()) return map_error(a, {"restore root qdisc " + s.prev->kind, s.dev, s.prev->kind});
        }
        return {};
    }
    case StepKind::ifb_link: {
        Ack a = nl.transact(del_link(s.dev, nl.next_seq()));
        if (!gone(a)) return map_error(a, {"delete ifb device", s.dev, ""});
        return {};
    }
    case StepKind::ingress_qdisc: {
        int idx = ifindex_of(s.dev);
        if (!idx) return {};
        Ack a = nl.transact(del_qdisc(idx, ingress_parent, ingress_handle, nl.next_seq()));
        if (!gone(a)) return map_error(a, {"delete ingress qdisc", s.dev, ""});
        return {};
    }
    case StepKind::tc_class:
    case StepKind::filter:
    case StepKind::netem:
        return {};   // removed together with the qdisc they hang off
    }
    return {};
}

// Undo every step in reverse; keeps going after an error and reports the first one.
Result<void> undo_all(Netlink& nl, const Ledger& l) {
    Result<void> first;
    for (auto it = l.steps.rbegin(); it != l.steps.rend(); ++it) {
        auto r = undo(nl, *it);
        if (!r && first) first = r;
    }
    return first;
}

void stop_watchdog(const Ledger& l) {
    if (l.watchdog_pid > 0 && l.watchdog_pid != getpid()) ::kill(l.watchdog_pid, SIGTERM);
}

// Test hook: NETCHAOS_CRASH_AFTER_STEP=N dies by SIGKILL after the Nth kernel change, so
// tests can prove that a crash midway leaves nothing behind once the ledger is replayed.
void maybe_crash(std::size_t steps_done) {
    static const char* env = std::getenv("NETCHAOS_CRASH_AFTER_STEP");
    if (env && std::strtoul(env, nullptr, 10) == steps_done) ::raise(SIGKILL);
}

class Txn {
public:
    Txn(Netlink& nl, Ledger& l) : nl_(nl), l_(l) {}

    // Record, then do. A refused step never happened: it leaves the ledger again.
    Result<void> run(Step s, Bytes msg, const Context& ctx) {
        l_.steps.push_back(std::move(s));
        if (auto r = save_ledger(l_); !r) { l_.steps.pop_back(); return r; }
        Ack a = nl_.transact(std::move(msg));
        if (!a.ok()) {
            l_.steps.pop_back();
            save_ledger(l_);
            return map_error(a, ctx);
        }
        l_.steps.back().done = true;
        if (auto r = save_ledger(l_); !r) return r;
        maybe_crash(++done_);
        return {};
    }
    // A step with nothing to send (a record of where a netem lives).
    void note(Step s) { s.done = true; l_.steps.push_back(std::move(s)); }

private:
    Netlink& nl_;
    Ledger& l_;
    std::size_t done_ = 0;
};

std::uint64_t new_generation() {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd() ^ std::uint64_t(getpid());
}

// The qdisc tree for one placement on device `tree_dev` (the real device or its IFB).
Result<void> build_tree(Netlink& nl, Txn& txn, const std::string& tree_dev, int idx,
                        const Placement& pl, const profile::Profile& p,
                        const std::optional<QdiscSnapshot>& prev, std::vector<std::string>& actions) {
    auto in = make_encode_input(*pl.imp, p.source.parent_path());
    if (!in) return in.error();
    const std::string side = pl.ingress ? "ingress" : "egress";
    if (!p.match) {
        auto msg = encode_qdisc(*in, QdiscTarget{idx, root_parent, 0}, Op::replace, nl.next_seq());
        if (!msg) return msg.error();
        Step s = root_step(tree_dev, prev);
        if (auto r = txn.run(s, std::move(*msg), {"add netem qdisc", tree_dev, "netem"}); !r) return r;
        txn.note(make_step(StepKind::netem, tree_dev, root_parent, 0, side));
        actions.push_back("netem root on " + tree_dev + " (" + side + ")");
        return {};
    }
    auto match = u32_match(*p.match);
    if (!match) return match.error();
    Step root = root_step(tree_dev, prev);
    if (auto r = txn.run(root, new_qdisc(QdiscOp::replace, idx, root_parent, match_root_handle, "htb",
                                         htb_options(), nl.next_seq()),
                         {"add htb qdisc", tree_dev, "htb"});
        !r)
        return r;
    if (auto r = txn.run(make_step(StepKind::tc_class, tree_dev, match_root_handle, match_class, side),
                         new_htb_class(idx, match_root_handle, match_class, match_class_rate, nl.next_seq()),
                         {"add htb class", tree_dev, "htb"});
        !r)
        return r;
    auto msg = encode_qdisc(*in, QdiscTarget{idx, match_class, match_netem_handle}, Op::add, nl.next_seq());
    if (!msg) return msg.error();
    if (auto r = txn.run(make_step(StepKind::netem, tree_dev, match_class, match_netem_handle, side), std::move(*msg),
                         {"add netem qdisc", tree_dev, "netem"});
        !r)
        return r;
    U32Filter f{idx, match_root_handle, 1, *match, match_class, std::nullopt};
    if (auto r = txn.run(make_step(StepKind::filter, tree_dev, match_root_handle, 0, side),
                         new_u32_filter(f, nl.next_seq()), {"add u32 filter", tree_dev, "u32"});
        !r)
        return r;
    actions.push_back("htb 6e63: root on " + tree_dev + " (other traffic unshaped), netem 6e64: under class 6e63:1 (" +
                      side + "), u32 filter for the [match] flow");
    return {};
}

Result<void> build(Netlink& nl, Txn& txn, const ApplyOptions& o, int idx,
                   const std::vector<Placement>& places, std::vector<std::string>& actions) {
    for (const auto& pl : places) {
        if (!pl.ingress) {
            auto prev = snapshot_root_with(nl, idx);
            if (!prev) return prev.error();
            if (auto r = build_tree(nl, txn, o.dev, idx, pl, o.profile, *prev, actions); !r) return r;
            continue;
        }
        const std::string ifb = ifb_name_for(o.dev);
        if (auto r = txn.run(make_step(StepKind::ifb_link, ifb), new_ifb_link(ifb, nl.next_seq()),
                             {"create ifb device", ifb, "ifb"});
            !r)
            return r;
        int ifb_idx = ifindex_of(ifb);
        if (!ifb_idx) return no_such_interface(ifb);
        // Netem on the IFB first, so no packet is redirected to an unimpaired IFB.
        if (auto r = build_tree(nl, txn, ifb, ifb_idx, pl, o.profile, std::nullopt, actions); !r) return r;
        if (auto r = txn.run(make_step(StepKind::ingress_qdisc, o.dev),
                             new_qdisc(QdiscOp::add, idx, ingress_parent, ingress_handle, "ingress", {},
                                       nl.next_seq()),
                             {"add ingress qdisc", o.dev, "ingress"});
            !r)
            return r;
        U32Filter f{idx, ingress_handle, 1, U32Match{ETH_P_ALL, {}}, 0, ifb_idx};
        if (auto r = txn.run(make_step(StepKind::filter, o.dev, ingress_handle, 0, "ingress"),
                             new_u32_filter(f, nl.next_seq()), {"add mirred redirect filter", o.dev, "u32"});
            !r)
            return r;
        actions.push_back("ingress of " + o.dev + " redirected to " + ifb);
    }
    return {};
}

// Replace the parameters of every netem the ledger records: one RTM_NEWQDISC with
// NLM_F_REPLACE each, which the kernel applies in place (no delete-then-add gap).
Result<void> switch_phase(Netlink& nl, const Ledger& l, const ApplyOptions& o,
                          const std::vector<Placement>& places, std::vector<std::string>& actions) {
    for (const auto& s : l.steps) {
        if (s.kind != StepKind::netem) continue;
        const Placement* pl = nullptr;
        for (const auto& p : places)
            if ((p.ingress ? "ingress" : "egress") == s.side) pl = &p;
        if (!pl) return make_error("ledger of " + o.dev + " has a netem for side " + s.side + " the profile lacks");
        int idx = ifindex_of(s.dev);
        if (!idx) return no_such_interface(s.dev);
        auto in = make_encode_input(*pl->imp, o.profile.source.parent_path());
        if (!in) return in.error();
        auto msg = encode_qdisc(*in, QdiscTarget{idx, s.parent, s.handle}, Op::replace, nl.next_seq());
        if (!msg) return msg.error();
        Ack a = nl.transact(std::move(*msg));
        if (!a.ok()) return map_error(a, {"replace netem qdisc", s.dev, "netem"});
        actions.push_back("replaced netem on " + s.dev + " (" + s.side + ") in place");
    }
    return {};
}

// Sleeps until the deadline, then undoes the apply that started it (same generation).
[[noreturn]] void watchdog_main(const std::string& dev, std::uint64_t generation,
                                std::chrono::nanoseconds d) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    auto total = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec) + d;
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(total);
    ts.tv_sec = secs.count();
    ts.tv_nsec = (total - secs).count();
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
    auto lock = LedgerLock::acquire(dev);
    if (!lock) _exit(4);
    auto l = load_ledger(dev);
    if (!l || !*l || (*l)->generation != generation) _exit(0);   // cleared or re-applied
    auto nl = Netlink::open();
    if (!nl) _exit(4);
    auto r = undo_all(*nl, **l);
    if (r) remove_ledger(dev);
    _exit(r ? 0 : 4);
}

// Double fork + setsid: the watchdog is re-parented to init, in its own session, so neither
// SIGKILL of the controller nor its terminal going away stops it. Returns its pid.
Result<int> start_watchdog(const std::string& dev, std::uint64_t generation, std::chrono::nanoseconds d) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return make_error(std::string("pipe: ") + std::strerror(errno));
    pid_t child = fork();
    if (child < 0) return make_error(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
        setsid();
        pid_t gc = fork();
        if (gc == 0) {
            // Keep no inherited descriptor: a test harness waits for its pipes to close.
            int null = ::open("/dev/null", O_RDWR);
            dup2(null, 0), dup2(null, 1), dup2(null, 2);
            for (int fd = 3; fd < 1024; ++fd)
                if (fd != fds[1]) ::close(fd);
            ::close(fds[1]);
            signal(SIGHUP, SIG_IGN);
            signal(SIGINT, SIG_IGN);
            watchdog_main(dev, generation, d);
        }
        int pid = gc;
        (void)!::write(fds[1], &pid, sizeof pid);
        _exit(gc < 0 ? 1 : 0);
    }
    ::close(fds[1]);
    int pid = -1;
    ssize_t n = ::read(fds[0], &pid, sizeof pid);
    ::close(fds[0]);
    int st = 0;
    waitpid(child, &st, 0);
    if (n != sizeof pid || pid <= 0) return make_error("could not start the watchdog");
    return pid;
}

}  // namespace

Result<std::optional<QdiscSnapshot>> snapshot_root(int ifindex) {
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    return snapshot_root_with(*nl, ifindex);
}

Result<ApplyReport> apply(const ApplyOptions& o) {
    auto places = place(o.profile, o.ingress);
    if (!places) return places.error();
    if (o.profile.match && places->size() > 1)
        return make_error(o.profile.source.string() +
                              ": a [match] profile impairs one direction: give [egress] or [ingress], not both",
                          3);
    const int idx = ifindex_of(o.dev);
    if (!idx) return no_such_interface(o.dev);
    auto lock = LedgerLock::acquire(o.dev);
    if (!lock) return lock.error();
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    auto old = load_ledger(o.dev);
    if (!old) return old.error();

    ApplyReport rep;
    const std::string layout = layout_of(*places, o.profile);
    if (*old && (*old)->complete && (*old)->layout == layout) {
        Ledger l = **old;
        if (auto r = switch_phase(*nl, l, o, *places, rep.actions); !r) return r.error();
        stop_watchdog(l);
        l.watchdog_pid = 0;
        l.profile = o.profile.name;
        l.applied = profile::to_text(o.profile);
        l.applied_from = absolute_source(o.profile);
        l.generation = new_generation();
        rep.phase_switch = true;
        if (o.duration) {
            auto pid = start_watchdog(o.dev, l.generation, *o.duration);
            if (!pid) return pid.error();
            l.watchdog_pid = rep.watchdog_pid = *pid;
        }
        if (auto r = save_ledger(l); !r) return r.error();
        return rep;
    }
    if (*old) {   // a different tree, or an apply that died midway: undo it first
        stop_watchdog(**old);
        if (auto r = undo_all(*nl, **old); !r) return r.error();
        remove_ledger(o.dev);
        rep.actions.push_back("undid the previous netchaos state on " + o.dev);
    }

    Ledger l;
    l.dev = o.dev;
    l.layout = layout;
    l.profile = o.profile.name;
    l.applied = profile::to_text(o.profile);
    l.applied_from = absolute_source(o.profile);
    l.generation = new_generation();
    Txn txn(*nl, l);
    if (auto r = build(*nl, txn, o, idx, *places, rep.actions); !r) {
        auto u = undo_all(*nl, l);
        if (u) remove_ledger(o.dev);
        else save_ledger(l);   // keep the record so `clear` can retry
        return r.error();
    }
    l.complete = true;
    if (o.duration) {
        auto pid = start_watchdog(o.dev, l.generation, *o.duration);
        if (!pid) {
            undo_all(*nl, l);
            remove_ledger(o.dev);
            return pid.error();
        }
        l.watchdog_pid = rep.watchdog_pid = *pid;
    }
    if (auto r = save_ledger(l); !r) return r.error();
    return rep;
}

Result<bool> clear(const std::string& dev) {
    auto lock = LedgerLock::acquire(dev);
    if (!lock) return lock.error();
    auto l = load_ledger(dev);
    if (!l) return l.error();
    if (!*l) {
        remove_ledger(dev);   // drops the directory the lock created
        return false;
    }
    stop_watchdog(**l);
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    if (auto r = undo_all(*nl, **l); !r) return r.error();
    remove_ledger(dev);
    return true;
}

Result<std::vector<std::string>> clear_all() {
    std::vector<std::string> done;
    for (const auto& dev : ledger_devices()) {
        auto r = clear(dev);
        if (!r) return r.error();
        if (*r) done.push_back(dev);
    }
    return done;
}

}  // namespace netchaos::netem
