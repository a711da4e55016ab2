// The whole chain a user sees: TOML profile -> parser -> dist tables -> encoder must give the
// bytes tc sends for the equivalent tc arguments (same golden files as encode_golden_tests).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "dist/table.hpp"
#include "netem/encode.hpp"
#include "profile/parse.hpp"

using namespace netchaos;

namespace {

std::string golden_options(const std::string& name) {
    std::ifstream in(std::filesystem::path(NETCHAOS_SOURCE_DIR) / "tests/golden/netem" / (name + ".txt"));
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("options: ", 0) == 0) return line.substr(9);
    }
    return {};
}

std::string hex(const std::vector<std::uint8_t>& v) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto b : v) {
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

// golden case -> the [egress] part of a profile saying the same as the tc arguments.
const std::map<std::string, std::string> profiles = {
    {"delay_jitter_corr", "[egress.delay]\nmean = \"100ms\"\njitter = \"10ms\"\ncorrelation = \"25%\"\n"},
    {"delay_us", "[egress.delay]\nmean = \"1001us\"\njitter = \"3us\"\n"},
    {"delay_normal", "[egress.delay]\nmean = \"100ms\"\njitter = \"20ms\"\ndistribution = \"normal\"\n"},
    {"delay_paretonormal", "[egress.delay]\nmean = \"100ms\"\njitter = \"20ms\"\ndistribution = \"paretonormal\"\n"},
    {"loss_random_corr", "[egress.loss]\nmodel = \"random\"\np = \"0.3%\"\ncorrelation = \"25%\"\n"},
    {"loss_tiny", "[egress.loss]\nmodel = \"random\"\np = \"0.0001%\"\n"},
    {"loss_third", "[egress.loss]\nmodel = \"random\"\np = \"33.333%\"\n"},
    {"loss_gemodel_p", "[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"1%\"\n"},
    {"loss_gemodel_full",
     "[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"1%\"\nr = \"30%\"\none_minus_h = \"70%\"\none_minus_k = \"0.1%\"\n"},
    {"loss_state_p13", "[egress.loss]\nmodel = \"markov4\"\np13 = \"1%\"\n"},
    {"loss_state_full",
     "[egress.loss]\nmodel = \"markov4\"\np13 = \"1%\"\np31 = \"30%\"\np32 = \"2%\"\np23 = \"80%\"\np14 = \"0.5%\"\n"},
    {"ecn_random", "[egress.loss]\nmodel = \"random\"\np = \"2%\"\necn = true\n"},
    {"duplicate", "[egress.duplicate]\np = \"1%\"\n"},
    {"corrupt_corr", "[egress.corrupt]\np = \"0.5%\"\ncorrelation = \"25%\"\n"},
    {"reorder_corr_gap",
     "[egress.delay]\nmean = \"10ms\"\n[egress.reorder]\np = \"25%\"\ncorrelation = \"50%\"\ngap = 5\n"},
    {"rate_overheads",
     "[egress.rate]\nrate = \"10mbit\"\npacket_overhead = 20\ncell_size = 100\ncell_overhead = -4\n"},
    {"rate64", "[egress.rate]\nrate = \"40gbit\"\n"},
    {"slot_packets_bytes",
     "[egress.slot]\nmin_delay = \"1ms\"\nmax_delay = \"5ms\"\npackets = 10\nbytes = 64000\n"},
    {"slot_dist_normal", "[egress.slot]\ndistribution = \"normal\"\ndelay = \"2ms\"\njitter = \"1ms\"\n"},
    {"limit", "[egress]\nlimit = 5000\n[egress.delay]\nmean = \"1ms\"\n"},
    {"combo_wan",
     "[egress]\nlimit = 10000\n"
     "[egress.delay]\nmean = \"50ms\"\njitter = \"10ms\"\ncorrelation = \"25%\"\ndistribution = \"normal\"\n"
     "[egress.loss]\nmodel = \"random\"\np = \"0.5%\"\ncorrelation = \"25%\"\n"
     "[egress.duplicate]\np = \"0.1%\"\n[egress.corrupt]\np = \"0.05%\"\n"
     "[egress.reorder]\np = \"1%\"\ncorrelation = \"50%\"\ngap = 3\n[egress.rate]\nrate = \"10mbit\"\n"},
    {"combo_all_attrs",
     "[egress.delay]\nmean = \"10ms\"\njitter = \"5ms\"\ncorrelation = \"10%\"\ndistribution = \"normal\"\n"
     "[egress.reorder]\np = \"5%\"\ngap = 2\n"
     "[egress.loss]\nmodel = \"gilbert-elliott\"\np = \"1%\"\necn = true\n"
     "[egress.corrupt]\np = \"0.1%\"\ncorrelation = \"5%\"\n"
     "[egress.slot]\ndistribution = \"pareto\"\ndelay = \"1ms\"\njitter = \"1ms\"\n"
     "[egress.rate]\nrate = \"40gbit\"\n"},
};

}  // namespace

TEST_CASE("TOML profile -> parser -> encoder gives tc's bytes for the same options") {
    std::size_t identical = 0;
    for (const auto& [name, body] : profiles) {
        INFO(name << ":\n" << body);
        const std::string want = golden_options(name);
        REQUIRE_FALSE(want.empty());
        auto parsed = profile::parse_profile_text("name = \"golden\"\n" + body, name + ".toml");
        // Warnings too, in scope for every check below (an INFO inside a loop body would
        // end with that body and never be shown).
        std::string diags;
        for (const auto& d : parsed.diagnostics) diags += d.format() + "\n";
        INFO(diags);
        if (!parsed.ok()) {
            FAIL_CHECK("profile does not parse");
            continue;
        }
        REQUIRE(parsed.value->egress.has_value());
        netem::EncodeInput in{*parsed.value->egress, {}, {}};
        if (in.imp.delay && in.imp.delay->jitter.count() > 0) {
            auto t = dist::for_delay(*in.imp.delay);
            REQUIRE(t.ok());
            in.delay_dist = *t;
        }
        if (in.imp.slot && in.imp.slot->distribution) {
            auto t = dist::for_distribution(*in.imp.slot->distribution);
            REQUIRE(t.ok());
            in.slot_dist = *t;
        }
        auto got = netem::encode_options(in);
        if (!got.ok()) {
            FAIL_CHECK(got.error().message);
            continue;
        }
        if (hex(*got) == want) {
            ++identical;
        } else {
            CHECK(hex(*got) == want);
        }
    }
    CHECK(identical == profiles.size());
}
