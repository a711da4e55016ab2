// The TOML walker behind both parsers: typed getters that turn every mistake into a
// diagnostic with file:line:column, key path and what was expected.
#include "profile/reader.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <tuple>

#include "profile/units.hpp"

namespace netchaos::profile::detail {

namespace {
std::string clip(std::string_view s, std::size_t n = 40) {
    std::string out;
    for (char c : s.substr(0, n)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (s.size() > n) out += "...";
    return out;
}
// toml++ 3.3 has two input-reachable precondition bugs, both asserts in debug builds and
// undefined behaviour (assume/unreachable) in release builds:
//  - a table header whose key does not start with a bare-key character or a quote
//    ("[`x]", "[[[") (marzer/tomlplusplus#301, fixed after 3.3);
//  - an array element that starts with '}' ("p=[}", "p=[1,}") reaches parse_value, which
//    assumes it never sees a value terminator;
//  - its non-ASCII whitespace test hits __builtin_unreachable for most code points in
//    U+00A1..U+0499, and it runs on every character of a key, on every character between
//    tokens and after a backslash in strings.
// So before toml++ sees a file, this small lexer (comments and strings skipped) refuses
// those inputs. Non-ASCII text stays fine in comments and string values, which is where
// TOML allows it; keys are ASCII (quoted non-ASCII keys are refused, and so are arrays of
// strings with non-ASCII text, which the schema has none of).
struct Precheck {
    int line = 0;
    int column = 0;
    const char* message = "";
};

std::optional<Precheck> toml_precheck(std::string_view t) {
    int line = 1;
    std::size_t bol = 0;
    bool line_start = true;
    char prev = 0;   // last significant character (whitespace and comments skipped)
    auto starts = [&](std::size_t i, std::string_view w) { return t.substr(i, w.size()) == w; };
    auto high = [&](std::size_t i) { return i < t.size() && static_cast<unsigned char>(t[i]) >= 0x80; };
    auto at = [&](std::size_t i, const char* m) { return Precheck{line, static_cast<int>(i - bol + 1), m}; };
    // After a backslash in a basic string: the escape character, or (multi-line) the first
    // character after the line-ending backslash's whitespace, must be ASCII.
    auto escape = [&](std::size_t& i, bool ml) -> std::optional<Precheck> {
        std::size_t j = i + 1;
        if (high(j)) return at(j, "non-ASCII character after a backslash in a string");
        if (ml && j < t.size() && std::strchr(" \t\r\n", t[j])) {
            while (j < t.size() && std::strchr(" \t\r\n", t[j])) {
                if (t[j] == '\n') ++line, bol = j + 1;
                ++j;
            }
            if (high(j)) return at(j, "non-ASCII character after a line-ending backslash");
            i = j - 1;
            return std::nullopt;
        }
        i = j;
        return std::nullopt;
    };
    for (std::size_t i = 0; i < t.size();) {
        char c = t[i];
        if (c == '\n') {
            ++line, bol = ++i, line_start = true;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            ++i;
            continue;
        }
        if (high(i)) return at(i, "non-ASCII character outside a string or comment");
        if (c == '[' && line_start) {
            std::size_t j = i + 1;
            if (j < t.size() && t[j] == '[') ++j;
            while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
            char k = j < t.size() ? t[j] : '\n';
            if (!(std::isalnum(static_cast<unsigned char>(k)) || k == '_' || k == '-' || k == '"' || k == '\''))
                return at(j, "a table header needs a key (letters, digits, _ or -, or a quoted string)");
        }
        line_start = false;
        if (c == '}' && (prev == '[' || prev == ','))
            return at(i, "'}' where a value belongs (after '[' or ',')");
        if (c != '#') prev = c;
        // A quote opens a string only where TOML lets one start; glued to a bare token
        // ("0x\"\"\"") toml++ reads on through it as one bad token, so the lexer must too.
        const bool opens = i == 0 || (t[i - 1] != 0 && std::strchr(" \t\r\n=[,{.", t[i - 1]) != nullptr);
        if (c == '#') {
            while (i < t.size() && t[i] != '\n') ++i;
        } else if (!opens && (c == '"' || c == '\'')) {
            ++i;
        } else if (starts(i, "\"\"\"") || starts(i, "'''")) {
            std::string_view close = t.substr(i, 3);
            bool basic = c == '"';
            for (i += 3; i < t.size() && !starts(i, close); ++i) {
                if (basic && t[i] == '\\') {
                    if (auto bad = escape(i, true)) return bad;
                } else if (t[i] == '\n') {
                    ++line, bol = i + 1;
                }
            }
            i += 3;
        } else if (c == '"' || c == '\'') {
            std::size_t open = i;
            bool non_ascii = false;
            for (++i; i < t.size() && t[i] != c && t[i] != '\n'; ++i) {
                non_ascii = non_ascii || high(i);
                if (c == '"' && t[i] == '\\')
                    if (auto bad = escape(i, false)) return bad;
            }
            if (i < t.size() && t[i] == c) ++i;
            std::size_t j = i;
            while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
            if (non_ascii && j < t.size() && (t[j] == '=' || t[j] == '.' || t[j] == ']'))
                return at(open, "non-ASCII characters in a key (keys are ASCII)");
        } else {
            ++i;
        }
    }
    return std::nullopt;
}

// One '~' per UTF-8 sequence (a lead byte and its continuation bytes), so columns, which
// toml++ counts in code points, stay where they were; stray continuation bytes become '~' too.
std::string mask_non_ascii(std::string_view t) {
    std::string out;
    out.reserve(t.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        if (c < 0x80) { out += static_cast<char>(c); continue; }
        out += '~';
        if (c >= 0xc0)
            while (i + 1 < t.size() && (static_cast<unsigned char>(t[i + 1]) & 0xc0) == 0x80) ++i;
    }
    return out;
}

// toml++ speaks parser ("Error while parsing string: unescaped control characters other
// than TAB..."); users need TOML terms ("unterminated string"). Known messages are reworded,
// the rest keep their text without the "Error while parsing X:" preamble. `line` is the
// text of the line toml++ points at, to find where an unterminated string opened.
struct TomlMessage {
    std::string text;
    int column = 0;   // 0: keep toml++'s column
};

TomlMessage toml_message(std::string_view desc, std::string_view line) {
    auto has = [&](std::string_view w) { return desc.find(w) != std::string_view::npos; };
    std::string what;   // "string", "array", ...
    if (desc.rfind("Error while parsing ", 0) == 0) {
        auto colon = desc.find(':');
        if (colon != std::string_view::npos) {
            what = std::string(desc.substr(20, colon - 20));
            desc.remove_prefix(std::min(desc.size(), colon + 2));
        }
    }
    auto quoted_after = [&](std::string_view w) {   // 'mean' in "cannot redefine existing string 'mean'"
        auto at = desc.find(w);
        return at == std::string_view::npos ? std::string() : std::string(desc.substr(at + w.size()));
    };
    if ((what == "string" || what == "literal string") && has("control characters")) {
        // Where did it open? The last quote that has no partner on this line.
        int open = 0;
        char q = what == "string" ? '"' : '\'';
        int count = 0;
        for (std::size_t i = 0; i < line.size(); ++i)
            if (line[i] == q && (q == '\'' || i == 0 || line[i - 1] != '\\') && (count++ % 2 == 0)) open = static_cast<int>(i) + 1;
        return {"unterminated string: it opens here and the line ends before its closing " + std::string(1, q) +
                    " (a string must close on its line; \"\"\"...\"\"\" spans lines)", open};
    }
    if ((what == "string" || what == "literal string") && has("end-of-file")) return {"unterminated string: the file ends inside it"};
    if (what == "array" && has("end-of-file")) return {"unclosed array: expected ']' before the end of the file"};
    if (what == "inline table" && (has("saw '\\n'") || has("end-of-file")))
        return {"unclosed inline table: { ... } must close with '}' on the same line"};
    if (what == "table header" && has("expected ']'")) return {"unclosed table header: expected ']' at the end of the [section] line"};
    if (has("cannot redefine existing table")) return {"table " + quoted_after("existing table ") + " is defined twice"};
    if (has("cannot redefine existing")) {
        auto at = desc.find('\'');
        return {"key " + (at == std::string_view::npos ? std::string("here") : std::string(desc.substr(at))) + " is set twice"};
    }
    if (what == "key-value pair" && has("expected '='")) return {"expected '=' after the key (key = value)"};
    if ((what == "decimal integer" || what == "floating-point") && has("saw '")) {
        return {"a value with a unit must be a quoted string: write it in quotes, like \"5ms\" or \"10mbit\""};
    }
    if (has("unknown escape sequence"))
        return {std::string(desc) + " in a \"...\" string: write \\\\ for a backslash, or use a '...' literal string"};
    return {std::string(desc)};
}

}  // namespace

std::string Reader::describe(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::string: return "string \"" + clip(**n.as_string()) + "\"";
        case toml::node_type::integer: return "integer " + std::to_string(**n.as_integer());
        case toml::node_type::floating_point: {
            std::ostringstream o;
            o << **n.as_floating_point();
            return "float " + o.str();
        }
        case toml::node_type::boolean: return std::string("boolean ") + (**n.as_boolean() ? "true" : "false");
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        default: return "a date/time";
    }
}

void Reader::add(Diagnostic::Severity s, const Pos& p, std::string key, std::string msg) {
    Diagnostic d;
    d.severity = s;
    d.file = p.file;
    d.line = p.line;
    d.column = p.column;
    d.key = key.empty() ? key : display_prefix + key;
    d.message = std::move(msg);
    if (s == Diagnostic::Severity::error) {
        ++errors_;
        error_keys_.insert(key);
    }
    diags_->push_back(std::move(d));
}

void Reader::check_keys(const toml::table& t, const std::string& path, std::initializer_list<std::string_view> known) {
    for (auto&& [k, v] : t) {
        std::string_view name = k.str();
        if (std::find(known.begin(), known.end(), name) != known.end()) continue;
        std::string_view best;
        std::size_t best_d = ~std::size_t{0};
        for (auto cand : known) {
            auto d = edit_distance(name, cand);
            if (d < best_d) best_d = d, best = cand;
        }
        std::string where = path.empty() ? "at the top level" : "in [" + display_prefix + path + "]";
        std::string msg = "unknown key \"" + clip(name) + "\" " + where;
        if (!best.empty() && best_d <= std::max<std::size_t>(2, best.size() / 3))
            msg += "; did you mean \"" + std::string(best) + "\"?";
        else {
            msg += "; expected one of:";
            for (auto cand : known) msg += " " + std::string(cand);
        }
        error(pos_of(k), join(path, name), msg);
        unknown_in_.insert(path);
    }
}

const toml::node* Reader::get(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = t.get(key);
    if (n) seen(join(path, key), pos_of(*n));
    return n;
}

void Reader::bad_choice(const toml::node& n, const std::string& key, const std::string& got, const std::vector<std::string_view>& names) {
    std::string msg = "expected one of";
    for (std::size_t i = 0; i < names.size(); ++i) msg += (i ? ", \"" : " \"") + std::string(names[i]) + "\"";
    msg += ", got \"" + clip(got) + "\"";
    std::string_view best;
    std::size_t best_d = ~std::size_t{0};
    for (auto cand : names) {
        auto d = edit_distance(got, cand);
        if (d < best_d) best_d = d, best = cand;
    }
    if (best_d > 2)
        for (auto cand : names)
            if (got.size() >= 3 && cand.substr(0, got.size()) == got) best = cand, best_d = 0;
    if (best_d <= 2) msg += "; did you mean \"" + std::string(best) + "\"?";
    error(pos_of(n), key, msg);
}

const toml::table* Reader::table(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return nullptr;
    if (const auto* tt = n->as_table()) return tt;
    error(pos_of(*n), join(path, key), "expected a table ([" + join(path, key) + "]), got " + describe(*n));
    return nullptr;
}

std::optional<std::string> Reader::string(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) return **s;
    error(pos_of(*n), join(path, key), "expected a string, got " + describe(*n));
    return std::nullopt;
}

std::optional<bool> Reader::boolean(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* b = n->as_boolean()) return **b;
    error(pos_of(*n), join(path, key), "expected true or false, got " + describe(*n));
    return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(const toml::table& t, const std::string& path, std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    const auto* i = n->as_integer();
    if (!i) {
        error(pos_of(*n), join(path, key), "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + describe(*n));
        return std::nullopt;
    }
    if (**i < min || **i > max) {
        error(pos_of(*n), join(path, key), "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + std::to_string(**i));
        return std::nullopt;
    }
    return **i;
}

std::optional<double> Reader::number(const toml::table& t, const std::string& path, std::string_view key, double min, double max) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    std::optional<double> v;
    if (const auto* i = n->as_integer()) v = static_cast<double>(**i);
    if (const auto* f = n->as_floating_point()) v = **f;
    std::ostringstream range;
    range << "[" << min << ", " << max << "]";
    if (!v) {
        error(pos_of(*n), join(path, key), "expected a number in " + range.str() + ", got " + describe(*n));
        return std::nullopt;
    }
    if (!(*v >= min && *v <= max)) {   // also rejects nan
        error(pos_of(*n), join(path, key), "expected a number in " + range.str() + ", got " + describe(*n));
        return std::nullopt;
    }
    return v;
}

std::optional<Duration> Reader::duration(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) {
        auto d = parse_duration(**s);
        if (d) return *d;
        error(pos_of(*n), join(path, key), d.error().message);
        return std::nullopt;
    }
    if (const auto* i = n->as_integer(); i && **i == 0) return Duration{0};
    std::string msg = "expected a duration like \"50ms\" (a string with a unit), got " + describe(*n);
    if (const auto* i = n->as_integer(); i && **i < 0) msg = "negative duration " + std::to_string(**i) + ": expected a duration >= 0 like \"50ms\"";
    error(pos_of(*n), join(path, key), msg);
    return std::nullopt;
}

std::optional<double> Reader::probability(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) {
        auto p = parse_probability(**s);
        if (!p) {
            error(pos_of(*n), join(path, key), p.error().message);
            return std::nullopt;
        }
        if (auto w = bare_probability_warning(**s, *p); !w.empty() && s->get().find('%') == std::string::npos)
            warning(pos_of(*n), join(path, key), w);
        return *p;
    }
    std::optional<double> v;
    if (const auto* f = n->as_floating_point()) v = **f;
    if (const auto* i = n->as_integer()) {
        if (**i == 0) return 0.0;
        if (**i == 1) {
            error(pos_of(*n), join(path, key), "probability 1 is ambiguous: write \"1%\" or 1.0");
            return std::nullopt;
        }
        v = static_cast<double>(**i);
    }
    if (!v) {
        error(pos_of(*n), join(path, key), "expected a probability like \"0.1%\" or a fraction like 0.001, got " + describe(*n));
        return std::nullopt;
    }
    if (!(*v >= 0 && *v <= 1)) {
        error(pos_of(*n), join(path, key), "probability " + describe(*n) + " is outside 0-100% (a bare number is a fraction in [0, 1]; write \"5%\" for percent)");
        return std::nullopt;
    }
    std::ostringstream written;
    written << *v;
    if (auto w = bare_probability_warning(written.str(), *v); !w.empty()) warning(pos_of(*n), join(path, key), w);
    return v;
}

std::optional<double> Reader::percent(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) {
        auto p = parse_percent(**s);
        if (p) return *p;
        error(pos_of(*n), join(path, key), p.error().message);
        return std::nullopt;
    }
    std::optional<double> v;
    if (const auto* f = n->as_floating_point()) v = **f;
    if (const auto* i = n->as_integer()) v = static_cast<double>(**i);
    if (!v || !(*v >= 0 && *v < 1e12)) {
        error(pos_of(*n), join(path, key), "expected a percentage like \"200%\" or a ratio >= 0 like 2.0, got " + describe(*n));
        return std::nullopt;
    }
    return v;
}

std::optional<std::uint64_t> Reader::rate(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) {
        auto r = parse_rate(**s);
        if (r) {
            if (auto w = rate_warning(**s); !w.empty()) warning(pos_of(*n), join(path, key), w);
            return *r;
        }
        error(pos_of(*n), join(path, key), r.error().message);
        return std::nullopt;
    }
    error(pos_of(*n), join(path, key), "expected a rate like \"100mbit\" (a string with a unit), got " + describe(*n));
    return std::nullopt;
}

std::optional<std::uint64_t> Reader::size(const toml::table& t, const std::string& path, std::string_view key) {
    const toml::node* n = get(t, path, key);
    if (!n) return std::nullopt;
    if (const auto* s = n->as_string()) {
        auto r = parse_size(**s);
        if (r) return *r;
        error(pos_of(*n), join(path, key), r.error().message);
        return std::nullopt;
    }
    if (const auto* i = n->as_integer(); i && **i >= 0) return static_cast<std::uint64_t>(**i);
    error(pos_of(*n), join(path, key), "expected a size like \"64kb\" or \"1500b\", got " + describe(*n));
    return std::nullopt;
}

std::optional<std::string> read_text(const std::filesystem::path& file, Reader& r) {
    Pos p{file, 0, 0};
    std::error_code ec;
    auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status)) {
        r.error(p, "", "cannot open: no such file");
        return std::nullopt;
    }
    if (std::filesystem::is_directory(status)) {
        r.error(p, "", "is a directory, expected a .toml file");
        return std::nullopt;
    }
    // Devices (/dev/zero, a terminal) would never end or block; pipes are fine (<(cmd)).
    if (!std::filesystem::is_regular_file(status) && !std::filesystem::is_fifo(status)) {
        r.error(p, "", "not a regular file, expected a .toml file");
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        r.error(p, "", "cannot open: permission denied or unreadable");
        return std::nullopt;
    }
    // Read at most the cap + 1 bytes, in chunks: works for pipes whose size is unknown, and
    // a 1 KiB profile does not pay for zero-filling a 4 MiB buffer (30 ms under qemu TCG).
    std::string text;
    char chunk[16384];
    while (text.size() <= max_file_bytes && in.read(chunk, sizeof chunk).gcount() > 0)
        text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_file_bytes) {
        auto size = std::filesystem::is_regular_file(status) ? std::filesystem::file_size(file, ec) : 0;
        r.error(p, "", "file too large" + (size ? " (" + std::to_string(size / (1 << 20)) + " MiB)" : std::string()) +
                           ": profiles and experiments are limited to " + std::to_string(max_file_bytes >> 20) + " MiB");
        return std::nullopt;
    }
    return text;
}

std::optional<toml::table> parse_toml(std::string_view text, const std::filesystem::path& name, Reader& r) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        r.error(Pos{name, 0, 0}, "", "file is empty: expected a TOML profile or experiment");
        return std::nullopt;
    }
    if (auto nul = text.find('\0'); nul != std::string_view::npos) {
        auto before = text.substr(0, nul);
        auto line = 1 + std::count(before.begin(), before.end(), '\n');
        auto bol = before.rfind('\n');
        auto column = bol == std::string_view::npos ? nul + 1 : nul - bol;
        r.error(Pos{name, static_cast<int>(line), static_cast<int>(column)}, "", "binary data (a NUL byte): expected a TOML text file");
        return std::nullopt;
    }
    if (auto bad = toml_precheck(text)) {
        r.error(Pos{name, bad->line, bad->column}, "", std::string("TOML syntax error: ") + bad->message);
        return std::nullopt;
    }
    auto parse = [&](std::string_view t) -> std::optional<toml::table> {
        try {
            return toml::parse(t, name.string());
        } catch (const toml::parse_error& e) {
            const auto& src = e.source();
            std::string_view line;
            for (std::size_t i = 0, n = 1; i <= t.size(); ++n) {
                auto eol = t.find('\n', i);
                if (eol == std::string_view::npos) eol = t.size();
                if (n == src.begin.line) { line = t.substr(i, eol - i); break; }
                i = eol + 1;
            }
            auto m = toml_message(e.description(), line);
            r.error(Pos{name, static_cast<int>(src.begin.line), m.column > 0 ? m.column : static_cast<int>(src.begin.column)}, "",
                    "TOML syntax error: " + clip(m.text, 200));
            return std::nullopt;
        }
    };
    // Backstop for the lexer above: toml++ reads a bad token on through quotes to report it, so
    // where the lexer saw a string it may still meet non-ASCII text. Parse a copy with each
    // UTF-8 sequence masked as '~' first (legal in strings and comments, nowhere else, so
    // the structure and its errors stay as they are, and all-ASCII meets no such path); only
    // structurally valid text reaches toml++ with its non-ASCII characters.
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
        if (!parse(mask_non_ascii(text))) return std::nullopt;
    }
    return parse(text);
}

void sort_diagnostics(std::vector<Diagnostic>& d) {
    // Files in the order they were first reported (a phase's profile after the experiment),
    // then line:column within each file.
    std::vector<std::filesystem::path> order;
    auto rank = [&](const std::filesystem::path& f) {
        auto it = std::find(order.begin(), order.end(), f);
        if (it != order.end()) return static_cast<std::size_t>(it - order.begin());
        order.push_back(f);
        return order.size() - 1;
    };
    for (const auto& x : d) rank(x.file);
    std::stable_sort(d.begin(), d.end(), [&](const Diagnostic& a, const Diagnostic& b) {
        return std::tuple(rank(a.file), a.line, a.column) < std::tuple(rank(b.file), b.line, b.column);
    });
}

}  // namespace netchaos::profile::detail
