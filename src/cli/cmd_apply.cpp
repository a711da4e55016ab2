// netchaos apply PROFILE --dev IF [--ingress] [--for D]          (kernel netem over netlink)
// netchaos apply PROFILE --backend dpdk [--control SOCK] [--direction both|0to1|1to0]
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <boost/program_options.hpp>
#include <net/if.h>

#include "allow_path.hpp"
#include "command.hpp"
#include "netem_cli.hpp"
#include "target_cli.hpp"
#include "fwdctl/client.hpp"
#include "netem/apply.hpp"
#include "netem/requests.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace po = boost::program_options;
namespace prof = netchaos::profile;
using namespace netchaos;

namespace {

int fail(const Error& e) { return cli::report_error("apply", e); }

int apply_dpdk(const prof::Profile& p, const std::string& control,
               const std::string& direction, std::optional<prof::Duration> lease) {
    if (direction != "both" && direction != "0to1" && direction != "1to0")
        return fail(make_error("--direction must be both, 0to1 or 1to0 (got '" + direction + "')", ErrorKind::bad_input));
    // The forwarder refuses it too; saying so here costs no round trip.
    // The normalized profile, table paths absolute: the forwarder has another working
    // directory, and this process has already checked where the tables may come from.
    fwdctl::Load req{prof::to_text(prof::with_absolute_tables(p)), p.name, direction, std::nullopt};
    // The forwarder keeps the lease itself, so it reverts even if this process dies.
    if (lease) req.lease = std::chrono::duration_cast<std::chrono::milliseconds>(*lease);
    if (auto r = fwdctl::load(control, req); !r) return fail(r.error());
    // Say which directions are impaired, not which were asked for: an egress-only profile
    // loaded "both" leaves 1to0 passing through (it said "direction both").
    auto impairs = [](const std::optional<prof::Impairment>& imp) { return imp && !(*imp == prof::Impairment{}); };
    std::string dirs[2];   // 0to1, 1to0
    if (direction == "both") {
        dirs[0] = impairs(p.egress) ? "impaired by [egress]" : "passes through (no [egress])";
        dirs[1] = impairs(p.ingress) ? "impaired by [ingress]" : "passes through (no [ingress])";
    } else {
        const int d = direction == "0to1" ? 0 : 1;
        dirs[d] = impairs(p.egress) ? "impaired by [egress]" : impairs(p.ingress) ? "impaired by [ingress]" : "passes through (nothing to apply)";
        dirs[1 - d] = "unchanged";
    }
    if (!p.classes.empty()) {
        // The classes ride along on each direction loaded; the text above is then about the
        // traffic no class takes.
        const std::string c = " (unmatched traffic), plus " + std::to_string(p.classes.size()) +
                              (p.classes.size() == 1 ? " class" : " classes");
        for (auto& s : dirs)
            if (s != "unchanged") s += c;
    }
    std::cout << "applied " << p.name << " to the forwarder at " << control << ": 0to1 " << dirs[0] << ", 1to0 " << dirs[1] << "\n";
    if (lease) std::cout << "  the forwarder reverts to its previous profile after " << prof::format_duration(*lease) << "\n";
    return cli::exit_pass;
}

// --dry-run: every request apply would send, in order, and the ledger it would write.
int print_dry_run(const netem::ApplyOptions& o, const netem::ApplyReport& r, bool json) {
    const auto name_of = [](int idx) {
        char b[IF_NAMESIZE] = {};
        return std::string(idx > 0 && if_indextoname(static_cast<unsigned>(idx), b) ? b : "");
    };
    const auto reqs = netem::decode_requests(r.messages, name_of);
    auto ledger = nlohmann::json::parse(netem::to_json(*r.ledger));
    if (json) {
        nlohmann::json out{{"dev", o.dev}, {"profile", o.profile.name}, {"phase_switch", r.phase_switch},
                           {"requests", nlohmann::json::array()}, {"ledger", ledger}, {"actions", r.actions}};
        for (const auto& q : reqs) out["requests"].push_back(netem::to_json(q));
        if (o.duration) out["watchdog_after"] = prof::format_duration(*o.duration);
        std::cout << out.dump(2) << "\n";
        return cli::exit_pass;
    }
    std::cout << "dry run: " << (r.phase_switch ? "switch " : "apply ") << o.profile.name << " on " << o.dev
              << ": " << reqs.size() << " netlink request" << (reqs.size() == 1 ? "" : "s")
              << ", nothing sent, nothing written\n";
    for (const auto& a : r.actions) std::cout << "  " << a << "\n";
    std::cout << "\n";
    for (std::size_t i = 0; i < reqs.size(); ++i) std::cout << netem::to_text(reqs[i], i + 1) << "\n";
    if (std::any_of(reqs.begin(), reqs.end(), [](const auto& q) { return q.type == "RTM_NEWLINK"; }))
        std::cout << "(the IFB gets its ifindex from the kernel when it is created; the requests after its creation carry "
                  << netem::RecordingSender::placeholder_ifindex << " in its place)\n\n";
    if (o.duration)
        std::cout << "a watchdog would restore after " << prof::format_duration(*o.duration)
                  << " (its pid goes into the ledger)\n";
    std::cout << "ledger " << netem::ledger_path(o.dev).string() << " would read:\n" << ledger.dump(2) << "\n";
    return cli::exit_pass;
}

// The HTTP proxy's control socket (netchaos http-proxy --control) speaks the forwarder's
// load/clear/stats lines; it takes the profile's [http] table and switches between requests.
int apply_http(const std::string& file, const prof::Profile& p, const std::string& control, std::optional<prof::Duration> lease) {
    if (!p.http) return fail(make_error(file + ": no [http] table: nothing for the HTTP proxy to apply", ErrorKind::bad_input));
    fwdctl::Load req{prof::to_text(prof::with_absolute_tables(p)), p.name, "both", std::nullopt};
    // The proxy keeps the lease itself (src/fwdctl/lease.hpp), as the forwarder does.
    if (lease) req.lease = std::chrono::duration_cast<std::chrono::milliseconds>(*lease);
    if (auto r = fwdctl::load(control, req, "http proxy"); !r) return fail(r.error());
    std::cout << "applied " << p.name << " to the http proxy at " << control << " (" << p.http->routes.size() << " route(s))\n";
    if (lease) std::cout << "  the proxy reverts to its previous profile after " << prof::format_duration(*lease) << "\n";
    return cli::exit_pass;
}

int run_apply(int argc, char** argv) {
    std::string file, dev, backend = "netem", control = fwdctl::default_socket, direction = "both", for_s;
    po::options_description opts(
        "usage: netchaos apply PROFILE --dev IF [--netns NAME|PATH | --pid PID | --container ID] [--ingress] [--for DURATION] [--takeover]\n"
        "       netchaos apply PROFILE --backend dpdk [--control SOCK] [--direction both|0to1|1to0] [--for DURATION]\n"
        "       netchaos apply PROFILE --backend http [--control SOCK] [--for DURATION]   (the [http] table, to netchaos http-proxy)\n\n"
        "Apply a profile. netem: [egress] becomes the root qdisc of IF and [ingress] a netem on\n"
        "ifb-IF fed by a mirred redirect of IF's ingress; --ingress puts the profile (its [ingress],\n"
        "else its [egress]) on the ingress side only. A [match] table impairs only that flow (htb\n"
        "root, netem under one class, u32 filters). Applying again with the same layout replaces the\n"
        "netem parameters atomically (a phase switch). Every change is recorded under\n"
        "/run/netchaos/ledger/ first; `netchaos clear` restores what was there before. A device\n"
        "held by another live controller (a `netchaos run`, or the watchdog of `apply --for`) is\n"
        "refused with exit 4 unless --takeover. --dry-run reads the device and its ledger, then prints\n"
        "the netlink requests apply would send and the ledger it would write, changing nothing.\n"
        "dpdk and http: --for is a lease the forwarder (or the proxy) keeps: it reverts to its previous\n"
        "profile when the lease ends, even if this process is gone; [match] is refused by dpdk.\n"
        "--netns/--pid/--container: IF is in that network namespace (opened once, entered by a thread of this process;\n"
        "the ledger records the namespace's identity, so `clear` knows when it is gone).\n"
        "Exit 0 applied, 3 bad input, 4 system error (device, permission, kernel feature).\n\noptions");
    opts.add_options()("help,h", "show this help")("dev,d", po::value(&dev), "interface (netem backend)")(
        "ingress", "impair traffic arriving on IF (through an IFB device)")(
        "for", po::value(&for_s), "restore automatically after DURATION (\"30s\"), even if this process is killed")(
        "takeover", "apply even if another live controller holds IF")(
        "dry-run", "send nothing, write nothing: print every netlink request apply would send (tc command, "
                   "decoded attributes, hex) and the ledger it would write")(
        "json,j", "with --dry-run: JSON")(
        "backend", po::value(&backend), "netem (default), dpdk or http")(
        "control", po::value(&control), "forwarder control socket (dpdk)")(
        "direction", po::value(&direction), "forwarder direction: both, 0to1, 1to0 (dpdk)");
    cli::TargetFlags tf;
    cli::add_target_options(opts, tf);
    std::vector<std::string> allow;
    cli::add_allow_path_option(opts, allow);
    po::options_description hidden;
    hidden.add_options()("profile", po::value(&file));
    po::positional_options_description pos;
    pos.add("profile", 1);
    po::variables_map vm;
    if (auto rc = cli::parse_args("apply", argc, argv, opts, vm, &hidden, &pos)) return *rc;
    if (file.empty()) return fail(make_error("no PROFILE given (see --help)", ErrorKind::bad_input));
    if (backend != "netem" && backend != "dpdk" && backend != "http") return fail(make_error("--backend must be netem, dpdk or http", ErrorKind::bad_input));
    if (backend == "http" && vm["control"].empty()) control = "/run/netchaos/http.sock";

    cli::use_allow_paths(allow);
    auto parsed = prof::parse_profile_file(file);
    for (const auto& d : parsed.diagnostics) std::cerr << d.format() << "\n";
    if (!parsed.ok()) return cli::exit_bad_input;
    std::optional<prof::Duration> lease;
    if (!for_s.empty()) {
        auto d = prof::parse_duration(for_s);
        if (!d) return fail(make_error("--for: " + d.error().message, ErrorKind::bad_input));
        if (d->count() <= 0) return fail(make_error("--for must be positive", ErrorKind::bad_input));
        lease = *d;
    }
    if (backend != "netem" && vm.count("dry-run"))
        return fail(make_error("--dry-run shows netlink requests: it is for the netem backend (the " + backend +
                               " backend takes the profile as it is; `netchaos show-profile` prints it normalized)", ErrorKind::bad_input));
    // Accepted and ignored would mislead: on the forwarder an apply replaces what is in effect
    // (a live switch), --for reverts to it, and `run --takeover` restores it after a run.
    if (backend != "netem" && vm.count("takeover"))
        return fail(make_error("--takeover is for the netem backend: on the forwarder or the http proxy apply replaces the profile in "
                               "effect (--for reverts to it when the lease ends; `run --takeover` restores it after a run)", ErrorKind::bad_input));
    if (backend == "dpdk") return apply_dpdk(*parsed.value, control, direction, lease);
    auto ref = cli::target_ref(tf);
    if (!ref) return fail(ref.error());
    if (backend != "netem" && !ref->is_current())
        return fail(make_error("--netns/--pid say where netem works; the " + backend +
                                   " backend is reached through its control socket (--control)", ErrorKind::bad_input));
    if (backend == "http") return apply_http(file, *parsed.value, control, lease);

    if (dev.empty()) return fail(make_error("--dev IF is required with the netem backend", ErrorKind::bad_input));
    if (auto rc = cli::check_dev("apply", dev)) return *rc;
    const bool dry = vm.count("dry-run") > 0;
    if (vm.count("json") && !dry) return fail(make_error("-j goes with --dry-run", ErrorKind::bad_input));
    netem::ApplyOptions o{*parsed.value, dev, vm.count("ingress") > 0, lease, vm.count("takeover") > 0, dry,
                          ref->is_current() ? "" : ref->label()};
    auto ns = drive::pin_netns(*ref);
    if (!ns) return fail(ns.error());
    auto r = cli::in_target(*ns, [&] { return netem::apply(o); });
    if (!r) return fail(r.error());
    for (const auto& w : r->warnings) std::cerr << "netchaos apply: warning: " << w << "\n";
    if (dry) return print_dry_run(o, *r, vm.count("json") > 0);
    std::cout << (r->phase_switch ? "switched " : "applied ") << o.profile.name << " on " << dev
              << (ref->is_current() ? "" : " in " + ref->label()) << "\n";
    for (const auto& a : r->actions) std::cout << "  " << a << "\n";
    if (r->watchdog_pid) std::cout << "  watchdog pid " << r->watchdog_pid << " restores after " << for_s << "\n";
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(apply, "apply a profile (netem qdiscs, the DPDK forwarder, or the http proxy)", run_apply);
