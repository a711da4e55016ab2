#include "export/server.hpp"

#include <prometheus/exposer.h>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>

namespace netchaos::exporter {

Result<std::string> check_listen(std::string_view listen) {
    const auto colon = listen.rfind(':');
    auto bad = [&](const std::string& why) {
        return make_error("--metrics-listen '" + std::string(listen) + "': " + why + " (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)", ErrorKind::bad_input);
    };
    if (colon == std::string_view::npos || colon == 0) return bad("no port");
    const std::string_view host = listen.substr(0, colon), port = listen.substr(colon + 1);
    unsigned p = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || p > 65535) return bad("port must be 0-65535");
    if (host.front() == '[' ? host.back() != ']' || host.size() < 3 : host.find(':') != std::string_view::npos)
        return bad("an IPv6 address goes in brackets");
    return std::string(host);
}

namespace {
// civetweb only says "Possible problem binding to port"; binding the same address ourselves
// gives the system's reason ("Address already in use", "Cannot assign requested address").
std::string bind_reason(const std::string& host, std::string_view listen) {
    std::string h = host, port(listen.substr(listen.rfind(':') + 1));
    if (h.size() > 2 && h.front() == '[') h = h.substr(1, h.size() - 2);
    addrinfo hints{}, *ai = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (int rc = getaddrinfo(h.c_str(), port.c_str(), &hints, &ai); rc != 0) return gai_strerror(rc);
    std::string why = "unknown reason";
    const int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        why = std::strerror(errno);
    else {
        const int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);   // as civetweb does
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) why = std::strerror(errno);
        close(fd);
    }
    freeaddrinfo(ai);
    return why;
}
}  // namespace

Result<std::unique_ptr<Server>> Server::start(std::string_view listen, std::weak_ptr<prometheus::Collectable> what) {
    auto host = check_listen(listen);
    if (!host) return host.error();
    std::unique_ptr<Server> s(new Server());
    s->host_ = *host;
    try {
        // One serving thread: a scrape is a few kB every few seconds; more threads are only
        // more stacks.
        s->exposer_ = std::make_unique<prometheus::Exposer>(std::string(listen), 1);
    } catch (const std::exception&) {
        return make_error("cannot serve metrics on " + std::string(listen) + ": " + bind_reason(*host, listen));
    }
    s->exposer_->RegisterCollectable(what);
    const auto ports = s->exposer_->GetListeningPorts();
    s->port_ = ports.empty() ? 0 : ports.front();
    return s;
}

Server::~Server() = default;

std::string Server::url() const {
    const std::string host = host_ == "0.0.0.0" ? "127.0.0.1" : host_ == "[::]" ? "[::1]" : host_;
    return "http://" + host + ":" + std::to_string(port_) + "/metrics";
}

}  // namespace netchaos::exporter
