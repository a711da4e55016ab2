// Text output: one progress line per phase and the final summary table.
#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>

#include "report/report.hpp"

namespace netchaos::report {

bool Phase::pass() const {
    for (const auto& c : checks)
        if (!c.pass) return false;
    for (const auto& f : fidelity)
        if (!f.pass) return false;
    return true;
}

namespace {
std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

std::string fidelity_word(const Phase& p) {
    if (p.fidelity.empty()) return "-";
    // The worst deviation as a share of what its check allowed (tolerance or the ms floors):
    // a relative error printed next to a 10% tolerance reads as a miss when a floor passed it.
    double worst = 0;
    bool any = false, ok = true;
    auto share = [](double meas, double want, double allowed) {
        return allowed > 0 ? std::abs(meas - want) / allowed : 0.0;
    };
    for (const auto& f : p.fidelity) {
        if (!f.applicable) continue;
        any = true;
        ok = ok && f.pass && !f.warning;
        if (f.engine) {
            // The forwarder's counters decided: the engine's draws against its model.
            worst = std::max(worst, f.engine->share);
            continue;
        }
        worst = std::max({worst, share(f.measured_mean_ms, f.predicted_mean_ms, f.allowed_mean_ms),
                          share(f.measured_sigma_ms, f.predicted_sigma_ms, f.allowed_sigma_ms)});
    }
    if (!any) return "n/a";
    bool gated = true;
    for (const auto& f : p.fidelity) gated = gated && f.pass;
    return std::string(ok ? "ok" : gated ? "warn" : "MISS") + " (" + fmt("%.0f", worst * 100) + "% of limit)";
}
}  // namespace

std::string progress_line(const Phase& p, double elapsed_s, double total_s) {
    std::ostringstream o;
    o << "[" << fmt("%6.1f", elapsed_s) << "s/" << fmt("%.1f", total_s) << "s] " << p.kind << " '" << p.name
      << "' rtt " << fmt("%.2f", p.stats.rtt_mean_ns / 1e6) << "ms sigma " << fmt("%.2f", p.stats.rtt_stddev_ns / 1e6)
      << "ms jitter_1s " << fmt("%.2f", p.stats.jitter_1s_max_ns / 1e6) << "ms spike " << fmt("%.2f", p.stats.spike_ratio)
      << " loss " << fmt("%.2f", p.stats.loss * 100) << "% fidelity " << fidelity_word(p);
    return o.str();
}

std::string summary_table(const Report& r) {
    std::ostringstream o;
    char line[512];
    std::snprintf(line, sizeof line, "%-24s %-8s %7s %7s %8s %8s %8s %9s %6s %7s %-22s %s\n", "phase", "kind", "time_s",
                  "sent", "mean_ms", "sigma_ms", "p99_ms", "jit1s_ms", "spike", "loss%", "fidelity", "verdict");
    o << line;
    for (const auto& p : r.phases) {
        std::string name = p.name.size() > 24 ? p.name.substr(0, 21) + "..." : p.name;
        std::snprintf(line, sizeof line, "%-24s %-8s %7.1f %7llu %8.2f %8.2f %8.2f %9.2f %6.2f %7.3f %-22s %s\n",
                      name.c_str(), p.kind.c_str(), p.end_s - p.start_s, static_cast<unsigned long long>(p.stats.sent),
                      p.stats.rtt_mean_ns / 1e6, p.stats.rtt_stddev_ns / 1e6, p.stats.p99.count() / 1e6, p.stats.jitter_1s_max_ns / 1e6, p.stats.spike_ratio,
                      p.stats.loss * 100, fidelity_word(p).c_str(), p.pass() ? "pass" : "FAIL");
        o << line;
    }
    for (const auto& p : r.phases)
        if (p.settle_s > 0)
            o << "  " << p.name << ": the first " << fmt("%.2f", p.settle_s)
              << " s are left out of its statistics (settle: packets still queued behind the previous phase's delay)\n";
    for (const auto& p : r.phases)
        for (const auto& c : p.checks)
            if (!c.pass) o << "  missed: " << p.name << ": " << c.detail << "\n";
    // The fidelity table: requested -> predicted under the profile's semantics -> what the
    // engine drew and delivered (DPDK) -> measured, each as RTT mean/sigma, and the rule.
    bool header = false;
    for (const auto& p : r.phases)
        for (const auto& f : p.fidelity) {
            if (f.rule.empty()) continue;
            if (!header) {
                std::snprintf(line, sizeof line, "fidelity (rtt mean/sigma ms)  %-13s %-13s %-13s %-13s %-13s %s\n",
                              "requested", "predicted", "engine-drawn", "delivered", "measured", "result");
                o << line;
                header = true;
            }
            auto pair = [](double a, double b) { return fmt("%.2f", a) + "/" + fmt("%.2f", b); };
            std::string step = p.name + (f.step == p.name ? "" : " " + f.step);
            if (step.size() > 29) step = step.substr(0, 26) + "...";
            const bool fault = f.applicable || f.predicted_mean_ms != f.requested_mean_ms || f.engine;
            std::snprintf(line, sizeof line, "  %-28s %-13s %-13s %-13s %-13s %-13s %s\n", step.c_str(),
                          fault ? pair(f.requested_mean_ms, f.requested_sigma_ms).c_str() : "-",
                          pair(f.predicted_mean_ms, f.predicted_sigma_ms).c_str(),
                          f.engine ? pair(f.engine->drawn_mean_ms, f.engine->drawn_sigma_ms).c_str() : "-",
                          f.engine ? pair(f.engine->delivered_mean_ms, f.engine->delivered_sigma_ms).c_str() : "-",
                          pair(f.measured_mean_ms, f.measured_sigma_ms).c_str(),
                          !f.applicable ? "n/a" : !f.pass ? "MISS" : f.warning ? "warn" : "ok");
            o << line << "    " << (f.pass ? "" : "fidelity: ") << f.rule << "\n";
        }
    if (r.command) {
        o << "command: exit " << r.command->exit_code << " after " << fmt("%.1f", r.command->duration_s) << "s (started at "
          << fmt("%.1f", r.command->start_s) << "s), " << r.command->output_lines << " lines of output";
        // A failed command's last words belong next to its exit status.
        if (r.command->exit_code != 0 && !r.command->output_tail.empty()) {
            const auto& t = r.command->output_tail;
            const std::size_t n = std::min<std::size_t>(t.size(), 10);
            o << "; the last " << n << ":\n";
            for (std::size_t i = t.size() - n; i < t.size(); ++i) o << "  | " << t[i] << "\n";
        } else {
            o << "\n";
        }
    }
    if (r.targets.size() > 1 || (r.targets.size() == 1 && r.targets[0].state != "ok"))
        for (const auto& t : r.targets)
            o << "target " << (t.name.empty() ? "" : t.name + " ") << "(" << t.describe << "): " << t.switches << " switches, median "
              << fmt("%.3f", t.switch_median_ms) << " ms, max " << fmt("%.3f", t.switch_max_ms) << " ms; " << t.state
              << (t.note.empty() ? "" : " (" + t.note + ")") << "; rollback " << t.rollback << "\n";
    if (r.skew)
        o << "switch skew between targets: " << r.skew->switches << " switches, median " << fmt("%.3f", r.skew->median_ms)
          << " ms, max " << fmt("%.3f", r.skew->max_ms) << " ms\n";
    for (const auto& n : r.notes) o << "note: " << n << "\n";
    o << "verdict: " << r.verdict << " (exit " << r.exit_code << ")\n";
    return o.str();
}

std::string valid_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        // Sequence length and the lowest code point it may encode (overlongs are invalid).
        std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
        bool ok = n > 0 && i + n <= s.size();
        std::uint32_t cp = n == 1 ? b : n == 2 ? (b & 0x1f) : n == 3 ? (b & 0x0f) : (b & 0x07);
        for (std::size_t k = 1; ok && k < n; ++k) {
            const auto c = static_cast<unsigned char>(s[i + k]);
            ok = (c & 0xc0) == 0x80;
            cp = (cp << 6) | (c & 0x3f);
        }
        static constexpr std::uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        ok = ok && cp >= min_cp[n] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (ok) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\xEF\xBF\xBD";   // U+FFFD, one per bad byte
            ++i;
        }
    }
    return out;
}

std::string xml_escape(const std::string& raw) {
    const std::string s = valid_utf8(raw);
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default:
            // XML 1.0 forbids most control characters even escaped.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') out += '?';
            else out += c;
        }
    }
    return out;
}

}  // namespace netchaos::report
