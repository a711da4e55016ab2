// netchaos reflect: the UDP echo end of `netchaos probe`.
#include <boost/program_options.hpp>

#include <cstdio>
#include <iostream>

#include "command.hpp"
#include "probe/net.hpp"
#include "probe/reflector.hpp"

namespace po = boost::program_options;

namespace {

int run_reflect(int argc, char** argv) {
    using namespace netchaos;
    std::string listen = "0.0.0.0:7777";
    bool quiet = false;
    po::options_description opts("usage: netchaos reflect [--listen ADDR:PORT]\n\n"
                                 "Answers netchaos probes with its own receive/send times stamped in.\n"
                                 "Garbage datagrams are dropped and counted. SIGINT/SIGTERM: exit 0 and\n"
                                 "print the counters.\n\noptions");
    opts.add_options()
        ("help,h", "this help")
        ("listen,l", po::value(&listen)->default_value(listen), "address and port to serve on ([::]:P for IPv6 and IPv4)")
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
    auto ep = probe::net::parse_endpoint(listen, true);
    if (!ep) {
        std::fprintf(stderr, "netchaos reflect: %s\n", ep.error().message.c_str());
        return ep.error().code;
    }
    const auto& stop = probe::net::stop_on_signals();
    auto r = probe::Reflector::open(*ep);
    if (!r) {
        std::fprintf(stderr, "netchaos reflect: %s\n", r.error().message.c_str());
        return r.error().code;
    }
    if (!quiet)
        std::fprintf(stderr, "netchaos reflect: listening on %s (udp, %s timestamps)\n", r->local_address().c_str(),
                     r->counters().kernel_timestamps ? "kernel software" : "user-space");
    auto done = r->run(stop);
    const auto& c = r->counters();
    std::fprintf(stderr, "netchaos reflect: received %llu replied %llu garbage %llu send_errors %llu clients %llu\n",
                 (unsigned long long)c.received, (unsigned long long)c.replied, (unsigned long long)c.garbage,
                 (unsigned long long)c.send_errors, (unsigned long long)c.clients);
    if (!done) {
        std::fprintf(stderr, "netchaos reflect: %s\n", done.error().message.c_str());
        return done.error().code;
    }
    return cli::exit_pass;
}

}  // namespace

NETCHAOS_COMMAND(reflect, "UDP reflector for netchaos probe", run_reflect);
