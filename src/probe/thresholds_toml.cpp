#include "probe/thresholds_toml.hpp"

#include <fstream>
#include <sstream>
#include <type_traits>
#include <toml++/toml.h>

#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace netchaos::probe {

namespace {

using profile::Duration;

class TableReader {
public:
    TableReader(const std::filesystem::path& file) : file_(file) {}
    std::optional<Error> err;

    Error fail(const toml::source_region& at, const std::string& key, const std::string& msg) {
        std::ostringstream o;
        o << file_.string() << ':' << at.begin.line << ':' << at.begin.column << ": error: " << key << ": " << msg;
        return make_error(o.str(), 3);
    }

    // A string through `parse`, or a bare number where `numbers_ok` (fractions, ratios, 0).
    template <class T, class F>
    void get(const toml::table& t, std::string_view prefix, std::string_view key, std::optional<T>& out, F parse,
             bool numbers_ok) {
        const toml::node* n = t.get(key);
        if (!n || err) return;
        const std::string path = std::string(prefix) + std::string(key);
        if (auto s = n->value<std::string>()) {
            auto v = parse(*s);
            if (!v) {
                err = fail(n->source(), path, v.error().message);
                return;
            }
            out = *v;
            return;
        }
        if constexpr (std::is_arithmetic_v<T>) {
            if (numbers_ok && (n->is_floating_point() || n->is_integer())) {
                out = static_cast<T>(n->value<double>().value_or(0));
                return;
            }
        } else if (n->value<std::int64_t>() == std::int64_t{0}) {
            out = T{0};   // bare 0 is allowed for durations
            return;
        }
        err = fail(n->source(), path, "expected a string like \"50ms\" or \"1%\"");
    }

    void check_keys(const toml::table& t, std::string_view prefix, std::initializer_list<std::string_view> known) {
        for (const auto& [k, v] : t) {
            bool ok = false;
            for (auto name : known) ok = ok || k.str() == name;
            if (!ok && !err) err = fail(k.source(), std::string(prefix) + std::string(k.str()), "unknown key");
        }
    }

private:
    std::filesystem::path file_;
};

Result<double> parse_ratio(std::string_view s) { return profile::parse_percent(s); }

}  // namespace

Result<profile::Thresholds> read_thresholds_text(std::string_view text, const std::filesystem::path& name) {
    toml::table doc;
    try {
        doc = toml::parse(text, name.string());
    } catch (const toml::parse_error& e) {
        std::ostringstream o;
        o << name.string() << ':' << e.source().begin.line << ':' << e.source().begin.column
          << ": error: " << e.description();
        return make_error(o.str(), 3);
    }
    const toml::table* t = doc["thresholds"].as_table();
    if (!t) return make_error(name.string() + ": error: no [thresholds] table", 3);
    profile::Thresholds th;
    TableReader r(name);
    r.check_keys(*t, "thresholds.",
                 {"jitter_1s_max", "spike_ratio_max", "p99_rtt_max", "loss_max", "p99_drift_max", "fidelity_tolerance",
                  "spike_level", "window", "spike_windows", "alert"});
    const auto dur = [](std::string_view s) { return profile::parse_duration(s); };
    const auto prob = [](std::string_view s) { return profile::parse_probability(s); };
    r.get(*t, "thresholds.", "jitter_1s_max", th.jitter_1s_max, dur, false);
    r.get(*t, "thresholds.", "spike_ratio_max", th.spike_ratio_max, prob, true);
    r.get(*t, "thresholds.", "p99_rtt_max", th.p99_rtt_max, dur, false);
    r.get(*t, "thresholds.", "loss_max", th.loss_max, prob, true);
    r.get(*t, "thresholds.", "p99_drift_max", th.p99_drift_max, parse_ratio, true);
    r.get(*t, "thresholds.", "fidelity_tolerance", th.fidelity_tolerance, prob, true);
    std::optional<Duration> level, window;
    r.get(*t, "thresholds.", "spike_level", level, dur, false);
    r.get(*t, "thresholds.", "window", window, dur, false);
    if (level) th.spike_level = *level;
    if (window) th.window = *window;
    if (const toml::node* n = t->get("spike_windows"); n && !r.err) {
        auto v = n->value<std::int64_t>();
        if (!n->is_integer() || !v || *v < 1 || *v > 100000)
            r.err = r.fail(n->source(), "thresholds.spike_windows", "expected an integer in 1-100000");
        else
            th.spike_windows = static_cast<int>(*v);
    }
    if (const toml::node* n = t->get("alert"); n && !r.err) {
        const toml::table* a = n->as_table();
        if (!a) return r.fail(n->source(), "thresholds.alert", "expected a table");
        profile::AlertRule rule;
        r.check_keys(*a, "thresholds.alert.", {"spike_ratio", "jitter", "periods", "period"});
        std::optional<double> ratio;
        std::optional<Duration> jitter, period;
        r.get(*a, "thresholds.alert.", "spike_ratio", ratio, prob, true);
        r.get(*a, "thresholds.alert.", "jitter", jitter, dur, false);
        r.get(*a, "thresholds.alert.", "period", period, dur, false);
        if (ratio) rule.spike_ratio = *ratio;
        if (jitter) rule.jitter = *jitter;
        if (period) rule.period = *period;
        if (const toml::node* p = a->get("periods"); p && !r.err) {
            auto v = p->value<std::int64_t>();
            if (!p->is_integer() || !v || *v < 1 || *v > 10000)
                r.err = r.fail(p->source(), "thresholds.alert.periods", "expected an integer in 1-10000");
            else
                rule.periods = static_cast<int>(*v);
        }
        th.alert = rule;
    }
    if (r.err) return *r.err;
    if (th.window.count() <= 0) return make_error(name.string() + ": error: thresholds.window must be > 0", 3);
    return th;
}

Result<profile::Thresholds> read_thresholds_file(const std::filesystem::path& file) {
    std::ifstream f(file, std::ios::binary);
    if (!f) return make_error("cannot read " + file.string(), 3);
    std::ostringstream s;
    s << f.rdbuf();
    return read_thresholds_text(s.str(), file);
}

}  // namespace netchaos::probe
