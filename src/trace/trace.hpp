#pragma once
// A recorded per-packet trace: what `probe --record` writes, what the importers (import.hpp)
// produce, what `fit` and `replay-check` read and what the forwarder replays. Its records are
// metrics::Record, so every figure of a trace (jitter_1s, percentiles, KS) comes from
// src/metrics, unchanged.
//
// The file format (.ncr, "netchaos recording"), little-endian throughout:
//   header, 40 bytes:
//     0  magic     8 bytes "NCTRACE\0"
//     8  version   u32     1, or 2 when one-way times are kept
//     12 flags     u32     bit 0: one-way times were present in the source; bit 1 (v2): kept
//     16 count     u64     records that follow (written last: a file cut short says so)
//     24 wall_ns   i64     unix time (ns) of send time 0; 0 = unknown
//     32 reserved  u64     0
//   then `count` records, 24 bytes each:
//     0  seq       u64
//     8  send_ns   i64     on the trace's own clock (the first record need not be at 0)
//     16 rtt_ns    i64     -1: lost
//   v2 (bit 1 set) adds, 40 bytes a record:
//     24 fwd_ns    i64     one-way delay client -> server; -1: unknown (or lost)
//     32 rev_ns    i64     one-way delay server -> client; -1: unknown (or lost)
//   v3 (bits 1 and 2 set) is v2 where a lost probe (rtt_ns -1) may say which way it was lost
//     (irtt's true_up / true_down): fwd_ns -2, lost client -> server; rev_ns -2, lost
//     server -> client (the other -1). Written only when some probe says so: a v2 reader
//     refuses a v3 file by its version instead of reading -2 as a delay.
// 24 bytes a probe: a 1-hour 100/s trace is 8.6 MB (the probe's CSV is ~2x that). A trace
// without one-way times is written as v1, so older readers keep reading what the probe writes.
//
// A valid trace has at least one record, sends in non-decreasing time and strictly
// increasing seq; readers reject anything else with the byte offset (binary) or
// line:column (text) of the first offending record.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "metrics/metrics.hpp"

namespace netchaos::trace {

using Nanos = std::chrono::nanoseconds;
using metrics::Record;

inline constexpr char magic[8] = {'N', 'C', 'T', 'R', 'A', 'C', 'E', '\0'};
inline constexpr std::uint32_t version = 1;
inline constexpr std::uint32_t version_one_way = 2;
inline constexpr std::uint32_t version_loss_way = 3;
inline constexpr std::size_t header_size = 40;
inline constexpr std::size_t record_size = 24;
inline constexpr std::size_t record_size_one_way = 40;
inline constexpr std::uint32_t flag_one_way = 1;        // the source had one-way times
inline constexpr std::uint32_t flag_one_way_kept = 2;   // ... and Trace::one_way holds them (v2)
inline constexpr std::uint32_t flag_loss_way = 4;       // some lost probe says which way it was lost (v3)

// Which way a lost probe was lost, when the source knows (irtt's lost = true_up / true_down).
enum class LostWay : std::uint8_t { unknown, up, down };
// One probe's one-way delays (irtt's delay.send / delay.receive); -1 ns: unknown. A lost
// probe's `lost` says which way, when known.
struct OneWay {
    Nanos fwd{-1}, rev{-1};
    LostWay lost = LostWay::unknown;
    bool known() const { return fwd.count() >= 0 && rev.count() >= 0; }
    bool operator==(const OneWay&) const = default;
};

struct Trace {
    std::vector<Record> records;   // by seq, sends non-decreasing
    std::int64_t wall_ns = 0;      // unix time of send time 0, 0 when unknown
    std::uint32_t flags = 0;
    std::vector<OneWay> one_way;   // empty, or one per record (flag_one_way_kept)
    std::string source;            // where it came from ("probe", "csv", "irtt", "pcap"), not stored
};

// Bad input (ErrorKind::bad_input) names the file and where: "FILE: byte 64: ..." / "FILE:3:7: ...".
Error bad_input(std::string msg);

// Streams records as the probe resolves them; finish() writes the count into the header.
class Writer {
public:
    static Result<Writer> open(const std::filesystem::path& file, std::int64_t wall_ns);
    void add(const Record& r);
    Result<void> finish();
private:
    std::filesystem::path file_;
    std::shared_ptr<std::ofstream> out_;
    std::uint64_t count_ = 0;
};

Result<void> write(const std::filesystem::path& file, const Trace& t);
void write(std::ostream& out, const Trace& t);
// `name` prefixes error messages.
Result<Trace> read(std::istream& in, const std::string& name);
Result<Trace> read(const std::filesystem::path& file);

// The checks every reader applies: non-empty, seq strictly increasing, sends non-decreasing.
// `where(i)` says where record i came from, for the message.
template <class Where>
Result<void> check(const std::vector<Record>& rs, Where where) {
    if (rs.empty()) return bad_input(where(std::size_t(-1)) + "empty trace: no records");
    for (std::size_t i = 1; i < rs.size(); ++i) {
        if (rs[i].send < rs[i - 1].send)
            return bad_input(where(i) + "send time goes backwards (" + std::to_string(rs[i].send.count()) + " ns after " +
                             std::to_string(rs[i - 1].send.count()) + " ns): times must be non-decreasing");
        if (rs[i].seq <= rs[i - 1].seq)
            return bad_input(where(i) + "seq " + std::to_string(rs[i].seq) + " after " + std::to_string(rs[i - 1].seq) +
                             ": seqs must increase");
    }
    return {};
}

// Any trace netchaos reads, by its first bytes: .ncr (magic), pcap / pcapng, irtt JSON ('{'
// or gzip), else `time,rtt_ms` CSV. `format` forces one: "ncr", "pcap", "irtt", "csv", "" = sniff.
Result<Trace> load(const std::filesystem::path& file, const std::string& format = "");

// Time span of the trace: first send to last send.
inline Nanos span(const Trace& t) { return t.records.back().send - t.records.front().send; }

}  // namespace netchaos::trace
