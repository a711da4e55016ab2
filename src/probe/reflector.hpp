#pragma once
// UDP reflector: answers every valid probe request to whoever sent it, with its own
// receive and send times stamped in, so the prober can take the processing time out.
// Anything else (short, foreign, replies, oversized) is dropped and counted.
#include <atomic>
#include <cstdint>
#include <unordered_set>
#include <string>

#include "common/result.hpp"
#include "probe/net.hpp"

namespace netchaos::probe {

struct ReflectorCounters {
    std::uint64_t received = 0;      // datagrams read
    std::uint64_t replied = 0;
    std::uint64_t garbage = 0;       // not a probe request: dropped
    std::uint64_t send_errors = 0;
    std::uint64_t clients = 0;       // distinct source address:port seen (capped, see .cpp)
    bool kernel_timestamps = false;  // rx stamps come from SO_TIMESTAMPING
};

class Reflector {
public:
    // Binds the socket. Errors: 3 for an address that cannot be bound as given
    // (EADDRNOTAVAIL), 4 for the rest (permission, port in use).
    static Result<Reflector> open(const net::Endpoint& listen);
    // Serves until `stop` becomes true (checked at least every 200 ms).
    Result<void> run(const std::atomic<bool>& stop);
    const ReflectorCounters& counters() const { return c_; }
    std::string local_address() const;
private:
    explicit Reflector(net::Fd fd) : fd_(std::move(fd)) {}
    void serve_one(const net::Received& r, std::uint8_t* buf);
    net::Fd fd_;
    ReflectorCounters c_;
    std::unordered_set<std::string> clients_;
};

}  // namespace netchaos::probe
