// The records CSV and the window JSON line: written and read by the same module.
#include <catch2/catch.hpp>
#include <sstream>

#include "helpers.hpp"
#include "metrics/io.hpp"

using namespace metrics_test;

TEST_CASE("records csv: round trip, lost rows, duplicate counts, arrival times") {
    const std::vector<Record> recs{{0, 100ns, 2ms, 0, Nanos{2000150}}, {1, 200ns, std::nullopt, 0}, {2, 300ns, 0ns, 5}};
    std::stringstream io;
    write_csv_header(io);
    for (const auto& r : recs) write_csv_row(io, r);
    CHECK(io.str() == "seq,send_ns,rtt_ns,status,dups,rx_ns\n0,100,2000000,ok,0,2000150\n1,200,,lost,0,\n2,300,0,ok,5,\n");
    auto back = read_csv(io);
    REQUIRE(back);
    CHECK(*back == recs);
}

TEST_CASE("records csv: bad input names the line") {
    auto err = [](const std::string& text) {
        std::istringstream in(text);
        auto r = read_csv(in);
        REQUIRE_FALSE(r);
        CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
        return r.error().message;
    };
    CHECK(err("").find("empty") != std::string::npos);
    CHECK(err("seq,send_ns,rtt_ns,status\n0,1,2,ok\n").find("line 1") != std::string::npos);   // old header
    CHECK(err("seq,send_ns,rtt_ns,status,dups\n0,1,2,ok,0\n").find("line 1") != std::string::npos);   // no rx_ns
    const std::string h = "seq,send_ns,rtt_ns,status,dups,rx_ns\n";
    CHECK(err(h + "0,100,x,ok,0,\n").find("line 2") != std::string::npos);
    CHECK(err(h + "0,100,5,ok,0,\n1,100,5,ok,0\n").find("line 3") != std::string::npos);
    CHECK(err(h + "0,100,5,lost,0,\n").find("line 2") != std::string::npos);    // lost with an rtt
    CHECK(err(h + "0,100,,ok,0,\n").find("line 2") != std::string::npos);      // ok without one
    CHECK(err(h + "0,100,-5,ok,0,\n").find("line 2") != std::string::npos);
    CHECK(err(h + "0,100,5,dup,0,\n").find("line 2") != std::string::npos);
    CHECK(err(h + "0,100,5,ok,0,7,8\n").find("line 2") != std::string::npos);
    CHECK(err(h + "0,100,5,ok,0,x\n").find("line 2") != std::string::npos);
}

TEST_CASE("window line: round trip; no jitter_1s is null, not 0; other lines ignored") {
    Window w;
    w.index = 2;
    w.end = 3s;
    w.sent = 100;
    w.received = 99;
    w.loss = 0.01;
    w.rtt_mean_ns = 12.5e6;
    w.jitter_ns = 3.5e6;
    w.spike_ratio = 0.25;
    w.p50 = 12ms;
    w.p99 = 20ms;
    const std::string line = window_json(w, 123).dump();
    auto back = parse_window_json(line);
    REQUIRE(back);
    CHECK(back->t_end_ns == 123);
    CHECK(back->window.end == 3s);
    CHECK(back->window.received == 99);
    CHECK(back->window.rtt_mean_ns == Approx(12.5e6));
    CHECK(*back->window.jitter_ns == Approx(3.5e6));
    CHECK(back->window.p99 == 20ms);
    w.jitter_ns.reset();
    const std::string none = window_json(w, 1).dump();
    CHECK(none.find("\"jitter_1s_ms\":null") != std::string::npos);
    CHECK_FALSE(parse_window_json(none)->window.jitter_ns);
    CHECK_FALSE(parse_window_json(R"({"type":"summary","sent":1})"));
    CHECK_FALSE(parse_window_json("not json"));
}

TEST_CASE("records csv: an http probe's status is the status column, and reads back") {
    Record r{0, 100ns, 2ms, 0, Nanos{2000150}};
    r.http_status = 429;
    std::stringstream io;
    write_csv_header(io);
    write_csv_row(io, r);
    CHECK(io.str() == "seq,send_ns,rtt_ns,status,dups,rx_ns\n0,100,2000000,429,0,2000150\n");
    auto back = read_csv(io);
    REQUIRE(back);
    REQUIRE(back->size() == 1);
    CHECK((*back)[0] == r);
    std::stringstream bad("seq,send_ns,rtt_ns,status,dups,rx_ns\n0,100,2000000,700,0,\n");
    CHECK_FALSE(read_csv(bad));
}

TEST_CASE("status counts and status_ratio_max: by code and by class, over responses") {
    std::vector<Record> recs;
    for (std::uint64_t i = 0; i < 1000; ++i) {
        Record r{i, Nanos{static_cast<std::int64_t>(i) * 10'000'000}, 1ms, 0};
        r.http_status = i % 50 == 0 ? 429 : i % 250 == 1 ? 503 : 200;   // 20 x 429, 4 x 503
        if (i % 100 == 99) r.rtt.reset();                                // 10 lost: no status
        recs.push_back(r);
    }
    Config cfg;
    const Summary s = summarize(recs, 0ns, 10s, cfg);
    CHECK(s.http_status.at(200) == 966);
    CHECK(s.http_status.at(429) == 20);
    CHECK(s.http_status.at(503) == 4);
    CHECK(status_ratio(s, "429") == Approx(20.0 / 990));
    CHECK(status_ratio(s, "5xx") == Approx(4.0 / 990));
    CHECK(status_ratio(s, "404") == 0.0);
    netchaos::profile::Thresholds t;
    t.status_ratio_max = {{"429", 0.01}, {"5xx", 0.01}};
    const auto out = evaluate(s, t, std::nullopt);
    REQUIRE(out.size() == 2);
    CHECK(out[0].name == "status_ratio_max.429");
    CHECK_FALSE(out[0].pass);
    CHECK(out[1].name == "status_ratio_max.5xx");
    CHECK(out[1].pass);
    CHECK(describe(out[0]) == "status_ratio_max.429: 2.02% of responses > 1%");
}
