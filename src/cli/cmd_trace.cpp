// netchaos trace: import a capture / irtt run / CSV into a netchaos trace (.ncr), or show what
// a trace holds. Formats: src/trace/trace.hpp and import.hpp; walk-through: docs/replay.md.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "command.hpp"
#include "exit_codes.hpp"
#include "metrics/metrics.hpp"
#include "trace/trace.hpp"

namespace po = boost::program_options;
using namespace netchaos;

namespace {

int fail(const Error& e) {
    std::fprintf(stderr, "netchaos trace: %s\n", e.message.c_str());
    return cli::exit_code(e);
}

int run_trace(int argc, char** argv) {
    std::string verb, input, output, format;
    bool json = false;
    po::options_description opts(
        "usage: netchaos trace import INPUT -o OUT.ncr [--format csv|irtt|pcap|ncr]\n"
        "       netchaos trace show TRACE [-j]\n\n"
        "import: a `time,rtt_ms` CSV, irtt's JSON (irtt client -o F.json) or a pcap of a UDP\n"
        "request/response flow becomes a netchaos trace (docs/replay.md). show: its records, span,\n"
        "loss and RTT figures (src/metrics). Exit: 0, 3 bad input (with line:column or byte), 4.\n\noptions");
    opts.add_options()("help,h", "this help")("output,o", po::value(&output), "import: the .ncr to write")(
        "format", po::value(&format), "input format (default: from its first bytes)")("json,j", po::bool_switch(&json),
                                                                                      "show: one JSON object");
    po::options_description hidden;
    hidden.add_options()("verb", po::value(&verb))("input", po::value(&input));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("verb", 1).add("input", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos trace: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    if ((verb != "import" && verb != "show") || input.empty()) {
        std::fprintf(stderr, "netchaos trace: expected `import INPUT -o OUT` or `show TRACE` (see --help)\n");
        return cli::exit_bad_input;
    }
    if (verb == "import" && output.empty()) {
        std::fprintf(stderr, "netchaos trace import: -o OUT.ncr is required\n");
        return cli::exit_bad_input;
    }
    auto t = trace::load(input, format);
    if (!t) return fail(t.error());
    if (verb == "import") {
        if (auto w = trace::write(output, *t); !w) return fail(w.error());
        std::fprintf(stderr, "netchaos trace: %zu records from %s (%s) -> %s\n", t->records.size(), input.c_str(),
                     t->source.c_str(), output.c_str());
        return cli::exit_pass;
    }
    const auto& rs = t->records;
    const auto s = metrics::summarize(rs, rs.front().send, rs.back().send + std::chrono::nanoseconds(1), metrics::Config{});
    const double span_s = std::chrono::duration<double>(trace::span(*t)).count();
    if (json) {
        nlohmann::ordered_json j;
        j["source"] = t->source;
        j["records"] = rs.size();
        j["span_s"] = span_s;
        j["one_way"] = (t->flags & trace::flag_one_way) != 0;
        j["one_way_kept"] = !t->one_way.empty();
        j["loss"] = s.loss;
        j["rtt_mean_ms"] = s.rtt_mean_ns / 1e6;
        j["rtt_stddev_ms"] = s.rtt_stddev_ns / 1e6;
        j["p50_ms"] = s.p50.count() / 1e6;
        j["p99_ms"] = s.p99.count() / 1e6;
        j["jitter_1s_max_ms"] = s.jitter_1s_max_ns / 1e6;
        std::cout << j.dump() << "\n";
    } else {
        std::printf("%s (%s): %zu records over %.3f s, loss %.3f%%\n"
                    "rtt mean %.3f ms stddev %.3f ms  p50 %.3f p99 %.3f ms  jitter_1s max %.3f ms\n",
                    input.c_str(), t->source.c_str(), rs.size(), span_s, s.loss * 100, s.rtt_mean_ns / 1e6,
                    s.rtt_stddev_ns / 1e6, s.p50.count() / 1e6, s.p99.count() / 1e6, s.jitter_1s_max_ns / 1e6);
    }
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(trace, "import a CSV / irtt JSON / pcap as a netchaos trace, or show one (docs/replay.md)", run_trace);
