#pragma once
// Is a TOML file a profile or an experiment? Experiments have [[phase]], [target] or [probe]
// at the top level; everything else is read as a profile.
#include <filesystem>
#include <string_view>

namespace netchaos::profile {

enum class FileKind { profile, experiment };

FileKind detect_kind_text(std::string_view toml);
// Unreadable or invalid files are `profile`: parsing them reports the problem.
FileKind detect_kind(const std::filesystem::path& file);

}  // namespace netchaos::profile
