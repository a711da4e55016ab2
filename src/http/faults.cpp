// HTTP fault decisions over src/fault's engine. See faults.hpp.
#include "http/faults.hpp"

#include <algorithm>
#include <cctype>

#include "profile/parse.hpp"

namespace netchaos::http {

namespace {

Error bad(std::string msg) { return make_error(std::move(msg), ErrorKind::bad_input); }

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The path of a request-target: origin-form as is, absolute-form ("http://host:80/x") without
// its scheme and authority, so a route's path_prefix works in both proxy modes.
std::string_view path_of(std::string_view target) {
    if (!target.empty() && target.front() == '/') return target;
    const auto scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;
    const auto slash = target.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
}

bool matches(const profile::HttpMatch& m, const RequestMeta& req) {
    if (!m.method.empty() && m.method != req.method) return false;
    if (!m.path_prefix.empty() && !path_of(req.target).starts_with(m.path_prefix)) return false;
    if (!m.header.empty()) {
        const auto it = std::find_if(req.headers.begin(), req.headers.end(), [&](const Header& h) {
            return iequals(h.name, m.header) && (m.header_value.empty() || trim(h.value) == m.header_value);
        });
        if (it == req.headers.end()) return false;
    }
    return true;
}

const Header* find_header(const RequestMeta& req, std::string_view name) {
    for (const auto& h : req.headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

// One fault as the engine sees it: an Impairment with only that fault in it. HTTP delays are
// per request, not a packet stream, so no order is kept between them.
Result<fault::ModelPtr> delay_model(const profile::Delay& d) {
    profile::Impairment imp;
    imp.delay = d;
    imp.delay->order = profile::JitterOrder::reorder;
    return fault::compile(imp);
}

Result<fault::ModelPtr> abort_model(const profile::HttpAbort& a) {
    profile::Impairment imp;
    imp.loss = profile::Loss{profile::RandomLoss{a.p, a.correlation}, false};
    return fault::compile(imp);
}

struct Rule {
    fault::ModelPtr request, response, abort;
    std::uint64_t throttle = 0;
    std::optional<profile::HttpAbort> abort_cfg;
};

Result<Rule> compile_faults(const profile::HttpFaults& f, const std::string& where) {
    Rule r;
    auto wrap = [&](const Error& e) { return bad(where + ": " + e.message); };
    if (f.request_delay) {
        auto m = delay_model(*f.request_delay);
        if (!m) return wrap(m.error());
        r.request = *m;
    }
    if (f.response_delay) {
        auto m = delay_model(*f.response_delay);
        if (!m) return wrap(m.error());
        r.response = *m;
    }
    if (f.abort) {
        if (f.abort->status < 400 || f.abort->status > 599) return bad(where + ": abort status must be 400-599");
        auto m = abort_model(*f.abort);
        if (!m) return wrap(m.error());
        r.abort = *m;
        r.abort_cfg = f.abort;
    }
    if (f.throttle) {
        if (*f.throttle == 0) return bad(where + ": throttle must be positive");
        r.throttle = *f.throttle;
    }
    return r;
}

// Beyond this many distinct X-Jitter values the cache starts over: a client sending a new
// value per request costs a compile each, not memory without bound.
constexpr std::size_t max_header_engines = 64;

}  // namespace

struct Rules {
    profile::Http http;
    std::vector<Rule> rules;   // [0] = top level, [1 + i] = route i
};

bool is_control_header(std::string_view name) { return iequals(name, jitter_header) || iequals(name, abort_header); }

Result<profile::Delay> parse_jitter_header(std::string_view value, profile::Duration max) {
    const std::string_view v = trim(value);
    profile::Delay d;
    const auto open = v.find('(');
    if (open == std::string_view::npos) {
        auto mean = profile::parse_duration(v);
        if (!mean) return bad("X-Jitter: " + mean.error().message);
        d.mean = *mean;
    } else {
        const std::string_view name = trim(v.substr(0, open));
        if (v.back() != ')') return bad("X-Jitter: expected NAME(MEAN, JITTER) like normal(50ms, 30ms)");
        const std::string_view args = v.substr(open + 1, v.size() - open - 2);
        const auto comma = args.find(',');
        if (comma == std::string_view::npos) return bad("X-Jitter: expected two arguments, MEAN and JITTER, like normal(50ms, 30ms)");
        using D = profile::Distribution;
        static constexpr std::pair<std::string_view, D> names[] = {
            {"normal", D::normal}, {"uniform", D::uniform}, {"pareto", D::pareto}, {"paretonormal", D::paretonormal}};
        const auto* it = std::find_if(std::begin(names), std::end(names), [&](const auto& p) { return p.first == name; });
        if (it == std::end(names)) return bad("X-Jitter: unknown distribution \"" + std::string(name) + "\" (normal, uniform, pareto, paretonormal)");
        auto mean = profile::parse_duration(trim(args.substr(0, comma)));
        if (!mean) return bad("X-Jitter: mean: " + mean.error().message);
        auto jitter = profile::parse_duration(trim(args.substr(comma + 1)));
        if (!jitter) return bad("X-Jitter: jitter: " + jitter.error().message);
        d.mean = *mean;
        d.jitter = *jitter;
        d.distribution = it->second;
    }
    if (d.mean.count() < 0 || d.jitter.count() < 0) return bad("X-Jitter: delays must not be negative");
    if (d.mean + d.jitter > max)
        return bad("X-Jitter: mean + jitter is above the proxy's limit of " + std::to_string(max.count() / 1'000'000) + " ms");
    return d;
}

Result<profile::HttpAbort> parse_abort_header(std::string_view value) {
    const std::string_view v = trim(value);
    profile::HttpAbort a;
    a.p = 1.0;
    if (v == "reset") {
        a.reset = true;
        return a;
    }
    if (v.size() != 3 || !std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); }))
        return bad("X-Fault-Abort: expected a status 400-599 or \"reset\", got \"" + std::string(v.substr(0, 40)) + "\"");
    const int status = (v[0] - '0') * 100 + (v[1] - '0') * 10 + (v[2] - '0');
    if (status < 400 || status > 599) return bad("X-Fault-Abort: status must be 400-599, got " + std::string(v));
    a.status = static_cast<std::uint16_t>(status);
    return a;
}

int match_route(const profile::Http& h, const RequestMeta& req) {
    for (std::size_t i = 0; i < h.routes.size(); ++i)
        if (matches(h.routes[i].match, req)) return static_cast<int>(i);
    return -1;
}

Result<RulesPtr> compile(const profile::Http& h) {
    auto out = std::make_shared<Rules>();
    out->http = h;
    auto top = compile_faults(h.faults, "http");
    if (!top) return top.error();
    out->rules.push_back(std::move(*top));
    for (std::size_t i = 0; i < h.routes.size(); ++i) {
        auto r = compile_faults(h.routes[i].faults, "http.route[" + std::to_string(i) + "]");
        if (!r) return r.error();
        out->rules.push_back(std::move(*r));
    }
    return RulesPtr(std::move(out));
}

Decider::Decider(RulesPtr rules, std::uint64_t seed, profile::Duration max_header_delay)
    : rules_(std::move(rules)), seeds_(seed), max_header_delay_(max_header_delay) {
    if (!rules_) rules_ = *compile(profile::Http{});
    build();
}

void Decider::build() {
    engines_.clear();
    for (const Rule& r : rules_->rules) {
        Engines e;
        if (r.request) e.request.emplace(r.request, seeds_());
        if (r.response) e.response.emplace(r.response, seeds_());
        if (r.abort) e.abort.emplace(r.abort, seeds_());
        engines_.push_back(std::move(e));
    }
}

void Decider::switch_rules(RulesPtr rules) {
    if (!rules) return;
    rules_ = std::move(rules);
    build();
}

const profile::Http& Decider::http() const { return rules_->http; }

std::int64_t Decider::header_delay(const std::string& value, std::int64_t now_ns, std::string& error) {
    auto it = header_engines_.find(value);
    if (it == header_engines_.end()) {
        auto d = parse_jitter_header(value, max_header_delay_);
        if (!d) {
            error = d.error().message;
            return 0;
        }
        auto m = delay_model(*d);
        if (!m) {
            error = "X-Jitter: " + m.error().message;
            return 0;
        }
        if (header_engines_.size() >= max_header_engines) header_engines_.clear();
        it = header_engines_.emplace(value, fault::Engine(*m, seeds_())).first;
    }
    return std::min<std::int64_t>(it->second.decide(now_ns, 0).release_ns - now_ns, max_header_delay_.count());
}

Decision Decider::decide(const RequestMeta& req, std::int64_t now_ns, bool header_control) {
    Decision d;
    d.route = match_route(rules_->http, req);
    const std::size_t k = static_cast<std::size_t>(d.route + 1);
    const Rule& rule = rules_->rules[k];
    Engines& e = engines_[k];
    // Every engine draws on every request, also when a header overrides it, so the series a
    // route's correlation sees does not depend on what some clients send.
    if (e.request) d.request_delay_ns = e.request->decide(now_ns, 0).release_ns - now_ns;
    if (e.response) d.response_delay_ns = e.response->decide(now_ns, 0).release_ns - now_ns;
    if (e.abort && e.abort->decide(now_ns, 0).drop) {
        d.abort = rule.abort_cfg->reset ? AbortKind::reset : AbortKind::status;
        d.status = rule.abort_cfg->reset ? 0 : rule.abort_cfg->status;
    }
    d.throttle_bps = rule.throttle;
    if (!header_control) return d;
    if (const Header* h = find_header(req, jitter_header)) {
        std::string error;
        const std::int64_t v = header_delay(std::string(trim(h->value)), now_ns, error);
        if (!error.empty()) {
            d.header_error = std::move(error);
            return d;
        }
        d.request_delay_ns = v;
        d.from_header = true;
    }
    if (const Header* h = find_header(req, abort_header)) {
        auto a = parse_abort_header(h->value);
        if (!a) {
            d.header_error = a.error().message;
            return d;
        }
        d.abort = a->reset ? AbortKind::reset : AbortKind::status;
        d.status = a->reset ? 0 : a->status;
        d.from_header = true;
    }
    return d;
}

Result<Pacer> Pacer::make(std::uint64_t bytes_per_sec) {
    profile::Impairment imp;
    imp.rate = profile::Rate{};
    imp.rate->bytes_per_sec = bytes_per_sec;
    auto m = fault::compile(imp);
    if (!m) return m.error();
    return Pacer(fault::Engine(*m, 0));
}

}  // namespace netchaos::http
