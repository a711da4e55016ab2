// Importers: CSV (line:column errors), irtt JSON, pcap of a UDP request/response flow.
#include <catch2/catch.hpp>

#include <pcap/pcap.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "helpers.hpp"
#include "trace/import.hpp"

using namespace netchaos;
using namespace std::chrono_literals;
using trace_test::bad_input_message;
using trace_test::contains;

namespace {

Result<trace::Trace> csv(const std::string& text) {
    std::istringstream in(text);
    return trace::import_csv(in, "m.csv");
}

Result<trace::Trace> irtt(const std::string& text) {
    std::istringstream in(text);
    return trace::import_irtt(in, "i.json");
}

std::filesystem::path scratch() {
    const auto d = std::filesystem::temp_directory_path() / ("nc-import-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
}

}  // namespace

TEST_CASE("csv: header, comments, blank lines and every spelling of lost") {
    auto t = csv("time,rtt_ms\n# a bad morning\n0.000,12.5\n\n0.010, lost\n0.020,\n0.030,nan\n0.040 , 83.25 # peak\n");
    REQUIRE(t);
    REQUIRE(t->records.size() == 5);
    CHECK(t->records[0].send == 0ns);
    CHECK(t->records[0].rtt == std::optional<std::chrono::nanoseconds>(12'500'000ns));
    for (int i = 1; i <= 3; ++i) CHECK_FALSE(t->records[i].rtt);
    CHECK(t->records[4].send == 40'000'000ns);
    CHECK(t->records[4].rtt == std::optional<std::chrono::nanoseconds>(83'250'000ns));
    CHECK(t->records[4].seq == 4);
    auto no_header = csv("1.5,3\n");
    REQUIRE(no_header);
    CHECK(no_header->records[0].send == 1'500'000'000ns);
}

TEST_CASE("csv: bad input names line and column") {
    CHECK(contains(bad_input_message(csv("time,rtt_ms\n0,1\n0.01,abc\n")), "m.csv:3:6: rtt_ms: not a number"));
    CHECK(contains(bad_input_message(csv("0,1\n0.01,  -4\n")), "m.csv:2:8: rtt_ms: out of range"));
    CHECK(contains(bad_input_message(csv("0,1\nx,2\n")), "m.csv:2:1: time: not a number"));
    CHECK(contains(bad_input_message(csv("0,1\n  0.5\n")), "m.csv:2:6: expected two fields"));
    CHECK(contains(bad_input_message(csv("0,1\n0.5,1,2\n")), "m.csv:2:6: more than two fields"));
    CHECK(contains(bad_input_message(csv("0.5,1\n0.2,1\n")), "m.csv:2:1: time goes backwards"));
    CHECK(contains(bad_input_message(csv("")), "empty trace"));
    CHECK(contains(bad_input_message(csv("time,rtt_ms\n# nothing\n")), "empty trace"));
}

namespace {
std::string irtt_entry(int seq, long long send_mono, const char* lost, long long rtt) {
    std::ostringstream o;
    o << R"({"seqno":)" << seq << R"(,"lost":")" << lost << R"(","timestamps":{"client":{"send":{"wall":)"
      << 1'796'206'596'000'000'000LL + send_mono << R"(,"monotonic":)" << send_mono << "}}}";
    if (rtt >= 0) o << R"(,"delay":{"receive":1,"rtt":)" << rtt << R"(,"send":2})";
    o << "}";
    return o.str();
}
}  // namespace

TEST_CASE("irtt: round trips become records; lost entries are losses; one-way times are kept") {
    const std::string j = R"({"version":{},"round_trips":[)" + irtt_entry(0, 7465335, "false", 116818) + "," +
                          irtt_entry(1, 17465335, "true_down", -1) + "," + irtt_entry(2, 27465335, "false", 82667) + "]}";
    auto t = irtt(j);
    REQUIRE(t);
    REQUIRE(t->records.size() == 3);
    CHECK(t->records[0].send == 7465335ns);
    CHECK(t->records[0].rtt == std::optional<std::chrono::nanoseconds>(116818ns));
    CHECK_FALSE(t->records[1].rtt);
    CHECK(t->records[2].seq == 2);
    CHECK((t->flags & trace::flag_one_way) != 0);
    // irtt's delay.send / delay.receive are kept, one per record (unknown where lost).
    REQUIRE(t->one_way.size() == 3);
    CHECK(t->one_way[0] == trace::OneWay{2ns, 1ns});
    CHECK_FALSE(t->one_way[1].known());
    CHECK(t->one_way[1].lost == trace::LostWay::down);   // irtt's true_down: lost server -> client
    CHECK(t->one_way[2] == trace::OneWay{2ns, 1ns});
    CHECK(t->wall_ns == 1'796'206'596'000'000'000LL);
}

TEST_CASE("irtt: bad JSON gives the byte, bad entries their index") {
    CHECK(contains(bad_input_message(irtt(R"({"round_trips":[{"seqno":)")), "i.json: byte 25"));
    CHECK(contains(bad_input_message(irtt(R"({"rounds":[]})")), "no round_trips"));
    CHECK(contains(bad_input_message(irtt(R"({"round_trips":[]})")), "empty trace"));
    CHECK(contains(bad_input_message(irtt(R"({"round_trips":[{"seqno":0}]})")), "round_trips[0]: missing"));
    const std::string backwards = R"({"round_trips":[)" + irtt_entry(0, 500, "false", 10) + "," + irtt_entry(1, 400, "false", 10) + "]}";
    CHECK(contains(bad_input_message(irtt(backwards)), "round_trips[1]: send time goes backwards"));
}

namespace {

// An Ethernet/IPv4/UDP frame from a:ap to b:bp with `payload`.
std::vector<unsigned char> frame(bool request, const std::string& payload) {
    std::vector<unsigned char> f(14 + 20 + 8 + payload.size(), 0);
    f[12] = 0x08;   // IPv4
    unsigned char* ip = f.data() + 14;
    ip[0] = 0x45;
    const std::size_t total = 20 + 8 + payload.size();
    ip[2] = static_cast<unsigned char>(total >> 8);
    ip[3] = static_cast<unsigned char>(total);
    ip[8] = 64;
    ip[9] = 17;
    const unsigned char a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    std::memcpy(ip + 12, request ? a : b, 4);
    std::memcpy(ip + 16, request ? b : a, 4);
    unsigned char* udp = ip + 20;
    const unsigned short sp = request ? 40000 : 7777, dp = request ? 7777 : 40000;
    udp[0] = sp >> 8, udp[1] = sp & 0xff, udp[2] = dp >> 8, udp[3] = dp & 0xff;
    udp[4] = static_cast<unsigned char>((8 + payload.size()) >> 8);
    udp[5] = static_cast<unsigned char>(8 + payload.size());
    std::memcpy(udp + 8, payload.data(), payload.size());
    return f;
}

struct Pkt {
    long long t_us;
    bool request;
    std::string payload;
};

void write_pcap(const std::filesystem::path& file, const std::vector<Pkt>& pkts) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, file.c_str());
    REQUIRE(d);
    for (const auto& p : pkts) {
        const auto f = frame(p.request, p.payload);
        pcap_pkthdr h{};
        h.ts.tv_sec = 1700000000 + p.t_us / 1'000'000;
        h.ts.tv_usec = p.t_us % 1'000'000;
        h.caplen = h.len = static_cast<bpf_u_int32>(f.size());
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f.data());
    }
    pcap_dump_close(d);
    pcap_close(dead);
}

}  // namespace

TEST_CASE("pcap: replies matched to requests by echoed payload, else oldest first; unanswered is lost") {
    const auto dir = scratch();
    // seq 1 and 2's replies come back swapped; seq 4's reply does not echo (a server that
    // answers with its own bytes): it pairs with the oldest outstanding request.
    write_pcap(dir / "f.pcap", {{0, true, "seq-00000000-probe-pad"},
                                {10'000, true, "seq-00000001-probe-pad"},
                                {12'000, false, "seq-00000000-probe-pad"},
                                {20'000, true, "seq-00000002-probe-pad"},
                                {31'000, false, "seq-00000002-probe-pad"},
                                {33'000, false, "seq-00000001-probe-pad"},
                                {40'000, true, "seq-00000004-probe-pad"},
                                {55'500, false, "server-bytes"}});
    auto t = trace::load(dir / "f.pcap");
    REQUIRE(t);
    CHECK(t->source == "pcap");
    REQUIRE(t->records.size() == 4);
    CHECK(t->records[0].rtt == std::optional<std::chrono::nanoseconds>(12ms));
    CHECK(t->records[1].rtt == std::optional<std::chrono::nanoseconds>(23ms));
    CHECK(t->records[2].rtt == std::optional<std::chrono::nanoseconds>(11ms));
    CHECK(t->records[3].send == 40ms);
    CHECK(t->records[3].rtt == std::optional<std::chrono::nanoseconds>(15'500us));

    write_pcap(dir / "lost.pcap", {{0, true, "a"}, {5'000, false, "a"}, {10'000, true, "b"}});
    auto l = trace::load(dir / "lost.pcap");
    REQUIRE(l);
    REQUIRE(l->records.size() == 2);
    CHECK_FALSE(l->records[1].rtt);
    std::filesystem::remove_all(dir);
}

TEST_CASE("pcap: truncated capture names the byte; no flow, one direction only and garbage are refused") {
    const auto dir = scratch();
    write_pcap(dir / "f.pcap", {{0, true, "a"}, {5'000, false, "a"}, {10'000, true, "b"}, {15'000, false, "b"}});
    const auto size = std::filesystem::file_size(dir / "f.pcap");
    std::filesystem::resize_file(dir / "f.pcap", size - 10);
    const auto msg = bad_input_message(trace::load(dir / "f.pcap"));
    // 24-byte file header, then 16-byte record headers + 43-byte frames: the 4th starts at 201
    CHECK(contains(msg, "byte 201: bad or truncated packet record"));

    write_pcap(dir / "oneway.pcap", {{0, true, "a"}, {10'000, true, "b"}});
    CHECK(contains(bad_input_message(trace::load(dir / "oneway.pcap")), "no reply"));
    write_pcap(dir / "empty.pcap", {});
    CHECK(contains(bad_input_message(trace::load(dir / "empty.pcap", "pcap")), "empty trace"));
    std::ofstream(dir / "junk.pcap") << "\xd4\xc3\xb2\xa1 not really";
    CHECK(contains(bad_input_message(trace::load(dir / "junk.pcap")), "byte 0: not a pcap"));
    std::filesystem::remove_all(dir);
}
