// Normalized rendering: every default explicit, fixed key order, units that parse back to
// the same value (to_text(parse(to_text(p))) == to_text(p)).
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "profile/parse.hpp"
#include "profile/loss.hpp"
#include "profile/units.hpp"

namespace netchaos::profile {

namespace {

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (u < 0x20 || u == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", u);
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "\"";
}

std::string short_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.10g", v);
    std::string s = buf;
    if (s.find_first_of(".e") == std::string::npos) s += ".0";
    return s;
}

struct TextOut {
    std::ostringstream o;
    void section(const std::string& name) { o << "\n[" << name << "]\n"; }
    void kv(std::string_view k, const std::string& v) { o << k << " = " << v << "\n"; }
    void s(std::string_view k, std::string_view v) { kv(k, quote(v)); }
    void d(std::string_view k, Duration v) { kv(k, quote(format_duration(v))); }
    void p(std::string_view k, double v) { kv(k, quote(format_percent(v))); }
    void b(std::string_view k, bool v) { kv(k, v ? "true" : "false"); }
    void i(std::string_view k, long long v) { kv(k, std::to_string(v)); }
};

// A delay table's keys; `order`: the key reorder (HTTP delays have none).
void text_delay(TextOut& t, const std::string& section, const Delay& d, bool order) {
        t.section(section);
        if (d.trace) {
            // Inline: whoever reads this text (the forwarder, a step file) never opens the trace.
            const auto& tr = *d.trace;
            if (!tr.file.empty()) t.o << "# trace: " << tr.file.string() << " (" << tr.points.size() << " answered probes)\n";
            std::string arr = "[";
            for (std::size_t i = 0; i < tr.points.size(); ++i)
                arr += (i ? ", [" : "[") + number(static_cast<double>(tr.points[i].at.count()) / 1e6) + ", " +
                       number(static_cast<double>(tr.points[i].delay.count()) / 1e6) + "]";
            t.kv("trace_points", arr + "]");
            t.d("trace_period", tr.period);
            t.s("at_end", tr.at_end == TraceEnd::loop ? "loop" : "hold");
            t.d("granularity", tr.granularity);
            if (order && d.order == JitterOrder::flow) t.s("reorder", "flow");
            else if (order) t.b("reorder", d.order == JitterOrder::reorder);
            return;
        }
        t.d("mean", d.mean);
        t.d("jitter", d.jitter);
        // Without jitter there is no distribution (and naming one is an error on input).
        if (d.jitter.count() > 0) t.s("distribution", to_string(d.distribution));
        else t.o << "# distribution: none (no jitter)\n";
        if (d.table && !d.table->file.empty()) t.s("table", d.table->file.string());
        if (d.table && !d.table->samples_ms.empty()) {
            std::string arr = "[";
            for (std::size_t i = 0; i < d.table->samples_ms.size(); ++i) arr += (i ? ", " : "") + number(d.table->samples_ms[i]);
            t.kv("samples", arr + "]");
        }
        t.p("correlation", d.correlation);
        if (order && d.order == JitterOrder::flow) t.s("reorder", "flow");
        else if (order) t.b("reorder", d.order == JitterOrder::reorder);
}

void text_impairment(TextOut& t, const std::string& dir, const Impairment& imp) {
    t.section(dir);
    t.i("limit", imp.limit);
    if (imp.seed) t.kv("seed", std::to_string(*imp.seed));
    if (imp.delay) text_delay(t, dir + ".delay", *imp.delay, true);
    if (imp.loss) {
        t.section(dir + ".loss");
        if (const auto* m = std::get_if<RandomLoss>(&imp.loss->model)) {
            t.s("model", "random");
            t.p("p", m->p);
            t.p("correlation", m->correlation);
        } else if (const auto* g = std::get_if<GilbertElliott>(&imp.loss->model)) {
            t.s("model", "gilbert-elliott");
            t.p("p", g->p);
            t.p("r", g->r);
            t.p("one_minus_h", g->one_minus_h);
            t.p("one_minus_k", g->one_minus_k);
        } else if (const auto* s = std::get_if<Markov4>(&imp.loss->model)) {
            t.s("model", "markov4");
            t.p("p13", s->p13);
            t.p("p31", s->p31);
            t.p("p32", s->p32);
            t.p("p23", s->p23);
            t.p("p14", s->p14);
        }
        t.b("ecn", imp.loss->ecn);
        const auto sum = summarize(imp.loss->model);
        t.o << "# mean loss " << format_percent(sum.mean_loss) << ", mean burst "
            << (sum.mean_burst ? short_number(*sum.mean_burst) + " packets"
                : sum.mean_loss == 0 ? std::string("none (no loss)") : std::string("n/a (correlated random loss has no closed form)")) << "\n";
    }
    if (imp.duplicate) {
        t.section(dir + ".duplicate");
        t.p("p", imp.duplicate->p);
        t.p("correlation", imp.duplicate->correlation);
    }
    if (imp.corrupt) {
        t.section(dir + ".corrupt");
        t.p("p", imp.corrupt->p);
        t.p("correlation", imp.corrupt->correlation);
    }
    if (imp.reorder) {
        t.section(dir + ".reorder");
        t.p("p", imp.reorder->p);
        t.p("correlation", imp.reorder->correlation);
        t.i("gap", imp.reorder->gap);
    }
    if (imp.rate) {
        t.section(dir + ".rate");
        if (const auto& mm = imp.rate->mm_link) {   // inline: the forwarder never opens the file
            t.o << "# mm-link" << (mm->file.empty() ? std::string() : " " + mm->file.string()) << ": " << mm->ms.size()
                << " delivery opportunities of 1500 B, mean " << format_rate(imp.rate->bytes_per_sec) << "\n";
            std::string arr = "[";
            for (std::size_t i = 0; i < mm->ms.size(); ++i) arr += (i ? ", " : "") + std::to_string(mm->ms[i]);
            t.kv("mm_link_ms", arr + "]");
        } else {
            t.s("rate", format_rate(imp.rate->bytes_per_sec));
        }
        t.i("packet_overhead", imp.rate->packet_overhead);
        t.i("cell_size", imp.rate->cell_size);
        t.i("cell_overhead", imp.rate->cell_overhead);
    }
    if (imp.slot) {
        const auto& s = *imp.slot;
        t.section(dir + ".slot");
        if (s.distribution) {
            t.s("distribution", to_string(*s.distribution));
            t.d("delay", s.dist_delay);
            t.d("jitter", s.dist_jitter);
        } else {
            t.d("min_delay", s.min_delay);
            t.d("max_delay", s.max_delay);
        }
        // netem's "no limit" is the absence of the key; say so in a comment.
        if (s.max_packets) t.i("packets", *s.max_packets); else t.o << "# packets: unlimited\n";
        if (s.max_bytes) t.s("bytes", format_size(static_cast<std::uint64_t>(*s.max_bytes))); else t.o << "# bytes: unlimited\n";
    }
}



// The faults of [http] or of one route; `self`: the table's own header (already written for
// [[http.route]]), then its sub-tables.
void text_http_faults(TextOut& t, const std::string& path, const HttpFaults& f) {
    if (f.throttle) t.s("throttle", format_rate(*f.throttle)); else t.o << "# throttle: none\n";
    if (f.request_delay) text_delay(t, path + ".request_delay", *f.request_delay, false);
    if (f.response_delay) text_delay(t, path + ".response_delay", *f.response_delay, false);
    if (f.abort) {
        t.section(path + ".abort");
        t.p("p", f.abort->p);
        t.p("correlation", f.abort->correlation);
        if (f.abort->reset) t.b("reset", true); else t.i("status", f.abort->status);
    }
}

void text_http(TextOut& t, const Http& h) {
    t.section("http");
    if (h.seed) t.kv("seed", std::to_string(*h.seed));
    text_http_faults(t, "http", h.faults);
    for (const auto& r : h.routes) {
        t.o << "\n[[http.route]]\n";
        if (!r.name.empty()) t.s("name", r.name);
        if (!r.match.method.empty()) t.s("method", r.match.method);
        if (!r.match.path_prefix.empty()) t.s("path_prefix", r.match.path_prefix);
        if (!r.match.header.empty()) t.s("header", r.match.header + (r.match.header_value.empty() ? "" : ": " + r.match.header_value));
        text_http_faults(t, "http.route", r.faults);
    }
}

nlohmann::ordered_json json_delay(const Delay& d) {
    nlohmann::ordered_json jd;
    if (d.trace) {
        jd["trace"] = {{"file", d.trace->file.string()}, {"points", d.trace->points.size()},
                       {"period_ns", d.trace->period.count()}, {"at_end", d.trace->at_end == TraceEnd::loop ? "loop" : "hold"},
                       {"granularity_ns", d.trace->granularity.count()}};
        return jd;
    }
    jd["mean_ns"] = d.mean.count();
    jd["jitter_ns"] = d.jitter.count();
    jd["distribution"] = to_string(d.distribution);
    if (d.table && !d.table->file.empty()) jd["table"] = d.table->file.string();
    if (d.table && !d.table->samples_ms.empty()) jd["samples_ms"] = d.table->samples_ms;
    jd["correlation"] = d.correlation;
    return jd;
}

nlohmann::ordered_json json_http_faults(const HttpFaults& f) {
    nlohmann::ordered_json j;
    j["request_delay"] = f.request_delay ? json_delay(*f.request_delay) : nlohmann::ordered_json(nullptr);
    j["response_delay"] = f.response_delay ? json_delay(*f.response_delay) : nlohmann::ordered_json(nullptr);
    j["throttle_bytes_per_sec"] = f.throttle ? nlohmann::ordered_json(*f.throttle) : nlohmann::ordered_json(nullptr);
    if (f.abort)
        j["abort"] = {{"p", f.abort->p}, {"correlation", f.abort->correlation}, {"status", f.abort->reset ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(f.abort->status)}, {"reset", f.abort->reset}};
    else
        j["abort"] = nullptr;
    return j;
}

nlohmann::ordered_json json_http(const Http& h) {
    nlohmann::ordered_json j = json_http_faults(h.faults);
    j["seed"] = h.seed ? nlohmann::ordered_json(*h.seed) : nlohmann::ordered_json(nullptr);
    auto routes = nlohmann::ordered_json::array();
    for (const auto& r : h.routes) {
        nlohmann::ordered_json jr = json_http_faults(r.faults);
        jr["name"] = r.name;
        jr["match"] = {{"method", r.match.method}, {"path_prefix", r.match.path_prefix}, {"header", r.match.header}, {"header_value", r.match.header_value}};
        routes.push_back(jr);
    }
    j["routes"] = routes;
    return j;
}

nlohmann::ordered_json json_impairment(const Impairment& imp) {
    nlohmann::ordered_json j;
    j["limit"] = imp.limit;
    j["seed"] = imp.seed ? nlohmann::ordered_json(*imp.seed) : nlohmann::ordered_json(nullptr);
    auto pc = [](double p, double c) { return nlohmann::ordered_json{{"p", p}, {"correlation", c}}; };
    if (imp.delay) {
        auto& jd = j["delay"];
        jd = json_delay(*imp.delay);
        if (imp.delay->order == JitterOrder::flow) jd["reorder"] = "flow";
        else jd["reorder"] = imp.delay->order == JitterOrder::reorder;
    }
    if (imp.loss) {
        auto& jl = j["loss"];
        if (const auto* m = std::get_if<RandomLoss>(&imp.loss->model)) {
            jl = {{"model", "random"}, {"p", m->p}, {"correlation", m->correlation}};
        } else if (const auto* g = std::get_if<GilbertElliott>(&imp.loss->model)) {
            jl = {{"model", "gilbert-elliott"}, {"p", g->p}, {"r", g->r}, {"one_minus_h", g->one_minus_h}, {"one_minus_k", g->one_minus_k}};
        } else if (const auto* s = std::get_if<Markov4>(&imp.loss->model)) {
            jl = {{"model", "markov4"}, {"p13", s->p13}, {"p31", s->p31}, {"p32", s->p32}, {"p23", s->p23}, {"p14", s->p14}};
        }
        jl["ecn"] = imp.loss->ecn;
        const auto sum = summarize(imp.loss->model);
        jl["mean_loss"] = sum.mean_loss;
        jl["mean_burst"] = sum.mean_burst ? nlohmann::ordered_json(*sum.mean_burst) : nlohmann::ordered_json(nullptr);
    }
    if (imp.duplicate) j["duplicate"] = pc(imp.duplicate->p, imp.duplicate->correlation);
    if (imp.corrupt) j["corrupt"] = pc(imp.corrupt->p, imp.corrupt->correlation);
    if (imp.reorder) {
        j["reorder"] = pc(imp.reorder->p, imp.reorder->correlation);
        j["reorder"]["gap"] = imp.reorder->gap;
    }
    if (imp.rate)
        j["rate"] = {{"bytes_per_sec", imp.rate->bytes_per_sec}, {"packet_overhead", imp.rate->packet_overhead},
                     {"cell_size", imp.rate->cell_size}, {"cell_overhead", imp.rate->cell_overhead}};
    if (imp.rate && imp.rate->mm_link)
        j["rate"]["mm_link"] = {{"file", imp.rate->mm_link->file.string()}, {"opportunities", imp.rate->mm_link->ms.size()},
                                {"period_ms", imp.rate->mm_link->ms.back()}};
    if (imp.slot) {
        const auto& s = *imp.slot;
        auto& js = j["slot"];
        js["min_delay_ns"] = s.min_delay.count();
        js["max_delay_ns"] = s.max_delay.count();
        js["distribution"] = s.distribution ? nlohmann::ordered_json(to_string(*s.distribution)) : nlohmann::ordered_json(nullptr);
        js["delay_ns"] = s.dist_delay.count();
        js["jitter_ns"] = s.dist_jitter.count();
        js["packets"] = s.max_packets ? nlohmann::ordered_json(*s.max_packets) : nlohmann::ordered_json(nullptr);
        js["bytes"] = s.max_bytes ? nlohmann::ordered_json(*s.max_bytes) : nlohmann::ordered_json(nullptr);
    }
    return j;
}

nlohmann::ordered_json json_cidr(const std::optional<Cidr>& c) {
    if (!c) return nullptr;
    return c->address + "/" + std::to_string(c->prefix);
}

}  // namespace

std::string to_text(const Profile& p) {
    TextOut t;
    t.s("name", p.name);
    t.s("description", p.description);
    if (p.egress) text_impairment(t, "egress", *p.egress);
    if (p.ingress) text_impairment(t, "ingress", *p.ingress);
    // Classes after the directions: a [class.egress] header must follow its [[class]].
    for (const auto& c : p.classes) {
        t.o << "\n[[class]]\n";
        t.s("name", c.name);
        const auto& m = c.match;
        t.section("class.match");
        if (m.src) t.s("src", m.src->address + "/" + std::to_string(m.src->prefix)); else t.o << "# src: any\n";
        if (m.dst) t.s("dst", m.dst->address + "/" + std::to_string(m.dst->prefix)); else t.o << "# dst: any\n";
        t.s("protocol", to_string(m.protocol));
        if (m.sport) t.i("sport", *m.sport); else t.o << "# sport: any\n";
        if (m.dport) t.i("dport", *m.dport); else t.o << "# dport: any\n";
        if (m.dscp) t.i("dscp", *m.dscp); else t.o << "# dscp: any\n";
        if (c.egress) text_impairment(t, "class.egress", *c.egress);
        if (c.ingress) text_impairment(t, "class.ingress", *c.ingress);
    }
    if (p.http) text_http(t, *p.http);
    return t.o.str();
}

std::string to_text(const Impairment& imp, const std::string& section) {
    TextOut t;
    text_impairment(t, section, imp);
    return t.o.str();
}

std::string to_json(const Profile& p) {
    nlohmann::ordered_json j;
    j["name"] = p.name;
    j["description"] = p.description;
    j["egress"] = p.egress ? json_impairment(*p.egress) : nlohmann::ordered_json(nullptr);
    j["ingress"] = p.ingress ? json_impairment(*p.ingress) : nlohmann::ordered_json(nullptr);
    auto& jc = j["classes"] = nlohmann::ordered_json::array();
    for (const auto& c : p.classes) {
        const auto& m = c.match;
        auto opt = [](const auto& v) { return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr); };
        jc.push_back({{"name", c.name},
                      {"match", {{"src", json_cidr(m.src)}, {"dst", json_cidr(m.dst)}, {"protocol", to_string(m.protocol)},
                                 {"sport", opt(m.sport)}, {"dport", opt(m.dport)}, {"dscp", opt(m.dscp)}}},
                      {"egress", c.egress ? json_impairment(*c.egress) : nlohmann::ordered_json(nullptr)},
                      {"ingress", c.ingress ? json_impairment(*c.ingress) : nlohmann::ordered_json(nullptr)}});
    }
    if (p.http) j["http"] = json_http(*p.http);
    return j.dump(2) + "\n";
}

}  // namespace netchaos::profile
