#pragma once
// Reads a standalone [thresholds] table (the experiment schema's, TEAM.md) for
// `netchaos probe --thresholds FILE`. Experiment files work too: only [thresholds] is read.
#include <filesystem>
#include <string_view>

#include "common/result.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

// Errors carry code 3 and "file:line:column: thresholds.key: message".
Result<profile::Thresholds> read_thresholds_file(const std::filesystem::path& file);
Result<profile::Thresholds> read_thresholds_text(std::string_view toml, const std::filesystem::path& name);

}  // namespace netchaos::probe
