// netchaos show-profile FILE [-j]: the normalized profile (every default explicit), as
// TOML text or JSON. An experiment shows each phase's resolved profile.
#include <iostream>
#include <string>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "allow_path.hpp"
#include "fault/trace_delay.hpp"
#include "command.hpp"
#include "exit_codes.hpp"
#include "netem/tc_words.hpp"
#include "profile/kind.hpp"
#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace po = boost::program_options;
namespace prof = netchaos::profile;

namespace {

bool report(const std::vector<prof::Diagnostic>& diags) {
    bool ok = true;
    for (const auto& d : diags) {
        std::cerr << d.format() << "\n";
        if (d.severity == prof::Diagnostic::Severity::error) ok = false;
    }
    return ok;
}

// Each trace delay of a profile and what netem's steps cost it (docs/replay.md): the RMS and
// largest difference between the interpolated series and its step means, and their KS D.
nlohmann::ordered_json trace_replay(const prof::Profile& p) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    auto one = [&](const std::string& where, const std::optional<prof::Impairment>& imp) {
        if (!imp || !imp->delay || !imp->delay->trace) return;
        const auto& tr = *imp->delay->trace;
        const auto td = netchaos::fault::compile_trace(tr);
        const auto e = netchaos::fault::step_error(td, tr.granularity);
        const auto st = netchaos::fault::trace_steps(td, td.loops() ? netchaos::profile::Duration{td.period} : netchaos::profile::Duration{std::max<std::int64_t>(td.t.back(), 1)},
                                                     td.loops() ? netchaos::profile::Duration{td.period} : netchaos::profile::Duration{std::max<std::int64_t>(td.t.back(), 1)});
        out.push_back({{"where", where}, {"file", tr.file.string()}, {"points", tr.points.size()}, {"period_ns", tr.period.count()},
                       {"at_end", tr.at_end == prof::TraceEnd::loop ? "loop" : "hold"}, {"mean_ms", st[0].mean.count() / 1e6},
                       {"sd_ms", st[0].sigma.count() / 1e6}, {"granularity_ns", tr.granularity.count()}, {"netem_steps", e.steps},
                       {"netem_rms_error_ms", e.rms_ms}, {"netem_max_error_ms", e.max_ms}, {"netem_ks", e.ks}});
    };
    one("egress", p.egress);
    one("ingress", p.ingress);
    for (std::size_t i = 0; i < p.classes.size(); ++i) {
        one("class[" + std::to_string(i + 1) + "].egress", p.classes[i].egress);
        one("class[" + std::to_string(i + 1) + "].ingress", p.classes[i].ingress);
    }
    return out;
}

std::string trace_comments(const prof::Profile& p) {
    std::string out;
    char b[512];
    for (const auto& t : trace_replay(p)) {
        std::snprintf(b, sizeof b,
                      "# trace replay (%s): %zu points over %.3f s (%s), mean %.3f ms sd %.3f ms; on netem %zu steps of %s per pass, "
                      "RMS error %.3f ms, max %.3f ms, KS D %.4f against the series (the forwarder follows it per packet)\n",
                      t["where"].get<std::string>().c_str(), t["points"].get<std::size_t>(), t["period_ns"].get<double>() / 1e9,
                      t["at_end"].get<std::string>().c_str(), t["mean_ms"].get<double>(), t["sd_ms"].get<double>(),
                      t["netem_steps"].get<std::size_t>(), prof::format_duration(prof::Duration{t["granularity_ns"].get<std::int64_t>()}).c_str(),
                      t["netem_rms_error_ms"].get<double>(), t["netem_max_error_ms"].get<double>(), t["netem_ks"].get<double>());
        out += b;
    }
    return out;
}

void show_experiment(const prof::Experiment& ex, bool json) {
    if (!json) {
        std::cout << "# experiment " << ex.name << ": " << ex.description << "\n"
                  << "# target: " << prof::to_string(ex.target.backend) << " dev=" << ex.target.dev << " netns=" << ex.target.netns
                  << " direction=" << prof::to_string(ex.target.direction) << " control=" << ex.target.control.string() << "\n"
                  << "# probe: " << ex.probe.target << " mode=" << prof::to_string(ex.probe.mode) << " rate=" << ex.probe.rate_hz
                  << "Hz timeout=" << prof::format_duration(ex.probe.timeout) << "\n# baseline: " << prof::format_duration(ex.baseline)
                  << "\n# drift baseline: " << (ex.drift_baseline.empty() ? "steady state" : "phase " + ex.drift_baseline) << "\n";
        for (std::size_t i = 0; i < ex.phases.size(); ++i) {
            const auto& ph = ex.phases[i];
            std::cout << "\n# ---- phase " << i + 1 << ": " << ph.name << ", " << prof::format_duration(ph.duration);
            if (ph.ramp) std::cout << ", ramp in " << ph.ramp->steps << " steps to " << ph.ramp->to.name;
            std::cout << "\n" << trace_comments(ph.profile) << prof::to_text(ph.profile);
        }
        return;
    }
    nlohmann::ordered_json j;
    j["name"] = ex.name;
    j["description"] = ex.description;
    j["target"] = {{"backend", prof::to_string(ex.target.backend)}, {"dev", ex.target.dev}, {"netns", ex.target.netns},
                   {"direction", prof::to_string(ex.target.direction)}, {"control", ex.target.control.string()}};
    j["probe"] = {{"target", ex.probe.target}, {"netns", ex.probe.netns}, {"rate_hz", ex.probe.rate_hz},
                  {"mode", prof::to_string(ex.probe.mode)}, {"timeout_ns", ex.probe.timeout.count()}};
    j["baseline_ns"] = ex.baseline.count();
    j["drift_baseline"] = ex.drift_baseline;   // "" = the steady state
    j["phases"] = nlohmann::ordered_json::array();
    for (const auto& ph : ex.phases) {
        nlohmann::ordered_json p;
        p["name"] = ph.name;
        p["duration_ns"] = ph.duration.count();
        p["profile"] = nlohmann::ordered_json::parse(prof::to_json(ph.profile));
        if (auto t = trace_replay(ph.profile); !t.empty()) p["trace_replay"] = t;
        if (ph.ramp) p["ramp"] = {{"to", nlohmann::ordered_json::parse(prof::to_json(ph.ramp->to))}, {"steps", ph.ramp->steps}};
        j["phases"].push_back(p);
    }
    std::cout << j.dump(2) << "\n";
}

// --as-tc: the commands apply's kernel backend amounts to, as tc and ip lines.
int show_as_tc(const prof::Profile& p, const std::string& dev, bool ingress) {
    auto script = netchaos::netem::tc_script(p, dev, ingress);
    if (!script) {
        std::cerr << "netchaos show-profile: " << script.error().message << "\n";
        return netchaos::cli::exit_code(script.error());
    }
    std::cout << "# " << p.name << " on " << dev << " (kernel backend), as tc commands:\n";
    for (const auto& n : script->notes) std::cout << "# note: " << n << "\n";
    for (const auto& c : script->commands) std::cout << c << "\n";
    return netchaos::cli::exit_pass;
}

int run_show(int argc, char** argv) {
    std::string file, dev = "DEV";
    bool json = false, as_tc = false, ingress = false;
    po::options_description opts("usage: netchaos show-profile FILE [-j | --as-tc [--dev IF] [--ingress]]\n\n"
                                 "Print the normalized profile with every default explicit (TOML, parseable\n"
                                 "again), or JSON with -j. For an experiment, each phase's resolved profile.\n"
                                 "--as-tc prints the tc/ip commands that build what apply builds on the kernel backend.\n"
                                 "Exit 3 if the file is invalid.\n\noptions");
    opts.add_options()("help,h", "show this help")("json,j", po::bool_switch(&json), "JSON instead of TOML")(
        "as-tc", po::bool_switch(&as_tc), "the equivalent tc commands (kernel backend)")("dev", po::value(&dev), "interface for --as-tc (default DEV)")(
        "ingress", po::bool_switch(&ingress), "--as-tc as apply --ingress places it");
    std::vector<std::string> allow;
    netchaos::cli::add_allow_path_option(opts, allow);
    po::options_description hidden;
    hidden.add_options()("file", po::value(&file));
    po::options_description all;
    all.add(opts).add(hidden);
    po::positional_options_description pos;
    pos.add("file", 1);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
        po::notify(vm);
    } catch (const std::exception& e) {
        std::cerr << "netchaos show-profile: " << e.what() << "\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return netchaos::cli::exit_pass;
    }
    if (file.empty()) {
        std::cerr << "netchaos show-profile: no FILE given\n" << opts << "\n";
        return netchaos::cli::exit_bad_input;
    }
    netchaos::cli::use_allow_paths(allow);
    if (prof::detect_kind(file) == prof::FileKind::experiment) {
        if (as_tc) {
            std::cerr << "netchaos show-profile: --as-tc takes a profile, not an experiment\n";
            return netchaos::cli::exit_bad_input;
        }
        auto parsed = prof::parse_experiment_file(file);
        if (!report(parsed.diagnostics) || !parsed.ok()) return netchaos::cli::exit_bad_input;
        show_experiment(*parsed.value, json);
        return netchaos::cli::exit_pass;
    }
    auto parsed = prof::parse_profile_file(file);
    if (!report(parsed.diagnostics) || !parsed.ok()) return netchaos::cli::exit_bad_input;
    if (as_tc) return show_as_tc(*parsed.value, dev, ingress);
    if (json) {
        auto j = nlohmann::ordered_json::parse(prof::to_json(*parsed.value));
        if (auto t = trace_replay(*parsed.value); !t.empty()) j["trace_replay"] = t;
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << trace_comments(*parsed.value) << prof::to_text(*parsed.value);
    }
    return netchaos::cli::exit_pass;
}

int run_show_safe(int argc, char** argv) {
    try {
        return run_show(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "netchaos show-profile: " << e.what() << "\n";
        return netchaos::cli::exit_system;
    }
}

const bool registered = ::netchaos::cli::register_command({"show-profile", "print a profile normalized, every default explicit (-j: JSON)", run_show_safe});

}  // namespace
