// Units as people write them, as tc reads them. Every error says what was expected.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

#include "profile/parse.hpp"
#include "profile/units.hpp"

namespace netchaos::profile {

namespace {

struct Number {
    double value = 0;
    bool negative = false;
    bool has_point = false;
    std::string_view unit;   // what follows the number, spaces skipped
};

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s.substr(0, 40)) out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    if (s.size() > 40) out += "...";
    return out + "\"";
}

// A decimal number (digits, optional point and fraction) followed by an optional unit.
// No exponents, no "inf"/"nan": people do not write those in profiles, and from_chars would
// happily accept them.
Result<Number> split_number(std::string_view s, std::string_view what) {
    Number n;
    std::size_t i = 0;
    while (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        n.negative = s[i] == '-';
        ++i;
    }
    std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
        if (s[i] == '.') {
            if (n.has_point) return make_error("expected " + std::string(what) + ", got " + quoted(s) + " (two decimal points)", ErrorKind::bad_input);
            n.has_point = true;
        }
        ++i;
    }
    std::string_view digits = s.substr(start, i - start);
    if (digits.empty() || digits == ".")
        return make_error("expected " + std::string(what) + ", got " + quoted(s), ErrorKind::bad_input);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n.value);
    if (ec != std::errc() || p != digits.data() + digits.size() || !std::isfinite(n.value))
        return make_error("expected " + std::string(what) + ", got " + quoted(s), ErrorKind::bad_input);
    while (i < s.size() && s[i] == ' ') ++i;
    n.unit = s.substr(i);
    while (!n.unit.empty() && n.unit.back() == ' ') n.unit.remove_suffix(1);
    return n;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

struct UnitScale {
    std::string_view name;
    double scale;
};

const UnitScale* find_unit(std::string_view u, const std::vector<UnitScale>& table, bool case_sensitive) {
    for (const auto& e : table)
        if (case_sensitive ? e.name == u : iequals(e.name, u)) return &e;
    return nullptr;
}

std::string unit_list(const std::vector<UnitScale>& table) {
    std::string out;
    for (const auto& e : table) out += (out.empty() ? "" : ", ") + std::string(e.name);
    return out;
}

// Integer <= 2^63 after scaling; the rest is checked by callers.
constexpr double max_exact = 9.0e18;
// Caps that keep sums (mean + jitter) and bit conversions (rate x 8) far from overflow.
constexpr double max_duration_ns = 100.0 * 86400e9;   // 100 days
constexpr double max_rate_bytes = 1.25e12;            // 10 tbit

}  // namespace

Result<Duration> parse_duration(std::string_view s) {
    // Case-insensitive ("80MS" is 80 ms): no two duration units differ only in case once the
    // bare "m" is gone. "m" is refused: "80m" was 80 minutes for a user who meant 80 ms.
    static const std::vector<UnitScale> units = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"min", 60e9}, {"h", 3600e9},
    };
    constexpr std::string_view what = "a duration like \"50ms\", \"30us\", \"1.5s\" or \"2min\"";
    auto n = split_number(s, what);
    if (!n) return n.error();
    if (n->negative && n->value != 0)
        return make_error("negative duration " + quoted(s) + ": expected a duration >= 0", ErrorKind::bad_input);
    if (n->unit.empty()) {
        if (n->value == 0) return Duration{0};
        return make_error("duration " + quoted(s) + " has no unit: write e.g. \"" + std::string(s) + "ms\" (units: ns, us, ms, s, min, h)", ErrorKind::bad_input);
    }
    if (iequals(n->unit, "m")) {
        std::string num(s.substr(0, s.size() - n->unit.size()));
        while (!num.empty() && num.back() == ' ') num.pop_back();
        return make_error("duration " + quoted(s) + ": \"m\" is ambiguous, say \"" + num + "min\" (minutes) or \"" + num + "ms\" (milliseconds)", ErrorKind::bad_input);
    }
    const auto* u = find_unit(n->unit, units, false);
    if (!u) return make_error("unknown duration unit \"" + std::string(n->unit) + "\" in " + quoted(s) + ": expected one of " + unit_list(units), ErrorKind::bad_input);
    double ns = n->value * u->scale;
    if (ns > max_duration_ns) return make_error("duration " + quoted(s) + " is too large (at most 100 days)", ErrorKind::bad_input);
    return Duration{static_cast<Duration::rep>(std::llround(ns))};
}

Result<double> parse_probability(std::string_view s) {
    constexpr std::string_view what = "a probability like \"0.1%\" or a fraction like 0.001";
    auto n = split_number(s, what);
    if (!n) return n.error();
    double v = n->negative ? -n->value : n->value;
    if (n->unit == "%") {
        if (v < 0 || v > 100) return make_error("probability " + quoted(s) + " is outside 0-100%", ErrorKind::bad_input);
        return v / 100.0;
    }
    if (!n->unit.empty()) return make_error("expected " + std::string(what) + ", got " + quoted(s), ErrorKind::bad_input);
    if (v < 0 || v > 1) return make_error("probability " + quoted(s) + " is outside 0-100% (a bare number is a fraction in [0, 1]; for percent write \"" + std::string(s) + "%\")", ErrorKind::bad_input);
    if (!n->has_point && v != 0)
        return make_error("probability " + quoted(s) + " is ambiguous: write \"" + std::string(s) + "%\" or 1.0", ErrorKind::bad_input);
    return v;
}

std::string bare_probability_warning(std::string_view written, double fraction) {
    if (!(fraction > 0 && fraction < 1)) return {};   // 0 and 1.0 read the same either way
    return "probability " + std::string(written) + " is read as a fraction, " + format_percent(fraction) + "; write \"" + format_percent(fraction) +
           "\" (or \"" + std::string(written) + "%\" if you meant percent) to say which";
}

Result<double> parse_percent(std::string_view s) {
    constexpr std::string_view what = "a percentage like \"200%\" or a ratio like 2.0";
    auto n = split_number(s, what);
    if (!n) return n.error();
    if (n->negative && n->value != 0) return make_error("negative percentage " + quoted(s) + ": expected >= 0", ErrorKind::bad_input);
    if (n->unit == "%") return n->value / 100.0;
    if (!n->unit.empty()) return make_error("expected " + std::string(what) + ", got " + quoted(s), ErrorKind::bad_input);
    return n->value;
}

Result<std::uint64_t> parse_rate(std::string_view s) {
    // tc's table (tc/tc_util.c get_rate): *bit are bits/s, *bps are BYTES/s; SI k=1000, IEC ki=1024.
    static const std::vector<UnitScale> units = {
        {"bit", 1},         {"kbit", 1e3},          {"mbit", 1e6},          {"gbit", 1e9},          {"tbit", 1e12},
        {"kibit", 1024.0},  {"mibit", 1048576.0},   {"gibit", 1073741824.0}, {"tibit", 1099511627776.0},
        {"bps", 8},         {"kbps", 8e3},          {"mbps", 8e6},          {"gbps", 8e9},          {"tbps", 8e12},
        {"kibps", 8192.0},  {"mibps", 8388608.0},   {"gibps", 8589934592.0},
    };
    constexpr std::string_view what = "a rate like \"100mbit\", \"1gbit\" or \"64kbit\" (kbps/mbps are bytes/s, as in tc)";
    auto n = split_number(s, what);
    if (!n) return n.error();
    if (n->negative && n->value != 0) return make_error("negative rate " + quoted(s) + ": expected a rate > 0", ErrorKind::bad_input);
    if (n->unit.empty()) return make_error("rate " + quoted(s) + " has no unit: write e.g. \"" + std::string(s) + "mbit\" (bits/s) or \"" + std::string(s) + "kbps\" (bytes/s)", ErrorKind::bad_input);
    const auto* u = find_unit(n->unit, units, false);
    if (!u) return make_error("unknown rate unit \"" + std::string(n->unit) + "\" in " + quoted(s) + ": expected one of " + unit_list(units), ErrorKind::bad_input);
    double bytes = n->value * u->scale / 8.0;
    if (bytes > max_rate_bytes) return make_error("rate " + quoted(s) + " is too large (at most 10tbit)", ErrorKind::bad_input);
    return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string rate_warning(std::string_view s) {
    auto n = split_number(s, "a rate");
    if (!n || n->unit.size() < 3 || !iequals(n->unit.substr(n->unit.size() - 3), "bps")) return {};
    auto bytes = parse_rate(s);
    if (!bytes) return {};
    std::string prefix(n->unit.substr(0, n->unit.size() - 3));
    std::string num(s.substr(0, s.size() - n->unit.size()));
    while (!num.empty() && (num.back() == ' ')) num.pop_back();
    while (!num.empty() && num.front() == ' ') num.erase(num.begin());
    for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    static const std::vector<std::pair<std::string_view, std::string_view>> names = {
        {"", "bytes"}, {"k", "kilobytes"}, {"m", "megabytes"}, {"g", "gigabytes"}, {"t", "terabytes"},
        {"ki", "kibibytes"}, {"mi", "mebibytes"}, {"gi", "gibibytes"}};
    std::string_view name = "bytes";
    for (const auto& [p, w] : names)
        if (p == prefix) name = w;
    return quoted(s) + " is " + num + " " + std::string(name) + "/s = " + format_rate(*bytes) +
           ": bps units are BYTES per second (tc's convention); for " + num + " " + prefix + "bits/s write \"" + num + prefix + "bit\"";
}

Result<std::uint64_t> parse_size(std::string_view s) {
    // tc's get_size: sizes are binary (k = 1024), kbit etc. are bits.
    static const std::vector<UnitScale> units = {
        {"b", 1}, {"k", 1024.0}, {"kb", 1024.0}, {"m", 1048576.0}, {"mb", 1048576.0}, {"g", 1073741824.0}, {"gb", 1073741824.0},
        {"kbit", 128.0}, {"mbit", 131072.0}, {"gbit", 134217728.0},
    };
    constexpr std::string_view what = "a size like \"64kb\" or \"1500b\"";
    auto n = split_number(s, what);
    if (!n) return n.error();
    if (n->negative && n->value != 0) return make_error("negative size " + quoted(s) + ": expected a size >= 0", ErrorKind::bad_input);
    double scale = 1;
    if (!n->unit.empty()) {
        const auto* u = find_unit(n->unit, units, false);
        if (!u) return make_error("unknown size unit \"" + std::string(n->unit) + "\" in " + quoted(s) + ": expected one of " + unit_list(units), ErrorKind::bad_input);
        scale = u->scale;
    }
    double bytes = n->value * scale;
    if (bytes > max_exact) return make_error("size " + quoted(s) + " is too large", ErrorKind::bad_input);
    return static_cast<std::uint64_t>(std::llround(bytes));
}

Result<double> check_probe_rate(double hz, ProbeMode mode) {
    char buf[160];
    if (!(hz >= probe_rate_min_hz && hz <= probe_rate_max_hz)) {
        std::snprintf(buf, sizeof buf, "probe rate %g/s is outside %g-%g probes/s", hz, probe_rate_min_hz, probe_rate_max_hz);
        return make_error(buf, ErrorKind::bad_input);
    }
    if ((mode == ProbeMode::tcp || mode == ProbeMode::http) && hz > probe_rate_max_tcp_hz) {
        std::snprintf(buf, sizeof buf, "probe rate %g/s: %s mode allows at most %g probes/s (a connection per probe in flight)",
                      hz, mode == ProbeMode::tcp ? "tcp" : "http", probe_rate_max_tcp_hz);
        return make_error(buf, ErrorKind::bad_input);
    }
    return hz;
}

Result<double> parse_probe_rate(std::string_view s) {
    constexpr std::string_view what = "probes per second like 100 or \"100/s\"";
    auto n = split_number(s, what);
    if (!n) return n.error();
    if (!n->unit.empty() && !iequals(n->unit, "/s") && !iequals(n->unit, "hz"))
        return make_error("expected " + std::string(what) + ", got " + quoted(s), ErrorKind::bad_input);
    return n->negative ? -n->value : n->value;
}

// The one check of an interface name (CLI --dev, [target] dev, ledger files): it also keeps a
// name from being a path (`clear --dev ../../x` must not reach outside the ledger directory).
std::string ifname_problem(std::string_view name) {
    if (name.empty()) return "invalid interface name: empty";
    if (name.size() > 15)
        return "invalid interface name " + quoted(name) + ": it is " + std::to_string(name.size()) +
               " characters long: Linux interface names are at most 15 (IFNAMSIZ)";
    if (name == "." || name == "..") return "invalid interface name " + quoted(name) + ": not a name";
    for (char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || !std::isprint(static_cast<unsigned char>(c)))
            return "invalid interface name " + quoted(name) + ": it contains '" +
                   std::string(1, std::isprint(static_cast<unsigned char>(c)) ? c : '?') +
                   "' ('/', ':', white space and control characters are not allowed)";
    return {};
}

std::string format_duration(Duration d) {
    auto ns = d.count();
    if (ns == 0) return "0";
    struct U { std::int64_t scale; const char* name; };
    for (U u : {U{3600'000'000'000, "h"}, U{60'000'000'000, "min"}, U{1'000'000'000, "s"}, U{1'000'000, "ms"}, U{1'000, "us"}})
        if (ns % u.scale == 0) return std::to_string(ns / u.scale) + u.name;
    return std::to_string(ns) + "ns";
}

std::string format_percent(double fraction) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "%.10g%%", fraction * 100.0);
    if (!std::strchr(buf, 'e')) return buf;
    // %g writes tiny values (a fitted 4-state p14 of 1.8e-7) as "1.8e-05%", which the
    // probability parser does not read: write them in fixed notation, 10 significant digits.
    const double pct = fraction * 100.0;
    const int decimals = std::clamp(9 - static_cast<int>(std::floor(std::log10(std::fabs(pct)))), 0, 60);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, pct);
    std::string out = buf;
    if (out.find('.') != std::string::npos) {
        out.erase(out.find_last_not_of('0') + 1);
        if (out.back() == '.') out.pop_back();
    }
    return out + "%";
}

std::string format_rate(std::uint64_t bytes_per_sec) {
    std::uint64_t bits = bytes_per_sec * 8;
    if (bits == 0) return "0bit";
    struct U { std::uint64_t scale; const char* name; };
    for (U u : {U{1'000'000'000'000ULL, "tbit"}, U{1'000'000'000, "gbit"}, U{1'000'000, "mbit"}, U{1'000, "kbit"}})
        if (bits % u.scale == 0) return std::to_string(bits / u.scale) + u.name;
    return std::to_string(bits) + "bit";
}

std::string format_size(std::uint64_t bytes) {
    if (bytes == 0) return "0b";
    struct U { std::uint64_t scale; const char* name; };
    for (U u : {U{1ULL << 30, "gb"}, U{1ULL << 20, "mb"}, U{1ULL << 10, "kb"}})
        if (bytes % u.scale == 0) return std::to_string(bytes / u.scale) + u.name;
    return std::to_string(bytes) + "b";
}

std::string_view to_string(Distribution d) {
    switch (d) {
        case Distribution::uniform: return "uniform";
        case Distribution::normal: return "normal";
        case Distribution::pareto: return "pareto";
        case Distribution::paretonormal: return "paretonormal";
        case Distribution::custom: return "custom";
    }
    return "?";
}

std::string_view to_string(Protocol p) {
    switch (p) {
        case Protocol::any: return "any";
        case Protocol::tcp: return "tcp";
        case Protocol::udp: return "udp";
        case Protocol::icmp: return "icmp";
    }
    return "?";
}

std::string_view to_string(Backend b) { return b == Backend::netem ? "netem" : b == Backend::dpdk ? "dpdk" : "http"; }
std::string_view to_string(Direction d) { return d == Direction::egress ? "egress" : "ingress"; }

std::string_view to_string(ProbeMode m) {
    switch (m) {
        case ProbeMode::udp: return "udp";
        case ProbeMode::icmp: return "icmp";
        case ProbeMode::tcp: return "tcp";
        case ProbeMode::http: return "http";
    }
    return "?";
}

double normal_mass_below_zero(Duration mean, Duration sigma) {
    if (sigma.count() <= 0) return mean.count() < 0 ? 1.0 : 0.0;
    double z = -static_cast<double>(mean.count()) / static_cast<double>(sigma.count());
    return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

}  // namespace netchaos::profile
