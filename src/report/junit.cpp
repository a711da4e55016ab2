// JUnit XML (--junit FILE): one testsuite per phase, one testcase per threshold, per
// fidelity step, and one for the command under chaos. CI systems render these natively.
#include <cstdio>
#include <sstream>

#include "report/report.hpp"

namespace netchaos::report {

namespace {
std::string num(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}

void testcase(std::ostringstream& o, const std::string& classname, const std::string& name, bool pass,
              const std::string& type, const std::string& message, double time_s) {
    o << "    <testcase classname=\"" << xml_escape(classname) << "\" name=\"" << xml_escape(name) << "\" time=\""
      << num(time_s) << "\"";
    if (pass) {
        o << "/>\n";
        return;
    }
    o << ">\n      <failure type=\"" << xml_escape(type) << "\" message=\"" << xml_escape(message) << "\">"
      << xml_escape(message) << "</failure>\n    </testcase>\n";
}
}  // namespace

std::string to_junit(const Report& r) {
    std::ostringstream body;
    int tests = 0, failures = 0;
    const std::string base = "netchaos." + r.name;
    for (const auto& p : r.phases) {
        std::ostringstream cases;
        int t = 0, f = 0;
        for (const auto& c : p.checks) {
            ++t;
            f += !c.pass;
            testcase(cases, base + "." + p.name, c.name, c.pass, c.kind == Check::Kind::fidelity ? "fidelity" : "slo",
                     c.detail, p.end_s - p.start_s);
        }
        for (const auto& fi : p.fidelity) {
            if (!fi.applicable) continue;
            ++t;
            f += !fi.pass;
            std::string msg = "rtt mean " + num(fi.measured_mean_ms) + " ms vs predicted " + num(fi.predicted_mean_ms) +
                              " ms (" + num(fi.mean_error * 100) + "%), sigma " + num(fi.measured_sigma_ms) +
                              " ms vs predicted " + num(fi.predicted_sigma_ms) + " ms (" + num(fi.sigma_error * 100) +
                              "%), tolerance " + num(fi.tolerance * 100) + "%; " + fi.rule;
            testcase(cases, base + "." + p.name, "fidelity " + fi.step, fi.pass, "fidelity", msg,
                     p.end_s - p.start_s);
        }
        tests += t;
        failures += f;
        body << "  <testsuite name=\"" << xml_escape(base + "." + p.name) << "\" tests=\"" << t << "\" failures=\"" << f
             << "\" errors=\"0\" time=\"" << num(p.end_s - p.start_s) << "\">\n"
             << cases.str() << "  </testsuite>\n";
    }
    if (r.command) {
        ++tests;
        bool ok = r.command->exit_code == 0;
        failures += !ok;
        std::string cmd;
        for (const auto& a : r.command->argv) cmd += (cmd.empty() ? "" : " ") + a;
        std::ostringstream cases;
        testcase(cases, base + ".command", cmd, ok, "command", "exit status " + std::to_string(r.command->exit_code),
                 r.command->duration_s);
        std::string tail;
        for (const auto& l : r.command->output_tail) tail += l + "\n";
        if (!tail.empty()) {   // CI shows a testsuite's system-out next to the failure
            std::string c = cases.str();
            cases.str("");
            cases << c << "    <system-out>" << xml_escape(tail) << "</system-out>\n";
        }
        body << "  <testsuite name=\"" << xml_escape(base + ".command") << "\" tests=\"1\" failures=\"" << !ok
             << "\" errors=\"0\" time=\"" << num(r.command->duration_s) << "\">\n"
             << cases.str() << "  </testsuite>\n";
    }
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" << xml_escape(base) << "\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"0\" time=\"" << num(r.duration_s) << "\">\n"
      << body.str() << "</testsuites>\n";
    return o.str();
}

}  // namespace netchaos::report
