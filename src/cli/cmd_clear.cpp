// netchaos clear --dev IF | --all     and     netchaos clear --backend dpdk [--control SOCK]
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "command.hpp"
#include "netem_cli.hpp"
#include "fwdctl/client.hpp"
#include "netem/apply.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) { return cli::report_error("clear", e); }

int run_clear(int argc, char** argv) {
    std::string dev, backend = "netem", control = fwdctl::default_socket;
    po::options_description opts(
        "usage: netchaos clear --dev IF | --all\n"
        "       netchaos clear --backend dpdk [--control SOCK]\n\n"
        "Undo what netchaos applied, from the ledger under /run/netchaos/ledger/ (this network\n"
        "namespace): restores the previous root qdisc exactly (kind and parameters as read back\n"
        "before apply), removes the IFB, ingress qdisc and filters, and stops the --for watchdog.\n"
        "Exit 0 done (also when there was nothing to undo), 3 bad input, 4 system error.\n\noptions");
    opts.add_options()("help,h", "show this help")("dev,d", po::value(&dev), "interface")(
        "all", "every interface netchaos changed in this network namespace")(
        "backend", po::value(&backend), "netem (default) or dpdk")(
        "control", po::value(&control), "forwarder control socket (dpdk)");
    po::variables_map vm;
    if (auto rc = cli::parse_args("clear", argc, argv, opts, vm)) return *rc;
    if (auto rc = cli::check_dev("clear", dev)) return *rc;
    if (backend == "dpdk") {
        auto r = fwdctl::request(control, {{"cmd", "clear"}});
        if (!r) return fail(r.error());
        if (!r->value("ok", false)) return fail(make_error("forwarder: " + r->value("error", r->dump()), 4));
        std::cout << "forwarder at " << control << " is back to pass-through\n";
        return cli::exit_pass;
    }
    if (backend != "netem") return fail(make_error("--backend must be netem or dpdk", 3));
    const bool all = vm.count("all") > 0;
    if (all == !dev.empty()) return fail(make_error("give exactly one of --dev IF and --all", 3));
    if (all) {
        auto r = netem::clear_all();
        if (!r) return fail(r.error());
        if (r->empty()) std::cout << "nothing to clear\n";
        for (const auto& d : *r) std::cout << "restored " << d << "\n";
        return cli::exit_pass;
    }
    auto r = netem::clear(dev);
    if (!r) return fail(r.error());
    std::cout << (*r ? "restored " : "nothing to clear on ") << dev << "\n";
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(clear, "undo what netchaos applied (restores the previous qdiscs)", run_clear);
