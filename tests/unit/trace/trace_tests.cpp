// The .ncr format: round trip, streaming writer, and every way a file can be bad (byte offsets).
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <unistd.h>

#include "helpers.hpp"
#include "trace/trace.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using trace_test::bad_input_message;
using trace_test::contains;

namespace {

trace::Trace sample() {
    trace::Trace t;
    t.wall_ns = 1'796'206'596'591'784'230;
    t.records = {{0, 1000ns, 12ms}, {1, 10'001'000ns, std::nullopt}, {2, 20'001'000ns, 13'500'123ns}, {5, 20'001'000ns, 0ns}};
    return t;
}

std::string bytes_of(const trace::Trace& t) {
    std::ostringstream out;
    trace::write(out, t);
    return out.str();
}

Result<trace::Trace> read_bytes(const std::string& b) {
    std::istringstream in(b);
    return trace::read(in, "t.ncr");
}

}  // namespace

TEST_CASE("ncr: round trip keeps seq, send, rtt, loss and the wall clock origin") {
    const auto t = sample();
    const std::string b = bytes_of(t);
    CHECK(b.size() == trace::header_size + 4 * trace::record_size);
    CHECK(b.substr(0, 7) == "NCTRACE");
    auto back = read_bytes(b);
    REQUIRE(back);
    CHECK(back->records == t.records);
    CHECK(back->wall_ns == t.wall_ns);
    CHECK(back->source == "ncr");
}

TEST_CASE("ncr: one-way times make a version 2 file that keeps them; without them it stays version 1") {
    auto t = sample();
    t.flags = trace::flag_one_way;
    t.one_way = {{7ms, 5ms}, {}, {9ms, 4'500'123ns}, {0ns, 0ns}};
    const std::string b = bytes_of(t);
    CHECK(b.size() == trace::header_size + 4 * trace::record_size_one_way);
    CHECK(b[8] == 2);
    auto back = read_bytes(b);
    REQUIRE(back);
    CHECK(back->records == t.records);
    CHECK(back->one_way == t.one_way);
    CHECK((back->flags & trace::flag_one_way_kept) != 0);
    CHECK_FALSE(back->one_way[1].known());
    // Cut mid-record: the offset counts 40-byte records.
    CHECK(contains(bad_input_message(read_bytes(b.substr(0, b.size() - 3))),
                   "byte " + std::to_string(trace::header_size + 3 * trace::record_size_one_way) + ": truncated"));
    std::string neg = b;
    neg[trace::header_size + 24] = char(0xfe);   // fwd of record 0 = -2 (little-endian, 0xff above)
    for (int i = 1; i < 8; ++i) neg[trace::header_size + 24 + i] = char(0xff);
    CHECK(contains(bad_input_message(read_bytes(neg)), "byte " + std::to_string(trace::header_size + 24) + ": negative one-way delay"));
    t.one_way.clear();
    CHECK(bytes_of(t)[8] == 1);
}

TEST_CASE("ncr: a lost probe's direction makes a version 3 file that keeps it; v2 and v1 read as before") {
    auto t = sample();   // record 1 is lost
    t.flags = trace::flag_one_way;
    t.one_way = {{7ms, 5ms}, {-1ns, -1ns, trace::LostWay::down}, {9ms, 4ms}, {0ns, 0ns}};
    const std::string b = bytes_of(t);
    CHECK(b.size() == trace::header_size + 4 * trace::record_size_one_way);
    CHECK(b[8] == 3);
    auto back = read_bytes(b);
    REQUIRE(back);
    CHECK(back->one_way == t.one_way);
    CHECK((back->flags & trace::flag_loss_way) != 0);
    t.one_way[1].lost = trace::LostWay::up;
    auto up = read_bytes(bytes_of(t));
    REQUIRE(up);
    CHECK(up->one_way[1].lost == trace::LostWay::up);
    CHECK(up->one_way[1].rev == -1ns);
    // No direction known: version 2 again, as an older netchaos writes and reads it.
    t.one_way[1].lost = trace::LostWay::unknown;
    CHECK(bytes_of(t)[8] == 2);
    // A direction on an answered probe is refused with its byte.
    std::string bad = b;
    const std::size_t at = trace::header_size + 2 * trace::record_size_one_way + 32;   // rev of record 2, answered
    bad[at] = char(0xfe);
    for (int i = 1; i < 8; ++i) bad[at + i] = char(0xff);
    CHECK(contains(bad_input_message(read_bytes(bad)), "byte " + std::to_string(at) + ": a loss direction on an answered probe"));
    // Version and flags must agree.
    std::string v2 = b;
    v2[8] = 2;
    CHECK(contains(bad_input_message(read_bytes(v2)), "byte 12: flags say loss directions are kept"));
}

TEST_CASE("ncr: every truncation is refused with the byte offset where the data stops") {
    const std::string b = bytes_of(sample());
    for (std::size_t n = 0; n < b.size(); ++n) {
        INFO("cut at " << n);
        const auto msg = bad_input_message(read_bytes(b.substr(0, n)));
        if (n < 8) CHECK(contains(msg, "not a netchaos trace"));
        else if (n < trace::header_size) CHECK(contains(msg, "truncated header"));
        else {
            const std::size_t whole = trace::header_size + (n - trace::header_size) / trace::record_size * trace::record_size;
            CHECK(contains(msg, "t.ncr: byte " + std::to_string(whole) + ": truncated"));
        }
    }
}

TEST_CASE("ncr: bad version, trailing bytes, non-monotonic times, repeated seq, empty") {
    std::string b = bytes_of(sample());
    std::string v = b;
    v[8] = 4;
    CHECK(contains(bad_input_message(read_bytes(v)), "byte 8: trace version 4, this netchaos reads versions 1 to 3"));
    v[8] = 3;   // version 3 (loss directions) without its flags
    CHECK(contains(bad_input_message(read_bytes(v)), "byte 12: flags say one-way times are not kept"));
    v[8] = 2;   // version 2 without the one-way flag
    CHECK(contains(bad_input_message(read_bytes(v)), "byte 12: flags say one-way times are not kept"));
    CHECK(contains(bad_input_message(read_bytes(b + "x")), "trailing bytes"));

    auto t = sample();
    t.records[2].send = 5ns;   // before record 1
    CHECK(contains(bad_input_message(read_bytes(bytes_of(t))), "byte " + std::to_string(trace::header_size + 2 * trace::record_size) +
                                                                   ": send time goes backwards"));
    t = sample();
    t.records[3].seq = 2;
    CHECK(contains(bad_input_message(read_bytes(bytes_of(t))), "seqs must increase"));
    t.records.clear();
    CHECK(contains(bad_input_message(read_bytes(bytes_of(t))), "empty trace"));
}

TEST_CASE("ncr: the streaming writer's file reads back; an unfinished one is refused") {
    const auto dir = std::filesystem::temp_directory_path() / ("nc-trace-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto t = sample();
    {
        auto w = trace::Writer::open(dir / "a.ncr", t.wall_ns);
        REQUIRE(w);
        for (const auto& r : t.records) w->add(r);
        REQUIRE(w->finish());
        auto back = trace::read(dir / "a.ncr");
        REQUIRE(back);
        CHECK(back->records == t.records);
        CHECK(back->wall_ns == t.wall_ns);
    }
    {
        auto w = trace::Writer::open(dir / "b.ncr", 0);
        REQUIRE(w);
        for (const auto& r : t.records) w->add(r);
        // no finish(): a killed probe
    }
    CHECK(contains(bad_input_message(trace::read(dir / "b.ncr")), "not finished"));
    CHECK(contains(bad_input_message(trace::load(dir / "missing.ncr")), "cannot open"));
    std::filesystem::remove_all(dir);
}
