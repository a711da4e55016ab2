#pragma once
// Shared by the profile tests: find a diagnostic by key and check where it points.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "profile/parse.hpp"

namespace nc_test {

using netchaos::profile::Diagnostic;

inline const Diagnostic* find_diag(const std::vector<Diagnostic>& ds, const std::string& key,
                                   Diagnostic::Severity s = Diagnostic::Severity::error) {
    auto it = std::find_if(ds.begin(), ds.end(), [&](const Diagnostic& d) { return d.key == key && d.severity == s; });
    return it == ds.end() ? nullptr : &*it;
}

inline std::string dump(const std::vector<Diagnostic>& ds) {
    std::string out;
    for (const auto& d : ds) out += d.format() + "\n";
    return out;
}

inline int count(const std::vector<Diagnostic>& ds, Diagnostic::Severity s) {
    return static_cast<int>(std::count_if(ds.begin(), ds.end(), [&](const Diagnostic& d) { return d.severity == s; }));
}

// Expect exactly one error for `key` at line:column whose message contains `text`.
#define NC_EXPECT_ERROR(parsed, key, line_, col_, text)                                  \
    do {                                                                                 \
        const auto& p_ = (parsed); /* evaluated once: may be a temporary */             \
        INFO(nc_test::dump(p_.diagnostics));                                             \
        CHECK_FALSE(p_.ok());                                                            \
        const auto* d_ = nc_test::find_diag(p_.diagnostics, key);                        \
        REQUIRE(d_ != nullptr);                                                          \
        CHECK(d_->line == (line_));                                                      \
        CHECK(d_->column == (col_));                                                     \
        CHECK_THAT(d_->message, Catch::Matchers::Contains(text));                        \
    } while (0)

// A scratch directory removed at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        path = std::filesystem::temp_directory_path() / ("nc-profile-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        auto p = path / name;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }
    static int& counter() {
        static int c = 0;
        return c;
    }
};

}  // namespace nc_test
