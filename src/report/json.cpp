// Machine-readable report (--json FILE).
#include <nlohmann/json.hpp>

#include "report/report.hpp"

namespace netchaos::report {

namespace {
const char* kind_name(Check::Kind k) {
    switch (k) {
    case Check::Kind::slo: return "slo";
    case Check::Kind::fidelity: return "fidelity";
    case Check::Kind::command: return "command";
    }
    return "?";
}

double ms(double ns) { return ns / 1e6; }
double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

nlohmann::json stats_json(const Stats& s) {
    return {{"sent", s.sent},
            {"received", s.received},
            {"lost", s.lost},
            {"loss", s.loss},
            {"duplicates", s.duplicates},
            {"reordered", s.reordered},
            {"rtt_mean_ms", ms(s.rtt_mean_ns)},
            {"rtt_stddev_ms", ms(s.rtt_stddev_ns)},
            {"rtt_min_ms", ms(s.rtt_min)},
            {"p50_ms", ms(s.p50)},
            {"p90_ms", ms(s.p90)},
            {"p99_ms", ms(s.p99)},
            {"p999_ms", ms(s.p999)},
            {"max_ms", ms(s.rtt_max)},
            {"ipdv_mean_ms", ms(s.ipdv_mean_ns)},
            {"jitter_rfc3550_ms", ms(s.jitter_rfc3550_ns)},
            {"windows", s.windows},
            {"jitter_1s_max_ms", ms(s.jitter_1s_max_ns)},
            {"spike_ratio", s.spike_ratio},
            {"report_points", s.report_points},
            {"alert_fired", s.alert_fired},
            {"alert_max_consecutive", s.alert_max_consecutive}};
}
}  // namespace

std::string to_json(const Report& r) {
    nlohmann::json j;
    j["name"] = r.name;
    j["description"] = r.description;
    j["source"] = r.source;
    j["target"] = r.target;
    j["probe"] = r.probe;
    j["duration_s"] = r.duration_s;
    j["exit_code"] = r.exit_code;
    j["verdict"] = r.verdict;
    j["notes"] = r.notes;
    auto& targets = j["targets"] = nlohmann::json::array();
    for (const auto& t : r.targets)
        targets.push_back({{"name", t.name}, {"describe", t.describe}, {"switches", t.switches},
                           {"switch_median_ms", t.switch_median_ms}, {"switch_max_ms", t.switch_max_ms},
                           {"state", t.state}, {"rollback", t.rollback}, {"note", t.note}});
    if (r.skew) j["switch_skew"] = {{"switches", r.skew->switches}, {"median_ms", r.skew->median_ms}, {"max_ms", r.skew->max_ms}};
    auto& phases = j["phases"] = nlohmann::json::array();
    for (const auto& p : r.phases) {
        nlohmann::json jp{{"name", p.name},   {"kind", p.kind},       {"profile", p.profile},
                          {"model", p.model}, {"start_s", p.start_s}, {"end_s", p.end_s}, {"settle_s", p.settle_s},
                          {"pass", p.pass()}, {"stats", stats_json(p.stats)}};
        auto& checks = jp["checks"] = nlohmann::json::array();
        for (const auto& c : p.checks)
            checks.push_back({{"kind", kind_name(c.kind)},
                              {"name", c.name},
                              {"value", c.value},
                              {"limit", c.limit},
                              {"unit", c.unit},
                              {"pass", c.pass},
                              {"detail", c.detail}});
        auto& fid = jp["fidelity"] = nlohmann::json::array();
        for (const auto& f : p.fidelity)
            fid.push_back({{"step", f.step},
                           {"applicable", f.applicable},
                           {"predicted_mean_ms", f.predicted_mean_ms},
                           {"predicted_sigma_ms", f.predicted_sigma_ms},
                           {"measured_mean_ms", f.measured_mean_ms},
                           {"measured_sigma_ms", f.measured_sigma_ms},
                           {"mean_error", f.mean_error},
                           {"sigma_error", f.sigma_error},
                           {"tolerance", f.tolerance},
                           {"allowed_mean_ms", f.allowed_mean_ms},
                           {"allowed_sigma_ms", f.allowed_sigma_ms},
                           {"requested_mean_ms", f.requested_mean_ms},
                           {"requested_sigma_ms", f.requested_sigma_ms},
                           {"engine", f.engine ? nlohmann::json{{"drawn_mean_ms", f.engine->drawn_mean_ms},
                                                                {"drawn_sigma_ms", f.engine->drawn_sigma_ms},
                                                                {"predicted_drawn_mean_ms", f.engine->predicted_drawn_mean_ms},
                                                                {"predicted_drawn_sigma_ms", f.engine->predicted_drawn_sigma_ms},
                                                                {"delivered_mean_ms", f.engine->delivered_mean_ms},
                                                                {"delivered_sigma_ms", f.engine->delivered_sigma_ms},
                                                                {"pushed", f.engine->pushed},
                                                                {"path_ms", f.engine->path_ms},
                                                                {"cross_hz", f.engine->cross_hz},
                                                                {"pass", f.engine->pass}}
                                                : nlohmann::json(nullptr)},
                           {"mode", f.mode},
                           {"warning", f.warning},
                           {"rule", f.rule},
                           {"pass", f.pass},
                           {"note", f.note}});
        phases.push_back(std::move(jp));
    }
    if (r.command)
        j["command"] = {{"argv", r.command->argv},
                        {"exit_code", r.command->exit_code},
                        {"duration_s", r.command->duration_s},
                        {"start_s", r.command->start_s},
                        {"output_lines", r.command->output_lines},
                        {"output_tail", r.command->output_tail}};
    else
        j["command"] = nullptr;
    // Replace, never throw: one bad byte in a command line must not cost the report.
    return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace netchaos::report
