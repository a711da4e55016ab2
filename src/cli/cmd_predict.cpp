// netchaos predict PROFILE [--rate 200] [--count 800] [--side egress|ingress] [-j]: what a probe
// at that rate should see through the profile, from the fault engine over its send grid
// (fault::predict_grid). The kernel suite compares netem's delivered sigma and reordering with it.
#include <iostream>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "exit_codes.hpp"
#include "netem_cli.hpp"
#include "fault/grid.hpp"
#include "profile/parse.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int run_predict(int argc, char** argv) {
    std::string file, side = "egress";
    double rate = 200;
    fault::Grid g;
    bool json = false;
    po::options_description opts(
        "usage: netchaos predict PROFILE [--rate 200] [--count 800] [--side egress|ingress] [-j]\n\n"
        "Run the fault engine over a probe's send grid (COUNT packets at RATE per second, RUNS times)\n"
        "and print the delivered mean and sigma and the reordered packets a probe should see from\n"
        "this impairment alone (one direction; the path's own RTT comes on top).\n\noptions");
    opts.add_options()("help,h", "show this help")("rate,r", po::value(&rate), "packets per second (200)")(
        "count,c", po::value(&g.count), "packets per run (800)")("runs", po::value(&g.runs), "runs averaged (50)")(
        "seed", po::value(&g.seed), "first seed (1)")("size", po::value(&g.frame_bytes), "frame bytes (74)")(
        "side", po::value(&side), "egress (default) or ingress")("json,j", po::bool_switch(&json), "JSON output");
    po::options_description hidden;
    hidden.add_options()("file", po::value(&file));
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    if (auto rc = cli::parse_args("predict", argc, argv, opts, vm, &hidden, &pos)) return *rc;
    if (file.empty() || !(rate > 0) || (side != "egress" && side != "ingress")) {
        std::cerr << "netchaos predict: give a PROFILE, a positive --rate and --side egress|ingress\n" << opts << "\n";
        return cli::exit_bad_input;
    }
    auto parsed = profile::parse_profile_file(file);
    for (const auto& d : parsed.diagnostics)
        if (d.severity == profile::Diagnostic::Severity::error) std::cerr << d.format() << "\n";
    if (!parsed.ok()) return cli::exit_bad_input;
    const auto& imp = side == "egress" ? parsed.value->egress : parsed.value->ingress;
    if (!imp) {
        std::cerr << "netchaos predict: " << file << " has no [" << side << "]\n";
        return cli::exit_bad_input;
    }
    g.interval = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate));
    auto p = fault::predict_grid(*imp, g);
    if (!p) {
        std::cerr << "netchaos predict: " << p.error().message << "\n";
        return cli::exit_code(p.error());
    }
    if (json) {
        std::cout << nlohmann::json{{"rate_hz", rate},          {"count", g.count},
                                    {"runs", g.runs},           {"delivered", p->delivered},
                                    {"mean_ms", p->mean_ms},    {"sigma_ms", p->sigma_ms},
                                    {"sigma_ms_sd", p->sigma_ms_sd}, {"reordered", p->reordered},
                                    {"reordered_sd", p->reordered_sd}, {"reordered_share", p->reordered_share}}
                         .dump()
                  << "\n";
    } else {
        std::cout << "delivered " << p->delivered << " of " << g.count << ", mean " << p->mean_ms << " ms, sigma "
                  << p->sigma_ms << " ms (+-" << p->sigma_ms_sd << " across runs), reordered " << p->reordered
                  << " (share " << p->reordered_share << ")\n";
    }
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(predict, "what a probe should see through a profile (fault engine over the send grid)", run_predict);
