#pragma once
// The HTTP edge of every exporter: GET /metrics on ADDR:PORT, served by prometheus-cpp's
// pull Exposer (civetweb) on its own threads, so a scrape never runs on a caller's thread
// (the probe's receiver, the forwarder's lcore): it only reads what they published.
#include <prometheus/collectable.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace prometheus {
class Exposer;
}

namespace netchaos::exporter {

// "ADDR:PORT" or "[V6]:PORT" with a numeric port (0: any free port). Code 3 when malformed.
Result<std::string> check_listen(std::string_view listen);

class Server {
public:
    // Binds at once; code 4 with the system's reason when it cannot (address in use, ...).
    static Result<std::unique_ptr<Server>> start(std::string_view listen, std::weak_ptr<prometheus::Collectable> what);
    ~Server();
    // The bound port (the real one when 0 was asked) and the URL to scrape.
    int port() const { return port_; }
    std::string url() const;

private:
    Server() = default;
    std::unique_ptr<prometheus::Exposer> exposer_;
    std::string host_;
    int port_ = 0;
};

}  // namespace netchaos::exporter
