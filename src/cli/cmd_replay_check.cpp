// netchaos replay-check ORIGINAL REPLAYED: does the replay reproduce the original? Per piece
// of the original, KS on RTT and loss within standard errors; jitter_1s series correlation;
// loss-run lengths (src/replay/check.hpp). Exit 0 pass, 1 missed, 3 bad input.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "command.hpp"
#include "exit_codes.hpp"
#include "profile/parse.hpp"
#include "replay/check.hpp"
#include "trace/trace.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) {
    std::fprintf(stderr, "netchaos replay-check: %s\n", e.message.c_str());
    return cli::exit_code(e);
}

int run_replay_check(int argc, char** argv) {
    std::string original, replayed, min_segment = "10s", resolution = "0";
    replay::CheckOptions o;
    bool json = false;
    po::options_description opts(
        "usage: netchaos replay-check ORIGINAL REPLAYED [options]\n\n"
        "Compares a replayed trace with the original it replays (any trace format: .ncr, CSV,\n"
        "irtt JSON, pcap). The original is cut into its stationary pieces as `fit` cuts it; each\n"
        "piece's time span selects the replayed probes at the same offset. Gates: RTT KS D per\n"
        "piece, loss per piece within SE, jitter_1s series correlation (when the original has\n"
        "more than one piece), mean loss-run length within SE (>= 10 runs a side).\n"
        "--resolution: the KS gate counts RTT differences up to the instrument's resolution as\n"
        "equal (D_eps, docs/replay.md), reported next to the plain D.\n"
        "Exit: 0 pass, 1 a gate missed, 3 bad input, 4 system error.\n\noptions");
    opts.add_options()("help,h", "this help")("ks-max", po::value(&o.ks_max)->default_value(o.ks_max), "per-piece KS D limit")(
        "r-min", po::value(&o.r_min)->default_value(o.r_min), "jitter_1s series correlation floor")(
        "loss-se", po::value(&o.loss_se)->default_value(o.loss_se), "loss and run-length tolerance, in standard errors")(
        "min-segment", po::value(&min_segment)->default_value(min_segment), "shortest piece of the original")(
        "resolution", po::value(&resolution)->default_value(resolution),
        "RTT differences up to this count as equal in the KS gate (e.g. the bench's own p99 - p1; 0: plain KS)")(
        "json,j", po::bool_switch(&json), "one JSON object on stdout");
    po::options_description hidden;
    hidden.add_options()("original", po::value(&original))("replayed", po::value(&replayed));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("original", 1).add("replayed", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos replay-check: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    if (original.empty() || replayed.empty()) {
        std::fprintf(stderr, "netchaos replay-check: expected ORIGINAL REPLAYED (see --help)\n");
        return cli::exit_bad_input;
    }
    auto seg = profile::parse_duration(min_segment);
    if (!seg || seg->count() <= 0 || !(o.ks_max > 0 && o.ks_max <= 1) || !(o.r_min >= -1 && o.r_min <= 1) || !(o.loss_se > 0)) {
        std::fprintf(stderr, "netchaos replay-check: --min-segment > 0, --ks-max in (0, 1], --r-min in [-1, 1], --loss-se > 0\n");
        return cli::exit_bad_input;
    }
    o.segmentation.min_segment = *seg;
    auto res = profile::parse_duration(resolution);
    if (!res || res->count() < 0) {
        std::fprintf(stderr, "netchaos replay-check: --resolution: %s\n", res ? "must be >= 0" : res.error().message.c_str());
        return cli::exit_bad_input;
    }
    o.resolution_ms = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(*res).count()) / 1e6;
    auto a = trace::load(original);
    if (!a) return fail(a.error());
    auto b = trace::load(replayed);
    if (!b) return fail(b.error());
    auto r = replay::check(*a, *b, o);
    if (!r) return fail(r.error());
    if (json) std::cout << replay::to_json(*r, o).dump() << "\n";
    else std::cout << replay::to_text(*r, o);
    return r->pass ? cli::exit_pass : cli::exit_threshold;
}

// "replay-check" is not an identifier: registered without NETCHAOS_COMMAND.
const bool registered = cli::register_command(
    {"replay-check", "compare a replayed trace with its original: per-piece KS, jitter_1s r, loss (docs/replay.md)",
     run_replay_check});

}  // namespace
