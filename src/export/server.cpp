#include "export/server.hpp"

#include <prometheus/exposer.h>

#include <charconv>
#include <exception>

namespace netchaos::exporter {

Result<std::string> check_listen(std::string_view listen) {
    const auto colon = listen.rfind(':');
    auto bad = [&](const std::string& why) {
        return make_error("--metrics-listen '" + std::string(listen) + "': " + why + " (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)", 3);
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

Result<std::unique_ptr<Server>> Server::start(std::string_view listen, std::weak_ptr<prometheus::Collectable> what) {
    auto host = check_listen(listen);
    if (!host) return host.error();
    std::unique_ptr<Server> s(new Server());
    s->host_ = *host;
    try {
        // One serving thread: a scrape is a few kB every few seconds; more threads are only
        // more stacks.
        s->exposer_ = std::make_unique<prometheus::Exposer>(std::string(listen), 1);
    } catch (const std::exception& e) {
        // civetweb says e.g. "null context when constructing CivetServer. Possible problem
        // binding to port." and logs the errno text itself; keep both halves useful.
        return make_error("cannot serve metrics on " + std::string(listen) + ": " + e.what() +
                              " (address in use, or not an address of this host?)", 4);
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
