// netchaos show [--dev IF] [-j]     and     netchaos show --backend dpdk|http [--control SOCK] [-j]
#include <cstdio>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "netem_cli.hpp"
#include "target_cli.hpp"
#include "fwdctl/client.hpp"
#include "netem/ledger.hpp"
#include "netem/show.hpp"
#include "profile/parse.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) { return cli::report_error("show", e); }

// The forwarder's state for a person: per direction, the profile in effect with its
// parameters (the forwarder sends them in the profile printer's own form) and the main
// counters; everything else is in -j.
std::string forwarder_text(const nlohmann::json& s, const std::string& control) {
    std::ostringstream o;
    auto num = [](const nlohmann::json& j, const char* k) -> std::uint64_t {
        return j.contains(k) && j[k].is_number() ? j[k].get<std::uint64_t>() : 0;
    };
    o << "forwarder " << control << ": engine " << s.value("engine", "?") << ", up "
      << static_cast<long long>(s.value("uptime_s", 0.0)) << " s";
    // Which clock stamped rx: the NIC's (hardware timestamps) or the TSC (the fallback).
    if (s.contains("rx_clock") && s["rx_clock"].is_string()) o << ", rx times from " << s["rx_clock"].get<std::string>();
    o << "\n";
    if (s.contains("lease") && s["lease"].is_object()) {
        const auto& l = s["lease"];
        o << "lease: reverts in " << l.value("remaining_ms", 0) / 1000.0 << " s to 0to1="
          << l["reverts_to"].value("0to1", "") << ", 1to0=" << l["reverts_to"].value("1to0", "") << "\n";
    }
    if (!s.contains("directions") || !s["directions"].is_object()) return o.str();
    for (const char* d : {"0to1", "1to0"}) {
        if (!s["directions"].contains(d)) continue;
        const auto& j = s["directions"][d];
        o << "\n" << d << ": " << j.value("profile", "?") << "\n";
        const std::uint64_t dropped = num(j, "dropped_fault") + num(j, "dropped_queue_full") + num(j, "dropped_tx");
        o << "  rx " << num(j, "rx") << "  tx " << num(j, "tx") << "  dropped " << dropped << "  in flight "
          << num(j, "in_flight");
        if (j.contains("release_error_ns") && j["release_error_ns"].is_object())
            o << "  release error p99 " << num(j["release_error_ns"], "p99") / 1000.0 << " us"
              << (j["release_error_ns"].contains("clock") ? " (" + j["release_error_ns"].value("clock", "") + ")" : "");
        o << "\n";
        // The profile printer's sections, one line each: "delay: mean 80ms, jitter 10ms, ...".
        std::istringstream params(j.value("params", ""));
        std::string group, items;
        auto flush = [&] {
            if (!items.empty()) o << "  " << (group.empty() ? "" : group + ": ") << items << "\n";
            items.clear();
        };
        for (std::string line; std::getline(params, line);) {
            if (line.empty() || line[0] == '#') continue;
            if (line[0] == '[') {
                flush();
                const auto dot = line.find('.');
                group = dot == std::string::npos ? "" : line.substr(dot + 1, line.size() - dot - 2);
                continue;
            }
            std::string kv = line;
            std::erase(kv, '"');
            if (const auto eq = kv.find(" = "); eq != std::string::npos) kv.replace(eq, 3, " ");
            items += (items.empty() ? "" : ", ") + kv;
        }
        flush();
        // Per class (the forwarder lists them when the direction has classes): what each took.
        if (j.contains("classes") && j["classes"].is_array())
            for (const auto& c : j["classes"]) {
                char mean[32];
                std::snprintf(mean, sizeof mean, "%.3g", c.value("held_mean_us", 0.0) / 1000.0);
                o << "  class " << c.value("name", "?") << ": rx " << num(c, "rx") << "  dropped " << num(c, "dropped_fault")
                  << "  held mean " << mean << " ms\n";
            }
    }
    return o.str();
}

// The http proxy's state: the profile in effect, its lease, and its counters.
std::string proxy_text(const nlohmann::json& s, const std::string& control) {
    std::ostringstream o;
    auto n = [&](const char* k) { return s.contains(k) && s[k].is_number() ? s[k].get<std::uint64_t>() : 0; };
    o << "http proxy " << control << ": profile " << s.value("profile", "?") << "\n";
    if (s.contains("lease") && s["lease"].is_object())
        o << "lease: reverts in " << s["lease"].value("remaining_ms", 0) / 1000.0 << " s to "
          << s["lease"].value("reverts_to", "") << "\n";
    o << "  requests " << n("requests") << "  aborted " << n("aborted") << "  resets " << n("resets")
      << "  header faults " << n("header_faults") << "\n"
      << "  upstream errors " << n("upstream_errors") << "  client errors " << n("client_errors")
      << "  connections " << n("connections") << " (active " << n("active") << ")\n";
    return o.str();
}

// The netem side of show, as text (or JSON): what the kernel holds and what netchaos applied
// in this thread's network namespace.
Result<std::string> netem_text(const std::string& dev, bool json, bool as_profile) {
    std::ostringstream o;
    auto qs = netem::read_netem(dev.empty() ? std::nullopt : std::optional<std::string>(dev));
    if (!qs) return qs.error();
    if (as_profile) {
        if (dev.empty()) return make_error("--profile needs --dev", ErrorKind::bad_input);
        auto l = netem::load_ledger(dev);
        if (!l) return l.error();
        if (!*l) return make_error("netchaos applied nothing to " + dev, ErrorKind::bad_input);
        auto p = netem::read_applied(dev, **l, *qs);
        if (!p) return p.error();
        if (!*p) return make_error("the apply on " + dev + " is incomplete: run clear");
        o << (json ? profile::to_json(**p) : profile::to_text(**p));
        return o.str();
    }
    // What netchaos itself applied here (from the ledger), next to what the kernel reports.
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& d : netem::ledger_devices()) {
        if (!dev.empty() && d != dev) continue;
        auto l = netem::load_ledger(d);
        if (l && *l)
            applied.push_back({{"dev", d}, {"profile", (*l)->profile}, {"complete", (*l)->complete},
                               {"watchdog_pid", (*l)->watchdog_pid}, {"holder_pid", (*l)->holder_pid},
                               {"layout", (*l)->layout}});
    }
    if (json) {
        nlohmann::json out{{"backend", "netem"}, {"qdiscs", nlohmann::json::array()}, {"applied", applied}};
        for (const auto& q : *qs) out["qdiscs"].push_back(netem::to_json(q));
        o << out.dump() << "\n";
        return o.str();
    }
    if (qs->empty()) o << "no netem qdisc" << (dev.empty() ? "" : " on " + dev) << "\n";
    for (const auto& q : *qs) o << netem::to_text(q) << "\n";
    for (const auto& a : applied)
        o << "applied by netchaos: " << a["profile"].get<std::string>() << " on " << a["dev"].get<std::string>()
          << (a["watchdog_pid"].get<int>() ? " (watchdog pid " + std::to_string(a["watchdog_pid"].get<int>()) + ")" : "")
          << (a["complete"].get<bool>() ? "" : " [INCOMPLETE: run clear]") << "\n";
    return o.str();
}

int run_show(int argc, char** argv) {
    std::string dev, backend = "netem", control = fwdctl::default_socket;
    bool json = false, as_profile = false;
    po::options_description opts(
        "usage: netchaos show [--dev IF] [--netns NAME|PATH | --pid PID | --container ID] [-j]\n"
        "       netchaos show --backend dpdk|http [--control SOCK] [-j]\n\n"
        "List the netem qdiscs of this network namespace (or of IF and its IFB) with decoded\n"
        "parameters and stats (sent, dropped, overlimits, backlog, requeues), read back from the\n"
        "kernel; or the forwarder's per-direction stats; or the http proxy's profile, lease and\n"
        "counters (its --control socket). -j prints one JSON object.\n"
        "--profile --dev IF: the profile netchaos applied to IF, read back from the kernel, printed\n"
        "as show-profile prints it (equal to it when the kernel holds what was applied).\n"
        "--netns/--pid/--container: the qdiscs and ledgers of that network namespace.\n\noptions");
    opts.add_options()("help,h", "show this help")("dev,d", po::value(&dev), "only this interface (and ifb-IF)")(
        "json,j", po::bool_switch(&json), "JSON output")("backend", po::value(&backend), "netem (default), dpdk or http")(
        "control", po::value(&control), "control socket of the forwarder (dpdk) or of the http proxy")(
        "profile", po::bool_switch(&as_profile), "the applied profile, read back (needs --dev)");
    cli::TargetFlags tf;
    cli::add_target_options(opts, tf);
    po::variables_map vm;
    if (auto rc = cli::parse_args("show", argc, argv, opts, vm)) return *rc;
    if (auto rc = cli::check_dev("show", dev)) return *rc;
    auto ref = cli::target_ref(tf);
    if (!ref) return fail(ref.error());
    if (backend != "netem" && !ref->is_current())
        return fail(make_error("--netns/--pid say where netem works; the " + backend +
                                   " backend is reached through its control socket (--control)", ErrorKind::bad_input));
    if (backend == "dpdk" || backend == "http") {
        const bool fwd = backend == "dpdk";
        auto r = fwdctl::request(control, {{"cmd", "stats"}});
        if (!r) return fail(r.error());
        if (!r->value("ok", false)) return fail(make_error((fwd ? "forwarder: " : "http proxy: ") + r->value("error", r->dump())));
        if (json) std::cout << r->dump() << "\n";
        else std::cout << (fwd ? forwarder_text(*r, control) : proxy_text(*r, control));
        return cli::exit_pass;
    }
    if (backend != "netem") return fail(make_error("--backend must be netem, dpdk or http", ErrorKind::bad_input));
    auto ns = drive::pin_netns(*ref);
    if (!ns) return fail(ns.error());
    // Everything read from the kernel and the ledger inside the target; printed out here.
    auto out = cli::in_target(*ns, [&]() -> Result<std::string> { return netem_text(dev, json, as_profile); });
    if (!out) return fail(out.error());
    std::cout << *out;
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(show, "show netem qdiscs, or the forwarder's or http proxy's profile and counters", run_show);
