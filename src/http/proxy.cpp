// The HTTP fault proxy: one coroutine per client connection, requests read and answered in
// order (so pipelined requests work without extra state), one upstream connection per client
// connection kept alive between requests. Every fault is decided by http::Decider; this file
// only waits, forwards, answers and closes.
#include "http/proxy.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace netchaos::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bh = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = bh::request<bh::string_body>;
using Response = bh::response<bh::string_body>;

// Everything runs on io_context executors, named as such: the default any_io_executor is
// type-erased, and copying and destroying it on every operation was 6-8% of the proxy's CPU
// under wrk (perf, cpu-clock).
using Executor = net::io_context::executor_type;
template <class T>
using Task = net::awaitable<T, Executor>;
using Socket = tcp::socket::rebind_executor<Executor>::other;
using Stream = beast::basic_stream<tcp, Executor>;
using Acceptor = tcp::acceptor::rebind_executor<Executor>::other;
using Resolver = tcp::resolver::rebind_executor<Executor>::other;
using Timer = net::steady_timer::rebind_executor<Executor>::other;

namespace {

constexpr net::use_awaitable_t<Executor> aw;

bool in_cidr(const net::ip::address& a, const profile::Cidr& c) {
    net::ip::address addr = a;
    if (addr.is_v6() && addr.to_v6().is_v4_mapped() && !c.v6) addr = net::ip::make_address_v4(net::ip::v4_mapped, addr.to_v6());
    if (addr.is_v6() != c.v6) return false;
    unsigned char want[16] = {};
    if (inet_pton(c.v6 ? AF_INET6 : AF_INET, c.address.c_str(), want) != 1) return false;
    std::array<unsigned char, 16> have{};
    if (addr.is_v4()) {
        const auto b = addr.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), have.begin());
    } else {
        const auto b = addr.to_v6().to_bytes();
        std::copy(b.begin(), b.end(), have.begin());
    }
    for (int i = 0; i < (c.v6 ? 16 : 4); ++i) {
        const int keep = std::clamp(c.prefix - i * 8, 0, 8);
        const unsigned char mask = keep == 0 ? 0 : static_cast<unsigned char>(0xff << (8 - keep));
        if ((have[i] & mask) != want[i]) return false;
    }
    return true;
}

Response answer(unsigned version, bh::status status, std::string reason, bool keep_alive) {
    Response res{status, version};
    res.set(bh::field::server, "netchaos");
    res.set(bh::field::content_type, "text/plain");
    res.body() = "netchaos http-proxy: " + std::move(reason) + "\n";
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

// RFC 9110 7.6.1: hop-by-hop fields are not forwarded (plus the fields Connection names).
void strip_hop_by_hop(bh::fields& f) {
    std::vector<std::string> named;
    for (auto part : bh::token_list(f[bh::field::connection])) named.emplace_back(part);
    for (const auto& n : named) f.erase(n);
    for (auto name : {bh::field::connection, bh::field::keep_alive, bh::field::proxy_connection, bh::field::te,
                      bh::field::trailer, bh::field::upgrade, bh::field::proxy_authorization})
        f.erase(name);
}

}  // namespace

struct Proxy::Impl {
    ProxyOptions opt;
    net::io_context ioc{opt.threads};   // the concurrency hint: with 1, Asio skips cross-thread wake-ups
    Acceptor acceptor{ioc};
    std::vector<tcp::endpoint> upstream;   // reverse mode
    std::string upstream_name;
    std::mutex mu;                     // guards decider (sessions may run on several threads)
    Decider decider;
    ProxyStats stats;
    std::atomic<int> active_header_faults{0};

    explicit Impl(ProxyOptions o) : opt(std::move(o)), decider(opt.rules, opt.seed, opt.max_header_delay) {}

    bool header_allowed(const tcp::endpoint& peer) const {
        if (!opt.header_control) return false;
        return std::any_of(opt.header_allow.begin(), opt.header_allow.end(), [&](const auto& c) { return in_cidr(peer.address(), c); });
    }

    Task<void> sleep_until(Clock::time_point t) {
        if (Clock::now() >= t) co_return;
        Timer timer(co_await net::this_coro::executor);
        timer.expires_at(t);
        beast::error_code ec;
        co_await timer.async_wait(net::redirect_error(aw, ec));
    }

    Task<void> accept_loop() {
        for (;;) {
            beast::error_code ec;
            Socket s = co_await acceptor.async_accept(net::redirect_error(aw, ec));
            if (ec == net::error::operation_aborted) co_return;
            if (ec) {
                // EMFILE and friends: back off instead of spinning on a full fd table.
                Timer t(ioc, std::chrono::milliseconds(50));
                co_await t.async_wait(net::redirect_error(aw, ec));
                continue;
            }
            ++stats.connections;
            if (stats.active.load() >= static_cast<std::uint64_t>(opt.max_connections)) {
                ++stats.refused;
                s.close(ec);
                continue;
            }
            net::co_spawn(ioc, session(std::move(s)), net::detached);
        }
    }

    // Write `res` to the client, throttled if asked: the header at once, the body in slices
    // released by the engine's rate link (Pacer).
    Task<bool> write_response(Stream& c, Response& res, std::uint64_t throttle_bps) {
        beast::error_code ec;
        c.expires_after(opt.upstream_timeout);
        if (throttle_bps == 0 || res.body().empty()) {
            co_await bh::async_write(c, res, net::redirect_error(aw, ec));
            co_return !ec;
        }
        res.prepare_payload();   // a re-chunked body would not be paced byte for byte: send a length
        bh::response_serializer<bh::string_body> sr(res);
        co_await bh::async_write_header(c, sr, net::redirect_error(aw, ec));
        if (ec) co_return false;
        auto pacer = Pacer::make(throttle_bps);
        if (!pacer) co_return false;
        // Slices of ~10 ms of the rate (1 KiB to 64 KiB): smooth at any rate, few wake-ups.
        const std::size_t slice = std::clamp<std::size_t>(throttle_bps / 100, 1024, 64 * 1024);
        const std::string& body = res.body();
        const std::int64_t start = Clock::now().time_since_epoch().count();
        for (std::size_t off = 0; off < body.size(); off += slice) {
            const std::size_t n = std::min(slice, body.size() - off);
            const std::int64_t at = pacer->release_ns(start, static_cast<std::uint32_t>(n));
            co_await sleep_until(Clock::time_point(Clock::duration(at)));
            c.expires_after(opt.upstream_timeout);
            co_await net::async_write(c, net::buffer(body.data() + off, n), net::redirect_error(aw, ec));
            if (ec) co_return false;
        }
        co_return true;
    }

    // Forward one request; on success `res` holds the upstream's response. A stale kept-alive
    // upstream connection (closed by the upstream between requests) is retried once, fresh.
    Task<std::optional<Response>> forward(std::optional<Stream>& up, beast::flat_buffer& ubuf,
                                                    Request& req, std::string& why, bh::status& fail_status,
                                                    const std::vector<tcp::endpoint>& dest, const std::string& upstream_name) {
        for (int attempt = 0; attempt < 2; ++attempt) {
            const bool reused = up.has_value();
            beast::error_code ec;
            if (!up) {
                up.emplace(co_await net::this_coro::executor);
                up->expires_after(opt.connect_timeout);
                co_await up->async_connect(dest, net::redirect_error(aw, ec));
                if (ec) {
                    up.reset();
                    why = "upstream " + upstream_name + " unreachable: " + (ec == beast::error::timeout ? std::string("connect timed out") : ec.message());
                    fail_status = bh::status::bad_gateway;
                    co_return std::nullopt;
                }
                up->socket().set_option(tcp::no_delay(true), ec);
                ubuf.clear();
            }
            up->expires_after(opt.upstream_timeout);
            co_await bh::async_write(*up, req, net::redirect_error(aw, ec));
            if (!ec) {
                bh::response_parser<bh::string_body> p;
                p.body_limit(opt.max_response_body);
                p.header_limit(static_cast<std::uint32_t>(std::max<std::size_t>(opt.max_header_bytes, 64 * 1024)));
                if (req.method() == bh::verb::head) p.skip(true);
                co_await bh::async_read(*up, ubuf, p, net::redirect_error(aw, ec));
                if (!ec) {
                    Response res = p.release();
                    if (!res.keep_alive()) up.reset();
                    co_return res;
                }
                if (reused && (ec == bh::error::end_of_stream || ec == net::error::connection_reset) && p.get().base().result_int() == 0) {
                    up.reset();
                    continue;   // the upstream closed an idle connection: try once more on a new one
                }
            } else if (reused) {
                up.reset();
                continue;
            }
            up.reset();
            fail_status = ec == beast::error::timeout ? bh::status::gateway_timeout : bh::status::bad_gateway;
            why = "upstream " + upstream_name + ": " + (ec == beast::error::timeout ? std::string("no response within the upstream timeout") : ec.message());
            co_return std::nullopt;
        }
        why = "upstream " + upstream_name + " closed the connection twice";
        fail_status = bh::status::bad_gateway;
        co_return std::nullopt;
    }

    // Forward mode: "host:port" resolved, and only addresses inside --forward-allow kept.
    Task<std::vector<tcp::endpoint>> destination(const std::string& host, const std::string& port, std::string& why,
                                                          bh::status& st) {
        Resolver r(co_await net::this_coro::executor);
        beast::error_code ec;
        auto res = co_await r.async_resolve(host, port, net::redirect_error(aw, ec));
        std::vector<tcp::endpoint> out;
        if (ec) {
            why = "cannot resolve " + host + ": " + ec.message();
            st = bh::status::bad_gateway;
            co_return out;
        }
        for (const auto& e : res)
            if (std::any_of(opt.forward_allow.begin(), opt.forward_allow.end(), [&](const auto& c) { return in_cidr(e.endpoint().address(), c); }))
                out.push_back(e.endpoint());
        if (out.empty()) {
            why = "destination " + host + ":" + port + " is not inside --forward-allow";
            st = bh::status::forbidden;
        }
        co_return out;
    }

    struct Tunnel {
        Socket a, b;
        int done = 0;
    };
    // One direction of a CONNECT tunnel; the second to finish closes both sockets.
    static Task<void> pump(std::shared_ptr<Tunnel> t, bool a_to_b) {
        Socket& from = a_to_b ? t->a : t->b;
        Socket& to = a_to_b ? t->b : t->a;
        std::array<char, 16384> b;
        beast::error_code ec;
        for (;;) {
            const std::size_t n = co_await from.async_read_some(net::buffer(b), net::redirect_error(aw, ec));
            if (ec) break;
            co_await net::async_write(to, net::buffer(b.data(), n), net::redirect_error(aw, ec));
            if (ec) break;
        }
        const bool clean = ec == net::error::eof;
        to.shutdown(tcp::socket::shutdown_send, ec);
        if (++t->done == 2 || !clean) {   // both ends finished, or one failed: end the other too
            t->a.close(ec);
            t->b.close(ec);
        }
    }

    // CONNECT host:port: a byte tunnel after "200 Connection Established".
    Task<void> tunnel(Stream& c, beast::flat_buffer& buf, const Request& req, const Decision& d) {
        beast::error_code ec;
        const std::string target(req.target());
        const auto colon = target.rfind(':');
        std::string why;
        bh::status st = bh::status::bad_request;
        std::vector<tcp::endpoint> dest;
        if (colon == std::string::npos || colon == 0) why = "CONNECT needs host:port, got \"" + target.substr(0, 100) + "\"";
        else dest = co_await destination(target.substr(0, colon), target.substr(colon + 1), why, st);
        if (d.abort == AbortKind::status) {
            ++stats.aborted;
            st = static_cast<bh::status>(d.status);
            why = "injected fault: status " + std::to_string(d.status);
        }
        Stream up(co_await net::this_coro::executor);
        if (why.empty()) {
            up.expires_after(opt.connect_timeout);
            co_await up.async_connect(dest, net::redirect_error(aw, ec));
            if (ec) {
                ++stats.upstream_errors;
                st = bh::status::bad_gateway;
                why = "upstream " + target + " unreachable: " + ec.message();
            }
        }
        if (!why.empty()) {
            Response res = answer(req.version(), st, why, false);
            co_await write_response(c, res, 0);
            c.socket().shutdown(tcp::socket::shutdown_send, ec);
            co_return;
        }
        up.expires_never();
        c.expires_never();
        static constexpr std::string_view ok = "HTTP/1.1 200 Connection Established\r\n\r\n";
        co_await net::async_write(c, net::buffer(ok.data(), ok.size()), net::redirect_error(aw, ec));
        if (!ec && buf.size() > 0) co_await net::async_write(up, buf.data(), net::redirect_error(aw, ec));   // sent early (a TLS hello)
        if (ec) co_return;
        auto t = std::make_shared<Tunnel>(Tunnel{c.release_socket(), up.release_socket()});
        net::co_spawn(co_await net::this_coro::executor, pump(t, false), net::detached);
        co_await pump(t, true);
    }

    Task<void> session(Socket sock) {
        ++stats.active;
        struct Done {
            ProxyStats& s;
            ~Done() { --s.active; }
        } done{stats};
        beast::error_code ec;
        const tcp::endpoint peer = sock.remote_endpoint(ec);
        if (ec) co_return;
        sock.set_option(tcp::no_delay(true), ec);
        Stream c(std::move(sock));
        beast::flat_buffer buf;
        std::optional<Stream> up;
        beast::flat_buffer ubuf;
        std::string up_key = opt.forward ? "" : upstream_name;   // where `up` is connected
        std::vector<tcp::endpoint> dest = upstream;
        const bool may_control = header_allowed(peer);
        std::vector<Header> hs;

        for (bool first = true;; first = false) {
            bh::request_parser<bh::string_body> parser;
            parser.header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
            parser.body_limit(opt.max_request_body);
            // Between requests a keep-alive connection may idle; once a byte of a request is
            // in, its header must be complete within client_timeout (slowloris).
            if (buf.size() == 0) {
                c.expires_after(first ? opt.client_timeout : opt.idle_timeout);
                const std::size_t n = co_await c.async_read_some(buf.prepare(4096), net::redirect_error(aw, ec));
                if (ec) co_return;   // closed, reset or idle too long: nothing to answer
                buf.commit(n);
            }
            c.expires_after(opt.client_timeout);
            co_await bh::async_read_header(c, buf, parser, net::redirect_error(aw, ec));
            if (!ec && !parser.is_done()) {
                // curl and others wait (curl: 1 s) for "100 Continue" before a large body: the
                // body is read here whole, so say so at once; the Expect is not forwarded.
                if (beast::iequals(parser.get()[bh::field::expect], "100-continue")) {
                    static constexpr std::string_view go = "HTTP/1.1 100 Continue\r\n\r\n";
                    c.expires_after(opt.client_timeout);
                    co_await net::async_write(c, net::buffer(go.data(), go.size()), net::redirect_error(aw, ec));
                    parser.get().erase(bh::field::expect);
                }
                c.expires_after(opt.client_timeout);
                if (!ec) co_await bh::async_read(c, buf, parser, net::redirect_error(aw, ec));
            }
            if (ec) {
                if (ec == bh::error::end_of_stream && buf.size() == 0) co_return;
                ++stats.client_errors;
                bh::status st = bh::status::bad_request;
                std::string why = "malformed request: " + ec.message();
                if (ec == bh::error::header_limit) {
                    st = bh::status::request_header_fields_too_large;
                    why = "request header over " + std::to_string(opt.max_header_bytes) + " bytes";
                } else if (ec == bh::error::body_limit) {
                    st = bh::status::payload_too_large;
                    why = "request body over " + std::to_string(opt.max_request_body) + " bytes";
                } else if (ec == beast::error::timeout) {
                    co_return;   // tcp_stream closed the socket at the deadline (nginx too closes without a 408)
                } else if (ec == bh::error::end_of_stream || ec == net::error::connection_reset || ec == net::error::eof) {
                    co_return;   // the client went away mid-request
                }
                Response res = answer(11, st, why, false);
                c.expires_after(opt.client_timeout);
                co_await bh::async_write(c, res, net::redirect_error(aw, ec));
                c.socket().shutdown(tcp::socket::shutdown_send, ec);
                co_return;
            }
            const auto arrived = Clock::now();
            ++stats.requests;
            Request req = parser.release();
            const bool keep_alive = req.keep_alive();
            const unsigned version = req.version();

            // Decide (under the lock: one engine state for all connections).
            hs.clear();   // reused across the connection's requests: no allocation per request
            for (const auto& f : req) hs.push_back({std::string_view(f.name_string().data(), f.name_string().size()),
                                                    std::string_view(f.value().data(), f.value().size())});
            const RequestMeta meta{std::string_view(req.method_string().data(), req.method_string().size()),
                                   std::string_view(req.target().data(), req.target().size()), hs};
            bool control = may_control && active_header_faults.load() < opt.max_active_faults;
            Decision d;
            {
                std::lock_guard lock(mu);
                d = decider.decide(meta, arrived.time_since_epoch().count(), control);
            }
            hs.clear();
            struct ActiveFault {
                std::atomic<int>* n = nullptr;
                ~ActiveFault() {
                    if (n) --*n;
                }
            } active_fault;
            if (d.from_header) {
                ++stats.header_faults;
                active_fault.n = &active_header_faults;
                ++active_header_faults;
            }
            // Control headers never reach the upstream, honoured or not.
            for (std::string_view h : {jitter_header, abort_header}) req.erase(beast::string_view(h.data(), h.size()));
            if (!d.header_error.empty()) {
                ++stats.client_errors;
                Response res = answer(version, bh::status::bad_request, d.header_error, keep_alive);
                if (!co_await write_response(c, res, 0) || !keep_alive) break;
                continue;
            }

            // The request delay counts from the request's arrival (time spent reading its body
            // is part of it, as toxiproxy subtracts what a chunk already waited).
            // Only a real wait pays for a coroutine frame and a timer (zero-fault requests: none).
            if (d.request_delay_ns > 0) co_await sleep_until(arrived + std::chrono::nanoseconds(d.request_delay_ns));
            if (d.abort == AbortKind::reset) {
                ++stats.resets;
                c.socket().set_option(net::socket_base::linger(true, 0), ec);   // RST, not FIN
                c.socket().close(ec);
                co_return;
            }
            if (opt.forward && req.method() == bh::verb::connect) {
                co_await tunnel(c, buf, req, d);
                co_return;
            }
            std::optional<Response> res;
            std::string why;
            bh::status fail = bh::status::bad_gateway;
            if (opt.forward && d.abort == AbortKind::none) {
                // Absolute-form "http://host[:port]/path": the upstream for this request.
                const std::string t(req.target());
                std::string host, port = "80", path = "/";
                if (!t.starts_with("http://")) {
                    why = "forward proxy: expected an absolute http:// URL or CONNECT, got \"" + t.substr(0, 100) + "\"";
                    fail = bh::status::bad_request;
                } else {
                    const auto slash = t.find('/', 7);
                    std::string auth = t.substr(7, slash == std::string::npos ? std::string::npos : slash - 7);
                    if (slash != std::string::npos) path = t.substr(slash);
                    const auto colon = auth.rfind(':');
                    if (colon != std::string::npos && auth.find(']', colon) == std::string::npos) {
                        port = auth.substr(colon + 1);
                        auth.resize(colon);
                    }
                    if (auth.size() > 1 && auth.front() == '[' && auth.back() == ']') auth = auth.substr(1, auth.size() - 2);
                    host = auth;
                    const std::string key = host + ":" + port;
                    if (key != up_key) {
                        up.reset();
                        dest = co_await destination(host, port, why, fail);
                        up_key = why.empty() ? key : "";
                    }
                    req.target(path);
                }
                if (!why.empty()) {
                    ++stats.client_errors;
                    res = answer(version, fail, why, keep_alive);
                }
            }
            if (res) {
            } else if (d.abort == AbortKind::status) {
                ++stats.aborted;
                res = answer(version, static_cast<bh::status>(d.status), "injected fault: status " + std::to_string(d.status), keep_alive);
            } else {
                strip_hop_by_hop(req);
                if (req.chunked() || !req.body().empty()) req.prepare_payload();   // the body is whole: send its length
                req.keep_alive(true);   // the upstream connection outlives this client's request
                res = co_await forward(up, ubuf, req, why, fail, dest, up_key);
                if (!res) {
                    ++stats.upstream_errors;
                    res = answer(version, fail, why, keep_alive);
                } else {
                    strip_hop_by_hop(*res);
                    res->version(version);
                    res->keep_alive(keep_alive);
                }
            }
            const auto got = Clock::now();
            if (d.response_delay_ns > 0) co_await sleep_until(got + std::chrono::nanoseconds(d.response_delay_ns));
            if (!co_await write_response(c, *res, d.abort == AbortKind::none ? d.throttle_bps : 0)) co_return;
            if (!keep_alive) break;
        }
        c.socket().shutdown(tcp::socket::shutdown_send, ec);
        c.close();
    }
};

Result<std::unique_ptr<Proxy>> Proxy::create(ProxyOptions opts) {
    auto impl = std::make_unique<Impl>(std::move(opts));
    auto& o = impl->opt;
    beast::error_code ec;
    if (!o.forward) {
        Resolver resolver(impl->ioc);
        const auto res = resolver.resolve(o.upstream_host, std::to_string(o.upstream_port), ec);
        if (ec) return make_error("upstream " + o.upstream_host + ": cannot resolve: " + ec.message(), ErrorKind::bad_input);
        for (const auto& e : res) impl->upstream.push_back(e.endpoint());
        impl->upstream_name = o.upstream_host + ":" + std::to_string(o.upstream_port);
    }
    const auto addr = net::ip::make_address(o.listen_host, ec);
    if (ec) return make_error("--listen " + o.listen_host + ": not an IP address", ErrorKind::bad_input);
    const tcp::endpoint ep(addr, o.listen_port);
    const std::string where = "listen " + o.listen_host + ":" + std::to_string(o.listen_port) + ": ";
    impl->acceptor.open(ep.protocol(), ec);
    if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) impl->acceptor.bind(ep, ec);
    if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) return make_error(where + ec.message());
    return std::unique_ptr<Proxy>(new Proxy(std::move(impl)));
}

Proxy::Proxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Proxy::~Proxy() = default;

std::uint16_t Proxy::port() const { return impl_->acceptor.local_endpoint().port(); }

void Proxy::run() {
    net::co_spawn(impl_->ioc, impl_->accept_loop(), net::detached);
    std::vector<std::thread> more;
    for (int i = 1; i < impl_->opt.threads; ++i) more.emplace_back([this] { impl_->ioc.run(); });
    impl_->ioc.run();
    for (auto& t : more) t.join();
}

void Proxy::stop() { impl_->ioc.stop(); }

void Proxy::switch_rules(RulesPtr rules) {
    std::lock_guard lock(impl_->mu);
    impl_->decider.switch_rules(std::move(rules));
}

const ProxyStats& Proxy::stats() const { return impl_->stats; }

}  // namespace netchaos::http
