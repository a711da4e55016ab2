#pragma once
// Traces from other tools, into trace::Trace (records checked as trace.hpp says).
//  - CSV: `time,rtt_ms` per line; time in seconds (any origin, non-decreasing), rtt_ms a
//    number, or empty / "lost" / "nan" for a lost probe. An optional header line, blank lines
//    and '#' comments are skipped. seq = the row's index. Errors: FILE:LINE:COLUMN.
//  - irtt: `irtt client -o FILE.json` (uncompressed). round_trips[] gives seqno, the client's
//    monotonic send time and delay.rtt; "lost" anything but "false" is a loss. irtt's one-way
//    delays (delay.send, delay.receive) set flag_one_way and are kept in Trace::one_way (a
//    negative one, from unsynchronised clocks, as unknown). Errors: FILE: byte N (JSON), or the entry.
//  - pcap / pcapng (libpcap) of one UDP request/response flow: the first UDP datagram names
//    the client and the server; each reply is matched to the outstanding request whose
//    payload starts with the same 16 bytes (echoing reflectors: netchaos reflect, irtt,
//    iperf-style pingers), else to the oldest outstanding one. Unanswered requests are lost.
//    Ethernet (with VLAN tags), Linux cooked (SLL/SLL2), raw IP and loopback captures.
#include <filesystem>
#include <istream>
#include <string>

#include "common/result.hpp"
#include "trace/trace.hpp"

namespace netchaos::trace {

Result<Trace> import_csv(std::istream& in, const std::string& name);
Result<Trace> import_csv(const std::filesystem::path& file);
Result<Trace> import_irtt(std::istream& in, const std::string& name);
Result<Trace> import_irtt(const std::filesystem::path& file);
Result<Trace> import_pcap(const std::filesystem::path& file);

}  // namespace netchaos::trace
