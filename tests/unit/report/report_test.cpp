// Report writers: the JSON has the fields tools read, the JUnit XML is well formed with one
// testcase per check, the HTML is self-contained and holds the SVG plots.
#include <catch2/catch.hpp>
#include <set>
#include <nlohmann/json.hpp>
#include <regex>
#include <stack>

#include "report/report.hpp"

using namespace netchaos::report;
using namespace std::chrono_literals;

namespace {
Report sample_report() {
    Report r;
    r.name = "demo <&>";
    r.description = "a \"quoted\" description";
    r.source = "exp.toml";
    r.duration_s = 9;
    r.exit_code = 1;
    r.verdict = "slo missed";
    Phase b{.name = "baseline", .kind = "baseline", .profile = "none", .start_s = 0, .end_s = 3};
    b.stats = {.sent = 300, .received = 300, .rtt_mean_ns = 0.2e6, .rtt_stddev_ns = 0.05e6, .p99 = 400us};
    b.rtt_ms = {0.2, 0.21, 0.19, 0.25};
    Phase m{.name = "morning", .kind = "phase", .profile = "pgm", .model = "normal 35ms +- 20ms", .start_s = 3,
            .end_s = 6};
    m.stats = {.sent = 300, .received = 297, .lost = 3, .loss = 0.01, .rtt_mean_ns = 35.2e6, .rtt_stddev_ns = 19.0e6, .p99 = 90ms};
    m.checks.push_back({Check::Kind::slo, "p99_rtt_max", 90, 80, "ms", false, "p99 90 ms > 80 ms"});
    m.checks.push_back({Check::Kind::slo, "loss_max", 1, 2, "%", true, "loss 1% <= 2%"});
    m.fidelity.push_back({.step = "morning", .predicted_mean_ms = 35.2, .predicted_sigma_ms = 20,
                          .measured_mean_ms = 35.2, .measured_sigma_ms = 19, .mean_error = 0, .sigma_error = 0.05,
                          .allowed_mean_ms = 3.52, .allowed_sigma_ms = 2});
    m.rtt_ms = {10, 20, 30, 35, 40, 50, 60};
    for (double x = 0; x < 100; x += 5) m.density.emplace_back(x, 0.02);
    Phase rec{.name = "recovery", .kind = "recovery", .profile = "none", .start_s = 6, .end_s = 9};
    r.phases = {b, m, rec};
    for (int i = 0; i < 90; ++i) r.timeline.push_back({i * 0.1, 0.2 + (i % 7), i == 40});
    r.command = CommandResult{{"sh", "-c", "exit 3"}, 3, 2.5};
    return r;
}

// A tiny XML well-formedness check: balanced tags, quoted attributes, no raw '&' or '<'.
bool well_formed(const std::string& x, std::string& why) {
    std::stack<std::string> open;
    std::size_t i = x.find("?>");
    i = i == std::string::npos ? 0 : i + 2;
    while (i < x.size()) {
        if (x[i] == '&') {
            auto semi = x.find(';', i);
            if (semi == std::string::npos || semi - i > 6) return why = "raw & at " + std::to_string(i), false;
            i = semi + 1;
            continue;
        }
        if (x[i] != '<') { ++i; continue; }
        auto end = x.find('>', i);
        if (end == std::string::npos) return why = "unterminated tag", false;
        std::string tag = x.substr(i + 1, end - i - 1);
        if (tag.find('<') != std::string::npos) return why = "'<' inside tag " + tag, false;
        if (std::count(tag.begin(), tag.end(), '"') % 2) return why = "unbalanced quotes in " + tag, false;
        if (tag[0] == '/') {
            if (open.empty() || open.top() != tag.substr(1)) return why = "mismatched </" + tag.substr(1) + ">", false;
            open.pop();
        } else if (tag.back() != '/') {
            open.push(tag.substr(0, tag.find_first_of(" \n")));
        }
        i = end + 1;
    }
    if (!open.empty()) return why = "unclosed <" + open.top() + ">", false;
    return true;
}

std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}
}  // namespace

TEST_CASE("JSON report carries verdict, phases, stats, checks and fidelity") {
    auto j = nlohmann::json::parse(to_json(sample_report()));
    CHECK(j["exit_code"] == 1);
    CHECK(j["verdict"] == "slo missed");
    REQUIRE(j["phases"].size() == 3);
    CHECK(j["phases"][0]["kind"] == "baseline");
    CHECK(j["phases"][1]["stats"]["rtt_mean_ms"].get<double>() == Approx(35.2));
    CHECK(j["phases"][1]["stats"]["loss"].get<double>() == Approx(0.01));
    CHECK(j["phases"][1]["pass"] == false);
    CHECK(j["phases"][1]["checks"][0]["name"] == "p99_rtt_max");
    CHECK(j["phases"][1]["checks"][0]["pass"] == false);
    CHECK(j["phases"][1]["fidelity"][0]["predicted_sigma_ms"].get<double>() == Approx(20));
    CHECK(j["command"]["exit_code"] == 3);
    CHECK(j["command"]["argv"][2] == "exit 3");
}

TEST_CASE("JUnit XML is well formed, one testcase per threshold, fidelity step and command") {
    std::string x = to_junit(sample_report());
    std::string why;
    INFO(x);
    const bool ok = well_formed(x, why);
    INFO("why: " << why);   // the checker's reason, shown when it fails
    REQUIRE(ok);
    CHECK(count(x, "<testcase ") == 2 + 1 + 1);
    CHECK(count(x, "<failure ") == 2);  // p99 miss + command exit 3
    CHECK(x.find("tests=\"4\" failures=\"2\"") != std::string::npos);
    CHECK(x.find("demo &lt;&amp;&gt;") != std::string::npos);
    CHECK(x.find("demo <&>") == std::string::npos);
}

TEST_CASE("junit_xml, the one JUnit writer (probe --junit too): properties, counts, escaping") {
    JunitSuite s{"netchaos.probe 10.0.0.2:7777", 3.5, {{"sent", 350}, {"loss", 0.02}}, {}, {}};
    s.cases.push_back({"netchaos.probe", "reachable", true, "threshold", "", 3.5});
    s.cases.push_back({"netchaos.probe", "p99_rtt_max", false, "threshold", "p99 51 ms > 50 ms & \"x\"", 3.5});
    const std::string x = junit_xml("netchaos.probe", 3.5, {s});
    std::string why;
    INFO(x);
    REQUIRE(well_formed(x, why));
    CHECK(count(x, "<testcase ") == 2);
    CHECK(count(x, "<failure type=\"threshold\"") == 1);
    CHECK(count(x, "tests=\"2\" failures=\"1\"") == 2);   // the suite and the document
    CHECK(x.find("<property name=\"sent\" value=\"350\"/>") != std::string::npos);
    CHECK(x.find("&amp; &quot;x&quot;") != std::string::npos);
}

TEST_CASE("well_formed catches broken XML (the checker itself can fail)") {
    std::string why;
    CHECK_FALSE(well_formed("<a><b></a></b>", why));
    CHECK_FALSE(well_formed("<a>x & y</a>", why));
    CHECK_FALSE(well_formed("<a x=\"1></a>", why));
    CHECK(well_formed("<a><b/>&amp;</a>", why));
}

TEST_CASE("timeline SVG has one band per phase, received dots and lost ticks") {
    auto r = sample_report();
    std::string s = svg_timeline(r);
    std::string why;
    REQUIRE(well_formed(s, why));
    CHECK(s.rfind("<svg", 0) == 0);
    CHECK(count(s, "class=\"band\"") == 3);
    CHECK(count(s, "h1.5") == 89);          // 90 points, one lost
    CHECK(s.find("class=\"lost\"") != std::string::npos);
    CHECK(s.find("NaN") == std::string::npos);
    CHECK(s.find("nan") == std::string::npos);
}

TEST_CASE("histogram SVG: bars sum to the sample count's density, density overlay drawn") {
    auto r = sample_report();
    std::string s = svg_histogram(r.phases[1]);
    std::string why;
    REQUIRE(well_formed(s, why));
    CHECK(s.find("class=\"density\"") != std::string::npos);
    CHECK(count(s, "<rect ") == 7);  // 7 distinct RTTs in 40 bins over [10, 95]
    // An empty phase still draws axes and no NaN.
    std::string e = svg_histogram(r.phases[2]);
    CHECK(well_formed(e, why));
    CHECK(e.find("nan") == std::string::npos);
    // Sub-millisecond RTTs (an unimpaired path): tick labels must differ from each other.
    std::string b = svg_histogram(r.phases[0]);   // 0.19 .. 0.25 ms
    std::vector<std::string> ticks;
    for (std::size_t at = b.find("text-anchor=\"middle\">"); at != std::string::npos;
         at = b.find("text-anchor=\"middle\">", at + 1)) {
        auto from = at + std::string("text-anchor=\"middle\">").size();
        ticks.push_back(b.substr(from, b.find('<', from) - from));
    }
    INFO(b);
    REQUIRE(ticks.size() >= 3);
    ticks.pop_back();   // the axis title
    CHECK(std::set<std::string>(ticks.begin(), ticks.end()).size() == ticks.size());
}

TEST_CASE("HTML is self-contained and holds timeline, histograms and threshold table") {
    std::string h = to_html(sample_report());
    CHECK(h.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(count(h, "<svg") == 1 + 3);
    CHECK(h.find("id=\"timeline\"") != std::string::npos);
    CHECK(count(h, "class=\"plot histogram\"") == 3);
    CHECK(h.find("id=\"thresholds\"") != std::string::npos);
    CHECK(h.find("p99_rtt_max") != std::string::npos);
    // no external assets: no src=, no href=, no url(, no <script
    CHECK(h.find("src=") == std::string::npos);
    CHECK(h.find("href=") == std::string::npos);
    CHECK(h.find("url(") == std::string::npos);
    CHECK(h.find("<script") == std::string::npos);
    std::string why;
    auto body = h.substr(h.find("<html"));
    bool ok = well_formed(body, why);
    INFO(why);
    CHECK(ok);
}

TEST_CASE("summary table lists every phase and every miss") {
    std::string t = summary_table(sample_report());
    CHECK(t.find("baseline") != std::string::npos);
    CHECK(t.find("morning") != std::string::npos);
    CHECK(t.find("missed: morning: p99 90 ms > 80 ms") != std::string::npos);
    CHECK(t.find("verdict: slo missed (exit 1)") != std::string::npos);
    auto line = progress_line(sample_report().phases[1], 6, 9);
    CHECK(line.find("jitter_1s") != std::string::npos);
    CHECK(line.find("loss 1.00%") != std::string::npos);
    CHECK(line.find("fidelity ok") != std::string::npos);
    // The worst deviation as a share of its allowance: sigma off by 1 ms of 2 ms allowed.
    CHECK(line.find("ok (50% of limit)") != std::string::npos);
    auto miss = sample_report().phases[1];
    miss.fidelity[0].measured_sigma_ms = 25;
    miss.fidelity[0].pass = false;
    CHECK(progress_line(miss, 6, 9).find("MISS (250% of limit)") != std::string::npos);
}

TEST_CASE("invalid UTF-8 (a command line is bytes) is replaced in every report, never thrown") {
    // Found as: `netchaos run exp -- printf '\xff'` made the JSON writer throw; exit 4
    // instead of the verdict, no report, the temporary directory left behind.
    Report r = sample_report();
    r.command = CommandResult{{"printf", "\xff\xfe", "caf\xc3\xa9", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "x\xe2\x82"}, 0, 1.0};
    r.notes.push_back("output: \xff");
    r.phases[0].name = "bad\x80name";
    std::string json;
    REQUIRE_NOTHROW(json = to_json(r));
    CHECK(valid_utf8(json) == json);
    auto j = nlohmann::json::parse(json);
    const auto argv = j.dump();
    CHECK(argv.find("caf\xc3\xa9") != std::string::npos);   // valid UTF-8 kept as is
    CHECK(argv.find("\xef\xbf\xbd") != std::string::npos);  // the rest replaced
    std::string junit, html;
    REQUIRE_NOTHROW(junit = to_junit(r));
    REQUIRE_NOTHROW(html = to_html(r));
    CHECK(valid_utf8(junit) == junit);
    CHECK(valid_utf8(html) == html);
    std::string why;
    CHECK(well_formed(junit, why));
    // Each rejected sequence: overlong, surrogate, above U+10FFFF, truncated.
    CHECK(valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8("\xf4\x90\x80\x80").size() == 12);
    CHECK(valid_utf8("x\xe2\x82") == "x\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(valid_utf8("\xf0\x9f\x98\x80 ok") == "\xf0\x9f\x98\x80 ok");
}

TEST_CASE("the command's output tail, exit status and timing are in every report (issue 18 item 8)") {
    Report r = sample_report();
    CommandResult c;
    c.argv = {"curl", "-sf", "http://svc/"};
    c.exit_code = 22;
    c.duration_s = 4.5;
    c.start_s = 3.0;
    c.output_lines = 230;
    for (int i = 31; i <= 230; ++i) c.output_tail.push_back("out <" + std::to_string(i) + ">");
    r.command = c;
    auto j = nlohmann::json::parse(to_json(r));
    CHECK(j["command"]["exit_code"] == 22);
    CHECK(j["command"]["start_s"] == 3.0);
    CHECK(j["command"]["output_lines"] == 230);
    REQUIRE(j["command"]["output_tail"].size() == 200);
    CHECK(j["command"]["output_tail"].back() == "out <230>");
    auto text = summary_table(r);
    CHECK_THAT(text, Catch::Matchers::Contains("command: exit 22 after 4.5s (started at 3.0s), 230 lines of output; the last 10:"));
    CHECK_THAT(text, Catch::Matchers::Contains("  | out <230>"));
    auto junit = to_junit(r);
    CHECK_THAT(junit, Catch::Matchers::Contains("<system-out>") && Catch::Matchers::Contains("out &lt;230&gt;"));
    CHECK_THAT(to_html(r), Catch::Matchers::Contains("last 200 of 230 lines") && Catch::Matchers::Contains("out &lt;31&gt;"));
}
