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
#include <ctime>
#include <cstdio>
#include <arpa/inet.h>
#include <linux/if_link.h>

#include "dist/table.hpp"
#include "netem/netlink.hpp"
#include "netem/tcmsgs.hpp"
#include "netem/show.hpp"
#include "netem/tree.hpp"
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

const profile::FlowMatch* single_match(const profile::Profile& p) {
    return p.classes.size() == 1 && !p.egress && !p.ingress ? &p.classes[0].match : nullptr;
}

namespace {

// The section of one side: [egress] on the device; on the IFB [ingress], or with --ingress
// (`either`) the [egress] of a profile (or class) that has no [ingress].
const profile::Impairment* side_of(const std::optional<profile::Impairment>& egress,
                                   const std::optional<profile::Impairment>& ingress, bool ingress_side, bool either) {
    if (!ingress_side) return egress ? &*egress : nullptr;
    if (ingress) return &*ingress;
    return either && egress ? &*egress : nullptr;
}

std::string cidr_text(const std::optional<profile::Cidr>& c) {
    return c ? c->address + "/" + std::to_string(c->prefix) : "*";
}

template <class T>
std::string opt_text(const std::optional<T>& v) {
    return v ? std::to_string(*v) : "*";
}

}  // namespace

Result<std::vector<Placement>> place(const profile::Profile& p, bool ingress_flag) {
    std::vector<Placement> out;
    for (bool side : {false, true}) {
        if (ingress_flag && !side) continue;
        Placement pl{side, side_of(p.egress, p.ingress, side, ingress_flag), {}};
        bool any = pl.imp != nullptr;
        for (const auto& c : p.classes) {
            pl.classes.push_back(side_of(c.egress, c.ingress, side, ingress_flag));
            any = any || pl.classes.back();
        }
        if (any) out.push_back(std::move(pl));
    }
    if (out.empty())
        return make_error(p.source.string() + ": profile has no [egress] or [ingress] section", ErrorKind::bad_input);
    // One netem qdisc keeps one order (its tfifo, or the order-keeping rate): it cannot let
    // flows pass each other while keeping each in order. Refused, never approximated.
    for (const auto& pl : out) {
        const auto flow_order = [](const profile::Impairment* imp) {
            return imp && imp->delay && imp->delay->order == profile::JitterOrder::flow;
        };
        std::string where;
        if (flow_order(pl.imp)) where = "[" + (pl.ingress && p.ingress ? std::string("ingress") : std::string("egress")) + ".delay]";
        for (std::size_t i = 0; i < pl.classes.size() && where.empty(); ++i)
            if (flow_order(pl.classes[i]))
                where = "class \"" + p.classes[i].name + "\" [class." +
                        (pl.ingress && p.classes[i].ingress ? "ingress" : "egress") + ".delay]";
        if (!where.empty())
            return make_error(p.source.string() + ": " + where +
                                  " reorder = \"flow\" needs per-flow order, which one netem qdisc cannot keep: "
                                  "use the dpdk backend, or a [[class]] per flow (each its own netem, order kept within "
                                  "it, reorder = false); see docs/profiles.md", ErrorKind::bad_input);
    }
    return out;
}

std::string layout_of(const std::vector<Placement>& places, const profile::Profile& p) {
    std::ostringstream s;
    for (const auto& pl : places) {
        s << (pl.ingress ? "ingress" : "egress");
        // A class tree: each class's match and whether it has a netem, and the default's.
        if (!pl.classes.empty()) {
            s << "{";
            for (std::size_t i = 0; i < pl.classes.size(); ++i) {
                const auto& m = p.classes[i].match;
                s << "class:" << cidr_text(m.src) << "," << cidr_text(m.dst) << "," << static_cast<int>(m.protocol) << ","
                  << opt_text(m.sport) << "," << opt_text(m.dport) << "," << opt_text(m.dscp)
                  << (pl.classes[i] ? "=netem" : "=pass") << "|";
            }
            s << "unmatched" << (pl.imp ? "=netem" : "=pass") << "}";
        }
        s << ";";
    }
    return s.str();
}

const profile::Impairment* impairment_at(const Placement& pl, std::uint32_t handle) {
    if (pl.classes.empty()) return pl.imp;   // the one netem at the root (older ledgers record handle 0)
    if (handle == unmatched_netem_handle) return pl.imp;
    for (std::size_t i = 0; i < pl.classes.size(); ++i)
        if (handle == class_netem_handle(i)) return pl.classes[i];
    return nullptr;
}

std::optional<profile::Impairment>* section_at(profile::Profile& p, bool ingress_side, std::uint32_t handle) {
    // As side_of(): the IFB holds [ingress], or the [egress] --ingress moved there.
    const auto pick = [&](std::optional<profile::Impairment>& e, std::optional<profile::Impairment>& i) {
        return ingress_side && i ? &i : &e;
    };
    if (p.classes.empty()) return pick(p.egress, p.ingress);
    if (handle == unmatched_netem_handle) return pick(p.egress, p.ingress);
    for (std::size_t i = 0; i < p.classes.size(); ++i)
        if (handle == class_netem_handle(i)) return pick(p.classes[i].egress, p.classes[i].ingress);
    return nullptr;
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

Error no_such_interface(const std::string& dev) {
    return make_error("no such interface: " + dev);
}

std::string hex_handle(std::uint32_t h) {
    char b[16];
    std::snprintf(b, sizeof b, "%x:", h >> 16);
    return b;
}

// Every qdisc of `ifindex` as the kernel dumps it (visible ones: defaults hidden inside htb
// leaves or prio bands come back with their parent by themselves).
Result<std::vector<TcObject>> qdiscs_of(Sender& nl, int ifindex) {
    std::vector<TcObject> out;
    Ack a = nl.dump(dump_qdiscs(nl.next_seq()), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWQDISC) return;
        auto* t = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(h));
        if (t->tcm_ifindex != ifindex) return;
        if (auto o = parse_tc_message(h)) out.push_back(std::move(*o));
    });
    if (!a.ok()) return map_error(a, {"read qdiscs", "", ""});
    return out;
}

Result<void> dump_into(Sender& nl, std::vector<std::uint8_t> req, std::vector<TcObject>& out, const char* what) {
    Ack a = nl.dump(std::move(req), [&](const nlmsghdr* h) {
        if (auto o = parse_tc_message(h)) out.push_back(std::move(*o));
    });
    if (!a.ok()) return map_error(a, {what, "", ""});
    return {};
}

QdiscSnapshot to_snapshot(const TcObject& q) { return QdiscSnapshot{q.kind, q.handle, q.options, {}}; }

TcObject root_object(const QdiscSnapshot& s) {
    TcObject o;
    o.type = TcType::qdisc;
    o.parent = root_parent;
    o.handle = s.handle;
    o.kind = s.kind;
    o.options = s.options;
    return o;
}

Result<std::optional<QdiscSnapshot>> snapshot_root_with(Sender& nl, int ifindex) {
    auto qs = qdiscs_of(nl, ifindex);
    if (!qs) return qs.error();
    std::optional<QdiscSnapshot> root;
    std::vector<TcObject> children;
    for (const auto& q : *qs) {
        if (q.parent == root_parent) root = to_snapshot(q);
        else if (q.parent != ingress_parent) children.push_back(q);
    }
    if (!root) return root;
    if (root->is_default()) return root;   // the kernel's default: nothing below it to keep
    std::vector<TcObject> classes;
    if (auto r = dump_into(nl, dump_classes_request(ifindex, nl.next_seq()), classes, "read classes"); !r)
        return r.error();
    std::vector<TcObject> filters;
    std::vector<std::uint32_t> parents{root->handle};
    for (const auto& q : children)
        if (q.handle) parents.push_back(q.handle);
    for (const auto& c : classes) parents.push_back(c.handle);
    for (auto p : parents)
        if (auto r = dump_into(nl, dump_filters_request(ifindex, p, nl.next_seq()), filters, "read filters"); !r)
            return r.error();
    auto& all = root->children;
    all = std::move(classes);
    all.insert(all.end(), children.begin(), children.end());
    all.insert(all.end(), filters.begin(), filters.end());
    return root;
}

Result<std::optional<QdiscSnapshot>> snapshot_ingress_with(Sender& nl, int ifindex) {
    auto qs = qdiscs_of(nl, ifindex);
    if (!qs) return qs.error();
    std::optional<QdiscSnapshot> found;
    for (const auto& q : *qs)
        if (q.parent == ingress_parent) found = to_snapshot(q);
    if (!found) return found;
    std::vector<std::uint32_t> hooks{clsact_ingress_hook};
    if (found->kind == "clsact") hooks.push_back(clsact_egress_hook);
    for (auto h : hooks)
        if (auto r = dump_into(nl, dump_filters_request(ifindex, h, nl.next_seq()), found->children, "read filters"); !r)
            return r.error();
    return found;
}

// The kind of a link, "" if it has none, nullopt if there is no such link.
Result<std::optional<std::string>> link_kind(Sender& nl, const std::string& name) {
    NlRequest req(RTM_GETLINK, 0, nl.next_seq(), 64);
    req.link();
    std::optional<std::string> kind;
    Ack a = nl.dump(std::move(req).done(), [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWLINK) return;
        std::string ifname, k;
        auto* at = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(h, sizeof(ifinfomsg)));
        auto* end = static_cast<const char*>(mnl_nlmsg_get_payload_tail(h));
        for (; mnl_attr_ok(at, static_cast<int>(end - reinterpret_cast<const char*>(at))); at = mnl_attr_next(at)) {
            if (mnl_attr_get_type(at) == IFLA_IFNAME) ifname = mnl_attr_get_str(at);
            if (mnl_attr_get_type(at) == IFLA_LINKINFO) {
                auto* in = static_cast<const nlattr*>(mnl_attr_get_payload(at));
                auto* iend = reinterpret_cast<const char*>(at) + at->nla_len;
                for (; mnl_attr_ok(in, static_cast<int>(iend - reinterpret_cast<const char*>(in))); in = mnl_attr_next(in))
                    if (mnl_attr_get_type(in) == IFLA_INFO_KIND) k = mnl_attr_get_str(in);
            }
        }
        if (ifname == name) kind = k;
    });
    if (!a.ok()) return map_error(a, {"read links", name, ""});
    return kind;
}

Result<std::optional<TcObject>> current_root(Sender& nl, int idx) {
    auto qs = qdiscs_of(nl, idx);
    if (!qs) return qs.error();
    for (const auto& q : *qs)
        if (q.parent == root_parent) return std::optional<TcObject>(q);
    return std::optional<TcObject>{};
}

bool gone(const Ack& a) { return a.ok() || a.error == ENOENT || a.error == EINVAL || a.error == ENODEV; }

// Test hooks: NETCHAOS_CRASH_AFTER_STEP=N dies by SIGKILL after the Nth kernel change of an
// apply, NETCHAOS_CRASH_AFTER_RESTORE=N after the Nth request of a tree rebuild, so tests can
// prove that a crash midway leaves nothing behind once the ledger is replayed.
void maybe_crash(const char* var, std::size_t done) {
    const char* env = std::getenv(var);
    if (env && std::strtoul(env, nullptr, 10) == done) ::raise(SIGKILL);
}

// Rebuild the tree `prev` recorded. The root replace comes first; objects that exist already
// (a second attempt after a partial one) count as restored.
Result<void> rebuild(Sender& nl, int idx, const std::string& dev, const QdiscSnapshot& prev, bool root_done) {
    std::vector<TcObject> objects{root_object(prev)};
    objects.insert(objects.end(), prev.children.begin(), prev.children.end());
    std::uint32_t seq = nl.next_seq();
    std::vector<std::string> unplaced;
    auto msgs = create_messages(objects, idx, seq, &unplaced);
    Result<void> first;
    if (!unplaced.empty()) {
        std::string list;
        for (const auto& u : unplaced) list += (list.empty() ? "" : ", ") + u;
        first = make_error("restore on " + dev + ": no parent for " + list);
    }
    for (std::size_t i = root_done ? 1 : 0; i < msgs.size(); ++i) {
        auto* nlh = reinterpret_cast<nlmsghdr*>(msgs[i].data());
        nlh->nlmsg_seq = nl.next_seq();
        const std::uint16_t type = nlh->nlmsg_type;
        Ack a = nl.transact(std::move(msgs[i]));
        // A second attempt finds what the first one made: EEXIST, or ENOSPC from u32, whose
        // node numbers are ids that are taken.
        const bool exists = a.error == EEXIST || (root_done && type == RTM_NEWTFILTER && a.error == ENOSPC);
        if (a.ok() || (i > 0 && exists)) {
            maybe_crash("NETCHAOS_CRASH_AFTER_RESTORE", i + 1);
            continue;
        }
        const char* what = type == RTM_NEWQDISC ? "restore qdisc" : type == RTM_NEWTCLASS ? "restore class" : "restore filter";
        if (first) first = map_error(a, {what, dev, ""});
    }
    return first;
}

// Undo one recorded step, if what the kernel has there is still what the step created
// (kind and handle): a step never deletes what someone else put in its place. Steps marked
// not done are undone by the same check (a crash may fall between the change and its mark).
Result<void> undo(Sender& nl, const Ledger& l, const Step& s, std::vector<std::string>& warnings) {
    switch (s.kind) {
    case StepKind::root_qdisc: {
        int idx = nl.ifindex(s.dev);
        if (!idx) return {};   // the device went away, and its qdiscs with it
        auto cur = current_root(nl, idx);
        if (!cur) return cur.error();
        const bool ours = *cur && (*cur)->handle == s.handle && (*cur)->kind == s.created && s.handle != 0;
        if (!ours) {
            const bool restored = s.prev && *cur &&
                                  ((s.prev->is_default() && (*cur)->handle == 0) ||
                                   ((*cur)->handle == s.prev->handle && (*cur)->kind == s.prev->kind));
            if (restored) {
                // Already back (an earlier, partial undo): finish the children, if any.
                if (s.prev && !s.prev->is_default()) return rebuild(nl, idx, s.dev, *s.prev, true);
                return {};
            }
            if (s.done)
                warnings.push_back("root qdisc of " + s.dev + " is now " + (*cur ? (*cur)->kind + " " + hex_handle((*cur)->handle) : "none") +
                                   ", not the " + s.created + " " + hex_handle(s.handle) + " netchaos put there: left alone");
            return {};
        }
        if (!s.prev || s.prev->is_default()) {
            Ack a = nl.transact(del_qdisc(idx, root_parent, s.handle, nl.next_seq()));
            if (!gone(a)) return map_error(a, {"delete root qdisc", s.dev, ""});
            return {};
        }
        return rebuild(nl, idx, s.dev, *s.prev, false);
    }
    case StepKind::ifb_link: {
        if (s.dev != ifb_name_for(l.dev)) {
            warnings.push_back("ledger of " + l.dev + " names link " + s.dev + ", not its IFB " + ifb_name_for(l.dev) + ": left alone");
            return {};
        }
        auto k = link_kind(nl, s.dev);
        if (!k) return k.error();
        if (!*k) return {};
        if (**k != "ifb") {
            warnings.push_back("link " + s.dev + " is of kind '" + **k + "', not an IFB netchaos created: left alone");
            return {};
        }
        Ack a = nl.transact(del_link(s.dev, nl.next_seq()));
        if (!gone(a)) return map_error(a, {"delete ifb device", s.dev, ""});
        return {};
    }
    case StepKind::ingress_qdisc: {
        if (s.prev) return {};   // it was there before: not ours
        int idx = nl.ifindex(s.dev);
        if (!idx) return {};
        auto qs = qdiscs_of(nl, idx);
        if (!qs) return qs.error();
        for (const auto& q : *qs) {
            if (q.parent != ingress_parent) continue;
            if (q.kind != "ingress" || q.handle != ingress_handle) {
                warnings.push_back("ingress of " + s.dev + " is now a " + q.kind + ", not the ingress netchaos added: left alone");
                return {};
            }
            Ack a = nl.transact(del_qdisc(idx, ingress_parent, ingress_handle, nl.next_seq()));
            if (!gone(a)) return map_error(a, {"delete ingress qdisc", s.dev, ""});
        }
        return {};
    }
    case StepKind::filter: {
        if (!s.info) return {};   // under a qdisc of ours: goes with it
        int idx = nl.ifindex(s.dev);
        if (!idx) return {};
        std::vector<TcObject> fs;
        if (auto r = dump_into(nl, dump_filters_request(idx, s.parent, nl.next_seq()), fs, "read filters"); !r) {
            return {};   // the ingress/clsact is gone, and its filters with it
        }
        for (const auto& f : fs) {
            if ((f.info >> 16) != (s.info >> 16)) continue;
            if (f.kind != "u32") {
                warnings.push_back("filter pref " + std::to_string(s.info >> 16) + " on " + s.dev + " is a " + f.kind +
                                   ", not the u32 netchaos added: left alone");
                return {};
            }
            Ack a = nl.transact(del_filter_request(idx, s.parent, std::uint16_t(s.info >> 16),
                                                   std::uint16_t(s.info & 0xFFFF), nl.next_seq()));
            if (!gone(a)) return map_error(a, {"delete redirect filter", s.dev, ""});
            return {};
        }
        return {};
    }
    case StepKind::tc_class:
    case StepKind::netem:
        return {};   // removed together with the qdisc they hang off
    }
    return {};
}

// Undo every step in reverse; keeps going after an error and reports the first one.
Result<void> undo_all(Sender& nl, const Ledger& l, std::vector<std::string>& warnings) {
    Result<void> first;
    for (auto it = l.steps.rbegin(); it != l.steps.rend(); ++it) {
        auto r = undo(nl, l, *it, warnings);
        if (!r && first) first = r;
    }
    return first;
}

// Signals the ledger's watchdog only if that pid is still the process we started.
void stop_watchdog(const Ledger& l, std::vector<std::string>& warnings) {
    if (l.watchdog_pid <= 0 || l.watchdog_pid == getpid()) return;
    if (!same_process(l.watchdog_pid, l.watchdog_start)) {
        if (process_start_time(l.watchdog_pid))
            warnings.push_back("pid " + std::to_string(l.watchdog_pid) +
                               " is not the watchdog this ledger started (another start time): not signalled");
        return;
    }
    ::kill(l.watchdog_pid, SIGTERM);
}

class Txn {
public:
    Txn(Sender& nl, Ledger& l, bool dry) : nl_(nl), l_(l), dry_(dry) {}

    // Record, then do. A refused step never happened: it leaves the ledger again.
    Result<void> run(Step s, Bytes msg, const Context& ctx) {
        l_.steps.push_back(std::move(s));
        if (auto r = save(); !r) { l_.steps.pop_back(); return r; }
        Ack a = nl_.transact(std::move(msg));
        if (!a.ok()) {
            l_.steps.pop_back();
            save();
            return map_error(a, ctx);
        }
        l_.steps.back().done = true;
        if (auto r = save(); !r) return r;
        if (!dry_) maybe_crash("NETCHAOS_CRASH_AFTER_STEP", ++done_);
        return {};
    }
    // A step with nothing to send (a record of where a netem lives, of what was there).
    void note(Step s) { s.done = true; l_.steps.push_back(std::move(s)); }

private:
    Result<void> save() { return dry_ ? Result<void>{} : save_ledger(l_); }

    Sender& nl_;
    Ledger& l_;
    bool dry_;   // apply --dry-run: nl_ records, and the ledger is not written
    std::size_t done_ = 0;
};

std::uint64_t new_generation() {
    std::random_device rd;
    return (std::uint64_t(rd()) << 32) ^ rd() ^ std::uint64_t(getpid());
}

// The qdisc tree for one placement on device `tree_dev` (the real device or its IFB).
Result<void> build_tree(Sender& nl, Txn& txn, const std::string& tree_dev, int idx,
                        const Placement& pl, const profile::Profile& p,
                        const std::optional<QdiscSnapshot>& prev, std::vector<std::string>& actions) {
    const std::string side = pl.ingress ? "ingress" : "egress";
    const auto netem_msg = [&](const profile::Impairment& imp, std::uint32_t parent, std::uint32_t handle,
                               Op op) -> Result<Bytes> {
        auto in = make_encode_input(imp, p.source.parent_path());
        if (!in) return in.error();
        return encode_qdisc(*in, QdiscTarget{idx, parent, handle}, op, nl.next_seq());
    };
    if (pl.classes.empty()) {
        auto msg = netem_msg(*pl.imp, root_parent, own_root_handle, Op::replace);
        if (!msg) return msg.error();
        Step s = make_step(StepKind::root_qdisc, tree_dev, root_parent, own_root_handle);
        s.prev = prev;
        s.created = "netem";
        if (auto r = txn.run(s, std::move(*msg), {"add netem qdisc", tree_dev, "netem"}); !r) return r;
        txn.note(make_step(StepKind::netem, tree_dev, root_parent, own_root_handle, side));
        actions.push_back("netem " + hex_handle(own_root_handle) + " root on " + tree_dev + " (" + side + ")");
        return {};
    }
    // Every class's filters are made before anything is sent: a bad match changes nothing.
    std::vector<std::vector<U32Match>> matches;
    for (const auto& c : p.classes) {
        auto m = u32_matches(c.match);
        if (!m) return make_error("class \"" + c.name + "\": " + m.error().message, m.error().kind);
        matches.push_back(std::move(*m));
    }
    // htb root; the unmatched traffic's class and netem (or htb's direct path when it passes);
    // a class (and a netem, if it impairs this side) per [[class]]; then the filters, in class
    // order, so that no packet is classified into a class before its netem exists.
    Step root = make_step(StepKind::root_qdisc, tree_dev, root_parent, match_root_handle);
    root.prev = prev;
    root.created = "htb";
    if (auto r = txn.run(root, new_qdisc(QdiscOp::replace, idx, root_parent, match_root_handle, "htb",
                                         htb_options(1000, pl.imp ? unmatched_minor : 0), nl.next_seq()),
                         {"add htb qdisc", tree_dev, "htb"});
        !r)
        return r;
    const auto add_class = [&](std::uint32_t classid, const profile::Impairment* imp, std::uint32_t netem) -> Result<void> {
        if (auto r = txn.run(make_step(StepKind::tc_class, tree_dev, match_root_handle, classid, side),
                             new_htb_class(idx, match_root_handle, classid, match_class_rate, nl.next_seq()),
                             {"add htb class", tree_dev, "htb"});
            !r)
            return r;
        if (!imp) return {};
        auto msg = netem_msg(*imp, classid, netem, Op::add);
        if (!msg) return msg.error();
        return txn.run(make_step(StepKind::netem, tree_dev, classid, netem, side), std::move(*msg),
                       {"add netem qdisc", tree_dev, "netem"});
    };
    if (pl.imp)
        if (auto r = add_class(unmatched_class, pl.imp, unmatched_netem_handle); !r) return r;
    for (std::size_t i = 0; i < pl.classes.size(); ++i)
        if (auto r = add_class(class_id(i), pl.classes[i], class_netem_handle(i)); !r) return r;
    std::size_t filters = 0;
    for (std::size_t i = 0; i < matches.size(); ++i)
        for (const auto& m : matches[i]) {
            U32Filter f{idx, match_root_handle, class_filter_pref(i, m.eth_protocol == ETH_P_IPV6), m, class_id(i), std::nullopt};
            if (auto r = txn.run(make_step(StepKind::filter, tree_dev, match_root_handle, 0, side),
                                 new_u32_filter(f, nl.next_seq()), {"add u32 filter", tree_dev, "u32"});
                !r)
                return r;
            ++filters;
        }
    std::string what;
    for (std::size_t i = 0; i < pl.classes.size(); ++i)
        what += ", class " + handle_str(class_id(i)) + " (" + p.classes[i].name + ")" +
                (pl.classes[i] ? " netem " + hex_handle(class_netem_handle(i)) : " passes");
    actions.push_back("htb 6e63: root on " + tree_dev + " (" + side + ")" + what + ", unmatched traffic " +
                      (pl.imp ? "netem " + hex_handle(unmatched_netem_handle) + " under " + handle_str(unmatched_class)
                              : "passes unshaped") +
                      ", " + std::to_string(filters) + " u32 filter(s)");
    return {};
}

Result<void> check_reserved(const std::optional<QdiscSnapshot>& s, const std::string& dev) {
    if (!s) return {};
    std::vector<TcObject> all{root_object(*s)};
    all.insert(all.end(), s->children.begin(), s->children.end());
    if (uses_reserved_handle(all))
        return make_error(dev + " already has a qdisc or class with a handle netchaos reserves (6e63: to 6e74:): "
                                "nothing was changed");
    return {};
}

Result<void> build(Sender& nl, Txn& txn, const ApplyOptions& o, int idx,
                   const std::vector<Placement>& places, std::vector<std::string>& actions) {
    for (const auto& pl : places) {
        if (!pl.ingress) {
            auto prev = snapshot_root_with(nl, idx);
            if (!prev) return prev.error();
            if (auto r = check_reserved(*prev, o.dev); !r) return r;
            if (auto r = build_tree(nl, txn, o.dev, idx, pl, o.profile, *prev, actions); !r) return r;
            continue;
        }
        // What the ingress side holds before any change; an ingress/clsact of the operator's is
        // kept, and only a filter at our reserved pref is added to it.
        auto ing = snapshot_ingress_with(nl, idx);
        if (!ing) return ing.error();
        const std::string ifb = ifb_name_for(o.dev);
        if (auto r = txn.run(make_step(StepKind::ifb_link, ifb), new_ifb_link(ifb, nl.next_seq()),
                             {"create ifb device", ifb, "ifb"});
            !r)
            return r;
        int ifb_idx = nl.ifindex(ifb);
        if (!ifb_idx) return no_such_interface(ifb);
        // Netem on the IFB first, so no packet is redirected to an unimpaired IFB.
        if (auto r = build_tree(nl, txn, ifb, ifb_idx, pl, o.profile, std::nullopt, actions); !r) return r;
        if (*ing) {
            for (const auto& f : (*ing)->children)
                if ((f.info >> 16) == own_filter_pref)
                    return make_error(o.dev + " already has a filter at pref " + std::to_string(own_filter_pref) +
                                          " (reserved by netchaos) on its " + (*ing)->kind);
            Step keep = make_step(StepKind::ingress_qdisc, o.dev, ingress_parent, (*ing)->handle);
            keep.prev = *ing;
            txn.note(std::move(keep));
            U32Filter f{idx, clsact_ingress_hook, own_filter_pref, U32Match{ETH_P_ALL, {}}, 0, ifb_idx};
            Step fs = make_step(StepKind::filter, o.dev, clsact_ingress_hook, 0, "ingress");
            fs.info = (std::uint32_t(own_filter_pref) << 16) | htons(ETH_P_ALL);
            if (auto r = txn.run(fs, new_u32_filter(f, nl.next_seq()), {"add mirred redirect filter", o.dev, "u32"}); !r)
                return r;
            actions.push_back("ingress of " + o.dev + " redirected to " + ifb + " (filter pref " +
                              std::to_string(own_filter_pref) + " on its existing " + (*ing)->kind + ")");
            continue;
        }
        if (auto r = txn.run(make_step(StepKind::ingress_qdisc, o.dev, ingress_parent, ingress_handle),
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
Result<void> switch_phase(Sender& nl, const Ledger& l, const ApplyOptions& o,
                          const std::vector<Placement>& places, std::vector<std::string>& actions) {
    for (const auto& s : l.steps) {
        if (s.kind != StepKind::netem) continue;
        const profile::Impairment* imp = nullptr;
        for (const auto& p : places)
            if ((p.ingress ? "ingress" : "egress") == s.side) imp = impairment_at(p, s.handle);
        if (!imp)
            return make_error("ledger of " + o.dev + " has a netem " + hex_handle(s.handle) + " for side " + s.side +
                              " the profile lacks");
        int idx = nl.ifindex(s.dev);
        if (!idx) return no_such_interface(s.dev);
        auto in = make_encode_input(*imp, o.profile.source.parent_path());
        if (!in) return in.error();
        auto msg = encode_qdisc(*in, QdiscTarget{idx, s.parent, s.handle}, Op::replace, nl.next_seq());
        if (!msg) return msg.error();
        Ack a = nl.transact(std::move(*msg));
        if (!a.ok()) return map_error(a, {"replace netem qdisc", s.dev, "netem"});
        actions.push_back("replaced netem " + hex_handle(s.handle) + " on " + s.dev + " (" + s.side + ") in place");
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
    std::vector<std::string> warnings;
    auto r = undo_all(*nl, **l, warnings);
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

// The controller this apply acts for: a `netchaos run` says so in NETCHAOS_HOLDER_PID.
std::pair<int, std::uint64_t> my_holder() {
    const char* env = std::getenv("NETCHAOS_HOLDER_PID");
    int pid = env ? std::atoi(env) : 0;
    std::uint64_t start = process_start_time(pid);
    return start ? std::pair{pid, start} : std::pair{0, std::uint64_t{0}};
}

std::string format_since(std::int64_t t) {
    char b[40];
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

// A live controller other than ours holds the device: the run that applied it, or the
// watchdog of an `apply --for` (until it fires).
// `for_clear`: only a run counts (ending an `apply --for` early is what clear is for).
std::optional<std::string> held_by_other(const Ledger& l, int my_pid, bool for_clear = false) {
    auto msg = [&](int pid) {
        return l.dev + " is held by pid " + std::to_string(pid) + " (profile " + l.profile + ") since " +
               format_since(l.since) + "; pass --takeover to " + (for_clear ? "clear" : "apply") + " anyway";
    };
    if (l.holder_pid && l.holder_pid != my_pid && same_process(l.holder_pid, l.holder_start)) return msg(l.holder_pid);
    if (for_clear) return std::nullopt;
    if (l.watchdog_pid && same_process(l.watchdog_pid, l.watchdog_start) && !(my_pid && l.holder_pid == my_pid))
        return msg(l.watchdog_pid);
    return std::nullopt;
}

Result<int> start_recorded_watchdog(Ledger& l, const ApplyOptions& o) {
    auto pid = start_watchdog(o.dev, l.generation, *o.duration);
    if (!pid) return pid.error();
    l.watchdog_pid = *pid;
    l.watchdog_start = process_start_time(*pid);
    return *pid;
}

}  // namespace

Result<std::optional<QdiscSnapshot>> snapshot_root(int ifindex) {
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    return snapshot_root_with(*nl, ifindex);
}

Result<std::optional<QdiscSnapshot>> snapshot_ingress(int ifindex) {
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    return snapshot_ingress_with(*nl, ifindex);
}

namespace {

// apply and apply --dry-run: one path. With `dry`, `nl` is a RecordingSender (nothing reaches
// the kernel), the ledger is built but not written, and no watchdog is started or stopped.
Result<ApplyReport> apply_with(Sender& nl, const ApplyOptions& o, bool dry) {
    if (auto v = validate_dev(o.dev); !v) return v.error();
    auto places = place(o.profile, o.ingress);
    if (!places) return places.error();
    if (single_match(o.profile) && places->size() > 1)
        return make_error(o.profile.source.string() +
                              ": a [match] profile impairs one direction: give [egress] or [ingress], not both", ErrorKind::bad_input);
    const int idx = nl.ifindex(o.dev);
    if (!idx) return no_such_interface(o.dev);
    // The lock and the cleanup of dead namespaces' ledgers write under /run: not in a dry run.
    std::optional<LedgerLock> lock;
    ApplyReport rep;
    if (!dry) {
        auto l = LedgerLock::acquire(o.dev);
        if (!l) return l.error();
        lock.emplace(std::move(*l));
        rep.warnings = discard_dead_namespace_ledgers();
    }
    auto old = load_ledger(o.dev);
    if (!old) {
        // Advice to discard it only for a ledger that is there and bad, not for one we may not read.
        const bool bad = old.error().message.find("needs root") == std::string::npos;
        return make_error(old.error().message + "; nothing was changed" +
                              (bad ? ". Look at it, then `netchaos clear --dev " + o.dev + " --discard` forgets it" : ""));
    }
    const auto [holder_pid, holder_start] = my_holder();
    if (*old && !o.takeover)
        if (auto who = held_by_other(**old, holder_pid)) return make_error(*who);
    // `fresh`: a tree this call built, undone again if its watchdog cannot start.
    const auto finish = [&](Ledger& l, bool fresh) -> Result<ApplyReport> {
        if (o.duration && !dry) {
            auto pid = start_recorded_watchdog(l, o);
            if (!pid) {
                if (fresh) {
                    undo_all(nl, l, rep.warnings);
                    remove_ledger(o.dev);
                }
                return pid.error();
            }
            rep.watchdog_pid = *pid;
        }
        if (dry) rep.ledger = l;
        else if (auto r = save_ledger(l); !r) return r.error();
        return rep;
    };

    const std::string layout = layout_of(*places, o.profile);
    if (*old && (*old)->complete && (*old)->layout == layout) {
        Ledger l = **old;
        if (auto r = switch_phase(nl, l, o, *places, rep.actions); !r) return r.error();
        if (!dry) stop_watchdog(l, rep.warnings);
        l.watchdog_pid = 0;
        l.watchdog_start = 0;
        l.profile = o.profile.name;
        l.applied = profile::to_text(o.profile);
        l.applied_from = absolute_source(o.profile);
        l.holder_pid = holder_pid;
        l.holder_start = holder_start;
        l.generation = new_generation();
        rep.phase_switch = true;
        return finish(l, false);
    }
    if (*old) {   // a different tree, or an apply that died midway: undo it first
        // What the undo leaves is known only once it has run (each step checks the kernel):
        // a dry run cannot show the tree built after it.
        if (dry)
            return make_error(o.dev + " has netchaos state of another layout (profile " + (*old)->profile +
                                  (( *old)->complete ? "" : ", incomplete") +
                                  "): apply would undo it first, which a dry run cannot show; `netchaos clear --dev " +
                                  o.dev + "` first");
        stop_watchdog(**old, rep.warnings);
        if (auto r = undo_all(nl, **old, rep.warnings); !r) return r.error();
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
    l.holder_pid = holder_pid;
    l.holder_start = holder_start;
    l.since = static_cast<std::int64_t>(std::time(nullptr));
    const NetnsId ns = current_netns();
    l.netns_inode = ns.inode;
    l.netns_cookie = ns.cookie;
    l.netns_dev = ns.dev;
    l.target = o.target;
    Txn txn(nl, l, dry);
    if (auto r = build(nl, txn, o, idx, *places, rep.actions); !r) {
        if (dry) return r.error();
        auto u = undo_all(nl, l, rep.warnings);
        if (u) remove_ledger(o.dev);
        else save_ledger(l);   // keep the record so `clear` can retry
        return r.error();
    }
    l.complete = true;
    return finish(l, true);
}

}  // namespace

Result<ApplyReport> apply(const ApplyOptions& o) {
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    if (o.dry_run) return dry_run(o, *nl);
    return apply_with(*nl, o, false);
}

Result<ApplyReport> dry_run(const ApplyOptions& o, Sender& kernel) {
    RecordingSender rec(kernel);
    auto r = apply_with(rec, o, true);
    if (!r) return r;
    r->messages = rec.sent();
    return r;
}

Result<ClearReport> clear(const std::string& dev, bool discard, bool takeover) {
    if (auto v = validate_dev(dev); !v) return v.error();
    auto lock = LedgerLock::acquire(dev);
    if (!lock) return lock.error();
    ClearReport rep;
    rep.warnings = discard_dead_namespace_ledgers();
    if (discard) {
        std::error_code ec;
        rep.had_ledger = std::filesystem::exists(ledger_path(dev), ec) || std::filesystem::is_symlink(ledger_path(dev), ec);
        remove_ledger(dev);
        return rep;
    }
    auto l = load_ledger(dev);
    if (!l)
        return make_error(l.error().message + "; nothing was undone. Look at it, then `netchaos clear --dev " + dev +
                              " --discard` forgets it");
    if (!*l) {
        remove_ledger(dev);   // drops the directory the lock created
        return rep;
    }
    // A run's rollback after its own failed apply must not undo another run's faults.
    if (!takeover)
        if (auto who = held_by_other(**l, my_holder().first, true)) return make_error(*who);
    rep.had_ledger = true;
    stop_watchdog(**l, rep.warnings);
    auto nl = Netlink::open();
    if (!nl) return nl.error();
    if (auto r = undo_all(*nl, **l, rep.warnings); !r) return r.error();
    remove_ledger(dev);
    return rep;
}

ClearAllReport clear_all() {
    ClearAllReport rep;
    rep.warnings = discard_dead_namespace_ledgers();
    for (const auto& dev : ledger_devices()) {
        auto r = clear(dev);
        if (!r) {
            rep.failed.push_back(r.error());
            continue;
        }
        rep.warnings.insert(rep.warnings.end(), r->warnings.begin(), r->warnings.end());
        if (r->had_ledger) rep.cleared.push_back(dev);
    }
    return rep;
}

}  // namespace netchaos::netem
