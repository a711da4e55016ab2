#include "metrics/io.hpp"

#include <charconv>
#include <cmath>

namespace netchaos::metrics {

void write_csv_header(std::ostream& out) { out << csv_header << '\n'; }

void write_csv_row(std::ostream& out, const Record& r) {
    out << r.seq << ',' << r.send.count() << ',';
    if (r.rtt) out << r.rtt->count();
    if (r.rtt && r.http_status) out << ',' << r.http_status << ',' << r.dups << ',';
    else out << (r.rtt ? ",ok," : ",lost,") << r.dups << ',';
    if (r.arrival) out << r.arrival->count();
    out << '\n';
}

namespace {
template <class T>
bool number(std::string_view s, T& out) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && p == s.data() + s.size();
}
}  // namespace

Result<std::vector<Record>> read_csv(std::istream& in) {
    std::vector<Record> out;
    std::string line;
    int lineno = 0;
    auto bad = [&](const std::string& why) {
        return make_error("records csv line " + std::to_string(lineno) + ": " + why, ErrorKind::bad_input);
    };
    while (std::getline(in, line)) {
        ++lineno;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (lineno == 1) {
            if (line != csv_header) return bad("expected the header '" + std::string(csv_header) + "'");
            continue;
        }
        if (line.empty()) continue;
        std::string_view f[6];
        std::string_view rest = line;
        for (int i = 0; i < 6; ++i) {
            const auto c = rest.find(',');
            if ((i < 5) != (c != std::string_view::npos)) return bad("expected 6 fields");
            f[i] = rest.substr(0, c);
            if (c != std::string_view::npos) rest.remove_prefix(c + 1);
        }
        Record r;
        std::int64_t send = 0, rtt = 0;
        if (!number(f[0], r.seq) || !number(f[1], send) || !number(f[4], r.dups)) return bad("not a number");
        r.send = Nanos{send};
        std::uint16_t http = 0;
        const bool http_ok = f[3].size() == 3 && number(f[3], http) && http >= 100 && http <= 599;
        if (f[3] == "ok" || http_ok) {
            r.http_status = http_ok ? http : 0;
            if (!number(f[2], rtt) || rtt < 0) return bad("ok needs an rtt_ns >= 0");
            r.rtt = Nanos{rtt};
            if (!f[5].empty()) {
                std::int64_t rx = 0;
                if (!number(f[5], rx)) return bad("rx_ns: not a number");
                r.arrival = Nanos{rx};
            }
        } else if (f[3] != "lost" || !f[2].empty()) {
            return bad("status must be ok or an HTTP status 100-599 (with rtt_ns), or lost (without)");
        }
        out.push_back(r);
    }
    if (lineno == 0) return bad("empty file");
    return out;
}

nlohmann::ordered_json window_json(const Window& w, std::int64_t t_end_ns) {
    nlohmann::ordered_json j;
    j["type"] = "window";
    j["t_ns"] = t_end_ns;
    j["elapsed_s"] = std::chrono::duration<double>(w.end).count();
    j["sent"] = w.sent;
    j["received"] = w.received;
    j["loss"] = w.loss;
    j["rtt_mean_ms"] = w.rtt_mean_ns / 1e6;
    // null, not 0: a window with fewer than two replies has no jitter_1s.
    j["jitter_1s_ms"] = w.jitter_ns ? nlohmann::ordered_json(*w.jitter_ns / 1e6) : nlohmann::ordered_json(nullptr);
    j["spike_ratio"] = w.spike_ratio;
    j["p50_ms"] = static_cast<double>(w.p50.count()) / 1e6;
    j["p99_ms"] = static_cast<double>(w.p99.count()) / 1e6;
    return j;
}

std::optional<TimedWindow> parse_window_json(std::string_view line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("type", "") != "window") return std::nullopt;
    auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
    auto ns = [&](const char* k) { return Nanos{static_cast<std::int64_t>(std::llround(num(k) * 1e6))}; };
    TimedWindow t;
    t.t_end_ns = j.contains("t_ns") && j["t_ns"].is_number() ? j["t_ns"].get<std::int64_t>() : 0;
    Window& w = t.window;
    w.end = Nanos{static_cast<std::int64_t>(std::llround(num("elapsed_s") * 1e9))};
    w.sent = static_cast<std::uint64_t>(num("sent"));
    w.received = static_cast<std::uint64_t>(num("received"));
    w.loss = num("loss");
    w.rtt_mean_ns = num("rtt_mean_ms") * 1e6;
    if (j.contains("jitter_1s_ms") && j["jitter_1s_ms"].is_number()) w.jitter_ns = num("jitter_1s_ms") * 1e6;
    w.spike_ratio = num("spike_ratio");
    w.p50 = ns("p50_ms");
    w.p99 = ns("p99_ms");
    return t;
}

}  // namespace netchaos::metrics
