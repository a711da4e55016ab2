#pragma once
// Reading a scrape (text exposition format) in tests.
#include <optional>
#include <sstream>
#include <string>

namespace export_test {
// The value of the sample line `series` (name plus its exact label set, as printed).
inline std::optional<double> sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return std::nullopt;
}
}  // namespace export_test
