// TOML -> Experiment: target, probe, thresholds and phases. A phase's profile file is
// resolved relative to the experiment file, its inline [phase.egress...] tables are applied
// over it key by key, and the rules run once on the result.
#include <cctype>
#include <algorithm>

#include "profile/parse.hpp"
#include "profile/reader.hpp"
#include "profile/units.hpp"

namespace netchaos::profile {

namespace {

using detail::Pos;
using detail::Reader;

std::optional<double> ratio(const toml::table& t, const std::string& path, std::string_view key, Reader& r) {
    const toml::node* n = t.get(key);
    if (n && n->is_string()) return r.probability(t, path, key);
    return r.number(t, path, key, 0.0, 1.0);
}

void positive(Reader& r, const std::string& key, Duration d) {
    if (r.has(key) && d.count() <= 0) r.error(r.where(key), key, "expected a duration > 0");
}

void read_thresholds(const toml::table& t, Thresholds& th, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"jitter_1s_max", "spike_ratio_max", "p99_rtt_max", "loss_max", "p99_drift_max", "p99_drift_floor", "fidelity_tolerance",
                           "spike_level", "window", "spike_windows", "alert", "status_ratio_max"});
    if (auto v = r.duration(t, path, "jitter_1s_max")) th.jitter_1s_max = *v;
    if (auto v = ratio(t, path, "spike_ratio_max", r)) th.spike_ratio_max = *v;
    if (auto v = r.duration(t, path, "p99_rtt_max")) th.p99_rtt_max = *v;
    if (auto v = r.probability(t, path, "loss_max")) th.loss_max = *v;
    if (auto v = r.percent(t, path, "p99_drift_max")) th.p99_drift_max = *v;
    if (auto v = r.duration(t, path, "p99_drift_floor")) th.p99_drift_floor = *v;
    if (auto v = r.percent(t, path, "fidelity_tolerance")) th.fidelity_tolerance = *v;
    if (auto v = r.duration(t, path, "spike_level")) th.spike_level = *v;
    if (auto v = r.duration(t, path, "window")) {
        th.window = *v;
        positive(r, path + ".window", *v);
    }
    if (auto v = r.integer(t, path, "spike_windows", 1, 1'000'000)) th.spike_windows = static_cast<int>(*v);
    if (const auto* s = r.table(t, path, "status_ratio_max")) {
        // Keys are a status ("429") or a class ("5xx"); values a share of responses.
        const std::string sp = path + ".status_ratio_max";
        for (const auto& [k, node] : *s) {
            const std::string key(k.str());
            const bool code = key.size() == 3 && key[0] >= '1' && key[0] <= '5' && std::isdigit(static_cast<unsigned char>(key[1])) &&
                              std::isdigit(static_cast<unsigned char>(key[2]));
            const bool cls = key.size() == 3 && key[0] >= '1' && key[0] <= '5' && key.substr(1) == "xx";
            if (!code && !cls) {
                r.error(r.pos_of(k), Reader::join(sp, key), "expected an HTTP status like \"429\" or a class like \"5xx\"");
                continue;
            }
            // A number is a fraction (0.01) as in spike_ratio_max; a string may say "1%".
            if (auto v = node.is_string() ? r.probability(*s, sp, key) : r.number(*s, sp, key, 0.0, 1.0)) th.status_ratio_max[key] = *v;
        }
    }
    if (const auto* a = r.table(t, path, "alert")) {
        const std::string ap = path + ".alert";
        r.check_keys(*a, ap, {"spike_ratio", "jitter", "periods", "period"});
        auto& rule = th.alert ? *th.alert : th.alert.emplace();
        if (auto v = ratio(*a, ap, "spike_ratio", r)) rule.spike_ratio = *v;
        if (auto v = r.duration(*a, ap, "jitter")) rule.jitter = *v;
        if (auto v = r.integer(*a, ap, "periods", 1, 1'000'000)) rule.periods = static_cast<int>(*v);
        if (auto v = r.duration(*a, ap, "period")) {
            rule.period = *v;
            positive(r, ap + ".period", *v);
        }
    }
    // Report points fall on window ends (docs/metrics.md, "The alert rule").
    if (th.alert && th.window.count() > 0 && th.alert->period.count() > 0 && th.alert->period % th.window != Duration{0}) {
        const std::string key = r.has(path + ".alert.period") ? path + ".alert.period" : path + ".window";
        r.error(r.where_any({path + ".alert.period", path + ".window", path + ".alert"}), key,
                "the alert period must be a whole number of windows");
    }
}

std::optional<FidelityMode> fidelity_mode(const toml::table& t, const std::string& path, Reader& r) {
    return r.choice<FidelityMode>(t, path, "fidelity",
                                  {{"gate", FidelityMode::gate}, {"warn", FidelityMode::warn}, {"off", FidelityMode::off}});
}

// `path`: "target" for a lone [target], "target[N]" for the N-th [[target]]. Phase profiles
// (profiles = { PHASE = "file" }) are returned raw: they are resolved once the phases are read.
void read_target(const toml::table& t, Target& tg, Reader& r, const std::string& path, std::map<std::string, std::string>& profile_refs) {
    r.check_keys(t, path, {"name", "backend", "dev", "netns", "pid", "container", "direction", "control", "proxy", "profiles"});
    if (auto v = r.string(t, path, "name")) tg.name = *v;
    if (auto v = r.string(t, path, "container")) tg.container = *v;
    if (t.contains("container") && (t.contains("pid") || t.contains("netns")))
        r.error(r.where(path + ".container"), path + ".container", "set one of netns, pid and container (each names the namespace of dev)");
    if (auto v = r.integer(t, path, "pid", 1, 4194304)) tg.pid = static_cast<int>(*v);
    if (t.contains("pid") && t.contains("netns"))
        r.error(r.where(path + ".pid"), path + ".pid", "set either netns or pid, not both (both name the namespace of dev)");
    if (const auto* pt = r.table(t, path, "profiles")) {
        for (const auto& [k, v] : *pt) {
            if (const auto* sv = v.as_string()) profile_refs[std::string(k.str())] = sv->get();
            else r.error(r.pos_of(v), path + ".profiles." + std::string(k.str()), "expected a profile file name, got " + Reader::describe(v));
        }
    }
    if (auto v = r.choice<Backend>(t, path, "backend", {{"netem", Backend::netem}, {"dpdk", Backend::dpdk}, {"http", Backend::http}})) tg.backend = *v;
    if (auto v = r.string(t, path, "dev")) tg.dev = *v;
    if (auto v = r.string(t, path, "netns")) tg.netns = *v;
    if (auto v = r.choice<Direction>(t, path, "direction", {{"egress", Direction::egress}, {"ingress", Direction::ingress}})) tg.direction = *v;
    if (auto v = r.string(t, path, "control")) tg.control = *v;
    // A misspelt backend ("dpkd") or key already has its error; "netem needs dev" would only
    // follow from it, and come first (it points at [target]).
    if (tg.backend == Backend::netem && tg.dev.empty() && !r.errored(path + ".backend") && !r.had_unknown(path))
        r.error(r.where(path), path + ".dev", "backend \"netem\" needs dev = \"IFNAME\" (the interface to impair)");
    if (tg.backend == Backend::netem && !tg.dev.empty())
        if (auto why = ifname_problem(tg.dev); !why.empty()) r.error(r.where(path + ".dev"), path + ".dev", why);
    if (tg.backend == Backend::dpdk && tg.control.empty()) tg.control = "/run/netchaos/fwd.sock";
    if (auto v = r.string(t, path, "proxy")) {
        tg.proxy = *v;
        if (tg.backend != Backend::http)
            r.error(r.where(path + ".proxy"), path + ".proxy", "proxy (exported as HTTP_PROXY) needs backend = \"http\"");
        else if (!v->starts_with("http://"))
            r.error(r.where(path + ".proxy"), path + ".proxy", "expected the forward proxy's URL like \"http://127.0.0.1:3128\", got \"" + *v + "\"");
    }
    if (tg.backend == Backend::http) {   // netchaos http-proxy --control SOCK: only the socket
        if (tg.control.empty()) tg.control = "/run/netchaos/http.sock";
        for (const char* k : {"dev", "netns", "pid", "container", "direction", "profiles"})
            if (t.contains(k))
                r.error(r.where(path + "." + std::string(k)), path + "." + std::string(k),
                        std::string("backend \"http\" does not use ") + k + " (the proxy is reached through control = \"SOCK\"); remove it");
        return;
    }
    // A key the chosen backend does not use would be accepted and silently ignored: refuse it.
    if (tg.backend == Backend::dpdk) {
        for (const char* k : {"dev", "netns", "pid", "container"})
            if (t.contains(k))
                r.error(r.where(path + "." + std::string(k)), path + "." + std::string(k),
                        std::string("backend \"dpdk\" does not use ") + k +
                            " (the forwarder is reached through control = \"SOCK\"); remove it");
        if (tg.direction == Direction::ingress)
            r.error(r.where(path + ".direction"), path + ".direction",
                    "backend \"dpdk\" does not take direction = \"ingress\": the forwarder applies [egress] on port "
                    "0 -> 1 and [ingress] on port 1 -> 0; write the profile's sections accordingly and remove direction");
    } else if (t.contains("control")) {
        r.error(r.where(path + ".control"), path + ".control",
                "control is the dpdk forwarder's socket; backend \"netem\" does not use it (remove it, or set backend = \"dpdk\")");
    }
}

void read_probe(const toml::table& t, ProbeConfig& pc, Reader& r) {
    const std::string path = "probe";
    r.check_keys(t, path, {"target", "netns", "rate", "mode", "timeout", "key_file", "max_silence"});
    if (auto v = r.duration(t, path, "max_silence")) pc.max_silence = *v;
    if (auto v = r.string(t, path, "target")) pc.target = *v;
    if (auto v = r.string(t, path, "netns")) pc.netns = *v;
    // rate = 100 or rate = "100/s", as on the CLI (--rate 100/s); checked against the
    // probe's own limits, so a rate that validates is a rate the probe sends.
    std::optional<double> rate;
    if (const toml::node* n = t.get("rate")) {
        r.seen("probe.rate", r.pos_of(*n));
        if (const auto* s = n->as_string()) {
            auto v = parse_probe_rate(**s);
            if (v) rate = *v;
            else r.error(r.pos_of(*n), "probe.rate", v.error().message);
        } else if (const auto* i = n->as_integer()) {
            rate = static_cast<double>(**i);
        } else if (const auto* f = n->as_floating_point()) {
            rate = **f;
        } else {
            r.error(r.pos_of(*n), "probe.rate", "expected probes per second like 100 or \"100/s\", got " + Reader::describe(*n));
        }
    }
    if (auto v = r.choice<ProbeMode>(t, path, "mode", {{"udp", ProbeMode::udp}, {"icmp", ProbeMode::icmp}, {"tcp", ProbeMode::tcp}, {"http", ProbeMode::http}})) pc.mode = *v;
    if (rate) {
        if (auto ok = check_probe_rate(*rate, pc.mode)) pc.rate_hz = *ok;
        else r.error(r.where("probe.rate"), "probe.rate", ok.error().message);
    } else if ((pc.mode == ProbeMode::tcp || pc.mode == ProbeMode::http) && !r.errored("probe.rate")) {
        if (auto ok = check_probe_rate(pc.rate_hz, pc.mode); !ok) r.error(r.where("probe.mode"), "probe.rate", ok.error().message);
    }
    if (auto v = r.duration(t, path, "timeout")) {
        pc.timeout = *v;
        positive(r, "probe.timeout", *v);
    }
    if (auto v = r.string(t, path, "key_file")) {
        pc.key_file = *v;
        if (pc.mode != ProbeMode::udp)
            r.error(r.where("probe.key_file"), "probe.key_file", "key_file authenticates udp probes to a netchaos reflector; mode is not udp");
    }
    if (pc.target.empty()) {
        r.error(r.where("probe"), "probe.target", "expected target = \"HOST:PORT\" (a reflector) or \"HOST\" for icmp");
    } else if (pc.mode == ProbeMode::http) {
        if (!pc.target.starts_with("http://"))
            r.error(r.where("probe.target"), "probe.target", "mode \"http\" needs target = \"http://HOST:PORT/PATH\", got \"" + pc.target + "\"");
    } else if (pc.mode != ProbeMode::icmp) {
        auto colon = pc.target.rfind(':');
        std::string port = colon == std::string::npos ? "" : pc.target.substr(colon + 1);
        bool ok = !port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                  std::stoi(port) >= 1 && std::stoi(port) <= 65535 && colon > 0;
        if (!ok) r.error(r.where("probe.target"), "probe.target", "expected \"HOST:PORT\" with a port 1-65535 for mode \"" + std::string(to_string(pc.mode)) + "\", got \"" + pc.target + "\"");
    }
}

std::filesystem::path relative_to(const std::filesystem::path& experiment, const std::string& ref) {
    std::filesystem::path p(ref);
    if (p.is_absolute()) return p;
    return (experiment.parent_path() / p).lexically_normal();
}

// A profile the experiment names but that is not there, said with the path as resolved
// (absolute) and the directory it was resolved against, so a wrong cwd or ../ shows at once.
bool report_missing(const std::filesystem::path& file, const std::string& ref, const Experiment& ex, const Pos& at, const std::string& key, Reader& r) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) return false;
    auto abs = std::filesystem::absolute(file, ec).lexically_normal();
    auto dir = std::filesystem::absolute(ex.source, ec).lexically_normal().parent_path();
    std::string msg = "profile \"" + ref + "\" not found: looked for " + abs.string();
    if (!std::filesystem::path(ref).is_absolute()) msg += " (relative to the experiment's directory " + dir.string() + ")";
    r.error(at, key, msg);
    return true;
}

// A referenced profile: read, parse and validated on its own (ramps), diagnostics kept.
std::optional<Profile> load_profile(const std::filesystem::path& file, const std::string& ref, const Experiment& ex, const Pos& at,
                                    const std::string& key, Reader& r, std::vector<Diagnostic>& diags) {
    if (report_missing(file, ref, ex, at, key, r)) return std::nullopt;
    auto parsed = parse_profile_file(file);
    for (auto& d : parsed.diagnostics)
        if (d.line > 0 || d.severity == Diagnostic::Severity::error) diags.push_back(d);
    if (!parsed.ok()) r.error(at, key, "profile \"" + file.string() + "\" has errors (see its messages)");
    return parsed.value;
}

void read_phase(const toml::table& t, Phase& ph, Experiment& ex, int index, Reader& r, std::vector<Diagnostic>& diags) {
    const std::string path = "phase[" + std::to_string(index) + "]";
    r.check_keys(t, path, {"name", "description", "duration", "profile", "ramp", "thresholds", "egress", "ingress", "match", "class", "http", "fidelity", "replay_check"});
    ph.name = r.string(t, path, "name").value_or("phase-" + std::to_string(index));
    (void)r.string(t, path, "description");
    if (auto v = r.duration(t, path, "duration")) ph.duration = *v;
    if (!r.has(path + ".duration"))
        r.error(r.where(path), path + ".duration", "each phase needs duration = \"20s\"");
    else if (ph.duration.count() <= 0)
        r.error(r.where(path + ".duration"), path + ".duration", "expected a duration > 0");
    ph.thresholds = ex.thresholds;
    if (auto v = fidelity_mode(t, path, r)) ph.fidelity = *v;
    if (const auto* th = r.table(t, path, "thresholds")) read_thresholds(*th, ph.thresholds, r, path + ".thresholds");
    if (const auto* rc = r.table(t, path, "replay_check")) {
        const std::string rp = path + ".replay_check";
        r.check_keys(*rc, rp, {"trace", "ks_max", "r_min", "resolution"});
        ReplayCheckSpec spec;
        if (auto v = r.number(*rc, rp, "ks_max", 0.0, 1.0)) spec.ks_max = *v;
        if (auto v = r.duration(*rc, rp, "resolution")) spec.resolution = *v;
        if (auto v = r.number(*rc, rp, "r_min", -1.0, 1.0)) spec.r_min = *v;
        auto tr = r.string(*rc, rp, "trace");
        std::error_code ec;
        if (!tr) r.error(r.where(rp), rp, "replay_check needs trace = \"FILE\" (the recording the phase replays)");
        else if (spec.trace = relative_to(ex.source, *tr); !std::filesystem::is_regular_file(spec.trace, ec))
            r.error(r.where(rp + ".trace"), rp + ".trace", "trace \"" + *tr + "\" not found: looked for " +
                    std::filesystem::absolute(spec.trace, ec).lexically_normal().string());
        ph.replay_check = spec;
    }

    auto profile_ref = r.string(t, path, "profile");
    bool overrides = t.contains("egress") || t.contains("ingress") || t.contains("match") || t.contains("class") || t.contains("http");
    if (const toml::node* rn = t.get("ramp")) {
        const std::string rp = path + ".ramp";
        const auto* rt = r.table(t, path, "ramp");
        if (profile_ref) r.error(r.where(rp), rp, "set either profile or ramp, not both (a ramp starts at its `from` profile)");
        if (overrides) r.error(r.where(rp), rp, "inline egress/ingress/match overrides cannot be combined with a ramp: put them in the from/to profiles");
        if (!rt) return;
        r.check_keys(*rt, rp, {"from", "to", "steps"});
        auto from = r.string(*rt, rp, "from");
        auto to = r.string(*rt, rp, "to");
        auto steps = r.integer(*rt, rp, "steps", 2, 10000);
        if (!from || !to) {
            r.error(r.pos_of(*rn), rp, "a ramp needs from = \"a.toml\" and to = \"b.toml\" (and steps >= 2)");
            return;
        }
        auto pf = load_profile(relative_to(ex.source, *from), *from, ex, r.where(rp + ".from"), rp + ".from", r, diags);
        auto pt = load_profile(relative_to(ex.source, *to), *to, ex, r.where(rp + ".to"), rp + ".to", r, diags);
        if (pf && pt) {
            ph.ramp = Ramp{*pf, *pt, steps ? static_cast<int>(*steps) : 2};
            ph.profile = *pf;
        }
        return;
    }

    // Base profile (if any) and inline overrides go through one reader, so the rules see
    // the merged result and each message points at the file that wrote the key.
    Reader pr(ex.source, diags);
    Profile p;
    if (profile_ref) {
        auto file = relative_to(ex.source, *profile_ref);
        if (report_missing(file, *profile_ref, ex, r.where(path + ".profile"), path + ".profile", r)) return;
        auto text = detail::read_text(file, pr);
        if (!text) {
            r.error(r.where(path + ".profile"), path + ".profile", "cannot read profile \"" + file.string() + "\" (paths are relative to the experiment file)");
            return;
        }
        auto tbl = detail::parse_toml(*text, file, pr);
        if (!tbl) {
            r.error(r.where(path + ".profile"), path + ".profile", "profile \"" + file.string() + "\" is not valid TOML");
            return;
        }
        p.source = file;
        detail::read_profile(*tbl, p, pr);
    } else {
        p.source = ex.source;
        p.name = ph.name;
    }
    pr.display_prefix = path + ".";
    if (overrides) {
        detail::read_sections(t, p, pr);
        if (profile_ref) p.description += (p.description.empty() ? "" : " ") + std::string("(with phase \"" + ph.name + "\" overrides)");
    }
    detail::finish_profile(p, pr);
    if (pr.failed()) r.error(r.where(path), path, "phase \"" + ph.name + "\" has an invalid profile (see the messages for its profile)");
    ph.profile = std::move(p);
}

}  // namespace

Parsed<Experiment> parse_experiment_text(std::string_view text, const std::filesystem::path& name) {
    Parsed<Experiment> out;
    Reader r(name, out.diagnostics);
    auto t = detail::parse_toml(text, name, r);
    if (!t) return out;
    Experiment ex;
    ex.source = name;
    r.check_keys(*t, "", {"name", "description", "baseline", "drift_baseline", "target", "probe", "thresholds", "phase", "fidelity"});
    if (auto v = fidelity_mode(*t, "", r)) ex.fidelity = *v;
    ex.name = r.string(*t, "", "name").value_or(name.stem().string());
    if (auto v = r.string(*t, "", "description")) ex.description = *v;
    if (auto v = r.duration(*t, "", "baseline")) ex.baseline = *v;
    // [target], or [[target]] entries: one experiment switching several targets together.
    std::vector<std::map<std::string, std::string>> target_profiles;
    if (const toml::node* tn = t->get("target"); tn && tn->as_array()) {
        const auto* ta = tn->as_array();
        if (!ta->is_array_of_tables() || ta->empty())
            r.error(r.pos_of(*tn), "target", "expected [[target]] tables, got " + Reader::describe(*tn));
        int index = 0;
        for (const auto& node : *ta) {
            if (!node.as_table()) break;
            const std::string tp = "target[" + std::to_string(++index) + "]";
            r.seen(tp, r.pos_of(node));
            Target tg;
            target_profiles.emplace_back();
            read_target(*node.as_table(), tg, r, tp, target_profiles.back());
            if (tg.name.empty()) tg.name = "target" + std::to_string(index);
            for (const auto& other : ex.targets)
                if (other.name == tg.name)
                    r.error(r.where(tp), tp + ".name", "two [[target]] entries are named \"" + tg.name + "\": give each its own name");
            ex.targets.push_back(std::move(tg));
        }
    } else if (const auto* s = r.table(*t, "", "target")) {
        Target tg;
        target_profiles.emplace_back();
        read_target(*s, tg, r, "target", target_profiles.back());
        ex.targets.push_back(std::move(tg));
    } else {
        r.error(Pos{name, 0, 0}, "target", "an experiment needs a [target] table (backend, dev or control), or [[target]] tables");
    }
    if (!ex.targets.empty()) ex.target = ex.targets.front();
    if (const auto* s = r.table(*t, "", "probe")) {
        read_probe(*s, ex.probe, r);
        if (!ex.probe.key_file.empty()) ex.probe.key_file = relative_to(name, ex.probe.key_file.string());
    }
    else r.error(Pos{name, 0, 0}, "probe", "an experiment needs a [probe] table with target = \"HOST:PORT\"");
    if (const auto* s = r.table(*t, "", "thresholds")) read_thresholds(*s, ex.thresholds, r, "thresholds");

    const toml::node* phases = t->get("phase");
    const toml::array* arr = phases ? phases->as_array() : nullptr;
    if (!phases) {
        r.error(Pos{name, 0, 0}, "phase", "an experiment needs at least one [[phase]]");
    } else if (!arr || !arr->is_array_of_tables()) {
        r.error(r.pos_of(*phases), "phase", "expected [[phase]] tables, got " + Reader::describe(*phases));
    } else if (arr->empty()) {
        r.error(r.pos_of(*phases), "phase", "an experiment needs at least one [[phase]]");
    } else {
        int index = 0;
        for (const auto& node : *arr) {
            ++index;
            r.seen("phase[" + std::to_string(index) + "]", r.pos_of(node));
            Phase ph;
            read_phase(*node.as_table(), ph, ex, index, r, out.diagnostics);
            ex.phases.push_back(std::move(ph));
        }
    }
    for (std::size_t i = 0; i < ex.targets.size() && i < target_profiles.size(); ++i) {
        const std::string tp = ex.targets.size() == 1 && !t->get("target")->as_array() ? "target" : "target[" + std::to_string(i + 1) + "]";
        for (const auto& [phase, ref] : target_profiles[i]) {
            const std::string key = tp + ".profiles." + phase;
            bool known = false;
            for (const auto& ph : ex.phases) known |= ph.name == phase;
            if (!known) {
                r.error(r.where(key), key, "no [[phase]] named \"" + phase + "\"");
                continue;
            }
            if (auto p = load_profile(relative_to(ex.source, ref), ref, ex, r.where(key), key, r, out.diagnostics))
                ex.targets[i].phase_profiles[phase] = std::move(*p);
        }
    }
    if (!ex.targets.empty()) ex.target = ex.targets.front();
    if (auto v = r.string(*t, "", "drift_baseline")) {
        std::string names;
        bool found = false;
        for (const auto& ph : ex.phases) {
            found = found || ph.name == *v;
            names += (names.empty() ? "" : ", ") + ph.name;
        }
        if (!found && !ex.phases.empty())
            r.error(r.where("drift_baseline"), "drift_baseline", "no [[phase]] named \"" + *v + "\": expected one of " + names);
        ex.drift_baseline = *v;
    }
    bool failed = std::any_of(out.diagnostics.begin(), out.diagnostics.end(), [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::error; });
    if (!failed) out.value = std::move(ex);
    detail::sort_diagnostics(out.diagnostics);
    return out;
}

Parsed<Thresholds> parse_thresholds_text(std::string_view text, const std::filesystem::path& name) {
    Parsed<Thresholds> out;
    Reader r(name, out.diagnostics);
    auto t = detail::parse_toml(text, name, r);
    if (!t) return out;
    Thresholds th;
    if (const auto* s = r.table(*t, "", "thresholds")) read_thresholds(*s, th, r, "thresholds");
    else if (!r.failed()) r.error(Pos{name, 0, 0}, "thresholds", "no [thresholds] table");
    if (!r.failed()) out.value = th;
    detail::sort_diagnostics(out.diagnostics);
    return out;
}

namespace {
// The file's text (refusing what cannot be TOML) through a text parser.
template <class T>
Parsed<T> from_file(const std::filesystem::path& file, Parsed<T> (*parse)(std::string_view, const std::filesystem::path&)) {
    Parsed<T> out;
    Reader r(file, out.diagnostics);
    auto text = detail::read_text(file, r);
    if (!text) return out;
    return parse(*text, file);
}
}  // namespace

Parsed<Thresholds> parse_thresholds_file(const std::filesystem::path& file) {
    return from_file(file, &parse_thresholds_text);
}

Parsed<Experiment> parse_experiment_file(const std::filesystem::path& file) {
    return from_file(file, &parse_experiment_text);
}

}  // namespace netchaos::profile
