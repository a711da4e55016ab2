#include "profile/kind.hpp"

#include "profile/reader.hpp"

namespace netchaos::profile {

FileKind detect_kind_text(std::string_view toml) {
    std::vector<Diagnostic> ignored;
    detail::Reader r("", ignored);
    auto t = detail::parse_toml(toml, "", r);
    if (t && (t->contains("phase") || t->contains("target") || t->contains("probe"))) return FileKind::experiment;
    return FileKind::profile;
}

FileKind detect_kind(const std::filesystem::path& file) {
    std::vector<Diagnostic> ignored;
    detail::Reader r(file, ignored);
    auto text = detail::read_text(file, r);
    return text ? detect_kind_text(*text) : FileKind::profile;
}

}  // namespace netchaos::profile
