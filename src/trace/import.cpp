#include "trace/import.hpp"

#include <pcap/pcap.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <fstream>
#include <optional>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

namespace netchaos::trace {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::optional<double> parse_double(std::string_view s) {
    double v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

Error cannot_open(const std::filesystem::path& f) {
    return bad_input("cannot open " + f.string() + ": " + std::generic_category().message(errno));
}

}  // namespace

Result<Trace> import_csv(std::istream& in, const std::string& name) {
    Trace t;
    t.source = "csv";
    std::vector<int> lines;
    std::string raw;
    int lineno = 0;
    bool first_content = true;
    auto at = [&](int line, std::size_t col) { return name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": "; };
    while (std::getline(in, raw)) {
        ++lineno;
        const std::string_view line(raw);
        const std::string_view body = trim(line.substr(0, line.find('#')));
        if (body.empty()) continue;
        const std::size_t lead = line.find_first_not_of(" \t");
        const std::size_t comma = line.find(',');
        if (comma == std::string_view::npos || comma > line.find('#'))
            return bad_input(at(lineno, line.size() + 1) + "expected two fields: time,rtt_ms");
        const std::string_view f0 = trim(line.substr(lead, comma - lead));
        std::string_view rest = line.substr(comma + 1);
        rest = rest.substr(0, rest.find('#'));
        if (rest.find(',') != std::string_view::npos)
            return bad_input(at(lineno, comma + 2 + rest.find(',')) + "more than two fields (time,rtt_ms)");
        const std::size_t ws = rest.find_first_not_of(" \t");
        const std::size_t col1 = comma + 2 + (ws == std::string_view::npos ? 0 : ws);
        const std::string_view f1 = trim(rest);
        const auto time = parse_double(f0);
        if (first_content && !time) {   // a header line
            first_content = false;
            continue;
        }
        first_content = false;
        if (!time) return bad_input(at(lineno, lead + 1) + "time: not a number (seconds)");
        if (*time < 0 || *time > 9.2e9) return bad_input(at(lineno, lead + 1) + "time: out of range (seconds >= 0)");
        Record r;
        r.seq = t.records.size();
        r.send = Nanos{std::llround(*time * 1e9)};
        if (!(f1.empty() || f1 == "lost" || f1 == "nan" || f1 == "NaN")) {
            const auto rtt = parse_double(f1);
            if (!rtt) return bad_input(at(lineno, col1) + "rtt_ms: not a number (or empty / lost for a lost probe)");
            if (*rtt < 0 || *rtt > 3.6e6) return bad_input(at(lineno, col1) + "rtt_ms: out of range [0, 3600000]");
            r.rtt = Nanos{std::llround(*rtt * 1e6)};
        }
        if (!t.records.empty() && r.send < t.records.back().send)
            return bad_input(at(lineno, lead + 1) + "time goes backwards (" + std::string(f0) +
                             " s after a later one): times must be non-decreasing");
        t.records.push_back(r);
        lines.push_back(lineno);
    }
    if (in.bad()) return make_error(name + ": read error");
    if (auto c = check(t.records, [&](std::size_t i) {
            return i < lines.size() ? name + ":" + std::to_string(lines[i]) + ":1: " : name + ": ";
        });
        !c)
        return c.error();
    return t;
}

Result<Trace> import_csv(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return cannot_open(file);
    return import_csv(in, file.string());
}

Result<Trace> import_irtt(std::istream& in, const std::string& name) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
        // nlohmann counts bytes from 1 (the last one read); offsets here count from 0.
        return bad_input(name + ": byte " + std::to_string(e.byte > 0 ? e.byte - 1 : 0) + ": not irtt JSON: " +
                         std::string(std::strchr(e.what(), ' ') ? std::strchr(e.what(), ' ') + 1 : e.what()));
    }
    if (!j.is_object() || !j.contains("round_trips") || !j["round_trips"].is_array())
        return bad_input(name + ": no round_trips array (irtt client -o FILE.json writes one)");
    Trace t;
    t.source = "irtt";
    const auto& rts = j["round_trips"];
    std::optional<std::int64_t> mono0, wall0;
    for (std::size_t i = 0; i < rts.size(); ++i) {
        const auto& e = rts[i];
        const std::string at = name + ": round_trips[" + std::to_string(i) + "]: ";
        try {
            Record r;
            r.seq = e.at("seqno").get<std::uint64_t>();
            const auto& send = e.at("timestamps").at("client").at("send");
            const std::int64_t mono = send.at("monotonic").get<std::int64_t>();
            if (!mono0) {
                mono0 = mono;
                if (send.contains("wall")) wall0 = send["wall"].get<std::int64_t>();
            }
            r.send = Nanos{mono};
            const std::string lost = e.at("lost").get<std::string>();
            if (lost == "false") {
                const std::int64_t rtt = e.at("delay").at("rtt").get<std::int64_t>();
                if (rtt < 0) return bad_input(at + "negative delay.rtt");
                r.rtt = Nanos{rtt};
                if (e["delay"].contains("send") && e["delay"].contains("receive")) {
                    // One-way delays need the two clocks in sync (irtt says so too); a
                    // negative one says they were not, and is kept as unknown.
                    t.flags |= flag_one_way;
                    const auto fwd = e["delay"]["send"].get<std::int64_t>(), rev = e["delay"]["receive"].get<std::int64_t>();
                    t.one_way.resize(t.records.size());
                    if (fwd >= 0 && rev >= 0) t.one_way.push_back({Nanos{fwd}, Nanos{rev}});
                }
            } else if (lost == "true_up" || lost == "true_down") {
                // Which way it was lost: kept (a v3 .ncr), for fit to put loss on that direction.
                t.one_way.resize(t.records.size());
                t.one_way.push_back({Nanos{-1}, Nanos{-1}, lost == "true_up" ? LostWay::up : LostWay::down});
            } else if (lost != "true") {
                return bad_input(at + "lost must be false, true, true_down or true_up");
            }
            t.records.push_back(r);
            if (!t.one_way.empty()) t.one_way.resize(t.records.size());   // unknown where not given
        } catch (const nlohmann::json::exception& ex) {
            return bad_input(at + "missing or mistyped field (" + std::string(ex.what()) + ")");
        }
    }
    if (wall0 && mono0) t.wall_ns = *wall0 - *mono0;
    if (auto c = check(t.records, [&](std::size_t i) {
            return i < t.records.size() ? name + ": round_trips[" + std::to_string(i) + "]: " : name + ": ";
        });
        !c)
        return c.error();
    return t;
}

Result<Trace> import_irtt(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return cannot_open(file);
    return import_irtt(in, file.string());
}

namespace {

struct Udp {
    std::string src, dst;   // address bytes + port, as a key
    std::string_view payload;
};

std::uint16_t be16(const unsigned char* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

// The UDP datagram in an IP packet, if it is one (no fragments).
std::optional<Udp> udp_of_ip(const unsigned char* p, std::size_t n) {
    if (n < 1) return std::nullopt;
    const int v = p[0] >> 4;
    std::size_t off = 0;
    std::string sa, da;
    if (v == 4) {
        if (n < 20) return std::nullopt;
        const std::size_t ihl = (p[0] & 0x0f) * 4u;
        const std::size_t total = be16(p + 2);
        if (p[9] != 17 || ihl < 20 || n < ihl + 8) return std::nullopt;
        if ((be16(p + 6) & 0x3fff) != 0) return std::nullopt;   // a fragment
        if (total >= ihl + 8 && total < n) n = total;            // Ethernet padding
        sa.assign(reinterpret_cast<const char*>(p + 12), 4);
        da.assign(reinterpret_cast<const char*>(p + 16), 4);
        off = ihl;
    } else if (v == 6) {
        if (n < 48 || p[6] != 17) return std::nullopt;   // UDP right after the fixed header only
        sa.assign(reinterpret_cast<const char*>(p + 8), 16);
        da.assign(reinterpret_cast<const char*>(p + 24), 16);
        off = 40;
    } else {
        return std::nullopt;
    }
    const unsigned char* u = p + off;
    std::size_t len = be16(u + 4);
    if (len < 8 || off + len > n) len = n - off;   // snapped capture: what there is
    Udp d;
    d.src = sa + std::string(reinterpret_cast<const char*>(u), 2);
    d.dst = da + std::string(reinterpret_cast<const char*>(u + 2), 2);
    d.payload = std::string_view(reinterpret_cast<const char*>(u + 8), len - 8);
    return d;
}

std::optional<Udp> udp_of_frame(int dlt, const unsigned char* p, std::size_t n) {
    switch (dlt) {
        case DLT_EN10MB: {
            std::size_t off = 12;
            while (n >= off + 2 && (be16(p + off) == 0x8100 || be16(p + off) == 0x88a8)) off += 4;
            if (n < off + 2) return std::nullopt;
            const auto type = be16(p + off);
            if (type != 0x0800 && type != 0x86dd) return std::nullopt;
            return udp_of_ip(p + off + 2, n - off - 2);
        }
        case DLT_LINUX_SLL: return n > 16 ? udp_of_ip(p + 16, n - 16) : std::nullopt;
#ifdef DLT_LINUX_SLL2
        case DLT_LINUX_SLL2: return n > 20 ? udp_of_ip(p + 20, n - 20) : std::nullopt;
#endif
        case DLT_RAW:
#ifdef DLT_IPV4
        case DLT_IPV4:
        case DLT_IPV6:
#endif
            return udp_of_ip(p, n);
        case DLT_NULL:
        case DLT_LOOP: return n > 4 ? udp_of_ip(p + 4, n - 4) : std::nullopt;
        default: return std::nullopt;
    }
}

}  // namespace

Result<Trace> import_pcap(const std::filesystem::path& file) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* pc = pcap_open_offline_with_tstamp_precision(file.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (!pc) return bad_input(file.string() + ": byte 0: not a pcap/pcapng file libpcap reads (" + err + ")");
    std::unique_ptr<pcap_t, void (*)(pcap_t*)> guard(pc, pcap_close);
    const int dlt = pcap_datalink(pc);
    Trace t;
    t.source = "pcap";
    struct Pending {
        std::size_t index;   // into t.records
        std::string key;     // the request's first 16 payload bytes
    };
    std::deque<Pending> outstanding;
    std::optional<std::string> client, server;
    std::int64_t first_ns = 0;
    std::uint64_t replies = 0, unmatched = 0;
    for (;;) {
        const long before = pcap_file(pc) ? std::ftell(pcap_file(pc)) : -1;
        pcap_pkthdr* h = nullptr;
        const unsigned char* data = nullptr;
        const int rc = pcap_next_ex(pc, &h, &data);
        if (rc == PCAP_ERROR_BREAK) break;
        if (rc != 1)
            return bad_input(file.string() + ": byte " + std::to_string(before < 0 ? 0 : before) +
                             ": bad or truncated packet record (" + pcap_geterr(pc) + ")");
        const auto d = udp_of_frame(dlt, data, h->caplen);
        if (!d) continue;
        const std::int64_t ts = std::int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;   // ns precision asked
        if (!client) {
            client = d->src;
            server = d->dst;
            first_ns = ts;
            t.wall_ns = ts;
        }
        const std::string key(d->payload.substr(0, 16));
        if (d->src == *client && d->dst == *server) {
            Record r;
            r.seq = t.records.size();
            r.send = Nanos{ts - first_ns};
            if (!t.records.empty() && r.send < t.records.back().send)
                return bad_input(file.string() + ": byte " + std::to_string(before) +
                                 ": packet time goes backwards: times must be non-decreasing");
            outstanding.push_back({t.records.size(), key});
            t.records.push_back(r);
        } else if (d->src == *server && d->dst == *client) {
            ++replies;
            auto it = outstanding.begin();
            while (it != outstanding.end() && it->key != key) ++it;
            if (it == outstanding.end()) it = outstanding.begin();
            if (it == outstanding.end()) {
                ++unmatched;
                continue;
            }
            Record& r = t.records[it->index];
            const Nanos rtt = Nanos{ts - first_ns} - r.send;
            if (rtt.count() >= 0) r.rtt = rtt;
            outstanding.erase(it);
        }
    }
    if (t.records.empty()) return bad_input(file.string() + ": empty trace: no UDP datagram in the capture");
    if (replies == 0)
        return bad_input(file.string() + ": no reply in the capture: is it one direction of the flow only?");
    if (auto c = check(t.records, [&](std::size_t i) { return file.string() + ": request " + std::to_string(i) + ": "; }); !c)
        return c.error();
    return t;
}

}  // namespace netchaos::trace
