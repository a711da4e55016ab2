// tc netem words -> Impairment. The grammar and the defaults are tc's (iproute2 q_netem.c);
// the code is ours. Where tc's words and what tc sends disagree (a duplicate correlation
// typed alone is parsed and never sent), the import follows what tc sends and says so.
#include "profile/tc_import.hpp"

#include "dist/table.hpp"

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <strings.h>

namespace netchaos::profile {

namespace {

Error bad(std::string msg) { return make_error(std::move(msg), ErrorKind::bad_input); }

// strtod over the whole word's number part; `rest` is what follows the number.
bool leading_number(std::string_view w, double& v, std::string& rest) {
    const std::string s(w);
    char* end = nullptr;
    errno = 0;
    v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || errno == ERANGE || !std::isfinite(v)) return false;
    rest = std::string(end);
    return true;
}

bool is_number(std::string_view w) {   // tc's NEXT_IS_NUMBER: anything strtod starts to read
    double v = 0;
    std::string rest;
    return leading_number(w, v, rest);
}

bool unit_is(const std::string& rest, std::initializer_list<const char*> names) {
    for (const char* n : names)
        if (strcasecmp(rest.c_str(), n) == 0) return true;
    return false;
}

Result<std::uint64_t> tc_u64(std::string_view w, std::string_view what) {
    const std::string s(w);
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    if (s.empty() || s[0] == '-' || end == s.c_str() || *end || errno == ERANGE)
        return bad("\"" + s + "\": " + std::string(what) + " expects an unsigned integer");
    return static_cast<std::uint64_t>(v);
}

// tc's get_size: k, m, g (with or without b) are powers of 1024.
Result<std::uint64_t> tc_size(std::string_view w, std::string_view what) {
    double v = 0;
    std::string rest;
    if (!leading_number(w, v, rest) || v < 0) return bad("\"" + std::string(w) + "\": " + std::string(what) + " expects a size like 1000 or 64k");
    double scale = 1;
    if (rest.empty() || unit_is(rest, {"b"})) scale = 1;
    else if (unit_is(rest, {"k", "kb"})) scale = 1024;
    else if (unit_is(rest, {"m", "mb"})) scale = 1024.0 * 1024;
    else if (unit_is(rest, {"g", "gb"})) scale = 1024.0 * 1024 * 1024;
    else return bad("\"" + std::string(w) + "\": " + std::string(what) + ": unknown size unit \"" + rest + "\"");
    return static_cast<std::uint64_t>(v * scale);
}

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

// tc's matches(): the word is a non-empty prefix of the keyword ("del" is delay).
bool matches(std::string_view word, std::string_view keyword) {
    return !word.empty() && word.size() <= keyword.size() && keyword.substr(0, word.size()) == word;
}

// The named distribution of "distribution NAME": the four netchaos knows by name, or an
// iproute2 table file NAME.dist in tc's library directory (tc loads the same file).
Result<Delay> with_distribution(Delay d, std::string_view name) {
    const std::string n(name);
    if (n == "uniform") d.distribution = Distribution::uniform;
    else if (n == "normal") d.distribution = Distribution::normal;
    else if (n == "pareto") d.distribution = Distribution::pareto;
    else if (n == "paretonormal") d.distribution = Distribution::paretonormal;
    else {
        for (const auto& dir : dist::tc_table_dirs()) {
            std::filesystem::path f = dir / (n + ".dist");
            std::error_code ec;
            if (std::filesystem::exists(f, ec)) {
                d.distribution = Distribution::custom;
                d.table = CustomTable{f, {}};
                return d;
            }
        }
        return bad("distribution \"" + n + "\": no such table (netchaos knows uniform, normal, pareto, paretonormal, or a " + n +
                   ".dist file in tc's library directory)");
    }
    return d;
}

Result<Distribution> slot_distribution(std::string_view name) {
    if (name == "uniform") return Distribution::uniform;
    if (name == "normal") return Distribution::normal;
    if (name == "pareto") return Distribution::pareto;
    if (name == "paretonormal") return Distribution::paretonormal;
    return bad("slot distribution \"" + std::string(name) + "\": netchaos's slot takes uniform, normal, pareto or paretonormal");
}

// The words after "netem", in tc's order of keyword tests (so prefixes resolve as in tc).
class OptionParser {
public:
    explicit OptionParser(std::vector<std::string> w) : w_(std::move(w)) {}

    Result<TcImport> run() {
        while (i_ < w_.size()) {
            const std::string& k = w_[i_];
            Result<void> r;
            if (matches(k, "limit")) r = limit();
            else if (matches(k, "latency") || matches(k, "delay")) r = delay();
            else if (matches(k, "loss") || matches(k, "drop")) r = loss();
            else if (matches(k, "ecn")) { ecn_ = true; ++i_; }
            else if (matches(k, "reorder")) r = reorder();
            else if (matches(k, "corrupt")) r = corrupt();
            else if (matches(k, "gap")) r = gap();
            else if (matches(k, "duplicate")) r = duplicate();
            else if (matches(k, "distribution")) r = distribution();
            else if (matches(k, "rate")) r = rate();
            else if (matches(k, "slot")) r = slot();
            else if (matches(k, "seed")) r = seed();
            else return bad("\"" + k + "\": not a netem option netchaos can express");
            if (!r) return r.error();
        }
        return finish();
    }

private:
    std::vector<std::string> w_;
    std::size_t i_ = 0;
    TcImport out_;
    Impairment& imp_ = out_.imp;
    bool ecn_ = false;
    bool corr_typed_ = false;      // tc sends TCA_NETEM_CORR iff some correlation word was typed
    double dup_corr_ = 0;
    std::optional<std::string> dist_name_;
    std::optional<std::uint32_t> gap_;

    bool next_is_number() const { return i_ + 1 < w_.size() && is_number(w_[i_ + 1]); }
    Result<std::string> arg(std::string_view of) {
        if (i_ + 1 >= w_.size()) return bad("\"" + w_[i_] + "\": missing the value of " + std::string(of));
        return w_[++i_];
    }
    Result<double> percent_arg(std::string_view of) {
        auto a = arg(of);
        if (!a) return a.error();
        return tc_percent(*a);
    }
    Result<double> optional_percent(std::string_view of, double fallback, bool is_corr = false) {
        if (!next_is_number()) return fallback;
        if (is_corr) corr_typed_ = true;
        return percent_arg(of);
    }

    Result<void> limit() {
        auto a = arg("limit");
        if (!a) return a.error();
        auto v = tc_size(*a, "limit");
        if (!v) return v.error();
        if (*v > std::numeric_limits<std::uint32_t>::max()) return bad("\"" + *a + "\": limit is at most 4294967295 packets");
        imp_.limit = static_cast<std::uint32_t>(*v);
        ++i_;
        return {};
    }

    Result<void> delay() {
        auto a = arg("delay");
        if (!a) return a.error();
        Delay d;
        auto mean = tc_time(*a);
        if (!mean) return mean.error();
        d.mean = *mean;
        if (next_is_number()) {
            auto j = tc_time(w_[++i_]);
            if (!j) return j.error();
            d.jitter = *j;
            auto c = optional_percent("delay correlation", 0, true);
            if (!c) return c.error();
            d.correlation = *c;
        }
        imp_.delay = d;
        ++i_;
        return {};
    }

    Result<void> loss() {
        auto a = arg("loss");
        if (!a) return a.error();
        const std::string model = *a;
        Loss l;
        if (matches(model, "random")) {
            auto p = percent_arg("loss random");
            if (!p) return p.error();
            auto c = optional_percent("loss correlation", 0, true);
            if (!c) return c.error();
            l.model = RandomLoss{*p, *c};
        } else if (matches(model, "state")) {
            // tc's defaults: p31 = 1 - p13, p32 = 0, p23 = 1, p14 = 0.
            Markov4 m;
            auto p13 = percent_arg("loss state p13");
            if (!p13) return p13.error();
            m.p13 = *p13;
            auto p31 = optional_percent("loss state p31", 1.0 - m.p13);
            if (!p31) return p31.error();
            m.p31 = *p31;
            auto p32 = optional_percent("loss state p32", 0);
            if (!p32) return p32.error();
            m.p32 = *p32;
            auto p23 = optional_percent("loss state p23", 1.0);
            if (!p23) return p23.error();
            m.p23 = *p23;
            auto p14 = optional_percent("loss state p14", 0);
            if (!p14) return p14.error();
            m.p14 = *p14;
            l.model = m;
        } else if (matches(model, "gemodel")) {
            // tc's third and fourth words are 1-h and 1-k (loss in the bad and the good state),
            // which is what the kernel's h and k fields hold and what the profile names them.
            GilbertElliott g;
            auto p = percent_arg("loss gemodel p");
            if (!p) return p.error();
            g.p = *p;
            auto r = optional_percent("loss gemodel r", 1.0 - g.p);
            if (!r) return r.error();
            g.r = *r;
            auto h = optional_percent("loss gemodel 1-h", 1.0);
            if (!h) return h.error();
            g.one_minus_h = *h;
            auto k = optional_percent("loss gemodel 1-k", 0);
            if (!k) return k.error();
            g.one_minus_k = *k;
            l.model = g;
        } else {
            auto p = tc_percent(model);
            if (!p) return bad("\"" + model + "\": loss expects random, state, gemodel or a percentage");
            auto c = optional_percent("loss correlation", 0, true);
            if (!c) return c.error();
            l.model = RandomLoss{*p, *c};
        }
        imp_.loss = l;
        ++i_;
        return {};
    }

    Result<void> reorder() {
        auto p = percent_arg("reorder");
        if (!p) return p.error();
        auto c = optional_percent("reorder correlation", 0, true);
        if (!c) return c.error();
        imp_.reorder = Reorder{*p, *c, 1};
        ++i_;
        return {};
    }

    Result<void> corrupt() {
        auto p = percent_arg("corrupt");
        if (!p) return p.error();
        auto c = optional_percent("corrupt correlation", 0, true);
        if (!c) return c.error();
        imp_.corrupt = Corrupt{*p, *c};
        ++i_;
        return {};
    }

    Result<void> gap() {
        auto a = arg("gap");
        if (!a) return a.error();
        auto v = tc_u64(*a, "gap");
        if (!v) return v.error();
        if (*v > std::numeric_limits<std::uint32_t>::max()) return bad("\"" + *a + "\": gap is a 32-bit packet count");
        gap_ = static_cast<std::uint32_t>(*v);
        ++i_;
        return {};
    }

    Result<void> duplicate() {
        auto p = percent_arg("duplicate");
        if (!p) return p.error();
        // Not marked as typed: tc parses it but only sends it along with another correlation.
        auto c = optional_percent("duplicate correlation", 0);
        if (!c) return c.error();
        dup_corr_ = *c;
        imp_.duplicate = Duplicate{*p, 0};
        ++i_;
        return {};
    }

    Result<void> distribution() {
        auto a = arg("distribution");
        if (!a) return a.error();
        dist_name_ = *a;
        ++i_;
        return {};
    }

    Result<void> rate() {
        auto a = arg("rate");
        if (!a) return a.error();
        auto bps = tc_rate(*a);
        if (!bps) return bps.error();
        Rate r;
        r.bytes_per_sec = *bps;
        auto s32 = [&](std::string_view what, std::int32_t& out) -> Result<void> {
            const std::string& w = w_[++i_];
            char* end = nullptr;
            errno = 0;
            const long v = std::strtol(w.c_str(), &end, 0);
            if (end == w.c_str() || *end || errno == ERANGE || v < std::numeric_limits<std::int32_t>::min() ||
                v > std::numeric_limits<std::int32_t>::max())
                return bad("\"" + w + "\": rate " + std::string(what) + " expects an integer (bytes)");
            out = static_cast<std::int32_t>(v);
            return {};
        };
        if (next_is_number()) {
            if (auto e = s32("packet overhead", r.packet_overhead); !e) return e.error();
            if (next_is_number()) {
                std::int32_t cell = 0;
                if (auto e = s32("cell size", cell); !e) return e.error();
                if (cell < 0) return bad("\"" + w_[i_] + "\": rate cell size cannot be negative");
                r.cell_size = static_cast<std::uint32_t>(cell);
                if (next_is_number())
                    if (auto e = s32("cell overhead", r.cell_overhead); !e) return e.error();
            }
        }
        imp_.rate = r;
        ++i_;
        return {};
    }

    Result<void> slot() {
        auto a = arg("slot");
        if (!a) return a.error();
        Slot s;
        if (matches(*a, "distribution")) {
            auto name = arg("slot distribution");
            if (!name) return name.error();
            auto d = slot_distribution(*name);
            if (!d) return d.error();
            s.distribution = *d;
            auto dl = arg("slot distribution DELAY");
            if (!dl) return dl.error();
            auto delay = tc_time(*dl, TcClock::nsec);
            if (!delay) return delay.error();
            s.dist_delay = *delay;
            auto jt = arg("slot distribution JITTER");
            if (!jt) return jt.error();
            auto jitter = tc_time(*jt, TcClock::nsec);
            if (!jitter) return jitter.error();
            s.dist_jitter = *jitter;
        } else {
            auto mn = tc_time(*a, TcClock::nsec);
            if (!mn) return mn.error();
            s.min_delay = *mn;
            s.max_delay = *mn;   // tc sends max = min when only one is given
            if (next_is_number()) {
                auto mx = tc_time(w_[++i_], TcClock::nsec);
                if (!mx) return mx.error();
                s.max_delay = *mx;
            }
        }
        for (;;) {
            if (i_ + 1 < w_.size() && matches(w_[i_ + 1], "packets")) {
                ++i_;
                auto v = arg("slot packets");
                if (!v) return v.error();
                auto n = tc_u64(*v, "slot packets");
                if (!n) return n.error();
                if (*n > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) return bad("\"" + *v + "\": slot packets is at most 2147483647");
                s.max_packets = static_cast<std::int32_t>(*n);
            } else if (i_ + 1 < w_.size() && matches(w_[i_ + 1], "bytes")) {
                ++i_;
                auto v = arg("slot bytes");
                if (!v) return v.error();
                auto n = tc_size(*v, "slot bytes");
                if (!n) return n.error();
                if (*n > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) return bad("\"" + *v + "\": slot bytes is at most 2147483647");
                s.max_bytes = static_cast<std::int32_t>(*n);
            } else {
                break;
            }
        }
        imp_.slot = s;
        ++i_;
        return {};
    }

    Result<void> seed() {
        auto a = arg("seed");
        if (!a) return a.error();
        auto v = tc_u64(*a, "seed");
        if (!v) return v.error();
        imp_.seed = *v;
        ++i_;
        return {};
    }

    Result<TcImport> finish() {
        if (gap_) {
            if (!imp_.reorder || imp_.reorder->p == 0) return bad("\"gap\": gap without a reorder probability (tc refuses it too)");
            imp_.reorder->gap = *gap_ == 0 ? 1 : *gap_;
        }
        if (imp_.reorder && (!imp_.delay || imp_.delay->mean.count() == 0))
            return bad("\"reorder\": reordering needs a delay (netem sends some packets at once while the rest wait)");
        if (dist_name_) {
            if (!imp_.delay || imp_.delay->mean.count() == 0 || imp_.delay->jitter.count() == 0)
                return bad("\"distribution\": a distribution needs a delay and a jitter (tc refuses it too)");
            auto d = with_distribution(*imp_.delay, *dist_name_);
            if (!d) return d.error();
            imp_.delay = *d;
        }
        if (ecn_) {
            if (!imp_.loss) return bad("\"ecn\": ecn needs a loss model (it marks what would be dropped)");
            imp_.loss->ecn = true;
        }
        if (imp_.duplicate && dup_corr_ != 0) {
            if (corr_typed_) {
                imp_.duplicate->correlation = dup_corr_;
            } else {
                out_.notes.push_back("tc parses a duplicate correlation but sends it only along with another correlation; "
                                     "the kernel gets none here, so neither does this profile");
            }
        }
        // Plain netem's tfifo reorders jittered packets unless a rate is set (the rate makes
        // each packet wait for the one before it). The profile says which it is.
        if (imp_.delay) imp_.delay->order = imp_.rate ? JitterOrder::preserve : JitterOrder::reorder;
        return out_;
    }
};

std::vector<std::string> split_words(std::string_view line) {
    std::vector<std::string> w;
    std::istringstream in{std::string(line)};
    std::string t;
    while (in >> t) w.push_back(t);
    return w;
}

}  // namespace

Result<Duration> tc_time(std::string_view word, TcClock clock) {
    double v = 0;
    std::string rest;
    if (!leading_number(word, v, rest) || v < 0) return bad("\"" + std::string(word) + "\": expected a time like 50ms");
    const bool ns_clock = clock == TcClock::nsec;
    double ns_per = 0;
    if (rest.empty()) ns_per = ns_clock ? 1 : 1e3;
    else if (unit_is(rest, {"s", "sec", "secs"})) ns_per = 1e9;
    else if (unit_is(rest, {"ms", "msec", "msecs"})) ns_per = 1e6;
    else if (unit_is(rest, {"us", "usec", "usecs"})) ns_per = 1e3;
    else if (ns_clock && unit_is(rest, {"ns", "nsec", "nsecs"})) ns_per = 1;
    else return bad("\"" + std::string(word) + "\": unknown time unit \"" + rest + (ns_clock ? "\" (s, ms, us, ns)" : "\" (s, ms, us)"));
    const double ns = v * ns_per;
    if (ns > static_cast<double>(std::numeric_limits<std::int64_t>::max())) return bad("\"" + std::string(word) + "\": time too large");
    if (ns_clock) return Duration{static_cast<std::int64_t>(ns)};
    // get_time keeps whole microseconds (1.5us is 1us), and so does the kernel's tick count.
    const double us = v * (ns_per / 1e3);
    if (us > 4294967295.0) return bad("\"" + std::string(word) + "\": tc's delay holds at most 4294967295us");
    return Duration{static_cast<std::int64_t>(static_cast<std::uint32_t>(us)) * 1000};
}

Result<double> tc_percent(std::string_view word) {
    double v = 0;
    std::string rest;
    if (!leading_number(word, v, rest) || (!rest.empty() && rest != "%"))
        return bad("\"" + std::string(word) + "\": expected a percentage like 1% or 0.5%");
    const double f = v / 100;   // as tc computes it, so the encoded u32 is tc's
    if (f < 0 || f > 1) return bad("\"" + std::string(word) + "\": a percentage is between 0% and 100%");
    return f;
}

Result<std::uint64_t> tc_rate(std::string_view word) {
    double v = 0;
    std::string rest;
    if (!leading_number(word, v, rest) || v < 0) return bad("\"" + std::string(word) + "\": expected a rate like 100mbit");
    if (rest == "%")
        return bad("\"" + std::string(word) + "\": a rate as a share of the interface speed cannot be expressed; give bits or bytes per second");
    struct Unit {
        const char* name;
        double bits;
    };
    static constexpr std::array<Unit, 18> units{{{"bit", 1.},
                                                 {"kibit", 1024.},
                                                 {"kbit", 1e3},
                                                 {"mibit", 1024. * 1024},
                                                 {"mbit", 1e6},
                                                 {"gibit", 1024. * 1024 * 1024},
                                                 {"gbit", 1e9},
                                                 {"tibit", 1024. * 1024 * 1024 * 1024},
                                                 {"tbit", 1e12},
                                                 {"bps", 8.},
                                                 {"kibps", 8. * 1024},
                                                 {"kbps", 8e3},
                                                 {"mibps", 8. * 1024 * 1024},
                                                 {"mbps", 8e6},
                                                 {"gibps", 8. * 1024 * 1024 * 1024},
                                                 {"gbps", 8e9},
                                                 {"tibps", 8. * 1024 * 1024 * 1024 * 1024},
                                                 {"tbps", 8e12}}};
    double bits = 1;   // tc: a bare number is bits per second
    if (!rest.empty()) {
        const auto l = lower(rest);
        bool found = false;
        for (const auto& u : units)
            if (l == u.name) {
                bits = u.bits;
                found = true;
                break;
            }
        if (!found) return bad("\"" + std::string(word) + "\": unknown rate unit \"" + rest + "\" (bit, kbit, mbit, gbit, bps, mbps, ...)");
    }
    const double bytes = v * bits / 8.;
    if (bytes >= 18446744073709551615.0) return bad("\"" + std::string(word) + "\": rate too large");
    return static_cast<std::uint64_t>(bytes);
}

Result<TcImport> import_tc(std::string_view line) {
    auto w = split_words(line);
    std::size_t i = 0;
    std::string dev;
    if (i < w.size() && w[i] == "sudo") ++i;
    const bool full = i < w.size() && (w[i] == "tc" || w[i] == "qdisc" || lower(w[i]).find("/tc") != std::string::npos);
    if (full) {
        if (w[i] != "qdisc") ++i;
        if (i >= w.size() || !matches(w[i], "qdisc")) return bad("\"" + (i < w.size() ? w[i] : std::string("end of line")) + "\": only tc qdisc commands can be imported");
        ++i;
        if (i >= w.size() || !(w[i] == "add" || w[i] == "replace" || w[i] == "change"))
            return bad("\"" + (i < w.size() ? w[i] : std::string("end of line")) + "\": expected add, replace or change");
        ++i;
        while (i < w.size() && w[i] != "netem") {
            const std::string& k = w[i];
            if (k == "dev" && i + 1 < w.size()) {
                dev = w[i + 1];
                i += 2;
            } else if (k == "root") {
                ++i;
            } else if ((k == "parent" || k == "handle") && i + 1 < w.size()) {
                i += 2;   // where the qdisc hangs is the applier's choice, not the profile's
            } else {
                return bad("\"" + k + "\": not something netchaos can express (only a netem qdisc on dev IF, root or parent)");
            }
        }
        if (i >= w.size()) return bad("\"" + w.back() + "\": the qdisc is not netem: netchaos imports netem only");
        ++i;
    }
    auto r = OptionParser({w.begin() + static_cast<std::ptrdiff_t>(i), w.end()}).run();
    if (!r) return r;
    r->dev = dev;
    return r;
}

}  // namespace netchaos::profile
