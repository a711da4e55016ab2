// netchaos import-tc 'ARGS' [-o FILE]: a tc netem command line (or just its options) as a
// profile TOML, printed by the profile printer and checked by the profile parser, with the
// original line kept as a comment. Lines also come from a file or stdin ("-").
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "profile/parse.hpp"
#include "profile/tc_import.hpp"

namespace prof = netchaos::profile;

namespace {

// One line -> TOML text, or exit 3 with the reason on stderr.
int import_line(const std::string& line, const std::string& where, const std::string& name, std::string& toml) {
    auto r = prof::import_tc(line);
    if (!r) {
        std::cerr << "netchaos import-tc: " << where << r.error().message << "\n";
        return netchaos::cli::exit_bad_input;
    }
    prof::Profile p;
    p.name = name;
    p.description = "imported from tc" + (r->dev.empty() ? std::string() : " (dev " + r->dev + ")");
    p.egress = r->imp;
    const std::string body = prof::to_text(p);
    // The import must be a valid profile: the same parser as every profile file decides.
    auto parsed = prof::parse_profile_text(body, "import-tc");
    bool ok = parsed.ok();
    for (const auto& d : parsed.diagnostics) {
        if (d.severity == prof::Diagnostic::Severity::error) ok = false;
        // A constant delay imports as reorder = true on purpose: that is what sends no
        // order-keeping rate, i.e. tc's bytes. The parser's "no effect" warning is noise here.
        if (d.severity == prof::Diagnostic::Severity::warning && d.key == "egress.delay.reorder") continue;
        std::cerr << "netchaos import-tc: " << where << d.format() << "\n";
    }
    if (!ok) return netchaos::cli::exit_bad_input;
    std::ostringstream o;
    o << "# netchaos import-tc of:\n#   " << line << "\n";
    for (const auto& n : r->notes) o << "# note: " << n << "\n";
    o << body;
    toml = o.str();
    return netchaos::cli::exit_pass;
}

bool blank_or_comment(const std::string& l) {
    const auto first = l.find_first_not_of(" \t\r");
    return first == std::string::npos || l[first] == '#';
}

int run_import(int argc, char** argv) {
    std::vector<std::string> args;
    std::string out_file, from, name = "imported";
    static const char* usage =
        "usage: netchaos import-tc 'ARGS' [-o FILE] [-n NAME]\n"
        "       netchaos import-tc -f FILE|- [-o FILE] [-n NAME]\n\n"
        "Turn a tc netem command line ('tc qdisc add dev eth0 root netem delay 50ms 30ms\n"
        "distribution normal', or just 'delay 50ms 30ms distribution normal') into a\n"
        "profile. With -f, one profile per non-comment line of FILE (- = stdin).\n"
        "A word netchaos cannot express: exit 3, naming it.\n\n"
        "options\n"
        "  -h [ --help ]         show this help\n"
        "  -o [ --output ] FILE  write the profile to FILE (one line only)\n"
        "  -f [ --file ] FILE    read tc lines from FILE, - for stdin\n"
        "  -n [ --name ] NAME    profile name (default \"imported\")\n";
    // By hand, not program_options: tc words such as "-10" (a negative rate overhead) must
    // stay words, not become options.
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        std::string* into = a == "-o" || a == "--output" ? &out_file
                            : a == "-f" || a == "--file" ? &from
                            : a == "-n" || a == "--name" ? &name
                                                         : nullptr;
        if (a == "-h" || a == "--help") {
            std::cout << usage;
            return netchaos::cli::exit_pass;
        } else if (into) {
            if (i + 1 >= argc) {
                std::cerr << "netchaos import-tc: " << a << " needs a value\n" << usage;
                return netchaos::cli::exit_bad_input;
            }
            *into = argv[++i];
        } else if (a == "--") {
            for (++i; i < argc; ++i) args.emplace_back(argv[i]);
        } else {
            args.push_back(a);
        }
    }
    std::vector<std::pair<std::string, std::string>> lines;   // (where, line)
    if (!from.empty()) {
        if (!args.empty()) {
            std::cerr << "netchaos import-tc: give ARGS or -f FILE, not both\n";
            return netchaos::cli::exit_bad_input;
        }
        std::ifstream file;
        std::istream* in = &std::cin;
        if (from != "-") {
            file.open(from);
            if (!file) {
                std::cerr << "netchaos import-tc: cannot read " << from << "\n";
                return netchaos::cli::exit_bad_input;
            }
            in = &file;
        }
        std::string l;
        for (int n = 1; std::getline(*in, l); ++n)
            if (!blank_or_comment(l)) lines.emplace_back((from == "-" ? std::string("stdin") : from) + ":" + std::to_string(n) + ": ", l);
    } else if (args.size() == 1 && args[0] == "-") {
        std::string l;
        for (int n = 1; std::getline(std::cin, l); ++n)
            if (!blank_or_comment(l)) lines.emplace_back("stdin:" + std::to_string(n) + ": ", l);
    } else {
        std::string l;
        for (const auto& a : args) l += (l.empty() ? "" : " ") + a;
        if (!l.empty()) lines.emplace_back("", l);
    }
    if (lines.empty()) {
        std::cerr << "netchaos import-tc: no tc line given\n" << usage;
        return netchaos::cli::exit_bad_input;
    }
    if (!out_file.empty() && lines.size() != 1) {
        std::cerr << "netchaos import-tc: -o takes one line; " << lines.size() << " given (omit -o to print them all)\n";
        return netchaos::cli::exit_bad_input;
    }
    std::string text;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string toml;
        const std::string nm = lines.size() == 1 ? name : name + "-" + std::to_string(i + 1);
        if (int rc = import_line(lines[i].second, lines[i].first, nm, toml); rc != netchaos::cli::exit_pass) return rc;
        text += (i ? "\n# ----\n" : "") + toml;
    }
    if (out_file.empty()) {
        std::cout << text;
        return netchaos::cli::exit_pass;
    }
    std::ofstream out(out_file);
    out << text;
    out.close();
    if (!out) {
        std::cerr << "netchaos import-tc: cannot write " << out_file << "\n";
        return netchaos::cli::exit_system;
    }
    return netchaos::cli::exit_pass;
}

int run_import_safe(int argc, char** argv) {
    try {
        return run_import(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "netchaos import-tc: " << e.what() << "\n";
        return netchaos::cli::exit_system;
    }
}

const bool registered = ::netchaos::cli::register_command({"import-tc", "turn a tc netem command line into a profile", run_import_safe});

}  // namespace
