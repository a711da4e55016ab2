// netchaos: dispatch to a self-registered subcommand.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "command.hpp"

namespace {
void usage(std::FILE* out) {
    std::fprintf(out, "usage: netchaos COMMAND [ARGS...]   (netchaos COMMAND --help for details)\n\ncommands:\n");
    for (const auto& c : netchaos::cli::commands())
        std::fprintf(out, "  %-14.*s %.*s\n", int(c.name.size()), c.name.data(), int(c.summary.size()), c.summary.data());
    std::fprintf(out, "\nexit codes: 0 pass, 1 threshold missed, 2 fidelity missed, 3 bad input, 4 system error\n");
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return netchaos::cli::exit_bad_input;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return 0;
    }
    if (name == "--version") {
        std::puts("netchaos 0.1.0");
        return 0;
    }
    for (const auto& c : netchaos::cli::commands())
        if (c.name == name) return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "netchaos: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return netchaos::cli::exit_bad_input;
}
