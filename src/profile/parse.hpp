#pragma once
// TOML -> Profile / Experiment, with diagnostics that carry file:line:column and key path.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::profile {

struct Diagnostic {
    enum class Severity { error, warning };
    Severity severity = Severity::error;
    std::filesystem::path file;
    int line = 0;          // 1-based; 0 when unknown
    int column = 0;        // 1-based; 0 when unknown
    std::string key;       // dotted key path, e.g. "egress.delay.jitter"
    std::string message;   // what was found and what was expected
    // "file:line:col: error: egress.delay.jitter: expected a duration like \"20ms\", got 12"
    std::string format() const;
};

template <class T>
struct Parsed {
    std::optional<T> value;                 // set iff there is no error-severity diagnostic
    std::vector<Diagnostic> diagnostics;    // errors and warnings, in file order
    bool ok() const { return value.has_value(); }
};

Parsed<Profile> parse_profile_file(const std::filesystem::path& file);
Parsed<Profile> parse_profile_text(std::string_view toml, const std::filesystem::path& name);
Parsed<Experiment> parse_experiment_file(const std::filesystem::path& file);
Parsed<Experiment> parse_experiment_text(std::string_view toml, const std::filesystem::path& name);
// The [thresholds] table of any TOML file (`probe --thresholds FILE`; an experiment file
// works too: only [thresholds] is read). The experiment's reader, with its bounds.
Parsed<Thresholds> parse_thresholds_file(const std::filesystem::path& file);
Parsed<Thresholds> parse_thresholds_text(std::string_view toml, const std::filesystem::path& name);

// Where distribution tables (`{ table = "file.dist" }`) may be read from. A table path is
// resolved relative to the directory of the file that names it; by default it must stay
// inside that directory (after following symlinks), so a profile from someone else cannot
// make netchaos (root) read /etc/shadow or /proc. Directories allowed here (the CLI's
// --allow-path DIR) are accepted too; confine = false turns the check off (the forwarder:
// its texts come from the root-only control socket, already checked by the CLI). Set once
// at start-up, before any parse. Errors about a table never quote its contents.
struct TablePolicy {
    bool confine = true;
    std::vector<std::filesystem::path> allowed;
};
void set_table_policy(TablePolicy policy);
const TablePolicy& table_policy();
// The profile with each relative table path made absolute (against its source's
// directory): for a copy written elsewhere, e.g. a step file in a temporary directory.
Profile with_absolute_tables(const Profile& p);

// Units as people write them. Errors say what was expected.
Result<Duration> parse_duration(std::string_view s);       // "50ms" "30us" "1.5s" "2m" "0"
Result<double> parse_probability(std::string_view s);      // "0.1%" -> 0.001 ; "1" is rejected (ambiguous)
Result<std::uint64_t> parse_rate(std::string_view s);      // "100mbit" "1gbit" "64kbps" -> bytes/s
Result<std::uint64_t> parse_size(std::string_view s);      // "64kb" "1500b" "1mb" -> bytes
Result<Cidr> parse_cidr(std::string_view s);               // "10.0.0.0/8" "::1" (host bits cleared)

// Normalized rendering, every default explicit.
std::string to_text(const Profile& p);
// One impairment under [section] (and [section.delay], ...), as to_text prints it.
std::string to_text(const Impairment& imp, const std::string& section);
std::string to_json(const Profile& p);   // stable key order; consumed by tests and tools

}  // namespace netchaos::profile
