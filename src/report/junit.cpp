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
}  // namespace

std::string junit_xml(const std::string& name, double time_s, const std::vector<JunitSuite>& suites) {
    std::ostringstream body;
    std::size_t tests = 0, failures = 0;
    for (const auto& s : suites) {
        std::size_t f = 0;
        std::ostringstream cases;
        for (const auto& c : s.cases) {
            cases << "    <testcase classname=\"" << xml_escape(c.classname) << "\" name=\"" << xml_escape(c.name) << "\" time=\""
                  << num(c.time_s) << "\"";
            if (c.pass) {
                cases << "/>\n";
                continue;
            }
            ++f;
            cases << ">\n      <failure type=\"" << xml_escape(c.type) << "\" message=\"" << xml_escape(c.message) << "\">"
                  << xml_escape(c.message) << "</failure>\n    </testcase>\n";
        }
        tests += s.cases.size();
        failures += f;
        body << "  <testsuite name=\"" << xml_escape(s.name) << "\" tests=\"" << s.cases.size() << "\" failures=\"" << f
             << "\" errors=\"0\" time=\"" << num(s.time_s) << "\">\n";
        if (!s.properties.empty()) {
            body << "    <properties>\n";
            for (const auto& [k, v] : s.properties)
                body << "      <property name=\"" << xml_escape(k) << "\" value=\"" << num(v) << "\"/>\n";
            body << "    </properties>\n";
        }
        body << cases.str();
        if (!s.system_out.empty()) body << "    <system-out>" << xml_escape(s.system_out) << "</system-out>\n";
        body << "  </testsuite>\n";
    }
    std::ostringstream o;
    o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" << xml_escape(name) << "\" tests=\"" << tests
      << "\" failures=\"" << failures << "\" errors=\"0\" time=\"" << num(time_s) << "\">\n"
      << body.str() << "</testsuites>\n";
    return o.str();
}

std::string to_junit(const Report& r) {
    std::vector<JunitSuite> suites;
    const std::string base = "netchaos." + r.name;
    for (const auto& p : r.phases) {
        JunitSuite s{base + "." + p.name, p.end_s - p.start_s, {}, {}, {}};
        for (const auto& c : p.checks)
            s.cases.push_back({s.name, c.name, c.pass, c.kind == Check::Kind::fidelity ? "fidelity" : "slo", c.detail, s.time_s});
        for (const auto& fi : p.fidelity) {
            if (!fi.applicable) continue;
            std::string msg = "rtt mean " + num(fi.measured_mean_ms) + " ms vs predicted " + num(fi.predicted_mean_ms) +
                              " ms (" + num(fi.mean_error * 100) + "%), sigma " + num(fi.measured_sigma_ms) +
                              " ms vs predicted " + num(fi.predicted_sigma_ms) + " ms (" + num(fi.sigma_error * 100) +
                              "%), tolerance " + num(fi.tolerance * 100) + "%; " + fi.rule;
            s.cases.push_back({s.name, "fidelity " + fi.step, fi.pass, "fidelity", msg, s.time_s});
        }
        suites.push_back(std::move(s));
    }
    // One case per target: did it switch and roll back. A target that went away mid-run is
    // not a failure of the run (its namespace and qdiscs went with it): it passes, and says so.
    if (!r.targets.empty()) {
        JunitSuite s{base + ".targets", r.duration_s, {}, {}, {}};
        for (const auto& t : r.targets) {
            const bool ok = t.state != "failed" && !t.rollback.starts_with("failed");
            std::string msg = t.describe + ": " + std::to_string(t.switches) + " switches, median " + num(t.switch_median_ms) +
                              " ms, max " + num(t.switch_max_ms) + " ms; rollback " + t.rollback + (t.note.empty() ? "" : "; " + t.note);
            s.cases.push_back({s.name, t.name.empty() ? "target" : t.name, ok, "target", msg, 0});
        }
        suites.push_back(std::move(s));
    }
    if (r.command) {
        std::string cmd, tail;
        for (const auto& a : r.command->argv) cmd += (cmd.empty() ? "" : " ") + a;
        for (const auto& l : r.command->output_tail) tail += l + "\n";
        const bool ok = r.command->exit_code == 0;
        suites.push_back({base + ".command", r.command->duration_s, {},
                          {{base + ".command", cmd, ok, "command", "exit status " + std::to_string(r.command->exit_code),
                            r.command->duration_s}},
                          tail});
    }
    return junit_xml(base, r.duration_s, suites);
}

}  // namespace netchaos::report
