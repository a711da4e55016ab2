// netchaos clear --dev IF | --all     and     netchaos clear --backend dpdk [--control SOCK]
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "command.hpp"
#include "netem_cli.hpp"
#include "target_cli.hpp"
#include "drive/gone.hpp"
#include "fwdctl/client.hpp"
#include "netem/apply.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) { return cli::report_error("clear", e); }

int run_clear(int argc, char** argv) {
    std::string dev, backend = "netem", control = fwdctl::default_socket;
    po::options_description opts(
        "usage: netchaos clear --dev IF [--discard] [--takeover] | --all   [--netns NAME|PATH | --pid PID | --container ID]\n"
        "       netchaos clear --stale\n"
        "       netchaos clear --backend dpdk [--control SOCK]\n\n"
        "Undo what netchaos applied, from the ledger under /run/netchaos/ledger/ (this network\n"
        "namespace): rebuilds the previous root qdisc tree exactly (every class, child qdisc and\n"
        "filter as read back before apply), removes the IFB, ingress qdisc and filters, and stops the\n"
        "--for watchdog. Nothing netchaos did not create is deleted: what someone else has put in\n"
        "its place is reported and left alone. A corrupt ledger is reported (--all skips it and\n"
        "clears the others); --discard forgets a device's ledger without undoing anything. A device\n"
        "held by another live `netchaos run` is refused (exit 4) unless --takeover.\n"
        "--netns/--pid/--container: in that network namespace. A target whose namespace is gone (netns deleted,\n"
        "process exited, pod recreated) is reported and its ledger discarded: its qdiscs went with\n"
        "it. If the namespace lives on under another holder (a restarted container's pod), it is\n"
        "found by its identity and restored there.\n"
        "Exit 0 done (also when there was nothing to undo), 3 bad input, 4 system error.\n\noptions");
    opts.add_options()("help,h", "show this help")("dev,d", po::value(&dev), "interface")(
        "all", "every interface netchaos changed in this network namespace")(
        "stale", "every ledger of every namespace whose controller (a run, an --for watchdog) is gone: restored where "
                 "its namespace lives, discarded where it is gone (a DaemonSet agent's start, docs/kubernetes.md)")(
        "discard", "with --dev: forget the ledger (even a corrupt one) without undoing anything")(
        "takeover", "with --dev: clear even if another live `netchaos run` holds IF")(
        "backend", po::value(&backend), "netem (default), dpdk or http")(
        "control", po::value(&control), "forwarder control socket (dpdk)");
    cli::TargetFlags tf;
    cli::add_target_options(opts, tf);
    po::variables_map vm;
    if (auto rc = cli::parse_args("clear", argc, argv, opts, vm)) return *rc;
    if (auto rc = cli::check_dev("clear", dev)) return *rc;
    if (vm.count("stale")) {
        if (!dev.empty() || vm.count("all") || !tf.netns.empty() || !tf.pid.empty() || !tf.container.empty() || backend != "netem")
            return fail(make_error("--stale goes alone: it looks at every namespace's ledgers", ErrorKind::bad_input));
        auto rep = drive::settle_stale_ledgers();
        for (const auto& n : rep.notes) std::cout << n << "\n";
        for (const auto& k : rep.kept) std::cout << "kept " << k << "\n";
        for (const auto& e : rep.failed) std::cerr << "netchaos clear: " << e.message << "\n";
        if (!rep.any() && rep.kept.empty()) std::cout << "no ledgers\n";
        return rep.failed.empty() ? cli::exit_pass : cli::exit_system;
    }
    auto ref = cli::target_ref(tf);
    if (!ref && !tf.container.empty() && ref.error().kind != ErrorKind::bad_input) {
        // The container is gone (or stopped): what its ledgers recorded is settled by the
        // namespace's identity, restored where it lives on, discarded where it is gone.
        auto settled = drive::settle_gone_target({drive::NetnsRef::Kind::pid, "", 0, "container " + tf.container}, nullptr);
        for (const auto& n : settled.notes) std::cout << n << "\n";
        for (const auto& e : settled.failed) std::cerr << "netchaos clear: " << e.message << "\n";
        if (settled.any()) return settled.failed.empty() ? cli::exit_pass : cli::exit_system;
    }
    if (!ref) return fail(ref.error());
    if (backend != "netem" && !ref->is_current())
        return fail(make_error("--netns/--pid say where netem works; the " + backend +
                                   " backend is reached through its control socket (--control)", ErrorKind::bad_input));
    if (backend == "http") {   // netchaos http-proxy --control: back to no faults
        if (vm["control"].empty()) control = "/run/netchaos/http.sock";
        if (auto r = fwdctl::clear(control, "http proxy"); !r) return fail(r.error());
        std::cout << "http proxy at " << control << " injects nothing now\n";
        return cli::exit_pass;
    }
    if (backend == "dpdk") {
        if (auto r = fwdctl::clear(control); !r) return fail(r.error());
        std::cout << "forwarder at " << control << " is back to pass-through\n";
        return cli::exit_pass;
    }
    if (backend != "netem") return fail(make_error("--backend must be netem or dpdk", ErrorKind::bad_input));
    const bool all = vm.count("all") > 0;
    if (all == !dev.empty()) return fail(make_error("give exactly one of --dev IF and --all", ErrorKind::bad_input));
    auto warn = [](const std::vector<std::string>& w) {
        for (const auto& s : w) std::cerr << "netchaos clear: warning: " << s << "\n";
    };
    const bool discard = vm.count("discard") > 0;
    if (all && discard) return fail(make_error("--discard goes with --dev IF, not --all", ErrorKind::bad_input));
    // Ledgers this target left in a namespace it no longer names: restored where that
    // namespace lives on, discarded (with a note) where it is gone.
    auto ns = drive::pin_netns(*ref);
    const bool gone = !ns && drive::target_gone(*ref);
    drive::GoneReport settled;
    if (!ref->is_current() && (ns || gone))
        settled = drive::settle_gone_target(*ref, ns ? &*ns : nullptr);
    for (const auto& n : settled.notes) std::cout << n << "\n";
    for (const auto& e : settled.failed) std::cerr << "netchaos clear: " << e.message << "\n";
    if (!ns) {
        if (gone && settled.any()) return settled.failed.empty() ? cli::exit_pass : cli::exit_system;
        return fail(make_error(ns.error().message + (gone ? "; netchaos has no ledger recorded for " + ref->label() : ""),
                               ns.error().kind));
    }
    const int settled_rc = settled.failed.empty() ? cli::exit_pass : cli::exit_system;
    if (all) {
        auto r = cli::in_target(*ns, [&]() -> Result<netem::ClearAllReport> { return netem::clear_all(); });
        if (!r) return fail(r.error());
        warn(r->warnings);
        if (r->cleared.empty() && r->failed.empty() && !settled.any()) std::cout << "nothing to clear\n";
        for (const auto& d : r->cleared) std::cout << "restored " << d << "\n";
        for (const auto& e : r->failed) std::cerr << "netchaos clear: skipped: " << e.message << "\n";
        return r->failed.empty() ? settled_rc : cli::exit_system;
    }
    auto r = cli::in_target(*ns, [&] { return netem::clear(dev, discard, vm.count("takeover") > 0); });
    if (!r) return fail(r.error());
    warn(r->warnings);
    if (discard) std::cout << (r->had_ledger ? "discarded the ledger of " : "no ledger to discard for ") << dev << "\n";
    else std::cout << (r->had_ledger ? "restored " : "nothing to clear on ") << dev << "\n";
    return settled_rc;
}

}  // namespace

NETCHAOS_COMMAND(clear, "undo what netchaos applied (restores the previous qdiscs)", run_clear);
