// tc as the oracle for import-tc: for every captured golden case (scripts/capture-tc-golden.sh),
// the encoder's bytes for import_tc(ARGS) equal what iproute2's tc sent for the same ARGS.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "dist/table.hpp"
#include "netem/encode.hpp"
#include "profile/tc_import.hpp"

using namespace netchaos;

namespace {

std::map<std::string, std::string> read_fields(const std::filesystem::path& p) {
    std::map<std::string, std::string> f;
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(": ");
        if (colon != std::string::npos) f[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return f;
}

std::string hex(const std::vector<std::uint8_t>& v) {
    static const char* digits = "0123456789abcdef";
    std::string s;
    for (auto b : v) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

netem::EncodeInput input_for(const profile::Impairment& imp) {
    netem::EncodeInput in{imp, {}, {}};
    if (imp.delay) in.delay_dist = dist::for_delay(*imp.delay).value();
    if (imp.slot && imp.slot->distribution) in.slot_dist = dist::for_distribution(*imp.slot->distribution).value();
    return in;
}

}  // namespace

TEST_CASE("import_tc of every golden case's tc words encodes to tc's own bytes") {
    // tests/golden/netem: the encoder's cases; tests/golden/tc-import: the kernel selftests'
    // netem lines and tc's odd corners (bare units, prefixes, synonyms), from cases.list.
    std::size_t files = 0, identical = 0;
    for (const char* sub : {"tests/golden/netem", "tests/golden/tc-import"})
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(NETCHAOS_SOURCE_DIR) / sub)) {
        if (e.path().extension() != ".txt") continue;
        const auto g = read_fields(e.path());
        if (g.at("verb") != "add") continue;   // replace/change add neutral attributes on purpose
        ++files;
        INFO(e.path().stem().string() << ": tc netem " << g.at("args"));
        auto imp = profile::import_tc(g.at("args"));
        REQUIRE(imp.ok());
        auto got = netem::encode_options(input_for(imp->imp));
        REQUIRE(got.ok());
        CHECK(hex(got.value()) == g.at("options"));
        if (hex(got.value()) == g.at("options")) ++identical;
        // The full command line reads the same.
        auto full = profile::import_tc("tc qdisc add dev eth0 root netem " + g.at("args"));
        REQUIRE(full.ok());
        CHECK(full->imp == imp->imp);
        CHECK(full->dev == "eth0");
    }
    CHECK(files >= 70);
    CHECK(identical == files);
}
