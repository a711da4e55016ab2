#include "probe/output.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "report/report.hpp"

namespace netchaos::probe {

namespace {
double ms(double ns) { return ns / 1e6; }
double ms(Nanos d) { return static_cast<double>(d.count()) / 1e6; }

Result<void> write_file(const std::filesystem::path& file, const std::string& text) {
    std::ofstream f(file, std::ios::binary | std::ios::trunc);
    if (!f) return make_error("cannot write " + file.string());
    f << text;
    f.close();
    if (!f) return make_error("error writing " + file.string());
    return {};
}
}  // namespace

std::vector<metrics::Outcome> outcomes(const metrics::Summary& s, const profile::Thresholds& t,
                                       std::optional<Nanos> baseline_p99) {
    std::vector<metrics::Outcome> out{{"reachable", s.received > 0 || s.sent == 0 ? 1.0 : 0.0, 1.0,
                                       s.received > 0 || s.sent == 0}};
    for (auto& o : metrics::evaluate(s, t, baseline_p99)) out.push_back(std::move(o));
    return out;
}

nlohmann::ordered_json summary_json(const metrics::Summary& s, const ProbeRun& run,
                                    const std::vector<metrics::Outcome>& outcomes, const nlohmann::json& info) {
    const auto missed = metrics::misses(outcomes);
    nlohmann::ordered_json j;
    j["type"] = "summary";
    j["sent"] = s.sent;
    j["received"] = s.received;
    j["lost"] = s.lost;
    j["loss"] = s.loss;
    j["duplicates"] = s.duplicates;
    j["reordered"] = s.reordered;
    j["rtt_mean_ms"] = ms(s.rtt_mean_ns);
    j["rtt_stddev_ms"] = ms(s.rtt_stddev_ns);
    j["p50_ms"] = ms(s.p50);
    j["p90_ms"] = ms(s.p90);
    j["p99_ms"] = ms(s.p99);
    j["p999_ms"] = ms(s.p999);
    j["ipdv_mean_ms"] = ms(s.ipdv_mean_ns);
    j["jitter_rfc3550_ms"] = ms(s.jitter_rfc3550_ns);
    j["jitter_1s_max_ms"] = ms(s.jitter_1s_max_ns);
    j["spike_ratio"] = s.spike_ratio;
    j["send_error_max_us"] = run.timing.error_max_ns / 1e3;
    j["verdict"] = missed.empty() ? "pass" : "fail";
    auto m = nlohmann::ordered_json::array();
    for (const metrics::Outcome& x : missed) m.push_back({{"name", x.name}, {"value", x.value}, {"limit", x.limit}});
    j["missed"] = m;
    if (!s.http_status.empty()) {
        auto codes = nlohmann::ordered_json::object();
        for (const auto& [code, n] : s.http_status) codes[std::to_string(code)] = n;
        j["http_status"] = codes;
    }
    // Beyond the contract: context for people and plots.
    j["rtt_min_ms"] = ms(s.rtt_min);
    j["rtt_max_ms"] = ms(s.rtt_max);
    j["send_error_mean_us"] = run.timing.error_mean_ns / 1e3;
    j["send_span_s"] = static_cast<double>(run.timing.last_ns - run.timing.first_ns) / 1e9;
    j["send_last_error_us"] = static_cast<double>(run.timing.last_error_ns) / 1e3;
    j["sends_late_by_a_period"] = run.timing.late_by_a_period;
    j["send_errors"] = run.send_errors;
    j["late"] = run.late;
    j["garbage"] = run.garbage;
    j["kernel_tx_stamps"] = run.kernel_tx;
    j["kernel_rx_stamps"] = run.kernel_rx;
    j["alert_fired"] = s.alert_fired;
    j["alert_max_consecutive"] = s.alert_max_consecutive;
    j["interrupted"] = run.interrupted;
    j["realtime"] = run.realtime;
    for (const auto& [k, v] : info.items()) j[k] = v;
    return j;
}

std::string progress_line(const metrics::Window& w, double rate_hz) {
    char jitter[32] = "-";
    if (w.jitter_ns) std::snprintf(jitter, sizeof jitter, "%.3f ms", ms(*w.jitter_ns));
    char buf[200];
    std::snprintf(buf, sizeof buf, "%7.1fs  %g/s  rtt %.3f ms  jitter_1s %s  spike %.2f  loss %.2f%%",
                  std::chrono::duration<double>(w.end).count(), rate_hz, ms(w.rtt_mean_ns), jitter, w.spike_ratio,
                  w.loss * 100);
    return buf;
}

Result<void> write_junit(const std::filesystem::path& file, const metrics::Summary& s,
                         const std::vector<metrics::Outcome>& outcomes, double elapsed_s, const std::string& target) {
    report::JunitSuite suite{"netchaos.probe " + target, elapsed_s, {}, {}, {}};
    suite.properties = {{"sent", double(s.sent)},          {"received", double(s.received)},
                        {"loss", s.loss},                  {"rtt_mean_ms", ms(s.rtt_mean_ns)},
                        {"rtt_stddev_ms", ms(s.rtt_stddev_ns)}, {"p99_ms", ms(s.p99)},
                        {"jitter_1s_max_ms", ms(s.jitter_1s_max_ns)}, {"spike_ratio", s.spike_ratio}};
    for (const metrics::Outcome& oc : outcomes)
        suite.cases.push_back({"netchaos.probe", oc.name, oc.pass, "threshold", metrics::describe(oc), elapsed_s});
    return write_file(file, report::junit_xml("netchaos.probe", elapsed_s, {suite}));
}

}  // namespace netchaos::probe
