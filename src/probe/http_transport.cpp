// The http probe's transport: a GET per probe on non-blocking sockets under one epoll, the
// response read by Beast's parser (any framing: length, chunked, close). send() runs on the
// prober's sender thread, poll()/expire() on its receiver thread; one mutex covers the
// connection table.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "probe/transport.hpp"

namespace netchaos::probe {

namespace {

namespace bh = boost::beast::http;

// Bodies are read and dropped; one above this is not a probe's answer.
constexpr std::size_t max_body = 8 * 1024 * 1024;

struct Conn {
    std::uint64_t id = 0;        // its epoll key
    net::Fd fd;
    std::uint64_t seq = 0;
    bool busy = false;           // a probe's request is out on it
    bool connected = false;
    std::string out;             // request bytes not yet written
    std::string in;              // response bytes not yet parsed
    std::unique_ptr<bh::response_parser<bh::string_body>> parser;
};

class HttpTransport final : public Transport {
public:
    HttpTransport(net::Fd ep, const net::Endpoint& target, std::string host, std::string path, bool reuse)
        : ep_(std::move(ep)), target_(target), reuse_(reuse) {
        request_ = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: netchaos-probe\r\nAccept: */*\r\n" +
                   (reuse ? "" : "Connection: close\r\n") + "\r\n";
    }
    const char* describe() const override { return reuse_ ? "http (kept-alive connections)" : "http (a connection per request)"; }

    int send(std::uint64_t seq, std::int64_t) override {
        std::lock_guard lk(m_);
        Conn* c = nullptr;
        if (reuse_)
            for (auto& [id, x] : conns_)
                if (!x.busy && x.connected) {
                    c = &x;
                    break;
                }
        if (!c) {
            net::Fd fd(::socket(target_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!fd) return errno;
            const int one = 1;
            setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target_.addr), target_.len) != 0 && errno != EINPROGRESS)
                return errno;
            const std::uint64_t id = next_id_++;
            epoll_event ev{};
            ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
            ev.data.u64 = id;
            if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) return errno;
            c = &conns_[id];
            c->id = id;
            c->fd = std::move(fd);
        }
        c->busy = true;
        c->seq = seq;
        c->out = request_;
        c->in.clear();
        c->parser = std::make_unique<bh::response_parser<bh::string_body>>();
        c->parser->body_limit(max_body);
        c->parser->eager(true);
        if (c->connected) flush(*c);
        return 0;
    }

    void poll(Nanos wait, Sink& sink) override {
        std::array<epoll_event, 64> evs{};
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
        const int n = epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), ms < 0 ? 0 : static_cast<int>(ms));
        for (int i = 0; i < n; ++i) {
            const std::int64_t now = net::mono_ns();
            std::lock_guard lk(m_);
            const std::uint64_t id = evs[static_cast<std::size_t>(i)].data.u64;
            auto it = conns_.find(id);
            if (it == conns_.end()) continue;
            Conn& c = it->second;
            const std::uint32_t e = evs[static_cast<std::size_t>(i)].events;
            if (!c.connected && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int soerr = 0;
                socklen_t len = sizeof soerr;
                getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &soerr, &len);
                if (soerr != 0) {
                    drop(it, sink);
                    continue;
                }
                c.connected = true;
            }
            if (c.busy && !c.out.empty() && !flush(c)) {
                drop(it, sink);
                continue;
            }
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read(it, sink, now);
        }
    }

    void expire(std::uint64_t seq) override {
        std::lock_guard lk(m_);
        for (auto it = conns_.begin(); it != conns_.end(); ++it)
            if (it->second.busy && it->second.seq == seq) {
                conns_.erase(it);   // closes the socket: a late response must not answer the next probe
                return;
            }
    }

private:
    using Iter = std::unordered_map<std::uint64_t, Conn>::iterator;

    // Writes what the socket takes; false on a write error.
    bool flush(Conn& c) {
        while (!c.out.empty()) {
            const ssize_t w = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
            c.out.erase(0, static_cast<std::size_t>(w));
        }
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.u64 = c.id;
        epoll_ctl(ep_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
        return true;
    }

    // A connection that failed: its probe (if any) is lost, counted as garbage like a refused tcp probe.
    void drop(Iter it, Sink& sink) {
        if (it->second.busy) sink.garbage();
        conns_.erase(it);
    }

    void read(Iter it, Sink& sink, std::int64_t now) {
        Conn& c = it->second;
        std::array<char, 16384> buf{};
        bool eof = false;
        for (;;) {
            const ssize_t r = ::recv(c.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
            if (r > 0) {
                c.in.append(buf.data(), static_cast<std::size_t>(r));
                continue;
            }
            if (r == 0) eof = true;
            else if (errno != EAGAIN && errno != EWOULDBLOCK) eof = true;
            break;
        }
        if (!c.busy) {   // an idle kept-alive connection: only a close is expected
            if (eof || !c.in.empty()) conns_.erase(it);
            return;
        }
        boost::beast::error_code ec;
        while (!c.in.empty() && !c.parser->is_done()) {
            const std::size_t used = c.parser->put(boost::asio::buffer(c.in.data(), c.in.size()), ec);
            c.in.erase(0, used);
            if (ec == bh::error::need_more) {
                ec = {};
                break;
            }
            if (ec || used == 0) break;
        }
        if (!ec && eof && !c.parser->is_done()) c.parser->put_eof(ec);
        if (ec) {
            drop(it, sink);
            return;
        }
        if (!c.parser->is_done()) {
            if (eof) drop(it, sink);
            return;
        }
        sink.reply(Reply{c.seq, now, std::nullopt, 0, static_cast<std::uint16_t>(c.parser->get().result_int())});
        const bool keep = reuse_ && !eof && c.parser->get().keep_alive() && c.in.empty();
        if (!keep) {
            conns_.erase(it);
            return;
        }
        c.busy = false;
        c.parser.reset();
    }

    net::Fd ep_;
    net::Endpoint target_;
    bool reuse_;
    std::string request_;
    std::mutex m_;
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, Conn> conns_;
};

}  // namespace

Result<std::unique_ptr<Transport>> make_http_transport(const net::Endpoint& target, std::string host, std::string path, bool reuse) {
    if (target.port() == 0) return make_error("http mode needs http://HOST:PORT/PATH", ErrorKind::bad_input);
    if (path.empty() || path.front() != '/') return make_error("http path must start with '/'", ErrorKind::bad_input);
    for (char ch : host + path)
        if (static_cast<unsigned char>(ch) <= ' ' || ch == 0x7f) return make_error("http host and path must not hold spaces or control characters", ErrorKind::bad_input);
    net::raise_fd_limit();
    net::Fd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return make_error(std::string("epoll_create1: ") + std::strerror(errno));
    return std::unique_ptr<Transport>(new HttpTransport(std::move(ep), target, std::move(host), std::move(path), reuse));
}

}  // namespace netchaos::probe
