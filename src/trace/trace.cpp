#include "trace/trace.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "trace/import.hpp"

namespace netchaos::trace {

namespace {

void put_u32(char* p, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u64(char* p, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t get_u32(const unsigned char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}
std::uint64_t get_u64(const unsigned char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

std::array<char, header_size> header(std::uint64_t count, std::int64_t wall_ns, std::uint32_t flags) {
    std::array<char, header_size> h{};
    std::memcpy(h.data(), magic, sizeof magic);
    put_u32(h.data() + 8, flags & flag_loss_way ? version_loss_way : flags & flag_one_way_kept ? version_one_way : version);
    put_u32(h.data() + 12, flags);
    put_u64(h.data() + 16, count);
    put_u64(h.data() + 24, static_cast<std::uint64_t>(wall_ns));
    return h;
}

std::array<char, record_size> encode(const Record& r) {
    std::array<char, record_size> b{};
    put_u64(b.data(), r.seq);
    put_u64(b.data() + 8, static_cast<std::uint64_t>(r.send.count()));
    put_u64(b.data() + 16, static_cast<std::uint64_t>(r.rtt ? r.rtt->count() : -1));
    return b;
}

}  // namespace

Error bad_input(std::string msg) { return make_error(std::move(msg), ErrorKind::bad_input); }

Result<Writer> Writer::open(const std::filesystem::path& file, std::int64_t wall_ns) {
    Writer w;
    w.file_ = file;
    w.out_ = std::make_shared<std::ofstream>(file, std::ios::binary | std::ios::trunc);
    if (!*w.out_) return make_error("cannot write " + file.string() + ": " + std::generic_category().message(errno));
    const auto h = header(0, wall_ns, 0);
    w.out_->write(h.data(), h.size());
    return w;
}

void Writer::add(const Record& r) {
    const auto b = encode(r);
    out_->write(b.data(), b.size());
    ++count_;
}

Result<void> Writer::finish() {
    // The count goes in last: a recording cut short (killed probe, full disk) keeps count 0
    // or fewer records than its size says, and readers refuse it as truncated.
    char c[8];
    put_u64(c, count_);
    out_->seekp(16);
    out_->write(c, 8);
    out_->close();
    if (!*out_) return make_error("error writing " + file_.string());
    return {};
}

void write(std::ostream& out, const Trace& t) {
    const bool kept = t.one_way.size() == t.records.size() && !t.records.empty();
    bool ways = false;
    for (std::size_t i = 0; kept && i < t.records.size() && !ways; ++i) ways = !t.records[i].rtt && t.one_way[i].lost != LostWay::unknown;
    std::uint32_t flags = kept ? t.flags | flag_one_way_kept : t.flags & ~flag_one_way_kept;
    flags = ways ? flags | flag_loss_way : flags & ~flag_loss_way;
    const auto h = header(t.records.size(), t.wall_ns, flags);
    out.write(h.data(), h.size());
    for (std::size_t i = 0; i < t.records.size(); ++i) {
        const auto b = encode(t.records[i]);
        out.write(b.data(), b.size());
        if (!kept) continue;
        char w[16];
        const auto& ow = t.one_way[i];
        const bool lost = !t.records[i].rtt;
        put_u64(w, static_cast<std::uint64_t>(lost && ow.lost == LostWay::up ? -2 : ow.fwd.count()));
        put_u64(w + 8, static_cast<std::uint64_t>(lost && ow.lost == LostWay::down ? -2 : ow.rev.count()));
        out.write(w, sizeof w);
    }
}

Result<void> write(const std::filesystem::path& file, const Trace& t) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot write " + file.string() + ": " + std::generic_category().message(errno));
    write(out, t);
    out.close();
    if (!out) return make_error("error writing " + file.string());
    return {};
}

Result<Trace> read(std::istream& in, const std::string& name) {
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return make_error(name + ": read error");
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    auto at = [&](std::size_t off) { return name + ": byte " + std::to_string(off) + ": "; };
    if (bytes.size() < sizeof magic || std::memcmp(p, magic, sizeof magic) != 0)
        return bad_input(at(0) + "not a netchaos trace (no NCTRACE magic)");
    if (bytes.size() < header_size)
        return bad_input(at(bytes.size()) + "truncated header (" + std::to_string(bytes.size()) + " of " +
                         std::to_string(header_size) + " bytes)");
    const auto v = get_u32(p + 8);
    if (v != version && v != version_one_way && v != version_loss_way)
        return bad_input(at(8) + "trace version " + std::to_string(v) + ", this netchaos reads versions " +
                         std::to_string(version) + " to " + std::to_string(version_loss_way));
    Trace t;
    t.flags = get_u32(p + 12);
    const bool wide = v != version;   // v2 and v3: 40-byte records
    if (wide != ((t.flags & flag_one_way_kept) != 0))
        return bad_input(at(12) + "flags say one-way times are " + ((t.flags & flag_one_way_kept) ? "" : "not ") +
                         "kept, version " + std::to_string(v) + " says otherwise");
    if ((v == version_loss_way) != ((t.flags & flag_loss_way) != 0))
        return bad_input(at(12) + "flags say loss directions are " + ((t.flags & flag_loss_way) ? "" : "not ") +
                         "kept, version " + std::to_string(v) + " says otherwise");
    const std::size_t rsize = wide ? record_size_one_way : record_size;
    const std::uint64_t count = get_u64(p + 16);
    t.wall_ns = static_cast<std::int64_t>(get_u64(p + 24));
    t.source = "ncr";
    const std::size_t body = bytes.size() - header_size;
    const std::uint64_t have = body / rsize;
    if (count == 0 && body == 0) return bad_input(at(header_size) + "empty trace: no records");
    if (count == 0)
        return bad_input(at(16) + "record count 0 with " + std::to_string(have) +
                         " records after it: the recording was not finished (probe killed?)");
    if (have < count)
        return bad_input(at(header_size + have * rsize) + "truncated: the header announces " +
                         std::to_string(count) + " records, the file holds " + std::to_string(have) +
                         (body % rsize ? " and a partial one" : ""));
    if (have > count || body % rsize != 0)
        return bad_input(at(header_size + count * rsize) + "trailing bytes after the " + std::to_string(count) +
                         " announced records");
    t.records.resize(count);
    if (wide) t.one_way.resize(count);
    for (std::uint64_t i = 0; i < count; ++i) {
        const unsigned char* r = p + header_size + i * rsize;
        Record& rec = t.records[i];
        rec.seq = get_u64(r);
        rec.send = Nanos{static_cast<std::int64_t>(get_u64(r + 8))};
        const auto rtt = static_cast<std::int64_t>(get_u64(r + 16));
        if (rtt < -1) return bad_input(at(header_size + i * rsize + 16) + "negative rtt_ns");
        if (rtt >= 0) rec.rtt = Nanos{rtt};
        if (!wide) continue;
        for (int k = 0; k < 2; ++k) {
            const auto d = static_cast<std::int64_t>(get_u64(r + 24 + 8 * k));
            // -2: lost this way (v3, lost probes only, one way at most).
            if (d == -2 && v == version_loss_way && !rec.rtt && t.one_way[i].lost == LostWay::unknown) {
                t.one_way[i].lost = k == 0 ? LostWay::up : LostWay::down;
                continue;
            }
            if (d < -1)
                return bad_input(at(header_size + i * rsize + 24 + 8 * k) +
                                 (d == -2 && v == version_loss_way ? "a loss direction on an answered probe, or on both ways"
                                                                   : "negative one-way delay"));
            (k == 0 ? t.one_way[i].fwd : t.one_way[i].rev) = Nanos{d};
        }
    }
    if (auto c = check(t.records, [&](std::size_t i) { return at(header_size + i * rsize); }); !c) return c.error();
    return t;
}

Result<Trace> read(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return bad_input("cannot open " + file.string() + ": " + std::generic_category().message(errno));
    return read(in, file.string());
}

Result<Trace> load(const std::filesystem::path& file, const std::string& format) {
    std::string fmt = format;
    if (fmt.empty()) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return bad_input("cannot open " + file.string() + ": " + std::generic_category().message(errno));
        unsigned char head[8] = {};
        in.read(reinterpret_cast<char*>(head), sizeof head);
        const auto n = static_cast<std::size_t>(in.gcount());
        const std::uint32_t m = n >= 4 ? get_u32(head) : 0;
        std::size_t i = 0;
        while (i < n && std::isspace(head[i])) ++i;
        if (n >= 8 && std::memcmp(head, magic, sizeof magic) == 0) fmt = "ncr";
        else if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 || m == 0x0a0d0d0a) fmt = "pcap";
        else if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b)
            return bad_input(file.string() + ": byte 0: gzip-compressed (irtt's .json.gz?): gunzip it first");
        else if (i < n && head[i] == '{') fmt = "irtt";
        else fmt = "csv";
    }
    if (fmt == "ncr") return read(file);
    if (fmt == "pcap") return import_pcap(file);
    if (fmt == "irtt") return import_irtt(file);
    if (fmt == "csv") return import_csv(file);
    return bad_input("unknown trace format '" + fmt + "' (ncr, csv, irtt, pcap)");
}

}  // namespace netchaos::trace
