#pragma once
// Internal to netchaos_profile: a TOML table walker that records where every key came
// from (file:line:column) and collects diagnostics instead of throwing. Shared by the
// profile and experiment parsers. Not a public interface.
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "profile/parse.hpp"

namespace netchaos::profile::detail {

struct Pos {
    std::filesystem::path file;
    int line = 0;
    int column = 0;
};

// Files larger than this are refused before parsing: profiles are small, and a 100 MB
// file is a mistake (wrong path, a capture file) that should not eat memory.
inline constexpr std::uintmax_t max_file_bytes = 4u << 20;

class Reader {
public:
    Reader(std::filesystem::path file, std::vector<Diagnostic>& diags) : file_(std::move(file)), diags_(&diags) {}

    const std::filesystem::path& file() const { return file_; }
    Pos pos_of(const toml::node& n) const { return from_region(n.source()); }
    Pos pos_of(const toml::key& k) const { return from_region(k.source()); }

    void error(const Pos& p, std::string key, std::string msg) { add(Diagnostic::Severity::error, p, std::move(key), std::move(msg)); }
    void warning(const Pos& p, std::string key, std::string msg) { add(Diagnostic::Severity::warning, p, std::move(key), std::move(msg)); }
    bool failed() const { return errors_ > 0; }
    // An error was already reported for this key (avoid a second message about it).
    bool errored(const std::string& key) const { return error_keys_.count(key) != 0; }

    // Keys seen so far (path relative to the profile, e.g. "egress.delay.jitter"), with
    // the place they were written. Overrides replace earlier entries.
    void seen(const std::string& key, Pos p) { seen_[key] = std::move(p); }
    bool has(const std::string& key) const { return seen_.count(key) != 0; }
    Pos where(const std::string& key) const {
        auto it = seen_.find(key);
        return it == seen_.end() ? Pos{file_, 0, 0} : it->second;
    }
    // The first of several keys that was seen (for messages about a section).
    Pos where_any(std::initializer_list<std::string> keys) const {
        for (const auto& k : keys)
            if (has(k)) return where(k);
        return Pos{file_, 0, 0};
    }

    // The prefix shown in messages before the key path ("phase[2]." in experiments).
    std::string display_prefix;

    // The single [match] as read so far (a file, then a phase's overrides). finish_profile
    // turns it into the one class it stands for, so a Profile holds classes only.
    std::optional<FlowMatch> match_shorthand;

    // A table that had an unknown key (a typo): rules about keys missing from it would
    // only repeat that error ("jiter" must not also say "distribution without jitter").
    bool had_unknown(const std::string& path) const { return unknown_in_.count(path) != 0; }

    // Unknown keys are errors with a "did you mean".
    void check_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> known);

    // Typed getters: absent -> nullopt silently; wrong type or bad value -> error + nullopt.
    // `path` is the table's key path ("egress.delay"), `key` the key in it.
    const toml::table* table(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<std::string> string(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<bool> boolean(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<std::int64_t> integer(const toml::table& t, const std::string& path, std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<double> number(const toml::table& t, const std::string& path, std::string_view key, double min, double max);
    std::optional<Duration> duration(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<double> probability(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<double> percent(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<std::uint64_t> rate(const toml::table& t, const std::string& path, std::string_view key);
    std::optional<std::uint64_t> size(const toml::table& t, const std::string& path, std::string_view key);

    template <class E>
    std::optional<E> choice(const toml::table& t, const std::string& path, std::string_view key,
                            std::initializer_list<std::pair<std::string_view, E>> options) {
        auto s = string(t, path, key);
        if (!s) return std::nullopt;
        std::vector<std::string_view> names;
        for (const auto& [name, e] : options) {
            if (*s == name) return e;
            names.push_back(name);
        }
        bad_choice(*t.get(key), join(path, key), *s, names);
        return std::nullopt;
    }

    static std::string join(const std::string& path, std::string_view key) {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }
    // "string \"abc\"", "integer 12", "table", ... for "expected X, got Y".
    static std::string describe(const toml::node& n);

private:
    Pos from_region(const toml::source_region& r) const {
        Pos p{r.path ? std::filesystem::path(*r.path) : file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
        return p;
    }
    void add(Diagnostic::Severity s, const Pos& p, std::string key, std::string msg);
    void bad_choice(const toml::node& n, const std::string& key, const std::string& got, const std::vector<std::string_view>& names);
    const toml::node* get(const toml::table& t, const std::string& path, std::string_view key);

    std::filesystem::path file_;
    std::vector<Diagnostic>* diags_;
    std::map<std::string, Pos> seen_;
    std::set<std::string> error_keys_;
    std::set<std::string> unknown_in_;
    int errors_ = 0;
};

// File -> text, refusing what cannot be a profile: missing, unreadable, too large, empty,
// binary. Errors go to the reader (position 0:0, the file name).
std::optional<std::string> read_text(const std::filesystem::path& file, Reader& r);

// Text -> TOML table; a syntax error becomes a diagnostic with its line:column.
std::optional<toml::table> parse_toml(std::string_view text, const std::filesystem::path& name, Reader& r);

// Profile sections (egress, ingress, match) applied over `p`: keys present overwrite,
// keys absent keep p's values. Used for whole files and for phase overrides.
void read_sections(const toml::table& t, Profile& p, Reader& r);
// A whole profile file's top level: name, description and the sections.
void read_profile(const toml::table& t, Profile& p, Reader& r);
// Derived defaults (tc's), then every cross-field rule. Call once, after all overrides.
void finish_profile(Profile& p, Reader& r);

// Stable file order for the diagnostics the parsers return.
void sort_diagnostics(std::vector<Diagnostic>& d);

}  // namespace netchaos::profile::detail
