// TOML -> Profile: reading (with overrides applied over a base, for experiment phases),
// tc's derived defaults, and every cross-field rule netem has, plus a few of our own.
#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cmath>
#include <cctype>
#include <cstring>
#include <cstdio>
#include <cerrno>
#include <fstream>
#include <numeric>
#include <sstream>

#include "profile/loss.hpp"
#include "profile/parse.hpp"

#include "dist/moments.hpp"
#include "dist/table.hpp"
#include "profile/reader.hpp"
#include "profile/units.hpp"
#include "trace/trace.hpp"

namespace netchaos::profile {

namespace detail {

namespace {

// Assumed packet size when turning rate x delay into packets in flight.
constexpr double mtu_bytes = 1500.0;
constexpr std::size_t max_samples = 65536;

std::string pct(double fraction) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g%%", fraction * 100.0);
    return buf;
}

const std::initializer_list<std::pair<std::string_view, Distribution>> distributions = {
    {"uniform", Distribution::uniform}, {"normal", Distribution::normal}, {"pareto", Distribution::pareto},
    {"paretonormal", Distribution::paretonormal}, {"custom", Distribution::custom}};

// A trace delay's keys: trace = "file" (read in finish_delay), or trace_points (the inline form
// rendered for the forwarder), trace_period, at_end, granularity.
void read_delay_trace(const toml::table& t, Delay& d, Reader& r, const std::string& path) {
    if (!t.contains("trace") && !t.contains("trace_points") && !t.contains("trace_period") && !t.contains("at_end") &&
        !t.contains("granularity"))
        return;
    auto& tr = d.trace ? *d.trace : d.trace.emplace();
    if (auto v = r.string(t, path, "trace")) {
        tr.file = *v;
        tr.points.clear();
    }
    if (auto v = r.choice<TraceEnd>(t, path, "at_end", {{"loop", TraceEnd::loop}, {"hold", TraceEnd::hold}})) tr.at_end = *v;
    if (auto v = r.duration(t, path, "granularity")) tr.granularity = *v;
    if (auto v = r.duration(t, path, "trace_period")) tr.period = *v;
    if (const toml::node* n = t.get("trace_points")) {
        const std::string key = Reader::join(path, "trace_points");
        r.seen(key, r.pos_of(*n));
        const auto* arr = n->as_array();
        if (!arr || arr->size() > max_trace_points) {
            r.error(r.pos_of(*n), key, arr ? "too many points (" + std::to_string(arr->size()) + "): at most " + std::to_string(max_trace_points)
                                           : "expected [[time_ms, delay_ms], ...], got " + Reader::describe(*n));
            return;
        }
        std::vector<TracePoint> pts;
        pts.reserve(arr->size());
        auto num = [](const toml::node* e) -> std::optional<double> {
            if (!e) return std::nullopt;
            if (const auto* i = e->as_integer()) return static_cast<double>(**i);
            if (const auto* f = e->as_floating_point()) return **f;
            return std::nullopt;
        };
        for (const auto& e : *arr) {
            const auto* pair = e.as_array();
            const auto at = pair && pair->size() == 2 ? num(pair->get(0)) : std::nullopt;
            const auto dl = pair && pair->size() == 2 ? num(pair->get(1)) : std::nullopt;
            if (!at || !dl || !(*at >= 0 && *at < 1e12) || !(*dl >= 0 && *dl < 1e9) ||
                (!pts.empty() && std::llround(*at * 1e6) < pts.back().at.count())) {
                r.error(r.pos_of(e), key, "expected [time_ms, delay_ms] with times >= 0 and non-decreasing, delays >= 0, got " + Reader::describe(e));
                return;
            }
            pts.push_back({Duration{std::llround(*at * 1e6)}, Duration{std::llround(*dl * 1e6)}});
        }
        tr.points = std::move(pts);
        tr.file.clear();
    }
}

void read_delay(const toml::table& t, Delay& d, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"mean", "jitter", "distribution", "table", "samples", "correlation", "reorder", "trace",
                           "trace_points", "trace_period", "at_end", "granularity"});
    read_delay_trace(t, d, r, path);
    if (auto v = r.duration(t, path, "mean")) d.mean = *v;
    if (auto v = r.duration(t, path, "jitter")) d.jitter = *v;
    if (auto v = r.probability(t, path, "correlation")) d.correlation = *v;
    if (const toml::node* n = t.get("reorder"); n && n->is_string()) {
        // Per-flow order: order kept within a 5-tuple, flows pass each other. The only string
        // value; the netem backend refuses it when it encodes (one qdisc, one order).
        r.seen(Reader::join(path, "reorder"), r.pos_of(*n));
        if (n->value<std::string>() == "flow") d.order = JitterOrder::flow;
        else
            r.error(r.pos_of(*n), path + ".reorder",
                    "expected false (one order for the whole direction, the default), true (packets may pass each "
                    "other) or \"flow\" (order kept per 5-tuple), got \"" + *n->value<std::string>() + "\"");
    } else if (auto v = r.boolean(t, path, "reorder")) {
        d.order = *v ? JitterOrder::reorder : JitterOrder::preserve;
    }
    if (auto v = r.choice(t, path, "distribution", distributions)) {
        d.distribution = *v;
        if (*v != Distribution::custom) d.table.reset();
    }
    if (auto v = r.string(t, path, "table")) {
        d.table = CustomTable{*v, {}};
        d.distribution = Distribution::custom;
    }
    if (const toml::node* n = t.get("samples")) {
        r.seen(Reader::join(path, "samples"), r.pos_of(*n));
        const auto* arr = n->as_array();
        std::vector<double> samples;
        bool good = arr != nullptr;
        if (!arr)
            r.error(r.pos_of(*n), Reader::join(path, "samples"), "expected an array of delays in ms like [12.0, 13.5], got " + Reader::describe(*n));
        else if (arr->size() > max_samples) {
            r.error(r.pos_of(*n), Reader::join(path, "samples"), "too many samples (" + std::to_string(arr->size()) + "): at most " + std::to_string(max_samples));
            good = false;
        } else {
            for (const auto& e : *arr) {
                std::optional<double> v;
                if (const auto* i = e.as_integer()) v = static_cast<double>(**i);
                if (const auto* f = e.as_floating_point()) v = **f;
                if (!v || !(*v >= 0 && *v < 1e9)) {
                    r.error(r.pos_of(e), Reader::join(path, "samples"), "expected delay samples in ms >= 0 (numbers), got " + Reader::describe(e));
                    good = false;
                    break;
                }
                samples.push_back(*v);
            }
        }
        if (good && t.contains("table")) {
            r.error(r.pos_of(*n), Reader::join(path, "samples"), "set either table or samples, not both");
            good = false;
        }
        if (good) {
            d.table = CustomTable{{}, std::move(samples)};
            d.distribution = Distribution::custom;
        }
    }
}

enum class LossKind { random, gilbert_elliott, markov4 };

LossKind kind_of(const LossModel& m) {
    if (std::holds_alternative<GilbertElliott>(m)) return LossKind::gilbert_elliott;
    if (std::holds_alternative<Markov4>(m)) return LossKind::markov4;
    return LossKind::random;
}

void read_loss(const toml::table& t, Loss& l, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"model", "p", "correlation", "r", "one_minus_h", "one_minus_k", "p13", "p31", "p32", "p23", "p14", "ecn", "mean", "burst"});
    if (auto v = r.boolean(t, path, "ecn")) l.ecn = *v;
    auto model = r.choice<LossKind>(t, path, "model", {{"random", LossKind::random}, {"gilbert-elliott", LossKind::gilbert_elliott}, {"markov4", LossKind::markov4}});
    // Loss by intent: mean = "0.5%", burst = 4 (packets) derive a Gilbert-Elliott p and r.
    const bool intent = t.contains("mean") || t.contains("burst");
    if (intent && !model) model = LossKind::gilbert_elliott;
    if (model && *model != kind_of(l.model)) {
        if (*model == LossKind::random) l.model = RandomLoss{};
        if (*model == LossKind::gilbert_elliott) l.model = GilbertElliott{};
        if (*model == LossKind::markov4) l.model = Markov4{};
    }
    const char* model_name[] = {"random", "gilbert-elliott", "markov4"};
    auto kind = kind_of(l.model);
    // Keys of the other models are errors that say which model they belong to.
    auto only_for = [&](std::initializer_list<std::string_view> keys, std::initializer_list<LossKind> kinds) {
        for (auto k : keys) {
            const toml::node* n = t.get(k);
            if (!n || std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) continue;
            std::string which;
            for (auto kk : kinds) which += (which.empty() ? "" : " or ") + std::string("\"") + model_name[int(kk)] + "\"";
            r.error(r.pos_of(*n), Reader::join(path, k), std::string(k) + " only applies to model = " + which + " (this loss is model = \"" + model_name[int(kind)] + "\")");
        }
    };
    only_for({"p"}, {LossKind::random, LossKind::gilbert_elliott});
    only_for({"correlation"}, {LossKind::random});
    only_for({"r", "one_minus_h", "one_minus_k"}, {LossKind::gilbert_elliott});
    only_for({"p13", "p31", "p32", "p23", "p14"}, {LossKind::markov4});
    only_for({"mean", "burst"}, {LossKind::gilbert_elliott});
    if (intent && kind == LossKind::gilbert_elliott) {
        for (auto k : {"p", "r", "one_minus_h", "one_minus_k"})
            if (const toml::node* n = t.get(k))
                r.error(r.pos_of(*n), Reader::join(path, k), std::string("set either mean and burst (the parameters are derived from them) or ") + k + ", not both");
        auto mean = r.probability(t, path, "mean");
        auto burst = r.number(t, path, "burst", 1.0, 1e9);
        if (!t.contains("mean"))
            r.error(r.where(path + ".burst"), path + ".mean", "burst needs mean = \"0.5%\" (the long-run loss) to derive the model");
        else if (!t.contains("burst"))
            r.error(r.where(path + ".mean"), path + ".burst", "mean needs burst = N (the mean number of consecutive losses); for independent loss write model = \"random\" and p");
        if (mean && burst) {
            if (auto g = gilbert_elliott_for(*mean, *burst)) l.model = *g;
            else r.error(r.where(path + ".mean"), path + ".mean", g.error().message);
        }
        return;
    }
    if (auto* m = std::get_if<RandomLoss>(&l.model)) {
        if (auto v = r.probability(t, path, "p")) m->p = *v;
        if (auto v = r.probability(t, path, "correlation")) m->correlation = *v;
    } else if (auto* g = std::get_if<GilbertElliott>(&l.model)) {
        if (auto v = r.probability(t, path, "p")) g->p = *v;
        if (auto v = r.probability(t, path, "r")) g->r = *v;
        if (auto v = r.probability(t, path, "one_minus_h")) g->one_minus_h = *v;
        if (auto v = r.probability(t, path, "one_minus_k")) g->one_minus_k = *v;
    } else if (auto* s = std::get_if<Markov4>(&l.model)) {
        if (auto v = r.probability(t, path, "p13")) s->p13 = *v;
        if (auto v = r.probability(t, path, "p31")) s->p31 = *v;
        if (auto v = r.probability(t, path, "p32")) s->p32 = *v;
        if (auto v = r.probability(t, path, "p23")) s->p23 = *v;
        if (auto v = r.probability(t, path, "p14")) s->p14 = *v;
    }
}

template <class T>
void read_p_corr(const toml::table& t, T& x, Reader& r, const std::string& path) {
    if (auto v = r.probability(t, path, "p")) x.p = *v;
    if (auto v = r.probability(t, path, "correlation")) x.correlation = *v;
}

void read_impairment(const toml::table& t, Impairment& imp, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"limit", "seed", "delay", "loss", "duplicate", "corrupt", "reorder", "rate", "slot"});
    if (auto v = r.integer(t, path, "limit", 1, UINT32_MAX)) imp.limit = static_cast<std::uint32_t>(*v);
    if (auto v = r.integer(t, path, "seed", 0, INT64_MAX)) imp.seed = static_cast<std::uint64_t>(*v);
    if (const auto* s = r.table(t, path, "delay")) read_delay(*s, imp.delay ? *imp.delay : imp.delay.emplace(), r, path + ".delay");
    if (const auto* s = r.table(t, path, "loss")) read_loss(*s, imp.loss ? *imp.loss : imp.loss.emplace(), r, path + ".loss");
    if (const auto* s = r.table(t, path, "duplicate")) {
        r.check_keys(*s, path + ".duplicate", {"p", "correlation"});
        read_p_corr(*s, imp.duplicate ? *imp.duplicate : imp.duplicate.emplace(), r, path + ".duplicate");
    }
    if (const auto* s = r.table(t, path, "corrupt")) {
        r.check_keys(*s, path + ".corrupt", {"p", "correlation"});
        read_p_corr(*s, imp.corrupt ? *imp.corrupt : imp.corrupt.emplace(), r, path + ".corrupt");
    }
    if (const auto* s = r.table(t, path, "reorder")) {
        const std::string sp = path + ".reorder";
        r.check_keys(*s, sp, {"p", "correlation", "gap"});
        auto& x = imp.reorder ? *imp.reorder : imp.reorder.emplace();
        read_p_corr(*s, x, r, sp);
        if (auto v = r.integer(*s, sp, "gap", 1, UINT32_MAX)) x.gap = static_cast<std::uint32_t>(*v);
    }
    if (const auto* s = r.table(t, path, "rate")) {
        const std::string sp = path + ".rate";
        r.check_keys(*s, sp, {"rate", "packet_overhead", "cell_size", "cell_overhead", "mm_link", "mm_link_ms"});
        auto& x = imp.rate ? *imp.rate : imp.rate.emplace();
        if (auto v = r.string(*s, sp, "mm_link")) x.mm_link = MmLinkTrace{*v, {}};
        if (const toml::node* n = s->get("mm_link_ms")) {
            const std::string key = sp + ".mm_link_ms";
            r.seen(key, r.pos_of(*n));
            const auto* arr = n->as_array();
            MmLinkTrace mm;
            bool good = arr && !arr->empty() && arr->size() <= max_mm_link_lines;
            if (!good) r.error(r.pos_of(*n), key, "expected a non-empty array of delivery opportunities in ms like [0, 1, 1, 3], got " + Reader::describe(*n));
            for (std::size_t i = 0; good && i < arr->size(); ++i) {
                const auto* v = arr->get(i)->as_integer();
                if (!v || **v < 0 || **v > UINT32_MAX || (!mm.ms.empty() && **v < mm.ms.back())) {
                    r.error(r.pos_of(*arr->get(i)), key, "expected non-decreasing integer ms >= 0, got " + Reader::describe(*arr->get(i)));
                    good = false;
                } else {
                    mm.ms.push_back(static_cast<std::uint32_t>(**v));
                }
            }
            if (good) x.mm_link = std::move(mm);
        }
        if (auto v = r.rate(*s, sp, "rate")) x.bytes_per_sec = *v;
        if (auto v = r.integer(*s, sp, "packet_overhead", -65535, 65535)) x.packet_overhead = static_cast<std::int32_t>(*v);
        if (auto v = r.integer(*s, sp, "cell_size", 0, 65535)) x.cell_size = static_cast<std::uint32_t>(*v);
        if (auto v = r.integer(*s, sp, "cell_overhead", -65535, 65535)) x.cell_overhead = static_cast<std::int32_t>(*v);
    }
    if (const auto* s = r.table(t, path, "slot")) {
        const std::string sp = path + ".slot";
        r.check_keys(*s, sp, {"min_delay", "max_delay", "packets", "bytes", "distribution", "delay", "jitter"});
        auto& x = imp.slot ? *imp.slot : imp.slot.emplace();
        if (auto v = r.duration(*s, sp, "min_delay")) x.min_delay = *v;
        if (auto v = r.duration(*s, sp, "max_delay")) x.max_delay = *v;
        if (auto v = r.integer(*s, sp, "packets", 1, INT32_MAX)) x.max_packets = static_cast<std::int32_t>(*v);
        if (auto v = r.size(*s, sp, "bytes")) {
            if (*v < 1 || *v > static_cast<std::uint64_t>(INT32_MAX))
                r.error(r.where(sp + ".bytes"), sp + ".bytes", "expected a size between 1b and 2gb");
            else
                x.max_bytes = static_cast<std::int32_t>(*v);
        }
        if (auto v = r.choice<Distribution>(*s, sp, "distribution", {{"uniform", Distribution::uniform}, {"normal", Distribution::normal}, {"pareto", Distribution::pareto}, {"paretonormal", Distribution::paretonormal}}))
            x.distribution = *v;
        if (auto v = r.duration(*s, sp, "delay")) x.dist_delay = *v;
        if (auto v = r.duration(*s, sp, "jitter")) x.dist_jitter = *v;
    }
}

std::optional<Cidr> parse_cidr(const std::string& text, std::string& why, bool& host_bits) {
    auto slash = text.find('/');
    std::string addr = text.substr(0, slash);
    Cidr c;
    unsigned char buf[16] = {};
    if (inet_pton(AF_INET, addr.c_str(), buf) == 1) {
        c.v6 = false;
    } else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1) {
        c.v6 = true;
    } else {
        why = "expected an IPv4 or IPv6 address with an optional /prefix like \"10.0.0.0/24\", got \"" + text + "\"";
        return std::nullopt;
    }
    int max_prefix = c.v6 ? 128 : 32;
    int prefix = max_prefix;
    if (slash != std::string::npos) {
        std::string ps = text.substr(slash + 1);
        if (ps.empty() || ps.size() > 3 || !std::all_of(ps.begin(), ps.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
            std::stoi(ps) > max_prefix) {
            why = "prefix length \"/" + ps + "\" must be 0-" + std::to_string(max_prefix);
            return std::nullopt;
        }
        prefix = std::stoi(ps);
    }
    // Canonical network address: clear host bits (tc/u32 would match them anyway).
    int bytes = c.v6 ? 16 : 4;
    host_bits = false;
    for (int i = 0; i < bytes; ++i) {
        int keep = std::clamp(prefix - i * 8, 0, 8);
        unsigned char mask = keep == 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
        if (buf[i] & ~mask) host_bits = true;
        buf[i] &= mask;
    }
    char out[INET6_ADDRSTRLEN] = {};
    inet_ntop(c.v6 ? AF_INET6 : AF_INET, buf, out, sizeof out);
    c.address = out;
    c.prefix = static_cast<std::uint8_t>(prefix);
    return c;
}

// A flow match, at `path` ("match" or "class[2].match").
void read_match(const toml::table& t, FlowMatch& m, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"src", "dst", "protocol", "sport", "dport", "dscp"});
    for (auto key : {"src", "dst"}) {
        auto s = r.string(t, path, key);
        if (!s) continue;
        std::string why;
        bool host_bits = false;
        auto c = parse_cidr(*s, why, host_bits);
        auto pos = r.where(Reader::join(path, key));
        if (!c) {
            r.error(pos, Reader::join(path, key), why);
            continue;
        }
        if (host_bits)
            r.warning(pos, Reader::join(path, key), "\"" + *s + "\" has host bits set; matching " + c->address + "/" + std::to_string(c->prefix));
        (std::string_view(key) == "src" ? m.src : m.dst) = *c;
    }
    if (auto v = r.choice<Protocol>(t, path, "protocol", {{"any", Protocol::any}, {"tcp", Protocol::tcp}, {"udp", Protocol::udp}, {"icmp", Protocol::icmp}}))
        m.protocol = *v;
    if (auto v = r.integer(t, path, "sport", 1, 65535)) m.sport = static_cast<std::uint16_t>(*v);
    if (auto v = r.integer(t, path, "dport", 1, 65535)) m.dport = static_cast<std::uint16_t>(*v);
    if (auto v = r.integer(t, path, "dscp", 0, 63)) m.dscp = static_cast<std::uint8_t>(*v);
}

// [[class]]: name, match, egress, ingress. A later list (a phase's override) replaces the
// earlier one whole: classes are ordered, and merging two lists by position would mix them.
void read_classes(const toml::node& n, Profile& p, Reader& r) {
    r.seen("class", r.pos_of(n));
    const auto* arr = n.as_array();
    if (!arr || !arr->is_array_of_tables()) {
        r.error(r.pos_of(n), "class", "expected [[class]] tables (one per flow class), got " + Reader::describe(n));
        return;
    }
    p.classes.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
        const std::string cp = "class[" + std::to_string(i + 1) + "]";
        const auto& t = *arr->get(i)->as_table();
        r.seen(cp, r.pos_of(*arr->get(i)));
        auto& c = p.classes.emplace_back();
        c.name = "class" + std::to_string(i + 1);
        r.check_keys(t, cp, {"name", "match", "egress", "ingress"});
        if (auto v = r.string(t, cp, "name")) {
            // Names label stats lines and metrics: keep them to a safe, short alphabet.
            const bool safe = !v->empty() && v->size() <= 32 && std::all_of(v->begin(), v->end(), [](unsigned char ch) {
                return std::isalnum(ch) || ch == '_' || ch == '-' || ch == '.';
            });
            if (!safe)
                r.error(r.where(cp + ".name"), cp + ".name", "expected a name of 1-32 letters, digits, '_', '-' or '.' like \"voice\", got \"" + *v + "\"");
            else
                c.name = *v;
        }
        if (const auto* s = r.table(t, cp, "match")) read_match(*s, c.match, r, cp + ".match");
        for (auto dir : {"egress", "ingress"})
            if (const auto* s = r.table(t, cp, dir)) {
                auto& imp = std::string_view(dir) == "egress" ? c.egress : c.ingress;
                read_impairment(*s, imp.emplace(), r, Reader::join(cp, dir));
            }
    }
}

// Rules of one match, at `path`.
void finish_match(const FlowMatch& m, Reader& r, const std::string& path) {
    if ((m.sport || m.dport) && m.protocol != Protocol::tcp && m.protocol != Protocol::udp)
        r.error(r.where_any({path + ".sport", path + ".dport"}), path + ".protocol", "sport/dport need protocol = \"tcp\" or \"udp\"");
    if (m.src && m.dst && m.src->v6 != m.dst->v6)
        r.error(r.where(path + ".dst"), path + ".dst", "src and dst mix IPv4 and IPv6");
}

// ------------------------------------------------------------------ rules

// An iproute2 .dist table, through dist::parse (the one .dist parser), so `validate` catches
// a bad table with its own file:line:column, not only when the profile is applied.
void check_dist_file(const std::filesystem::path& file, Reader& r, const std::string& key) {
    std::vector<Diagnostic> ignored;
    Reader fr(file, ignored);
    auto text = read_text(file, fr);
    if (!text) {
        r.error(Pos{file, 0, 0}, key, "cannot read distribution table: " + (ignored.empty() ? std::string("?") : ignored[0].message));
        return;
    }
    const dist::ParsedTable t = dist::parse(*text);
    if (!t.error.empty()) r.error(Pos{file, t.line, t.column}, key, "distribution table: " + t.error);
}

// True if `p` is `dir` or lies under it (both canonical).
bool inside(const std::filesystem::path& p, const std::filesystem::path& dir) {
    auto [d, q] = std::mismatch(dir.begin(), dir.end(), p.begin(), p.end());
    return d == dir.end() || (std::next(d) == dir.end() && d->empty());   // "dir/" ends in an empty element
}

// Empty if `file` (already resolved against `base`) may be read, else why not. `what` names
// the file in the message ("distribution table", "delay trace").
std::string table_refusal(const std::filesystem::path& file, const std::filesystem::path& base,
                          const std::string& what) {
    const TablePolicy& pol = table_policy();
    if (!pol.confine) return {};
    std::error_code ec;
    // Absolute first: a missing file named relative to a profile given by a relative path has
    // no existing prefix, and weakly_canonical would leave it relative ("outside" any directory).
    const auto real = std::filesystem::weakly_canonical(std::filesystem::absolute(file, ec), ec);
    if (ec) return "cannot resolve " + file.string();
    const auto home = std::filesystem::weakly_canonical(base.empty() ? std::filesystem::current_path(ec) : base, ec);
    if (!ec && inside(real, home)) return {};
    // iproute2's own table directories hold system tables (`distribution experimental` in tc).
    for (const auto& d : dist::tc_table_dirs()) {
        std::error_code e2;
        const auto ok = std::filesystem::weakly_canonical(d, e2);
        if (!e2 && inside(real, ok)) return {};
    }
    for (const auto& a : pol.allowed) {
        std::error_code e2;
        const auto ok = std::filesystem::weakly_canonical(a, e2);
        if (!e2 && inside(real, ok)) return {};
    }
    return what + " " + real.string() + " is outside the profile's directory " + home.string() +
           " (pass --allow-path " + real.parent_path().string() + " to allow it)";
}

// A file a profile names (a distribution table, a delay trace, an mm-link trace): resolved
// relative to the file that named it, confined (docs/security.md), checked to exist, then
// handed to `load`. Named from another file than the profile (a phase override in an
// experiment), it becomes absolute, so the profile built from it reads it from anywhere.
template <class Load>
void resolve_named_file(std::filesystem::path& file, const std::string& what, Reader& r, const std::string& key,
                        const Profile& p, Load&& load) {
    const Pos pos = r.where(key);
    const std::filesystem::path resolved = file.is_absolute() ? file : (pos.file.parent_path() / file).lexically_normal();
    std::error_code ec;
    if (auto why = table_refusal(resolved, pos.file.parent_path(), what); !why.empty())
        r.error(pos, key, why);
    else if (!std::filesystem::is_regular_file(resolved, ec))
        r.error(pos, key, what + " \"" + file.string() + "\" not found (looked for " + resolved.string() + ")");
    else
        load(resolved, pos);
    if (pos.file != p.source && !p.source.empty()) file = std::filesystem::absolute(resolved, ec);
}

// A recorded trace -> the delay series: each answered probe is a point (send time from the
// first record, RTT); lost probes are left out, so the delay is interpolated over them.
void load_delay_trace(DelayTrace& tr, const std::filesystem::path& file, Reader& r, const Pos& pos, const std::string& key) {
    auto t = trace::load(file);
    if (!t) {
        r.error(pos, key, "delay trace: " + t.error().message);
        return;
    }
    const auto& rs = t->records;
    const auto t0 = rs.front().send;
    std::vector<TracePoint> pts;
    for (const auto& rec : rs)
        if (rec.rtt) pts.push_back({rec.send - t0, *rec.rtt});
    if (pts.empty()) {
        r.error(pos, key, "delay trace " + file.string() + " has no answered probe (all " + std::to_string(rs.size()) + " lost): nothing to replay");
        return;
    }
    if (pts.size() > max_trace_points) {
        r.error(pos, key, "delay trace " + file.string() + " has " + std::to_string(pts.size()) + " answered probes: at most " +
                              std::to_string(max_trace_points) + " (cut it, e.g. netchaos trace import of a shorter CSV)");
        return;
    }
    tr.points = std::move(pts);
    // One more mean send interval after the last send: a 100/s trace of 1000 probes loops every 10 s.
    const auto span = rs.back().send - t0;
    tr.period = rs.size() > 1 ? span + span / static_cast<std::int64_t>(rs.size() - 1) : Duration{0};
}

void finish_delay_trace(Delay& d, Reader& r, const std::string& path, const Profile& p) {
    auto& tr = *d.trace;
    const std::string k_trace = path + ".trace";
    const bool typo = r.had_unknown(path);
    if (tr.file.empty() && tr.points.empty()) {
        if (!typo && !r.errored(path + ".trace_points"))
            r.error(r.where_any({path + ".at_end", path + ".granularity", path + ".trace_period", path + ".trace_points"}), k_trace,
                    "at_end, granularity and trace_period need trace = \"FILE\" (a recording: .ncr, CSV, irtt JSON or pcap)");
        return;
    }
    for (auto k : {"mean", "jitter", "distribution", "table", "samples", "correlation"})
        if (r.has(path + "." + k))
            r.error(r.where(path + "." + k), path + "." + k,
                    std::string("set either trace (the delay follows the recording) or ") + k + ", not both");
    if (tr.granularity < std::chrono::milliseconds(100))
        r.error(r.where(path + ".granularity"), path + ".granularity",
                "granularity " + format_duration(tr.granularity) + " is below 100ms: netem replays a trace by switching in place at most every 100 ms");
    if (!tr.file.empty()) {
        resolve_named_file(tr.file, "delay trace", r, k_trace, p,
                           [&](const std::filesystem::path& f, const Pos& pos) { load_delay_trace(tr, f, r, pos, k_trace); });
    }
}

void finish_delay(Delay& d, Reader& r, const std::string& path, const Profile& p) {
    if (d.trace) return finish_delay_trace(d, r, path, p);
    const std::string k_mean = path + ".mean", k_jitter = path + ".jitter", k_dist = path + ".distribution";
    if (d.distribution == Distribution::custom) {
        if (!d.table || (d.table->file.empty() && d.table->samples_ms.empty())) {
            r.error(r.where(k_dist), k_dist, "distribution = \"custom\" needs table = \"file.dist\" (iproute2 format) or samples = [ms, ...]");
            return;
        }
        if (!d.table->samples_ms.empty()) {
            const auto& s = d.table->samples_ms;
            if (s.size() < 2) {
                r.error(r.where(path + ".samples"), path + ".samples", "expected at least 2 samples to build a distribution");
                return;
            }
            // The samples define the shape; unless given, mean and jitter come from them too.
            const dist::Moments m = dist::moments(s);
            const double mean = m.mean, sigma = m.stddev;
            if (!r.has(k_mean)) d.mean = Duration{std::llround(mean * 1e6)};
            if (!r.has(k_jitter)) d.jitter = Duration{std::llround(sigma * 1e6)};
            if (sigma == 0) r.error(r.where(path + ".samples"), path + ".samples", "all samples are equal: a distribution needs spread (use mean alone for a constant delay)");
        } else {
            // Relative to the file that named it (a phase override lives in the experiment).
            resolve_named_file(d.table->file, "distribution table", r, path + ".table", p,
                               [&](const std::filesystem::path& f, const Pos&) { check_dist_file(f, r, path + ".table"); });
        }
    }
    const bool typo = r.had_unknown(path);   // a misspelt key already has its error
    if (!typo && r.has(k_jitter) && !r.has(k_mean) && !(d.table && !d.table->samples_ms.empty()))
        r.error(r.where(k_jitter), k_jitter, "jitter without a delay: set " + path + ".mean too (\"0\" is allowed)");
    if (!typo && r.has(k_dist) && d.jitter.count() == 0 && !r.errored(k_jitter))
        r.error(r.where(k_dist), k_dist, "distribution \"" + std::string(to_string(d.distribution)) + "\" without jitter: set " + path + ".jitter > 0 (netem ignores the distribution otherwise)");
    if (!typo && d.table && !d.table->file.empty() && d.jitter.count() == 0 && !r.has(k_dist))
        r.error(r.where(path + ".table"), path + ".table", "a distribution table without jitter: set " + path + ".jitter > 0 (the table is scaled by jitter)");
    if (d.order == JitterOrder::reorder && d.jitter.count() == 0)
        r.warning(r.where(path + ".reorder"), path + ".reorder", "reorder = true has no effect without jitter");
    if (d.jitter > d.mean && d.jitter.count() > 0 && !r.errored(k_mean)) {   // a bad mean reads as 0
        if (d.distribution == Distribution::normal) {
            double mass = normal_mass_below_zero(d.mean, d.jitter);
            r.warning(r.where(k_jitter), k_jitter,
                      "normal jitter (sigma " + format_duration(d.jitter) + ") is larger than the mean (" + format_duration(d.mean) +
                          "): delays are truncated at zero, " + pct(mass) + " of the distribution (Phi(-mean/sigma)) becomes 0 delay");
        } else if (d.distribution == Distribution::uniform) {
            double mass = static_cast<double>((d.jitter - d.mean).count()) / (2.0 * static_cast<double>(d.jitter.count()));
            r.warning(r.where(k_jitter), k_jitter,
                      "uniform jitter (" + format_duration(d.jitter) + ") is larger than the mean (" + format_duration(d.mean) +
                          "): delays are truncated at zero, " + pct(mass) + " of the distribution becomes 0 delay");
        }
    }
}

// A Mahimahi mm-link file: one integer ms a line (blank lines skipped), non-decreasing.
void load_mm_link(MmLinkTrace& mm, const std::filesystem::path& file, Reader& r, const Pos& pos, const std::string& key) {
    std::ifstream in(file);
    if (!in) {
        r.error(pos, key, "cannot read mm-link trace " + file.string() + ": " + std::strerror(errno));
        return;
    }
    std::vector<std::uint32_t> ms;
    std::string line;
    for (int ln = 1; std::getline(in, line); ++ln) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto b = line.find_first_not_of(" \t");
        if (b == std::string::npos) continue;
        const auto e = line.find_last_not_of(" \t") + 1;
        std::uint32_t v = 0;
        const auto [end, ec] = std::from_chars(line.data() + b, line.data() + e, v);
        const std::string where = file.string() + ":" + std::to_string(ln) + ":" + std::to_string(b + 1) + ": ";
        if (ec != std::errc() || end != line.data() + e) {
            r.error(pos, key, "mm-link trace " + where + "expected a whole number of ms (one delivery opportunity), got \"" + line.substr(b, e - b) + "\"");
            return;
        }
        if (!ms.empty() && v < ms.back()) {
            r.error(pos, key, "mm-link trace " + where + std::to_string(v) + " ms after " + std::to_string(ms.back()) + " ms: times must be non-decreasing");
            return;
        }
        if (ms.size() >= max_mm_link_lines) {
            r.error(pos, key, "mm-link trace " + where + "more than " + std::to_string(max_mm_link_lines) + " opportunities");
            return;
        }
        ms.push_back(v);
    }
    if (ms.empty()) {
        r.error(pos, key, "mm-link trace " + file.string() + " is empty: no delivery opportunity");
        return;
    }
    mm.ms = std::move(ms);
}

void finish_mm_link(Rate& rate, Reader& r, const std::string& path, const Profile& p) {
    auto& mm = *rate.mm_link;
    const std::string key = path + ".mm_link";
    if (r.has(path + ".rate"))
        r.error(r.where(path + ".rate"), path + ".rate", "set either rate (constant) or mm_link (delivery opportunities over time), not both");
    if (!mm.file.empty()) {
        resolve_named_file(mm.file, "mm-link trace", r, key, p,
                           [&](const std::filesystem::path& f, const Pos& pos) { load_mm_link(mm, f, r, pos, key); });
    }
    if (mm.ms.empty()) return;
    // The mean rate (opportunities x 1500 B over the period): what reports and limits use.
    const double period_s = std::max<std::uint32_t>(mm.ms.back(), 1) / 1e3;
    rate.bytes_per_sec = static_cast<std::uint64_t>(std::llround(static_cast<double>(mm.ms.size()) * 1500.0 / period_s));
}

void need_p(Reader& r, const std::string& path, const char* what) {
    if (!r.has(path + ".p") && !r.errored(path + ".model") && !r.had_unknown(path)) r.error(r.where(path), path, std::string(what) + " needs a probability p like \"0.1%\"");
}

void finish_loss(Loss& l, Reader& r, const std::string& path) {
    double any_loss = 0;
    if (auto* m = std::get_if<RandomLoss>(&l.model)) {
        if (!r.errored(path + ".mean")) need_p(r, path, "random loss");   // mean here is already an error
        any_loss = m->p;
    } else if (auto* g = std::get_if<GilbertElliott>(&l.model)) {
        const bool intent = r.has(path + ".mean");   // p and r were derived from mean and burst
        if (!intent) need_p(r, path, "gilbert-elliott loss");
        if (!intent && !r.has(path + ".r")) g->r = 1.0 - g->p;   // tc's default
        if (g->p > 0 && g->r == 0)
            r.warning(r.where(path + ".r"), path + ".r", "r = 0: once in the bad state the link never recovers");
        any_loss = g->p * g->one_minus_h + g->one_minus_k;
    } else if (auto* s = std::get_if<Markov4>(&l.model)) {
        if (!r.has(path + ".p13") && !r.had_unknown(path)) r.error(r.where(path), path, "markov4 loss needs p13 (good -> burst loss) like \"1%\"");
        if (!r.has(path + ".p31")) s->p31 = 1.0 - s->p13;   // tc's default
        if (s->p13 + s->p14 > 1.0 + 1e-12)
            r.error(r.where(path + ".p14"), path + ".p14", "p13 + p14 is " + pct(s->p13 + s->p14) + ": the transitions out of state 1 cannot exceed 100%");
        if (s->p31 + s->p32 > 1.0 + 1e-12)
            r.error(r.where(path + ".p32"), path + ".p32", "p31 + p32 is " + pct(s->p31 + s->p32) + ": the transitions out of state 3 cannot exceed 100%");
        any_loss = s->p13 + s->p14;
    }
    // A model chosen for its bursts whose bursts average about one packet is random loss in
    // disguise: GE with only p keeps tc's default r = 1 - p, which is exactly that.
    if (!std::holds_alternative<RandomLoss>(l.model) && !r.failed()) {
        auto sum = summarize(l.model);
        if (sum.mean_burst && *sum.mean_burst < min_bursty_burst) {
            const bool ge = std::holds_alternative<GilbertElliott>(l.model);
            char buf[96];
            std::snprintf(buf, sizeof buf, "mean burst is %.3g packets at a mean loss of %s", *sum.mean_burst, pct(sum.mean_loss).c_str());
            std::string key = ge ? (r.has(path + ".r") ? path + ".r" : path + ".p") : path + ".p31";
            r.warning(r.has(key) ? r.where(key) : r.where(path), key,
                      std::string(buf) + ": this " + (ge ? "gilbert-elliott" : "markov4") + " loss is nearly random" +
                          (ge && !r.has(path + ".r") && !r.has(path + ".mean") ? " (r defaults to 1 - p, as in tc)" : "") +
                          "; for bursts write e.g. loss = { mean = \"" + pct(sum.mean_loss) + "\", burst = 4 }");
        }
    }
    if (l.ecn && any_loss == 0)
        r.error(r.where(path + ".ecn"), path + ".ecn", "ecn = true needs a loss probability > 0 (ECN marks what would be dropped)");
}

void finish_impairment(Impairment& imp, Reader& r, const std::string& path, const Profile& p) {
    if (imp.delay) finish_delay(*imp.delay, r, path + ".delay", p);
    // Both backends serialize at the rate after the delay, and netem computes each send time
    // from the previous packet's: a rate keeps order (docs/profiles.md, "Order").
    if (imp.delay && imp.rate && imp.delay->order == JitterOrder::reorder && imp.delay->jitter.count() > 0)
        r.warning(r.where(path + ".delay.reorder"), path + ".delay.reorder",
                  "reorder = true has no effect with a rate: the rate keeps packet order (on netem and the forwarder)");
    if (imp.loss) finish_loss(*imp.loss, r, path + ".loss");
    if (imp.duplicate) need_p(r, path + ".duplicate", "duplicate");
    if (imp.corrupt) need_p(r, path + ".corrupt", "corrupt");
    if (imp.reorder) {
        need_p(r, path + ".reorder", "reorder");
        if (!imp.delay || imp.delay->mean.count() == 0)
            r.error(r.where(path + ".reorder"), path + ".reorder",
                    "reorder without delay: netem reorders by sending some packets at once while the rest wait, so set " + path + ".delay.mean > 0");
    }
    if (imp.rate && imp.rate->mm_link) finish_mm_link(*imp.rate, r, path + ".rate", p);
    if (imp.rate && imp.rate->bytes_per_sec == 0 && !r.errored(path + ".rate.rate") && !r.had_unknown(path + ".rate") &&
        !r.errored(path + ".rate.mm_link") && !r.errored(path + ".rate.mm_link_ms")) {
        auto k = path + ".rate.rate";
        r.error(r.has(k) ? r.where(k) : r.where(path + ".rate"), k, "rate needs a value > 0 like \"100mbit\"");
    }
    if (imp.slot) {
        auto& s = *imp.slot;
        const std::string sp = path + ".slot";
        bool window = r.has(sp + ".min_delay") || r.has(sp + ".max_delay");
        bool dist = r.has(sp + ".distribution") || r.has(sp + ".delay") || r.has(sp + ".jitter");
        if (window && dist)
            r.error(r.where(sp + ".distribution"), sp, "set either min_delay/max_delay or distribution/delay/jitter, not both");
        else if (!window && !dist && !r.had_unknown(sp))
            r.error(r.where(sp), sp, "slot needs min_delay (and max_delay) or distribution, delay and jitter");
        else if (window) {
            if (!r.has(sp + ".max_delay")) s.max_delay = s.min_delay;
            if (s.max_delay < s.min_delay)
                r.error(r.where(sp + ".max_delay"), sp + ".max_delay", "max_delay (" + format_duration(s.max_delay) + ") is smaller than min_delay (" + format_duration(s.min_delay) + ")");
        } else {
            if (!s.distribution) r.error(r.where(sp), sp, "slot delay/jitter need distribution = \"normal\" (or uniform, pareto, paretonormal)");
            if (s.dist_delay.count() == 0) r.error(r.where(sp), sp + ".delay", "slot distribution needs delay > 0");
            if (s.dist_jitter.count() == 0 && s.distribution && *s.distribution != Distribution::uniform)
                r.error(r.where(sp + ".distribution"), sp + ".jitter", "slot distribution needs jitter > 0");
        }
    }
    if (imp.rate && imp.delay && imp.rate->bytes_per_sec > 0) {
        double seconds = std::chrono::duration<double>(imp.delay->mean + imp.delay->jitter).count();
        double in_flight = static_cast<double>(imp.rate->bytes_per_sec) * seconds / mtu_bytes;
        if (in_flight > imp.limit) {
            auto k = path + ".limit";
            r.warning(r.has(k) ? r.where(k) : r.where(path + ".rate.rate"), k,
                      "limit " + std::to_string(imp.limit) + " packets is smaller than rate x delay: " + format_rate(imp.rate->bytes_per_sec) +
                          " x " + format_duration(imp.delay->mean + imp.delay->jitter) + " holds " + std::to_string(static_cast<long long>(std::ceil(in_flight))) +
                          " packets of 1500 B in flight; netem drops the rest (set limit >= " + std::to_string(static_cast<long long>(std::ceil(in_flight))) + ")");
        }
    }
}

// ------------------------------------------------------------------ [http]
// The HTTP proxy's faults. Delays are read by read_delay (the same keys and rules as a
// direction's delay), so a request delay is any distribution the network backends take.
void read_http_faults(const toml::table& t, HttpFaults& f, Reader& r, const std::string& path) {
    for (auto key : {"request_delay", "response_delay"}) {
        if (const auto* s = r.table(t, path, key)) {
            auto& d = std::string_view(key) == "request_delay" ? f.request_delay : f.response_delay;
            const std::string dp = Reader::join(path, key);
            if (const toml::node* n = s->get("reorder"))
                r.error(r.pos_of(*n), dp + ".reorder", "reorder does not apply to HTTP delays: each request waits on its own");
            read_delay(*s, d ? *d : d.emplace(), r, dp);
        }
    }
    if (auto v = r.rate(t, path, "throttle")) f.throttle = *v;
    if (const auto* s = r.table(t, path, "abort")) {
        const std::string ap = Reader::join(path, "abort");
        r.check_keys(*s, ap, {"p", "correlation", "status", "reset"});
        auto& a = f.abort ? *f.abort : f.abort.emplace();
        read_p_corr(*s, a, r, ap);
        if (auto v = r.integer(*s, ap, "status", 400, 599)) a.status = static_cast<std::uint16_t>(*v);
        if (auto v = r.boolean(*s, ap, "reset")) a.reset = *v;
    }
}

bool is_token(std::string_view s) {   // RFC 9110 token: method and header names
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
    });
}

void read_http_route(const toml::table& t, HttpRoute& rt, Reader& r, const std::string& path) {
    r.check_keys(t, path, {"name", "method", "path_prefix", "header", "request_delay", "response_delay", "throttle", "abort"});
    if (auto v = r.string(t, path, "name")) rt.name = *v;
    if (auto v = r.string(t, path, "method")) {
        if (!is_token(*v))
            r.error(r.where(path + ".method"), path + ".method", "expected an HTTP method like \"POST\", got \"" + *v + "\"");
        rt.match.method = *v;
    }
    if (auto v = r.string(t, path, "path_prefix")) {
        if (v->empty() || (*v)[0] != '/')
            r.error(r.where(path + ".path_prefix"), path + ".path_prefix", "expected a path starting with \"/\" like \"/checkout\", got \"" + *v + "\"");
        rt.match.path_prefix = *v;
    }
    if (auto v = r.string(t, path, "header")) {
        // "Name" (present) or "Name: value" (exact value, spaces around it ignored).
        const auto colon = v->find(':');
        std::string name = v->substr(0, colon), value;
        if (colon != std::string::npos) value = v->substr(colon + 1);
        auto trim = [](std::string& x) {
            x.erase(0, x.find_first_not_of(" \t"));
            x.erase(x.find_last_not_of(" \t") + 1);
        };
        trim(name);
        trim(value);
        if (!is_token(name))
            r.error(r.where(path + ".header"), path + ".header", "expected \"Name\" or \"Name: value\" like \"X-Tier: gold\", got \"" + *v + "\"");
        rt.match.header = name;
        rt.match.header_value = value;
    }
    read_http_faults(t, rt.faults, r, path);
}

void read_http(const toml::table& t, Http& h, Reader& r) {
    const std::string path = "http";
    r.check_keys(t, path, {"seed", "route", "request_delay", "response_delay", "throttle", "abort"});
    if (auto v = r.integer(t, path, "seed", 0, INT64_MAX)) h.seed = static_cast<std::uint64_t>(*v);
    read_http_faults(t, h.faults, r, path);
    if (const toml::node* n = t.get("route")) {
        r.seen("http.route", r.pos_of(*n));
        const auto* arr = n->as_array();
        if (!arr || !arr->is_array_of_tables()) {
            r.error(r.pos_of(*n), "http.route", "expected [[http.route]] tables, got " + Reader::describe(*n));
            return;
        }
        h.routes.clear();
        for (std::size_t i = 0; i < arr->size(); ++i) {
            const std::string rp = "http.route[" + std::to_string(i) + "]";
            r.seen(rp, r.pos_of(*arr->get(i)));
            read_http_route(*arr->get(i)->as_table(), h.routes.emplace_back(), r, rp);
        }
    }
}

void finish_http_faults(HttpFaults& f, Reader& r, const std::string& path, const Profile& p) {
    if (f.request_delay) finish_delay(*f.request_delay, r, path + ".request_delay", p);
    if (f.response_delay) finish_delay(*f.response_delay, r, path + ".response_delay", p);
    if (f.throttle && *f.throttle == 0) r.error(r.where(path + ".throttle"), path + ".throttle", "throttle needs a rate > 0 like \"1mbit\"");
    if (f.abort) {
        const std::string ap = path + ".abort";
        need_p(r, ap, "abort");
        if (f.abort->reset && r.has(ap + ".status"))
            r.error(r.where(ap + ".status"), ap + ".status", "set either status (answer with it) or reset = true (reset the connection), not both");
    }
}

void finish_http(Http& h, Reader& r, const Profile& p) {
    finish_http_faults(h.faults, r, "http", p);
    for (std::size_t i = 0; i < h.routes.size(); ++i) {
        const std::string rp = "http.route[" + std::to_string(i) + "]";
        auto& rt = h.routes[i];
        if (rt.match == HttpMatch{} && !r.had_unknown(rp))
            r.warning(r.where(rp), rp, "a route without method, path_prefix or header matches every request: the routes after it never apply");
        finish_http_faults(rt.faults, r, rp, p);
    }
}

}  // namespace

void read_sections(const toml::table& t, Profile& p, Reader& r) {
    for (auto dir : {"egress", "ingress"}) {
        if (const auto* s = r.table(t, "", dir)) {
            auto& imp = std::string_view(dir) == "egress" ? p.egress : p.ingress;
            read_impairment(*s, imp ? *imp : imp.emplace(), r, dir);
        }
    }
    if (const auto* s = r.table(t, "", "match")) {
        if (!r.match_shorthand) r.match_shorthand.emplace();
        read_match(*s, *r.match_shorthand, r, "match");
    }
    if (const toml::node* n = t.get("class")) read_classes(*n, p, r);
    if (const auto* s = r.table(t, "", "http")) read_http(*s, p.http ? *p.http : p.http.emplace(), r);
}

void read_profile(const toml::table& t, Profile& p, Reader& r) {
    r.check_keys(t, "", {"name", "description", "egress", "ingress", "match", "class", "http"});
    if (auto v = r.string(t, "", "name")) p.name = *v;
    if (auto v = r.string(t, "", "description")) p.description = *v;
    read_sections(t, p, r);
}

void finish_profile(Profile& p, Reader& r) {
    if (p.name.empty()) p.name = p.source.stem().string();
    if (p.egress) finish_impairment(*p.egress, r, "egress", p);
    if (p.ingress) finish_impairment(*p.ingress, r, "ingress", p);
    if (p.http) finish_http(*p.http, r, p);
    if (r.match_shorthand) {
        finish_match(*r.match_shorthand, r, "match");
        if (!p.classes.empty())
            r.error(r.where("match"), "match", "set either [match] (one flow gets [egress]/[ingress], the rest passes) or "
                                               "[[class]] entries (each with its own match and impairment), not both");
        // The shorthand is one class holding the directions; the unmatched traffic passes.
        FlowClass c{"match", *r.match_shorthand, std::move(p.egress), std::move(p.ingress)};
        p.egress.reset();
        p.ingress.reset();
        p.classes.insert(p.classes.begin(), std::move(c));
        r.match_shorthand.reset();
        return;   // its impairments were checked above, as [egress]/[ingress]
    }
    for (std::size_t i = 0; i < p.classes.size(); ++i) {
        auto& c = p.classes[i];
        const std::string cp = "class[" + std::to_string(i + 1) + "]";
        finish_match(c.match, r, cp + ".match");
        if (c.egress) finish_impairment(*c.egress, r, cp + ".egress", p);
        if (c.ingress) finish_impairment(*c.ingress, r, cp + ".ingress", p);
        for (std::size_t j = 0; j < i; ++j)
            if (p.classes[j].name == c.name)
                r.error(r.where(cp + ".name"), cp + ".name", "class name \"" + c.name + "\" is used twice (names label the stats)");
        if (c.match == FlowMatch{} && i + 1 < p.classes.size())
            r.warning(r.where(cp), cp, "class \"" + c.name + "\" has no match: it takes every packet, so the classes after it never apply");
    }
    if (p.classes.size() > max_classes)
        r.error(r.where("class"), "class", std::to_string(p.classes.size()) + " classes: at most " + std::to_string(max_classes));
}

}  // namespace detail

Parsed<Profile> parse_profile_text(std::string_view toml, const std::filesystem::path& name) {
    Parsed<Profile> out;
    detail::Reader r(name, out.diagnostics);
    if (auto t = detail::parse_toml(toml, name, r)) {
        Profile p;
        p.source = name;
        detail::read_profile(*t, p, r);
        detail::finish_profile(p, r);
        // A class without directions is legal: its packets pass while the rest is impaired.
        const bool classes_impair = std::any_of(p.classes.begin(), p.classes.end(), [](const FlowClass& c) { return c.egress || c.ingress; });
        if (!p.egress && !p.ingress && !classes_impair && !p.http)
            r.warning(detail::Pos{name, 0, 0}, "", "no [egress], [ingress] or [http] section: this profile impairs nothing");
        if (!r.failed()) out.value = std::move(p);
    }
    detail::sort_diagnostics(out.diagnostics);
    return out;
}

Parsed<Profile> parse_profile_file(const std::filesystem::path& file) {
    Parsed<Profile> out;
    detail::Reader r(file, out.diagnostics);
    auto text = detail::read_text(file, r);
    if (!text) return out;
    return parse_profile_text(*text, file);
}

namespace {
TablePolicy& policy_storage() {
    static TablePolicy p;
    return p;
}
}  // namespace

void set_table_policy(TablePolicy policy) { policy_storage() = std::move(policy); }
const TablePolicy& table_policy() { return policy_storage(); }

Profile with_absolute_tables(const Profile& p) {
    Profile q = p;
    if (p.source.empty()) return q;
    auto fix = [&](std::optional<Delay>& d) {
        if (d && d->table && !d->table->file.empty() && d->table->file.is_relative())
            d->table->file = std::filesystem::absolute(p.source.parent_path() / d->table->file);
    };
    for (auto* imp : {q.egress ? &*q.egress : nullptr, q.ingress ? &*q.ingress : nullptr})
        if (imp) fix(imp->delay);
    for (auto& c : q.classes)
        for (auto* imp : {c.egress ? &*c.egress : nullptr, c.ingress ? &*c.ingress : nullptr})
            if (imp) fix(imp->delay);
    // Every delay of the [http] table too: the proxy's working directory is not the profile's.
    if (q.http) {
        fix(q.http->faults.request_delay), fix(q.http->faults.response_delay);
        for (auto& r : q.http->routes) fix(r.faults.request_delay), fix(r.faults.response_delay);
    }
    return q;
}

Result<Cidr> parse_cidr(std::string_view s) {
    std::string why;
    bool host_bits = false;
    auto c = detail::parse_cidr(std::string(s), why, host_bits);
    if (!c) return make_error(why, ErrorKind::bad_input);
    return *c;
}

std::string Diagnostic::format() const {
    std::string out = file.string();
    if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
    out += severity == Severity::error ? ": error: " : ": warning: ";
    if (!key.empty()) out += key + ": ";
    return out + message;
}

}  // namespace netchaos::profile
