// netchaos reflect: the UDP echo end of `netchaos probe`.
#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <iostream>

#include "command.hpp"
#include "exit_codes.hpp"
#include "probe/net.hpp"
#include "probe/reflector.hpp"

namespace po = boost::program_options;

namespace {

int run_reflect(int argc, char** argv) {
    using namespace netchaos;
    std::string listen, key_file, rate = "10000";
    double burst = 1000;
    bool quiet = false, wall_clock = false;
    po::options_description opts("usage: netchaos reflect --listen ADDR:PORT [--key-file FILE] [--rate-limit N]\n\n"
                                 "Answers netchaos probes with its processing time stamped in. A reply is\n"
                                 "never larger than its request; each source address may get at most\n"
                                 "--rate-limit replies per second; with --key-file only requests carrying\n"
                                 "that key's HMAC are answered (give the probe the same --key-file).\n"
                                 "Garbage, unauthenticated and over-rate datagrams are dropped and counted.\n"
                                 "See docs/security.md. SIGINT/SIGTERM: exit 0 and print the counters.\n\noptions");
    opts.add_options()
        ("help,h", "this help")
        ("listen,l", po::value(&listen), "address and port to serve on (required; no wildcard default: "
                                         "0.0.0.0:P or [::]:P serve every address)")
        ("key-file", po::value(&key_file), "shared key (file mode 0600): HMAC-SHA256 on request and reply")
        ("rate-limit", po::value(&rate)->default_value(rate), "replies per second per source address (0 = unlimited)")
        ("burst", po::value(&burst)->default_value(burst), "per-source bucket depth, datagrams")
        ("wall-clock", po::bool_switch(&wall_clock), "stamp replies with this host's CLOCK_REALTIME (default: "
                                                     "only the processing time, the clock stays private)")
        ("quiet,q", po::bool_switch(&quiet), "no start-up line");
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos reflect: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    if (listen.empty()) {
        std::fprintf(stderr, "netchaos reflect: --listen ADDR:PORT is required (it has no default, so a reflector "
                             "never answers on every address by accident; e.g. --listen 10.0.0.2:7777)\n");
        return cli::exit_bad_input;
    }
    probe::ReflectorOptions ro;
    ro.wall_clock = wall_clock;
    ro.burst = burst;
    {
        std::string r = rate;
        if (r.size() > 2 && r.compare(r.size() - 2, 2, "/s") == 0) r.resize(r.size() - 2);
        char* end = nullptr;
        ro.rate_per_source = std::strtod(r.c_str(), &end);
        if (r.empty() || *end != '\0' || !(ro.rate_per_source >= 0) || ro.rate_per_source > 1e9 || !(burst >= 1)) {
            std::fprintf(stderr, "netchaos reflect: --rate-limit takes replies per second (e.g. 1000 or 1000/s, 0 = "
                                 "unlimited) and --burst a number >= 1\n");
            return cli::exit_bad_input;
        }
    }
    if (!key_file.empty()) {
        auto k = probe::read_key_file(key_file);
        if (!k) {
            std::fprintf(stderr, "netchaos reflect: %s\n", k.error().message.c_str());
            return netchaos::cli::exit_code(k.error());
        }
        ro.key = std::move(*k);
    }
    auto ep = probe::net::parse_endpoint(listen, true);
    if (!ep) {
        std::fprintf(stderr, "netchaos reflect: %s\n", ep.error().message.c_str());
        return netchaos::cli::exit_code(ep.error());
    }
    const auto& stop = probe::net::stop_on_signals();
    const bool keyed = !ro.key.empty();
    const double limit = ro.rate_per_source;
    auto r = probe::Reflector::open(*ep, std::move(ro));
    if (!r) {
        std::fprintf(stderr, "netchaos reflect: %s\n", r.error().message.c_str());
        return netchaos::cli::exit_code(r.error());
    }
    if (!quiet)
        std::fprintf(stderr, "netchaos reflect: listening on %s (udp, %s timestamps, %s, %s)\n",
                     r->local_address().c_str(), r->counters().kernel_timestamps ? "kernel software" : "user-space",
                     keyed ? "HMAC key required" : "no key: answers anyone",
                     limit > 0 ? ("at most " + std::to_string(static_cast<long long>(limit)) + "/s per source").c_str()
                               : "no rate limit");
    auto done = r->run(stop);
    const auto& c = r->counters();
    std::fprintf(stderr, "netchaos reflect: received %llu replied %llu garbage %llu unauthenticated %llu "
                         "rate_limited %llu send_errors %llu clients %llu\n",
                 (unsigned long long)c.received, (unsigned long long)c.replied, (unsigned long long)c.garbage,
                 (unsigned long long)c.unauthenticated, (unsigned long long)c.rate_limited,
                 (unsigned long long)c.send_errors, (unsigned long long)c.clients);
    if (!done) {
        std::fprintf(stderr, "netchaos reflect: %s\n", done.error().message.c_str());
        return netchaos::cli::exit_code(done.error());
    }
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(reflect, "UDP reflector for netchaos probe", run_reflect);
