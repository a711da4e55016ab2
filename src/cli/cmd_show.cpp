// netchaos show [--dev IF] [-j]     and     netchaos show --backend dpdk [--control SOCK] [-j]
#include <iostream>
#include <optional>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "netem_cli.hpp"
#include "fwdctl/client.hpp"
#include "netem/ledger.hpp"
#include "netem/show.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) { return cli::report_error("show", e); }

int run_show(int argc, char** argv) {
    std::string dev, backend = "netem", control = fwdctl::default_socket;
    bool json = false;
    po::options_description opts(
        "usage: netchaos show [--dev IF] [-j]\n"
        "       netchaos show --backend dpdk [--control SOCK] [-j]\n\n"
        "List the netem qdiscs of this network namespace (or of IF and its IFB) with decoded\n"
        "parameters and stats (sent, dropped, overlimits, backlog, requeues), read back from the\n"
        "kernel; or the forwarder's per-direction stats. -j prints one JSON object.\n\noptions");
    opts.add_options()("help,h", "show this help")("dev,d", po::value(&dev), "only this interface (and ifb-IF)")(
        "json,j", po::bool_switch(&json), "JSON output")("backend", po::value(&backend), "netem (default) or dpdk")(
        "control", po::value(&control), "forwarder control socket (dpdk)");
    po::variables_map vm;
    if (auto rc = cli::parse_args("show", argc, argv, opts, vm)) return *rc;
    if (auto rc = cli::check_dev("show", dev)) return *rc;
    if (backend == "dpdk") {
        auto r = fwdctl::request(control, {{"cmd", "stats"}});
        if (!r) return fail(r.error());
        if (!r->value("ok", false)) return fail(make_error("forwarder: " + r->value("error", r->dump()), 4));
        std::cout << (json ? r->dump() : r->dump(2)) << "\n";
        return cli::exit_pass;
    }
    if (backend != "netem") return fail(make_error("--backend must be netem or dpdk", 3));
    auto qs = netem::read_netem(dev.empty() ? std::nullopt : std::optional<std::string>(dev));
    if (!qs) return fail(qs.error());
    // What netchaos itself applied here (from the ledger), next to what the kernel reports.
    nlohmann::json applied = nlohmann::json::array();
    for (const auto& d : netem::ledger_devices()) {
        if (!dev.empty() && d != dev) continue;
        auto l = netem::load_ledger(d);
        if (l && *l)
            applied.push_back({{"dev", d}, {"profile", (*l)->profile}, {"complete", (*l)->complete},
                               {"watchdog_pid", (*l)->watchdog_pid}});
    }
    if (json) {
        nlohmann::json out{{"backend", "netem"}, {"qdiscs", nlohmann::json::array()}, {"applied", applied}};
        for (const auto& q : *qs) out["qdiscs"].push_back(netem::to_json(q));
        std::cout << out.dump() << "\n";
        return cli::exit_pass;
    }
    if (qs->empty()) std::cout << "no netem qdisc" << (dev.empty() ? "" : " on " + dev) << "\n";
    for (const auto& q : *qs) std::cout << netem::to_text(q) << "\n";
    for (const auto& a : applied)
        std::cout << "applied by netchaos: " << a["profile"].get<std::string>() << " on " << a["dev"].get<std::string>()
                  << (a["watchdog_pid"].get<int>() ? " (watchdog pid " + std::to_string(a["watchdog_pid"].get<int>()) + ")" : "")
                  << (a["complete"].get<bool>() ? "" : " [INCOMPLETE: run clear]") << "\n";
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(show, "show netem qdiscs (or forwarder stats) with parameters and counters", run_show);
