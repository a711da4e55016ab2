#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <unistd.h>

#include "dist/table.hpp"

using namespace netchaos;
using profile::Distribution;

namespace {

struct Moments {
    double mean = 0;
    double sigma = 0;
};

Moments moments(const dist::Table& t) {
    double sum = 0, ss = 0;
    for (auto v : t) sum += v;
    const double mean = sum / static_cast<double>(t.size());
    for (auto v : t) ss += (v - mean) * (v - mean);
    return {mean, std::sqrt(ss / static_cast<double>(t.size()))};
}

// A scratch file removed at scope exit.
struct TempFile {
    std::filesystem::path path;
    explicit TempFile(const std::string& text) {
        path = std::filesystem::temp_directory_path() /
               ("nc-dist-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".dist");
        std::ofstream(path) << text;
    }
    ~TempFile() { std::filesystem::remove(path); }
    static inline int counter = 0;
};

const std::filesystem::path debian_dir = "/usr/lib/x86_64-linux-gnu/tc";

}  // namespace

TEST_CASE("generated normal table: mean ~0, sigma ~8192, monotone, iproute2 size") {
    const auto t = dist::generate(Distribution::normal);
    REQUIRE(t.size() == 4096);
    const auto m = moments(t);
    CHECK(std::abs(m.mean) < 0.01 * dist::scale);
    CHECK(m.sigma == Approx(dist::scale).epsilon(0.01));
    CHECK(std::is_sorted(t.begin(), t.end()));
    CHECK(t.front() == -32768);  // -4 sigma clamps to s16 min, as in normal.dist
}

TEST_CASE("a 16384-entry normal table is filled everywhere and still ~N(0, 8192)") {
    const auto t = dist::generate(Distribution::normal, dist::max_entries);
    REQUIRE(t.size() == dist::max_entries);
    CHECK(std::is_sorted(t.begin(), t.end()));
    const auto m = moments(t);
    CHECK(std::abs(m.mean) < 0.01 * dist::scale);
    CHECK(m.sigma == Approx(dist::scale).epsilon(0.01));
}

TEST_CASE("generated pareto and paretonormal: shifted to mean ~0, heavy right tail") {
    for (auto d : {Distribution::pareto, Distribution::paretonormal}) {
        const auto t = dist::generate(d);
        REQUIRE(t.size() == 4096);
        CHECK(std::is_sorted(t.begin(), t.end()));
        const auto m = moments(t);
        CHECK(std::abs(m.mean) < 0.05 * dist::scale);
        CHECK(t.back() > 3 * dist::scale);           // long tail
        CHECK(t.front() > -2 * dist::scale);         // short left side
    }
    CHECK(dist::generate(Distribution::uniform).empty());
}

TEST_CASE("generated tables equal Debian's iproute2 .dist files") {
    for (auto [d, name] : {std::pair{Distribution::normal, "normal.dist"},
                           std::pair{Distribution::pareto, "pareto.dist"},
                           std::pair{Distribution::paretonormal, "paretonormal.dist"}}) {
        const auto file = debian_dir / name;
        if (!std::filesystem::exists(file)) {
            WARN("SKIP: " << file << " missing (install iproute2) - cannot compare");
            continue;
        }
        auto loaded = dist::load_file(file);
        REQUIRE(loaded.ok());
        const auto gen = dist::generate(d, loaded->size());
        INFO(name);
        REQUIRE(gen.size() == loaded->size());
        std::size_t differing = 0;
        for (std::size_t i = 0; i < gen.size(); ++i) differing += gen[i] != (*loaded)[i];
        CHECK(differing == 0);
    }
}

TEST_CASE("for_distribution reads Debian's file when present, generates otherwise") {
    auto t = dist::for_distribution(Distribution::normal);
    REQUIRE(t.ok());
    if (std::filesystem::exists(debian_dir / "normal.dist")) {
        auto file = dist::load_file(debian_dir / "normal.dist");
        REQUIRE(file.ok());
        CHECK(t.value() == file.value());
        CHECK(t->size() == 4096);
    } else {
        WARN("SKIP: normal.dist missing; checked the generated table only");
        CHECK(t.value() == dist::generate(Distribution::normal));
    }
    auto u = dist::for_distribution(Distribution::uniform);
    REQUIRE(u.ok());
    CHECK(u->empty());
    CHECK_FALSE(dist::for_distribution(Distribution::custom).ok());
}

TEST_CASE("load_file parses comments and whitespace") {
    TempFile f("# header\n 1 -2  3\n\n4 # trailing comment\n-32768 32767\n");
    auto t = dist::load_file(f.path);
    REQUIRE(t.ok());
    CHECK(t.value() == dist::Table{1, -2, 3, 4, -32768, 32767});
}

TEST_CASE("load_file errors name the file, line and column") {
    {
        TempFile f("# c\n1 2 3\n4 five 6\n");
        auto t = dist::load_file(f.path);
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.error().message, Catch::Contains(f.path.string() + ":3:3:"));
        CHECK_THAT(t.error().message, Catch::Contains("not an integer"));
        CHECK_THAT(t.error().message, !Catch::Contains("five"));   // file contents are never quoted
        CHECK(t.error().kind == netchaos::ErrorKind::bad_input);
    }
    {
        TempFile f("1\n2\n40000\n");
        auto t = dist::load_file(f.path);
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.error().message, Catch::Contains(":3:1:"));
        CHECK_THAT(t.error().message, Catch::Contains("16-bit"));
    }
    {
        std::string big;
        for (std::size_t i = 0; i <= dist::max_entries; ++i) big += "1\n";
        TempFile f(big);
        auto t = dist::load_file(f.path);
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.error().message, Catch::Contains(":16385:"));
    }
    {
        TempFile f("# only a comment\n");
        auto t = dist::load_file(f.path);
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.error().message, Catch::Contains("no entries"));
    }
    auto missing = dist::load_file("/nonexistent/x.dist");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/x.dist"));
}

TEST_CASE("from_samples: normal samples give a table close to the normal one") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> nd(50.0, 10.0);
    std::vector<double> s(20000);
    for (auto& v : s) v = std::max(0.0, nd(rng));
    auto r = dist::from_samples(s);
    REQUIRE(r.ok());
    CHECK(r->mean_ms == Approx(50.0).epsilon(0.01));
    CHECK(r->sigma_ms == Approx(10.0).epsilon(0.02));
    REQUIRE(r->table.size() == 4096);
    CHECK(std::is_sorted(r->table.begin(), r->table.end()));
    const auto m = moments(r->table);
    CHECK(std::abs(m.mean) < 0.02 * dist::scale);
    CHECK(m.sigma == Approx(dist::scale).epsilon(0.03));
    // The median entry is near 0 sigma, the 97.7% quantile near +2 sigma.
    CHECK(std::abs(r->table[2048]) < 0.05 * dist::scale);
    CHECK(r->table[4002] == Approx(2 * dist::scale).epsilon(0.05));
}

TEST_CASE("from_samples: exact quantiles of a tiny sample set, and bad input") {
    auto r = dist::from_samples({10.0, 20.0}, 4);
    REQUIRE(r.ok());
    CHECK(r->mean_ms == 15.0);
    CHECK(r->sigma_ms == Approx(std::sqrt(50.0)));
    // Cells at q = 1/8, 3/8, 5/8, 7/8 -> positions clamp to the two samples and interpolate.
    const double z = 5.0 / std::sqrt(50.0) * dist::scale;
    CHECK(r->table == dist::Table{static_cast<std::int16_t>(std::rint(-z)), static_cast<std::int16_t>(std::rint(-z / 2)),
                                  static_cast<std::int16_t>(std::rint(z / 2)), static_cast<std::int16_t>(std::rint(z))});
    CHECK_FALSE(dist::from_samples({1.0}).ok());
    CHECK_FALSE(dist::from_samples({3.0, 3.0, 3.0}).ok());
    CHECK_FALSE(dist::from_samples({1.0, NAN}).ok());
    CHECK_FALSE(dist::from_samples({1.0, 2.0}, dist::max_entries + 1).ok());
}

TEST_CASE("for_delay: named, file relative to the profile, samples") {
    profile::Delay d;
    d.distribution = Distribution::uniform;
    CHECK(dist::for_delay(d)->empty());

    TempFile f("5 6 7\n");
    d.distribution = Distribution::custom;
    d.table = profile::CustomTable{f.path.filename(), {}};
    auto t = dist::for_delay(d, f.path.parent_path());
    REQUIRE(t.ok());
    CHECK(t.value() == dist::Table{5, 6, 7});

    d.table = profile::CustomTable{{}, {1.0, 2.0, 3.0, 4.0}};
    auto s = dist::for_delay(d);
    REQUIRE(s.ok());
    CHECK(s->size() == 4096);

    d.table.reset();
    CHECK_FALSE(dist::for_delay(d).ok());
}
