// netchaos http-proxy: the HTTP fault proxy (src/http) in front of one upstream.
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "allow_path.hpp"
#include "command.hpp"
#include "exit_codes.hpp"
#include "fwdctl/lease.hpp"
#include "http/proxy.hpp"
#include "probe/net.hpp"
#include "profile/parse.hpp"

namespace po = boost::program_options;

namespace {

using namespace netchaos;

// "HOST:PORT", "[V6]:PORT" -> host, port; the host may be a name (the upstream).
bool split_host_port(const std::string& s, std::string& host, std::uint16_t& port) {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
    host = s.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string p = s.substr(colon + 1);
    if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return false;
    const long v = std::stol(p);
    if (v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return !host.empty();
}

bool ms_option(const std::string& text, const char* name, std::chrono::milliseconds& out) {
    auto d = profile::parse_duration(text);
    if (!d || d->count() <= 0) {
        std::fprintf(stderr, "netchaos http-proxy: --%s: expected a duration like \"10s\" or \"500ms\", got \"%s\"\n", name, text.c_str());
        return false;
    }
    out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    if (out.count() == 0) out = std::chrono::milliseconds(1);
    return true;
}

// The control socket: the forwarder's line protocol (fwdctl), so `netchaos apply/clear
// --backend http` and `run` with [target] backend = "http" switch the proxy's profile live:
//   {"cmd":"load","toml":"<profile>","name":"...","lease_ms":N}   {"cmd":"clear"}   {"cmd":"stats"}
// A load with "lease_ms" reverts by itself (apply --for), kept here as netchaos-fwd keeps it.
// Root-only (mode 0600), like the forwarder's: whoever may write it decides the faults.
class Control {
public:
    Control(http::Proxy& p, http::RulesPtr rules, std::string name) : proxy_(p), current_{std::move(rules), std::move(name)} {}
    ~Control() {
        if (fd_ >= 0) {
            ::close(fd_);
            std::error_code ec;
            std::filesystem::remove(path_, ec);
        }
    }
    Result<void> open(const std::string& path) {
        sockaddr_un a{};
        if (path.size() >= sizeof a.sun_path) return make_error("--control: path too long", ErrorKind::bad_input);
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
        a.sun_family = AF_UNIX;
        std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool alive = probe >= 0 && ::connect(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        if (probe >= 0) ::close(probe);
        if (alive) return make_error("--control " + path + ": another process answers there");
        std::filesystem::remove(path, ec);   // a stale socket of a proxy that died
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const mode_t old = ::umask(077);
        const bool ok = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd_, 8) == 0;
        ::umask(old);
        if (!ok) return make_error("--control " + path + ": " + std::strerror(errno));
        path_ = path;
        return {};
    }
    void serve(const std::atomic<bool>& stop) {
        while (!stop.load()) {
            pollfd p{fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, 100);
            expire_lease();
            if (ready <= 0) continue;
            const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) continue;
            timeval tv{2, 0};
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            std::string line;
            char buf[4096];
            while (line.find('\n') == std::string::npos && line.size() < (1u << 20)) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                line.append(buf, static_cast<std::size_t>(n));
            }
            const std::string reply = handle(line.substr(0, line.find('\n'))).dump() + "\n";
            (void)!::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
            ::close(c);
        }
    }

private:
    struct InEffect {
        http::RulesPtr rules;
        std::string name;
    };
    void put(InEffect next) {
        proxy_.switch_rules(next.rules);
        current_ = std::move(next);
    }
    void expire_lease() {
        const auto* revert = lease_.due(std::chrono::steady_clock::now());
        if (!revert) return;
        put(*revert);
        lease_.end();
        std::fprintf(stderr, "netchaos http-proxy: lease expired; reverted to %s\n", current_.name.c_str());
    }
    nlohmann::json handle(const std::string& line) {
        auto req = nlohmann::json::parse(line, nullptr, false);
        if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string()) return {{"ok", false}, {"error", "expected {\"cmd\":...}"}};
        const std::string cmd = req["cmd"];
        if (cmd == "stats") {
            const auto& s = proxy_.stats();
            nlohmann::json lease = nullptr;
            if (const auto* r = lease_.reverts_to())
                lease = {{"remaining_ms", lease_.remaining(std::chrono::steady_clock::now()).count()}, {"reverts_to", r->name}};
            return {{"ok", true}, {"profile", current_.name}, {"lease", lease}, {"requests", s.requests.load()}, {"aborted", s.aborted.load()},
                    {"resets", s.resets.load()}, {"header_faults", s.header_faults.load()},
                    {"upstream_errors", s.upstream_errors.load()}, {"client_errors", s.client_errors.load()},
                    {"connections", s.connections.load()}, {"active", s.active.load()}};
        }
        if (cmd == "clear") {
            put({*http::compile(profile::Http{}), "passthrough"});
            lease_.end();
            return {{"ok", true}};
        }
        if (cmd == "load" && req.contains("toml") && req["toml"].is_string()) {
            const auto lease = fwdctl::parse_lease(req);
            if (!lease) return {{"ok", false}, {"error", lease.error().message}, {"kind", kind_name(lease.error().kind)}};
            auto parsed = profile::parse_profile_text(req["toml"].get<std::string>(), "control");
            if (!parsed.ok()) {
                std::string why;
                for (const auto& d : parsed.diagnostics) why += d.format() + "; ";
                return {{"ok", false}, {"error", why}, {"kind", kind_name(ErrorKind::bad_input)}};
            }
            auto rules = http::compile(parsed.value->http.value_or(profile::Http{}));
            if (!rules) return {{"ok", false}, {"error", rules.error().message}, {"kind", kind_name(ErrorKind::bad_input)}};
            const InEffect before = current_;
            put({*rules, req.value("name", parsed.value->name)});
            lease_.loaded(before, *lease, std::chrono::steady_clock::now());
            return {{"ok", true}, {"profile", current_.name}};
        }
        return {{"ok", false}, {"error", "unknown cmd \"" + cmd + "\" (load, clear, stats)"}};
    }

    http::Proxy& proxy_;
    InEffect current_;
    fwdctl::Lease<InEffect> lease_;
    std::string path_;
    int fd_ = -1;
};

int run_http_proxy(int argc, char** argv) {
    std::string listen, upstream, profile_file, control, client_timeout = "10s", idle_timeout = "60s", upstream_timeout = "30s",
                                                 connect_timeout = "3s", max_header_delay = "10s";
    std::vector<std::string> allow, allow_paths, forward_allow;
    http::ProxyOptions o;
    bool quiet = false;
    po::options_description opts(
        "usage: netchaos http-proxy --listen ADDR:PORT --upstream HOST:PORT [--profile FILE] [options]\n"
        "       netchaos http-proxy --listen ADDR:PORT --forward --forward-allow CIDR [--profile FILE] [options]\n\n"
        "A reverse HTTP/1.1 proxy that applies the profile's [http] faults per request: request delay,\n"
        "response delay (time to first byte), a throttle on the response body, aborts with a status or a\n"
        "connection reset, per route (method, path prefix, header). Keep-alive, pipelining, chunked and\n"
        "request bodies are forwarded. An upstream that is down is answered 502 with the reason.\n"
        "Without --profile nothing is injected. SIGINT/SIGTERM: exit 0 and print the counters.\n"
        "See docs/http.md.\n\noptions");
    opts.add_options()
        ("help,h", "this help")
        ("listen,l", po::value(&listen), "address and port to serve on (required)")
        ("upstream,u", po::value(&upstream), "HOST:PORT requests are forwarded to (reverse mode)")
        ("forward", po::bool_switch(&o.forward), "forward mode: a proxy for HTTP_PROXY (absolute URLs and CONNECT) instead of --upstream")
        ("forward-allow", po::value(&forward_allow)->composing(), "forward mode: CIDR of destinations it may connect to (required, repeatable)")
        ("profile,p", po::value(&profile_file), "profile with an [http] table")
        ("control", po::value(&control), "UNIX socket (mode 0600) for live switching: netchaos apply/clear --backend http --control SOCK")
        ("header-control", po::bool_switch(&o.header_control), "honour X-Jitter and X-Fault-Abort (only from --header-allow sources)")
        ("header-allow", po::value(&allow)->composing(), "CIDR whose clients may use the control headers (repeatable)")
        ("max-active-faults", po::value(&o.max_active_faults)->default_value(o.max_active_faults), "header-requested faults in progress at once; beyond it the headers are ignored")
        ("max-header-delay", po::value(&max_header_delay)->default_value(max_header_delay), "largest mean + jitter an X-Jitter may ask")
        ("threads", po::value(&o.threads)->default_value(o.threads), "I/O threads")
        ("seed", po::value(&o.seed), "seed of the fault engines (default: the profile's [http] seed, else fixed)")
        ("max-header-bytes", po::value(&o.max_header_bytes)->default_value(o.max_header_bytes), "request header limit (431 above)")
        ("max-body-bytes", po::value(&o.max_request_body)->default_value(o.max_request_body), "request body limit (413 above)")
        ("max-response-bytes", po::value(&o.max_response_body)->default_value(o.max_response_body), "upstream response body limit (502 above)")
        ("max-connections", po::value(&o.max_connections)->default_value(o.max_connections), "client connections at once; more are closed at accept")
        ("client-timeout", po::value(&client_timeout)->default_value(client_timeout), "time a client has for a request's header, then its body (408 after)")
        ("idle-timeout", po::value(&idle_timeout)->default_value(idle_timeout), "keep-alive connection idle time between requests")
        ("connect-timeout", po::value(&connect_timeout)->default_value(connect_timeout), "upstream connect timeout (502 after)")
        ("upstream-timeout", po::value(&upstream_timeout)->default_value(upstream_timeout), "upstream response timeout (504 after)")
        ("quiet,q", po::bool_switch(&quiet), "no start-up line");
    cli::add_allow_path_option(opts, allow_paths);
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
        po::notify(vm);
    } catch (const po::error& e) {
        std::fprintf(stderr, "netchaos http-proxy: %s\n", e.what());
        return cli::exit_bad_input;
    }
    if (vm.count("help")) {
        std::cout << opts << "\n";
        return cli::exit_pass;
    }
    cli::use_allow_paths(allow_paths);
    if (listen.empty() || upstream.empty() == !o.forward) {
        std::fprintf(stderr, "netchaos http-proxy: --listen ADDR:PORT and one of --upstream HOST:PORT (reverse) or --forward are required\n");
        return cli::exit_bad_input;
    }
    // --header-allow and --forward-allow: CIDR lists, the first bad one named.
    auto cidrs = [](const std::vector<std::string>& in, const char* flag, std::vector<profile::Cidr>& out) {
        for (const auto& a : in) {
            auto c = profile::parse_cidr(a);
            if (!c) {
                std::fprintf(stderr, "netchaos http-proxy: --%s: %s\n", flag, c.error().message.c_str());
                return false;
            }
            out.push_back(*c);
        }
        return true;
    };
    if (!cidrs(forward_allow, "forward-allow", o.forward_allow) || !cidrs(allow, "header-allow", o.header_allow)) return cli::exit_bad_input;
    if (o.forward && o.forward_allow.empty()) {
        std::fprintf(stderr, "netchaos http-proxy: --forward needs --forward-allow CIDR (the destinations it may reach, e.g. 127.0.0.0/8)\n");
        return cli::exit_bad_input;
    }
    if (!split_host_port(listen, o.listen_host, o.listen_port)) {
        std::fprintf(stderr, "netchaos http-proxy: --listen: expected ADDR:PORT like 127.0.0.1:8080, got \"%s\"\n", listen.c_str());
        return cli::exit_bad_input;
    }
    if (!o.forward && (!split_host_port(upstream, o.upstream_host, o.upstream_port) || o.upstream_port == 0)) {
        std::fprintf(stderr, "netchaos http-proxy: --upstream: expected HOST:PORT like 127.0.0.1:8081, got \"%s\"\n", upstream.c_str());
        return cli::exit_bad_input;
    }
    if (!ms_option(client_timeout, "client-timeout", o.client_timeout) || !ms_option(idle_timeout, "idle-timeout", o.idle_timeout) ||
        !ms_option(connect_timeout, "connect-timeout", o.connect_timeout) || !ms_option(upstream_timeout, "upstream-timeout", o.upstream_timeout) ||
        !ms_option(max_header_delay, "max-header-delay", o.max_header_delay))
        return cli::exit_bad_input;
    if (o.threads < 1 || o.threads > 64 || o.max_active_faults < 0 || o.max_connections < 1 || o.max_header_bytes < 256) {
        std::fprintf(stderr, "netchaos http-proxy: --threads is 1-64, --max-connections >= 1, --max-active-faults >= 0, --max-header-bytes >= 256\n");
        return cli::exit_bad_input;
    }
    if (o.header_control && o.header_allow.empty()) {
        std::fprintf(stderr, "netchaos http-proxy: --header-control needs --header-allow CIDR (e.g. 127.0.0.1/32): "
                             "who may ask for faults is never \"anyone\" by default\n");
        return cli::exit_bad_input;
    }
    profile::Http h;
    if (!profile_file.empty()) {
        auto parsed = profile::parse_profile_file(profile_file);
        for (const auto& d : parsed.diagnostics) std::cerr << d.format() << "\n";
        if (!parsed.ok()) return cli::exit_bad_input;
        if (!parsed.value->http)
            std::fprintf(stderr, "netchaos http-proxy: warning: %s has no [http] table: requests pass unchanged\n", profile_file.c_str());
        else
            h = *parsed.value->http;
    }
    if (!vm.count("seed") && h.seed) o.seed = *h.seed;
    auto rules = http::compile(h);
    if (!rules) {
        std::fprintf(stderr, "netchaos http-proxy: %s\n", rules.error().message.c_str());
        return netchaos::cli::exit_code(rules.error());
    }
    o.rules = *rules;
    probe::net::raise_fd_limit();
    const auto& stop = probe::net::stop_on_signals();
    auto proxy = http::Proxy::create(o);
    if (!proxy) {
        std::fprintf(stderr, "netchaos http-proxy: %s\n", proxy.error().message.c_str());
        return netchaos::cli::exit_code(proxy.error());
    }
    auto& p = **proxy;
    if (!quiet)
        std::fprintf(stderr, "netchaos http-proxy: listening on %s:%u, %s, %zu route(s), header control %s\n",
                     o.listen_host.c_str(), p.port(),
                     o.forward ? "forward mode" : ("upstream " + o.upstream_host + ":" + std::to_string(o.upstream_port)).c_str(),
                     h.routes.size(), o.header_control ? "on" : "off");
    Control ctl(p, o.rules, profile_file.empty() ? "passthrough" : h.routes.empty() && h == profile::Http{} ? "passthrough" : profile_file);
    if (!control.empty())
        if (auto r = ctl.open(control); !r) {
            std::fprintf(stderr, "netchaos http-proxy: %s\n", r.error().message.c_str());
            return netchaos::cli::exit_code(r.error());
        }
    std::thread watcher([&] {
        if (!control.empty()) ctl.serve(stop);
        while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        p.stop();
    });
    p.run();
    watcher.join();
    const auto& s = p.stats();
    std::fprintf(stderr, "netchaos http-proxy: connections %llu requests %llu aborted %llu resets %llu header_faults %llu "
                         "upstream_errors %llu client_errors %llu refused %llu\n",
                 (unsigned long long)s.connections, (unsigned long long)s.requests, (unsigned long long)s.aborted,
                 (unsigned long long)s.resets, (unsigned long long)s.header_faults, (unsigned long long)s.upstream_errors,
                 (unsigned long long)s.client_errors, (unsigned long long)s.refused);
    return cli::exit_pass;
}

const bool registered = cli::register_command({"http-proxy", "HTTP fault proxy: per-request delay, abort, throttle ([http] table)", run_http_proxy});

}  // namespace
