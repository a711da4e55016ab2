#pragma once
// The two formats that carry metrics between processes, each written and read here only:
//  - the per-probe records CSV (`probe --csv`, read back by `run`):
//        seq,send_ns,rtt_ns,status,dups,rx_ns   status ok|lost, or the HTTP status of an http probe's
//                                              response; rtt_ns and rx_ns empty when lost
//    one row per probe sent, in seq order; duplicates are a count on their probe's row;
//  - the window JSON line (`probe -j`, one per closed window, read live by `run`).
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "metrics/metrics.hpp"

namespace netchaos::metrics {

inline constexpr std::string_view csv_header = "seq,send_ns,rtt_ns,status,dups,rx_ns";
void write_csv_header(std::ostream& out);
void write_csv_row(std::ostream& out, const Record& r);
// Errors (code 3) name the line. A header line is required.
Result<std::vector<Record>> read_csv(std::istream& in);

// `t_end_ns`: the window's end on the prober's clock.
nlohmann::ordered_json window_json(const Window& w, std::int64_t t_end_ns);
struct TimedWindow {
    std::int64_t t_end_ns = 0;
    Window window;
};
// nullopt unless the line is a {"type":"window",...} object.
std::optional<TimedWindow> parse_window_json(std::string_view line);

}  // namespace netchaos::metrics
