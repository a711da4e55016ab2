// netem delay distribution tables: load iproute2 .dist files, generate the standard ones,
// and build custom ones from samples.
#include "dist/table.hpp"

#include "dist/moments.hpp"
#include "dist/normal.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

namespace netchaos::dist {
namespace {

constexpr int s16_min = std::numeric_limits<std::int16_t>::min();
constexpr int s16_max = std::numeric_limits<std::int16_t>::max();

std::int16_t clamp_s16(double v) {
    const double r = std::rint(v);
    if (r < s16_min) return static_cast<std::int16_t>(s16_min);
    if (r > s16_max) return static_cast<std::int16_t>(s16_max);
    return static_cast<std::int16_t>(r);
}

// Standard normal inverse CDF sampled like iproute2's netem/normal.c: walk x over a fixed grid
// and remember, for each fine index round(fine * cdf(x)), the last x that maps there; then
// take every 4th fine cell. With entries = 4096 this reproduces normal.dist bit for bit
// (the grid walk accumulates floating point exactly as the C tool does).
std::vector<double> normal_inverse(std::size_t entries) {
    const std::size_t fine = entries * 4;
    std::vector<double> cell(fine + 1, std::numeric_limits<double>::quiet_NaN());
    for (double x = -10.0; x < 10.05; x += .00005) {
        const auto i = static_cast<std::size_t>(std::rint(static_cast<double>(fine) * normal_cdf(x)));
        cell[i] = x;
    }
    std::vector<double> out(entries);
    for (std::size_t k = 0; k < entries; ++k) {
        const double x = cell[4 * k];
        out[k] = std::isnan(x) ? normal_quantile((4.0 * k + 0.5) / static_cast<double>(fine)) : x;
    }
    return out;
}

// Pareto with shape a = 3, shifted and scaled to mean 0, sigma ~1 (iproute2 netem/pareto.c):
// entry k is the quantile at u = (entries - k) / entries, capped at s16 max.
int pareto_value(std::size_t k, std::size_t entries) {
    const double u = static_cast<double>(entries - k) / static_cast<double>(entries);
    double v = 1.0 / std::pow(u, 1.0 / 3.0);
    v = (v - 1.5) * (4.0 / 3.0) * scale;
    if (v > s16_max) v = s16_max;
    return static_cast<int>(std::rint(v));
}

Table make_table(std::size_t n) { return Table(n, 0); }

const char* file_name(profile::Distribution d) {
    switch (d) {
        case profile::Distribution::normal: return "normal.dist";
        case profile::Distribution::pareto: return "pareto.dist";
        case profile::Distribution::paretonormal: return "paretonormal.dist";
        default: return nullptr;
    }
}

}  // namespace

ParsedTable parse(std::string_view text) {
    ParsedTable out;
    auto fail = [&](int line, std::size_t col, std::string why) {
        out.table.clear();
        out.line = line;
        out.column = static_cast<int>(col + 1);
        out.error = std::move(why);
        return out;
    };
    int lineno = 1;
    for (std::size_t bol = 0; bol <= text.size(); ++lineno) {
        const std::size_t eol = std::min(text.find('\n', bol), text.size());
        const std::string_view line = text.substr(bol, eol - bol);
        const std::string_view body = line.substr(0, line.find('#'));   // '#': comment
        std::size_t pos = 0;
        while ((pos = body.find_first_not_of(" \t\r,", pos)) != std::string_view::npos) {
            const std::size_t end = std::min(body.find_first_of(" \t\r,", pos), body.size());
            const std::string_view tok = body.substr(pos, end - pos);
            const char* first = tok.data() + (tok.size() > 1 && tok[0] == '+' ? 1 : 0);
            long v = 0;
            const auto [stop, ec] = std::from_chars(first, tok.data() + tok.size(), v);
            // The token itself is never quoted: a wrong path may name a file that is not a
            // table, and its bytes are nobody's business.
            if (stop != tok.data() + tok.size() || (ec != std::errc{} && ec != std::errc::result_out_of_range))
                return fail(lineno, pos, "not an integer");
            if (ec == std::errc::result_out_of_range || v < s16_min || v > s16_max)
                return fail(lineno, pos, "outside the signed 16-bit range [-32768, 32767]");
            if (out.table.size() >= max_entries)
                return fail(lineno, pos, "more than " + std::to_string(max_entries) + " entries (netem's NETEM_DIST_MAX)");
            out.table.push_back(static_cast<std::int16_t>(v));
            pos = end;
        }
        bol = eol + 1;
    }
    if (out.table.empty()) return fail(0, std::string::npos, "no entries");
    return out;
}

Result<Table> load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return make_error(file.string() + ": cannot open distribution table: " +
                              std::generic_category().message(errno), ErrorKind::bad_input);
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return make_error(file.string() + ": read error");
    ParsedTable p = parse(text);
    if (!p.error.empty()) {
        const std::string at = p.line > 0 ? ":" + std::to_string(p.line) + ":" + std::to_string(p.column) : "";
        return make_error(file.string() + at + ": distribution table: " + p.error, ErrorKind::bad_input);
    }
    return std::move(p.table);
}

TableMoments table_moments(const Table& t) {
    RunningMoments m;
    for (auto v : t) m.add(static_cast<double>(v) / scale);
    const Moments r = m.get();
    return TableMoments{r.mean, r.stddev};
}

Table generate(profile::Distribution d, std::size_t entries) {
    entries = std::clamp<std::size_t>(entries, 1, max_entries);
    switch (d) {
        case profile::Distribution::normal: {
            const auto x = normal_inverse(entries);
            Table t = make_table(entries);
            for (std::size_t k = 0; k < entries; ++k) t[k] = clamp_s16(x[k] * scale);
            return t;
        }
        case profile::Distribution::pareto: {
            Table t = make_table(entries);
            for (std::size_t k = 0; k < entries; ++k) t[k] = clamp_s16(pareto_value(k, entries));
            return t;
        }
        case profile::Distribution::paretonormal: {
            // 1/4 normal + 3/4 pareto, with C's truncating integer division as in iproute2.
            const auto x = normal_inverse(entries);
            Table t = make_table(entries);
            for (std::size_t k = 0; k < entries; ++k) {
                const int norm = static_cast<int>(std::rint(x[k] * scale));
                const int value = (norm + 3 * pareto_value(k, entries)) / 4;
                t[k] = clamp_s16(value);
            }
            return t;
        }
        case profile::Distribution::uniform:
        case profile::Distribution::custom:
            break;
    }
    return {};
}

const std::vector<std::filesystem::path>& tc_table_dirs() {
    static const std::vector<std::filesystem::path> dirs = {"/usr/lib/x86_64-linux-gnu/tc", "/usr/lib/tc",
                                                            "/usr/share/tc", "/usr/lib64/tc"};
    return dirs;
}

Result<Table> for_distribution(profile::Distribution d) {
    if (d == profile::Distribution::uniform) return Table{};
    if (d == profile::Distribution::custom) {
        return make_error("a custom distribution needs a table file or samples", ErrorKind::bad_input);
    }
    for (const auto& dir : tc_table_dirs()) {
        const std::filesystem::path p = dir / file_name(d);
        std::error_code ec;
        if (std::filesystem::is_regular_file(p, ec)) return load_file(p);
    }
    return generate(d);
}

Result<FromSamples> from_samples(const std::vector<double>& samples_ms, std::size_t entries) {
    if (samples_ms.size() < 2) return make_error("a custom distribution needs at least 2 samples", ErrorKind::bad_input);
    if (entries == 0 || entries > max_entries) {
        return make_error("table size must be 1.." + std::to_string(max_entries), ErrorKind::bad_input);
    }
    for (std::size_t i = 0; i < samples_ms.size(); ++i) {
        if (!std::isfinite(samples_ms[i]) || samples_ms[i] < 0) {
            return make_error("sample " + std::to_string(i + 1) + " is not a finite delay >= 0", ErrorKind::bad_input);
        }
    }
    std::vector<double> s = samples_ms;
    std::sort(s.begin(), s.end());
    const double n = static_cast<double>(s.size());
    const Moments m = moments(s);
    const double mean = m.mean, sigma = m.stddev;
    if (!(sigma > 0)) return make_error("custom samples are all equal: no jitter to tabulate", ErrorKind::bad_input);

    // Inverse CDF at the cell midpoints (k + 0.5) / entries, interpolating between order
    // statistics (Hazen plotting positions), normalized to (x - mean) / sigma * 8192.
    FromSamples out{make_table(entries), mean, sigma};
    for (std::size_t k = 0; k < entries; ++k) {
        const double q = (static_cast<double>(k) + 0.5) / static_cast<double>(entries);
        const double pos = std::clamp(q * n - 0.5, 0.0, n - 1);
        const auto lo = static_cast<std::size_t>(pos);
        const std::size_t hi = std::min(lo + 1, s.size() - 1);
        const double x = s[lo] + (s[hi] - s[lo]) * (pos - static_cast<double>(lo));
        out.table[k] = clamp_s16((x - mean) / sigma * scale);
    }
    return out;
}

Result<Table> for_delay(const profile::Delay& d, const std::filesystem::path& profile_dir) {
    if (d.distribution != profile::Distribution::custom) return for_distribution(d.distribution);
    if (!d.table) return make_error("distribution = \"custom\" needs table or samples", ErrorKind::bad_input);
    if (!d.table->file.empty()) {
        std::filesystem::path p = d.table->file;
        if (p.is_relative() && !profile_dir.empty()) p = profile_dir / p;
        return load_file(p);
    }
    auto fs = from_samples(d.table->samples_ms);
    if (!fs) return fs.error();
    return std::move(fs->table);
}

}  // namespace netchaos::dist
