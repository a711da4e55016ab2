// show-profile --as-tc's netem words, read back by import-tc, encode to the same bytes: for
// every golden case's import and every shipped profile.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "dist/table.hpp"
#include "netem/apply.hpp"
#include "netem/encode.hpp"
#include "netem/tc_words.hpp"
#include "netem/tcmsgs.hpp"
#include "profile/parse.hpp"
#include "profile/tc_import.hpp"

using namespace netchaos;

namespace {

std::string args_of(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("args: ", 0) == 0) return line.substr(6);
    return {};
}

std::vector<std::uint8_t> encoded(const profile::Impairment& imp, const std::filesystem::path& dir = {}) {
    auto in = netem::make_encode_input(imp, dir);
    REQUIRE(in.ok());
    auto b = netem::encode_options(*in);
    REQUIRE(b.ok());
    return b.value();
}

}  // namespace

TEST_CASE("import-tc -> --as-tc words -> import-tc: the same impairment and the same bytes") {
    std::size_t n = 0;
    for (const char* sub : {"tests/golden/netem", "tests/golden/tc-import"})
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(NETCHAOS_SOURCE_DIR) / sub)) {
        if (e.path().extension() != ".txt") continue;
        const auto args = args_of(e.path());
        INFO(e.path().stem().string() << ": tc netem " << args);
        auto first = profile::import_tc(args);
        REQUIRE(first.ok());
        const auto words = netem::netem_words(first->imp);
        INFO("--as-tc words: " << words.words);
        auto again = profile::import_tc(words.words);
        REQUIRE(again.ok());
        CHECK(again->imp == first->imp);
        CHECK(encoded(again->imp) == encoded(first->imp));
        ++n;
    }
    CHECK(n >= 80);
}

TEST_CASE("every shipped profile's --as-tc words encode to what apply sends") {
    const auto dir = std::filesystem::path(NETCHAOS_SOURCE_DIR) / "profiles";
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
        if (e.path().extension() != ".toml") continue;
        auto parsed = profile::parse_profile_file(e.path());
        if (!parsed.ok()) continue;   // experiments and deliberately bad examples
        for (const auto* imp : {parsed.value->egress ? &*parsed.value->egress : nullptr, parsed.value->ingress ? &*parsed.value->ingress : nullptr}) {
            if (!imp) continue;
            // Inline samples and tables outside tc's directory have no tc words (the notes say so).
            if (imp->delay && imp->delay->table) continue;
            const auto words = netem::netem_words(*imp);
            INFO(e.path().filename().string() << ": " << words.words);
            auto back = profile::import_tc(words.words);
            REQUIRE(back.ok());
            CHECK(encoded(back->imp) == encoded(*imp, e.path().parent_path()));
            ++n;
        }
    }
    CHECK(n >= 5);
}

TEST_CASE("tc_script: qdisc, IFB and mirred, [match] htb + u32") {
    profile::Profile p;
    p.name = "t";
    p.egress = profile::Impairment{};
    p.egress->delay = profile::Delay{};
    p.egress->delay->mean = std::chrono::milliseconds(10);
    p.egress->delay->order = profile::JitterOrder::reorder;
    auto s = netem::tc_script(p, "eth0");
    REQUIRE(s.ok());
    REQUIRE(s->commands.size() == 1);
    CHECK(s->commands[0] == "tc qdisc add dev eth0 root netem delay 10ms");

    p.ingress = p.egress;
    p.ingress->loss = profile::Loss{profile::RandomLoss{0.01, 0}, false};
    s = netem::tc_script(p, "eth0");
    REQUIRE(s.ok());
    REQUIRE(s->commands.size() == 6);
    const auto ifb = netem::ifb_name_for("eth0");
    CHECK(s->commands[1] == "ip link add " + ifb + " type ifb");
    CHECK(s->commands[3] == "tc qdisc add dev " + ifb + " root netem delay 10ms loss random 1%");
    CHECK(s->commands[4] == "tc qdisc add dev eth0 handle ffff: ingress");
    CHECK(s->commands[5].find("action mirred egress redirect dev " + ifb) != std::string::npos);

    p.ingress.reset();
    profile::FlowMatch m;
    m.dst = profile::Cidr{"10.0.0.0", 8, false};
    m.protocol = profile::Protocol::udp;
    m.dport = 53;
    p.classes.push_back({"match", m, std::move(p.egress), std::nullopt});
    p.egress.reset();
    s = netem::tc_script(p, "eth0");
    REQUIRE(s.ok());
    REQUIRE(s->commands.size() == 4);
    CHECK(s->commands[0] == "tc qdisc add dev eth0 root handle 6e63: htb");
    CHECK(s->commands[2] == "tc qdisc add dev eth0 parent 6e63:1 handle 6e64: netem delay 10ms");
    CHECK(s->commands[3] == "tc filter add dev eth0 parent 6e63: protocol ip prio 1 u32 match ip dst 10.0.0.0/8 match ip protocol 17 0xff "
                            "match ip dport 53 0xffff flowid 6e63:1");
}

TEST_CASE("netem_words: reorder = false is the order-keeping rate, said in a note") {
    profile::Impairment imp;
    imp.delay = profile::Delay{};
    imp.delay->mean = std::chrono::milliseconds(40);
    imp.delay->jitter = std::chrono::milliseconds(10);
    imp.delay->distribution = profile::Distribution::normal;
    const auto w = netem::netem_words(imp);
    CHECK(w.words == "delay 40ms 10ms distribution normal rate 8tbit");
    REQUIRE(w.notes.size() == 1);
    CHECK(w.notes[0].find("keeps order") != std::string::npos);
}

TEST_CASE("netem_words: a sub-microsecond delay is tc's whole microseconds, with a note") {
    profile::Impairment imp;
    imp.delay = profile::Delay{};
    imp.delay->mean = std::chrono::nanoseconds(2500);
    imp.delay->order = profile::JitterOrder::reorder;
    const auto w = netem::netem_words(imp);
    CHECK(w.words == "delay 2us");
    REQUIRE(w.notes.size() == 1);
    CHECK(w.notes[0].find("2500ns") != std::string::npos);
}
