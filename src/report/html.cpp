// Self-contained HTML report: inline CSS, inline SVG plots drawn here, no script, no
// external asset. Opens from a CI artifact without network access.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/report.hpp"

namespace netchaos::report {

namespace {
std::string num(double v, const char* f = "%.2f") {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// A "nice" tick step (1, 2, 5 x 10^k) giving about `n` ticks over `span`.
double nice_step(double span, int n) {
    if (span <= 0) return 1;
    double raw = span / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
    double r = raw / mag;
    return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * mag;
}

const char* band_color(const Phase& p, std::size_t i) {
    if (p.kind != "phase") return "#e8f1e8";
    static const char* colors[] = {"#fde9d9", "#e3e9f8", "#f8e3f4", "#fff4cc", "#e0f4f4"};
    return colors[i % 5];
}

struct Axes {
    double x0, x1, y0, y1;     // data ranges
    int left = 56, right = 12, top = 14, bottom = 36, w = 0, h = 0;
    double px(double x) const { return left + (x - x0) / (x1 - x0) * (w - left - right); }
    double py(double y) const { return h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom); }
};

// Enough decimals that neighbouring ticks differ (a 0.01 ms step printed as "0.0" repeated).
const char* tick_format(double step) {
    return step >= 1 ? "%.0f" : step >= 0.1 ? "%.1f" : step >= 0.01 ? "%.2f" : step >= 0.001 ? "%.3f" : "%.4f";
}

void draw_axes(std::ostringstream& o, const Axes& a, const char* xlabel, const char* ylabel) {
    o << "<g class=\"axes\" font-size=\"11\" fill=\"#333\">";
    o << "<line x1=\"" << a.left << "\" y1=\"" << a.h - a.bottom << "\" x2=\"" << a.w - a.right << "\" y2=\""
      << a.h - a.bottom << "\" stroke=\"#333\"/>";
    o << "<line x1=\"" << a.left << "\" y1=\"" << a.top << "\" x2=\"" << a.left << "\" y2=\"" << a.h - a.bottom
      << "\" stroke=\"#333\"/>";
    double xs = nice_step(a.x1 - a.x0, 8);
    for (double x = std::ceil(a.x0 / xs) * xs; x <= a.x1 + 1e-9; x += xs)
        o << "<text x=\"" << num(a.px(x), "%.1f") << "\" y=\"" << a.h - a.bottom + 14
          << "\" text-anchor=\"middle\">" << num(x, tick_format(xs)) << "</text>";
    double ys = nice_step(a.y1 - a.y0, 5);
    for (double y = std::ceil(a.y0 / ys) * ys; y <= a.y1 + 1e-9; y += ys) {
        o << "<line x1=\"" << a.left << "\" y1=\"" << num(a.py(y), "%.1f") << "\" x2=\"" << a.w - a.right
          << "\" y2=\"" << num(a.py(y), "%.1f") << "\" stroke=\"#ddd\"/>";
        o << "<text x=\"" << a.left - 4 << "\" y=\"" << num(a.py(y) + 4, "%.1f") << "\" text-anchor=\"end\">"
          << num(y, tick_format(ys)) << "</text>";
    }
    o << "<text x=\"" << (a.left + a.w - a.right) / 2 << "\" y=\"" << a.h - 4 << "\" text-anchor=\"middle\">"
      << xlabel << "</text>";
    o << "<text transform=\"translate(12," << (a.top + a.h - a.bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
      << ylabel << "</text></g>";
}
}  // namespace

std::string svg_timeline(const Report& r, int width, int height) {
    double tmax = r.duration_s;
    double ymax = 1;
    std::vector<double> rtts;
    for (const auto& p : r.timeline) {
        tmax = std::max(tmax, p.t_s);
        if (!p.lost) rtts.push_back(p.rtt_ms);
    }
    for (const auto& ph : r.phases) tmax = std::max(tmax, ph.end_s);
    if (!rtts.empty()) {  // clip the y range at p99.9 so one outlier does not flatten the plot
        std::sort(rtts.begin(), rtts.end());
        ymax = std::max(1.0, rtts[std::min(rtts.size() - 1, std::size_t(rtts.size() * 0.999))] * 1.1);
    }
    Axes a{0, std::max(tmax, 1.0), 0, ymax};
    a.w = width;
    a.h = height;
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"timeline\" class=\"plot timeline\" width=\"" << width
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\">";
    o << "<title>RTT timeline with phase bands</title>";
    o << "<g class=\"bands\">";
    for (std::size_t i = 0; i < r.phases.size(); ++i) {
        const auto& ph = r.phases[i];
        double x0 = a.px(ph.start_s), x1 = a.px(std::min(ph.end_s, a.x1));
        o << "<rect class=\"band\" x=\"" << num(x0, "%.1f") << "\" y=\"" << a.top << "\" width=\""
          << num(std::max(0.0, x1 - x0), "%.1f") << "\" height=\"" << a.h - a.top - a.bottom << "\" fill=\""
          << band_color(ph, i) << "\"><title>" << xml_escape(ph.name) << "</title></rect>";
        o << "<text x=\"" << num(x0 + 3, "%.1f") << "\" y=\"" << a.top + 11 << "\" font-size=\"10\" fill=\"#555\">"
          << xml_escape(ph.name) << "</text>";
    }
    o << "</g>";
    draw_axes(o, a, "time since start (s)", "RTT (ms)");
    // Received packets as 1.5 px dots in one path; lost packets as red ticks on the axis.
    std::ostringstream dots, lost;
    for (const auto& p : r.timeline) {
        double x = a.px(p.t_s);
        if (p.lost) {
            lost << "M" << num(x, "%.1f") << " " << a.h - a.bottom << "v-6";
        } else {
            double y = a.py(std::min(p.rtt_ms, ymax));
            dots << "M" << num(x, "%.1f") << " " << num(y, "%.1f") << "h1.5";
        }
    }
    o << "<path class=\"rtt\" d=\"" << dots.str() << "\" stroke=\"#1f4e9c\" stroke-width=\"1.5\" fill=\"none\"/>";
    if (!lost.str().empty())
        o << "<path class=\"lost\" d=\"" << lost.str() << "\" stroke=\"#c0392b\" stroke-width=\"1\" fill=\"none\"/>";
    o << "</svg>";
    return o.str();
}

std::string svg_histogram(const Phase& p, int width, int height) {
    double lo = 0, hi = 1;
    if (!p.rtt_ms.empty()) {
        auto s = p.rtt_ms;
        std::sort(s.begin(), s.end());
        lo = s.front();
        hi = s[std::min(s.size() - 1, std::size_t(s.size() * 0.995))];
    }
    for (const auto& [x, d] : p.density)
        if (d > 1e-6) lo = std::min(lo, x), hi = std::max(hi, x);
    lo = std::max(0.0, lo);
    if (hi - lo < 0.05) hi = lo + 0.05;
    const int bins = 40;
    double bw = (hi - lo) / bins;
    std::vector<double> counts(bins, 0);
    for (double v : p.rtt_ms) {
        int b = static_cast<int>((v - lo) / bw);
        if (b >= 0 && b < bins) counts[b] += 1;
    }
    double n = static_cast<double>(p.rtt_ms.size());
    double dmax = 1e-9;
    for (auto& c : counts) c = n > 0 ? c / (n * bw) : 0, dmax = std::max(dmax, c);
    for (const auto& [x, d] : p.density)
        if (x >= lo && x <= hi) dmax = std::max(dmax, d);
    Axes a{lo, hi, 0, dmax * 1.1};
    a.w = width;
    a.h = height;
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot histogram\" data-phase=\"" << xml_escape(p.name)
      << "\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
      << "\" role=\"img\"><title>RTT histogram: " << xml_escape(p.name) << "</title>";
    draw_axes(o, a, "RTT (ms)", "density (1/ms)");
    o << "<g class=\"bars\" fill=\"#7fa7d9\">";
    for (int b = 0; b < bins; ++b) {
        if (counts[b] <= 0) continue;
        double x0 = a.px(lo + b * bw), x1 = a.px(lo + (b + 1) * bw), y = a.py(counts[b]);
        o << "<rect x=\"" << num(x0, "%.1f") << "\" y=\"" << num(y, "%.1f") << "\" width=\""
          << num(std::max(0.5, x1 - x0 - 0.5), "%.1f") << "\" height=\"" << num(a.py(0) - y, "%.1f") << "\"/>";
    }
    o << "</g>";
    if (!p.density.empty()) {
        o << "<polyline class=\"density\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"";
        for (const auto& [x, d] : p.density)
            if (x >= lo && x <= hi) o << num(a.px(x), "%.1f") << "," << num(a.py(d), "%.1f") << " ";
        o << "\"><title>requested distribution</title></polyline>";
    }
    o << "</svg>";
    return o.str();
}

std::string svg_replay_jitter(const Phase& p, int width, int height) {
    const auto& a = p.replay_jitter_original_ms;
    const auto& b = p.replay_jitter_replayed_ms;
    const std::size_t n = std::max(a.size(), b.size());
    double ymax = 1e-3;
    for (const auto* s : {&a, &b})
        for (double v : *s)
            if (!std::isnan(v)) ymax = std::max(ymax, v);
    Axes ax{0, std::max<double>(1.0, static_cast<double>(n)), 0, ymax * 1.1};
    ax.w = width;
    ax.h = height;
    std::ostringstream o;
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot replay-jitter\" data-phase=\"" << xml_escape(p.name)
      << "\" width=\"" << width << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
      << "\" role=\"img\"><title>jitter_1s, recorded vs replayed: " << xml_escape(p.name) << "</title>";
    draw_axes(o, ax, "time since the phase started (s, 1 s windows)", "jitter_1s (ms)");
    // A gap (window without jitter_1s) breaks the line.
    auto line = [&](const std::vector<double>& s, const char* cls, const char* color, const char* dash) {
        o << "<path class=\"" << cls << "\" fill=\"none\" stroke=\"" << color << "\" stroke-width=\"1.5\"" << dash << " d=\"";
        bool pen = false;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (std::isnan(s[i])) {
                pen = false;
                continue;
            }
            o << (pen ? "L" : "M") << num(ax.px(static_cast<double>(i) + 0.5), "%.1f") << " " << num(ax.py(s[i]), "%.1f");
            pen = true;
        }
        o << "\"/>";
    };
    line(a, "original", "#1f4e9c", "");
    line(b, "replayed", "#c0392b", " stroke-dasharray=\"4 2\"");
    o << "</svg>";
    return o.str();
}

std::string to_html(const Report& r) {
    std::ostringstream o;
    o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>netchaos: " << xml_escape(r.name)
      << "</title>\n<style>body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;"
         "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:13px}"
         "th{background:#f2f2f2}td.l,th.l{text-align:left}.pass{color:#1e7b34;font-weight:bold}"
         ".fail{color:#b00020;font-weight:bold}.hists{display:flex;flex-wrap:wrap;gap:12px}"
         ".hists figure{margin:0}figcaption{font-size:13px}.legend{font-size:12px;color:#555}</style>\n"
         "</head><body>\n";
    o << "<h1>netchaos run: " << xml_escape(r.name) << "</h1>\n";
    o << "<p class=\"verdict " << (r.exit_code == 0 ? "pass" : "fail") << "\" id=\"verdict\">verdict: "
      << xml_escape(r.verdict) << " (exit " << r.exit_code << ")</p>\n";
    o << "<p>" << xml_escape(r.description) << "</p>\n<table><tr><th class=\"l\">experiment</th><td class=\"l\">"
      << xml_escape(r.source) << "</td></tr><tr><th class=\"l\">target</th><td class=\"l\">" << xml_escape(r.target)
      << "</td></tr><tr><th class=\"l\">probe</th><td class=\"l\">" << xml_escape(r.probe)
      << "</td></tr><tr><th class=\"l\">duration</th><td class=\"l\">" << num(r.duration_s, "%.1f") << " s</td></tr>";
    if (r.command) {
        std::string cmd;
        for (const auto& s : r.command->argv) cmd += (cmd.empty() ? "" : " ") + s;
        o << "<tr><th class=\"l\">command</th><td class=\"l\">" << xml_escape(cmd) << " &rarr; exit "
          << r.command->exit_code << " after " << num(r.command->duration_s, "%.1f") << " s (from " << num(r.command->start_s, "%.1f")
          << " s)</td></tr>";
        if (r.command->output_lines) {
            std::string tail;
            for (const auto& l : r.command->output_tail) tail += l + "\n";
            o << "<tr><th class=\"l\">output</th><td class=\"l\"><details><summary>last " << r.command->output_tail.size() << " of "
              << r.command->output_lines << " lines</summary><pre>" << xml_escape(tail) << "</pre></details></td></tr>";
        }
    }
    o << "</table>\n";
    if (r.targets.size() > 1 || (r.targets.size() == 1 && r.targets[0].state != "ok")) {
        o << "<h2>targets</h2>\n<table id=\"targets\"><tr><th class=\"l\">target</th><th class=\"l\">where</th><th>switches</th>"
             "<th>median ms</th><th>max ms</th><th class=\"l\">state</th><th class=\"l\">rollback</th></tr>";
        for (const auto& t : r.targets)
            o << "<tr><td class=\"l\">" << xml_escape(t.name) << "</td><td class=\"l\">" << xml_escape(t.describe) << "</td><td>"
              << t.switches << "</td><td>" << num(t.switch_median_ms, "%.3f") << "</td><td>" << num(t.switch_max_ms, "%.3f")
              << "</td><td class=\"l" << (t.state == "failed" ? " fail" : "") << "\">" << xml_escape(t.state)
              << (t.note.empty() ? "" : ": " + xml_escape(t.note)) << "</td><td class=\"l\">" << xml_escape(t.rollback) << "</td></tr>";
        o << "</table>\n";
        if (r.skew)
            o << "<p id=\"skew\">switch skew between targets: " << r.skew->switches << " switches, median "
              << num(r.skew->median_ms, "%.3f") << " ms, max " << num(r.skew->max_ms, "%.3f") << " ms</p>\n";
    }
    for (const auto& n : r.notes) o << "<p class=\"note\">note: " << xml_escape(n) << "</p>\n";

    o << "<h2>RTT timeline</h2>\n<p class=\"legend\">Each dot is one probe packet (by send time); red ticks are "
         "lost packets; shaded bands are phases.</p>\n"
      << svg_timeline(r) << "\n";

    o << "<h2>Phases</h2>\n<table id=\"summary\"><tr><th class=\"l\">phase</th><th>time (s)</th><th>sent</th>"
         "<th>mean (ms)</th><th>&sigma; (ms)</th><th>p50</th><th>p99</th><th>jitter_1s max</th><th>spike ratio</th>"
         "<th>loss</th><th>verdict</th></tr>\n";
    for (const auto& p : r.phases)
        o << "<tr><td class=\"l\">" << xml_escape(p.name) << " <small>(" << p.kind << ")</small></td><td>"
          << num(p.end_s - p.start_s, "%.1f") << "</td><td>" << p.stats.sent << "</td><td>" << num(p.stats.rtt_mean_ns / 1e6)
          << "</td><td>" << num(p.stats.rtt_stddev_ns / 1e6) << "</td><td>" << num(p.stats.p50.count() / 1e6) << "</td><td>"
          << num(p.stats.p99.count() / 1e6) << "</td><td>" << num(p.stats.jitter_1s_max_ns / 1e6) << "</td><td>"
          << num(p.stats.spike_ratio) << "</td><td>" << num(p.stats.loss * 100, "%.3f") << "%</td><td class=\""
          << (p.pass() ? "pass\">pass" : "fail\">FAIL") << "</td></tr>\n";
    o << "</table>\n";

    o << "<h2>Thresholds</h2>\n<table id=\"thresholds\"><tr><th class=\"l\">phase</th><th class=\"l\">check</th>"
         "<th>measured</th><th>limit</th><th class=\"l\">result</th></tr>\n";
    for (const auto& p : r.phases)
        for (const auto& c : p.checks)
            o << "<tr><td class=\"l\">" << xml_escape(p.name) << "</td><td class=\"l\">" << xml_escape(c.name)
              << "</td><td>" << num(c.value, "%.4g") << " " << xml_escape(c.unit) << "</td><td>"
              << num(c.limit, "%.4g") << " " << xml_escape(c.unit) << "</td><td class=\"l "
              << (c.pass ? "pass\">pass" : "fail\">MISS") << "</td></tr>\n";
    o << "</table>\n";

    o << "<h2>Fidelity</h2>\n<p class=\"legend\">RTT mean / &sigma; in ms. Requested: baseline + the delay model as "
         "written. Predicted: baseline + the fault engine's Monte Carlo under the profile's semantics (order "
         "preservation over the probe's grid and the counted cross traffic, truncation at zero). Engine-drawn and "
         "delivered: the forwarder's own counters (DPDK only). The rule column says what decided.</p>\n"
         "<table id=\"fidelity\"><tr><th class=\"l\">phase</th><th class=\"l\">step</th><th>requested</th>"
         "<th>predicted</th><th>engine-drawn</th><th>delivered</th><th>measured</th>"
         "<th>tolerance</th><th class=\"l\">result</th><th class=\"l\">rule</th></tr>\n";
    auto pair = [](double a, double b) { return num(a) + " / " + num(b); };
    for (const auto& p : r.phases)
        for (const auto& f : p.fidelity)
            o << "<tr><td class=\"l\">" << xml_escape(p.name) << "</td><td class=\"l\">" << xml_escape(f.step)
              << "</td><td>" << pair(f.requested_mean_ms, f.requested_sigma_ms) << "</td><td>"
              << pair(f.predicted_mean_ms, f.predicted_sigma_ms) << "</td><td>"
              << (f.engine ? pair(f.engine->drawn_mean_ms, f.engine->drawn_sigma_ms) : std::string("-")) << "</td><td>"
              << (f.engine ? pair(f.engine->delivered_mean_ms, f.engine->delivered_sigma_ms) : std::string("-"))
              << "</td><td>" << pair(f.measured_mean_ms, f.measured_sigma_ms) << "</td><td>"
              << num(f.tolerance * 100, "%.0f") << "% <small>(&#177;" << num(f.allowed_mean_ms) << " / &#177;"
              << num(f.allowed_sigma_ms) << " ms)</small></td><td class=\"l "
              << (!f.applicable ? "\">n/a" : !f.pass ? "fail\">MISS" : f.warning ? "\">warn" : "pass\">pass")
              << (f.note.empty() ? "" : " <small>" + xml_escape(f.note) + "</small>") << "</td><td class=\"l\"><small>"
              << xml_escape(f.rule) << "</small></td></tr>\n";
    o << "</table>\n";

    o << "<h2>RTT histograms</h2>\n<p class=\"legend\">Bars: measured RTT density; red line: the RTT density the "
         "profile predicts under its semantics (baseline RTT plus the fault engine's simulated holding times).</p>\n<div class=\"hists\">\n";
    for (const auto& p : r.phases)
        o << "<figure>" << svg_histogram(p) << "<figcaption>" << xml_escape(p.name) << ": "
          << xml_escape(p.model.empty() ? "no fault" : p.model) << "</figcaption></figure>\n";
    o << "</div>\n";
    for (const auto& p : r.phases) {
        if (p.replay_trace.empty()) continue;
        o << "<h2>Replay: " << xml_escape(p.name) << "</h2>\n<p class=\"legend\">jitter_1s of the recording "
          << xml_escape(p.replay_trace) << " (blue) and of this phase's probe (red, dashed); replay_check's verdict is "
             "in the thresholds table.</p>\n<figure>"
          << svg_replay_jitter(p) << "</figure>\n";
    }
    o << "<p class=\"legend\">generated by netchaos run</p>\n</body></html>\n";
    return o.str();
}

}  // namespace netchaos::report
