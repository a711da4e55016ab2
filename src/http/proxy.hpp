#pragma once
// netchaos http-proxy: an HTTP/1.1 reverse proxy (Boost.Asio + Beast) that applies the
// profile's [http] faults per request, decided by http::Decider (faults.hpp). I/O only: every
// decision is made there.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "http/faults.hpp"
#include "profile/profile.hpp"

namespace netchaos::http {

struct ProxyOptions {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 0;          // 0: any free port (Proxy::port() says which)
    std::string upstream_host;
    std::uint16_t upstream_port = 0;
    // Forward mode (HTTP_PROXY for clients): no fixed upstream; absolute-form requests
    // ("GET http://h:p/x") and CONNECT tunnels go where they ask, but only to addresses inside
    // forward_allow (an open proxy is nobody's intent). A CONNECT tunnel gets its faults once,
    // at CONNECT: delay before it opens, abort instead of 200, reset.
    bool forward = false;
    std::vector<profile::Cidr> forward_allow;
    RulesPtr rules;                         // null = no faults
    std::uint64_t seed = 0x6e6574636861ULL;
    int threads = 1;
    // Header control (X-Jitter, X-Fault-Abort): off unless enabled, and then only for sources
    // inside one of these networks, and only while fewer than max_active_faults header faults
    // are in progress. The headers are stripped before forwarding in every case.
    bool header_control = false;
    std::vector<profile::Cidr> header_allow;
    int max_active_faults = 100;
    std::chrono::milliseconds max_header_delay{10'000};
    // Limits and timeouts: a slow or hostile client costs one socket for at most
    // client_timeout per header or body, nothing more.
    std::size_t max_header_bytes = 16 * 1024;
    std::size_t max_request_body = 8 * 1024 * 1024;
    std::size_t max_response_body = 64 * 1024 * 1024;
    int max_connections = 4096;
    std::chrono::milliseconds client_timeout{10'000};   // a request's header, then its body, each
    std::chrono::milliseconds idle_timeout{60'000};     // a keep-alive connection between requests
    std::chrono::milliseconds connect_timeout{3'000};
    std::chrono::milliseconds upstream_timeout{30'000};
};

struct ProxyStats {
    std::atomic<std::uint64_t> connections{0}, active{0}, requests{0}, aborted{0}, resets{0},
        header_faults{0}, upstream_errors{0}, client_errors{0}, refused{0};
};

class Proxy {
public:
    static Result<std::unique_ptr<Proxy>> create(ProxyOptions opts);   // binds and resolves; code 4 on failure
    ~Proxy();
    std::uint16_t port() const;
    // Serves until stop() (from any thread or a signal handler's flag poll) and returns.
    void run();
    void stop();
    // Live switch: requests decided from now on use the new rules; requests in progress keep theirs.
    void switch_rules(RulesPtr rules);
    const ProxyStats& stats() const;
    struct Impl;
private:
    explicit Proxy(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace netchaos::http
