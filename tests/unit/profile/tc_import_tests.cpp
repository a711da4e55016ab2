// import_tc: tc's words, units and defaults (iproute2 6.1's q_netem.c), and the errors that
// name the word netchaos cannot express.
#include <catch2/catch.hpp>

#include <chrono>

#include "profile/parse.hpp"
#include "profile/tc_import.hpp"

using namespace netchaos::profile;
using namespace std::chrono_literals;

namespace {
Impairment ok(const std::string& line) {
    auto r = import_tc(line);
    INFO(line << ": " << (r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return r->imp;
}
std::string error_of(const std::string& line) {
    auto r = import_tc(line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    return r.error().message;
}
}  // namespace

TEST_CASE("import_tc: tc's units (bare time = us, bare rate = bit/s, bare percent = %, limit in 1024s)") {
    CHECK(tc_time("10").value() == 10us);
    CHECK(tc_time("1.5ms").value() == 1500us);
    CHECK(tc_time("2s").value() == 2s);
    CHECK(tc_time("7nsec", TcClock::nsec).value() == 7ns);
    CHECK_FALSE(tc_time("7ns").ok());                       // delay's get_time has no ns
    CHECK(tc_time("1.5us").value() == 1us);                 // whole microseconds, as tc sends them
    CHECK_FALSE(tc_time("2m").ok());
    CHECK(tc_percent("1").value() == 1.0 / 100);
    CHECK(tc_percent("0.5%").value() == 0.5 / 100);
    CHECK_FALSE(tc_percent("101%").ok());
    CHECK(tc_rate("1000").value() == 125);
    CHECK(tc_rate("100mbit").value() == 12'500'000);
    CHECK(tc_rate("1MBps").value() == 1'000'000);   // tc's units ignore case: this is bytes
    CHECK(tc_rate("1kibit").value() == 128);
    CHECK(ok("limit 1k").limit == 1024);
}

TEST_CASE("import_tc: a full tc command line or bare options") {
    auto r = import_tc("sudo tc qdisc replace dev eth0 root handle 1: netem delay 50ms 30ms distribution normal");
    REQUIRE(r.ok());
    CHECK(r->dev == "eth0");
    REQUIRE(r->imp.delay);
    CHECK(r->imp.delay->mean == 50ms);
    CHECK(r->imp.delay->jitter == 30ms);
    CHECK(r->imp.delay->distribution == Distribution::normal);
    // Plain netem's tfifo reorders jittered packets; only a rate keeps them in order.
    CHECK(r->imp.delay->order == JitterOrder::reorder);
    CHECK(ok("delay 50ms 30ms rate 1gbit").delay->order == JitterOrder::preserve);
    CHECK(ok("qdisc add dev x parent 1:1 netem del 5ms").delay->mean == 5ms);   // tc's prefix matching
    CHECK(r->imp == ok("delay 50ms 30ms distribution normal"));
}

TEST_CASE("import_tc: loss models with tc's defaults; gemodel's words are 1-h and 1-k") {
    auto g = std::get<GilbertElliott>(ok("loss gemodel 1%").loss->model);
    CHECK(g.p == 0.01);
    CHECK(g.r == 1.0 - 0.01);
    CHECK(g.one_minus_h == 1.0);
    CHECK(g.one_minus_k == 0.0);
    g = std::get<GilbertElliott>(ok("loss gemodel 1% 30% 70% 0.1%").loss->model);
    CHECK(g.one_minus_h == 0.70);
    CHECK(g.one_minus_k == 0.1 / 100);
    auto m = std::get<Markov4>(ok("loss state 2%").loss->model);
    CHECK(m.p31 == 1.0 - 0.02);
    CHECK(m.p23 == 1.0);
    auto l = ok("drop random 1% 25% ecn").loss;
    CHECK(std::get<RandomLoss>(l->model).correlation == 0.25);
    CHECK(l->ecn);
}

TEST_CASE("import_tc: rate overheads, slot forms, reorder gap, seed") {
    auto r = *ok("rate 10mbit 20 100 -4").rate;
    CHECK(r.bytes_per_sec == 1'250'000);
    CHECK(r.packet_overhead == 20);
    CHECK(r.cell_size == 100u);
    CHECK(r.cell_overhead == -4);
    auto s = *ok("slot 1ms 5ms packets 10 bytes 64000").slot;
    CHECK(s.min_delay == 1ms);
    CHECK(s.max_delay == 5ms);
    CHECK(s.max_packets == 10);
    CHECK(s.max_bytes == 64000);
    CHECK(ok("slot 2ms").slot->max_delay == 2ms);
    CHECK(ok("slot 10 200").slot->max_delay == 200ns);   // slot reads bare times as ns, delay as us
    s = *ok("slot distribution pareto 2ms 1ms packets 5").slot;
    CHECK(s.distribution == Distribution::pareto);
    CHECK(s.dist_jitter == 1ms);
    auto imp = ok("delay 10ms reorder 25% 50% gap 5 seed 42");
    CHECK(imp.reorder->gap == 5u);
    CHECK(imp.reorder->correlation == 0.5);
    CHECK(imp.seed == 42u);
}

TEST_CASE("import_tc: a duplicate correlation typed alone is dropped, as tc drops it") {
    auto r = import_tc("duplicate 2% 50%");
    REQUIRE(r.ok());
    CHECK(r->imp.duplicate->correlation == 0);
    CHECK(r->notes.size() == 1);
    r = import_tc("duplicate 2% 50% loss 1% 10%");
    REQUIRE(r.ok());
    CHECK(r->imp.duplicate->correlation == 0.5);
    CHECK(r->notes.empty());
}

TEST_CASE("import_tc: what netchaos cannot express is exit 3 naming the word") {
    CHECK(error_of("delay 10ms frobnicate 3").find("\"frobnicate\"") != std::string::npos);
    CHECK(error_of("rate 50%").find("\"50%\"") != std::string::npos);
    CHECK(error_of("tc qdisc add dev eth0 root tbf rate 1mbit").find("netem") != std::string::npos);
    CHECK(error_of("tc qdisc del dev eth0 root").find("\"del\"") != std::string::npos);
    CHECK(error_of("gap 5").find("gap") != std::string::npos);
    CHECK(error_of("ecn").find("ecn") != std::string::npos);
    CHECK(error_of("delay 10ms distribution normal").find("distribution") != std::string::npos);
    CHECK(error_of("delay 10ms 5ms distribution nosuchtable").find("nosuchtable") != std::string::npos);
    CHECK(error_of("reorder 10%").find("reorder") != std::string::npos);
    CHECK(error_of("slot distribution experimental 1ms 1ms").find("experimental") != std::string::npos);
    CHECK(error_of("loss").find("loss") != std::string::npos);
}
