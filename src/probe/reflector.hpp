#pragma once
// UDP reflector: answers valid probe requests with its processing time stamped in, so the
// prober can take it out of the RTT. It is a small reflection service open to the network,
// so it is built to be a poor amplifier and a poor oracle (docs/security.md): a reply is
// never larger than its request, each source address gets a token bucket, an optional
// shared key makes it answer only holders of the key, and its clock stays private unless
// asked. Anything else (short, foreign, replies, oversized, unauthenticated, over the rate)
// is dropped and counted.
#include <atomic>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include <sys/socket.h>

#include "common/result.hpp"
#include "probe/net.hpp"

namespace netchaos::probe {

struct ReflectorCounters {
    std::uint64_t received = 0;      // datagrams read
    std::uint64_t replied = 0;
    std::uint64_t garbage = 0;       // not a probe request: dropped
    std::uint64_t unauthenticated = 0;   // with a key: no valid HMAC, dropped
    std::uint64_t rate_limited = 0;  // over the per-source rate, dropped
    std::uint64_t send_errors = 0;
    std::uint64_t clients = 0;       // distinct source address:port seen (capped, see .cpp)
    bool kernel_timestamps = false;  // rx stamps come from SO_TIMESTAMPING
};

// Token buckets per source address (the port is left out: a spoofer picks ports freely).
// Addresses hash into a fixed table, so memory is bounded whatever the sources; two sources
// sharing a slot share its budget, which errs on the side of replying less. Pure: the
// caller passes the time.
class SourceLimiter {
public:
    // rate_hz <= 0: unlimited. burst: the bucket's depth in datagrams.
    SourceLimiter(double rate_hz, double burst, std::uint64_t seed, std::size_t slots = 4096);
    bool allow(const sockaddr_storage& from, std::int64_t now_ns);
private:
    struct Bucket { double tokens = 0; std::int64_t last_ns = 0; bool used = false; };
    double rate_per_ns_, burst_;
    std::uint64_t seed_;
    std::vector<Bucket> slots_;
};

struct ReflectorOptions {
    std::vector<std::uint8_t> key;   // empty: no authentication
    bool wall_clock = false;         // stamp CLOCK_REALTIME instead of only the processing time
    double rate_per_source = 10000;  // datagrams per second and source address; <= 0 unlimited
    double burst = 1000;
};

class Reflector {
public:
    // Binds the socket. Errors: 3 for an address that cannot be bound as given
    // (EADDRNOTAVAIL), 4 for the rest (permission, port in use).
    static Result<Reflector> open(const net::Endpoint& listen, ReflectorOptions opt = {});
    // Serves until `stop` becomes true (checked at least every 200 ms).
    Result<void> run(const std::atomic<bool>& stop);
    const ReflectorCounters& counters() const { return c_; }
    std::string local_address() const;
private:
    Reflector(net::Fd fd, ReflectorOptions opt);
    void serve_one(const net::Received& r, std::uint8_t* buf);
    net::Fd fd_;
    ReflectorOptions opt_;
    SourceLimiter limiter_;
    ReflectorCounters c_;
    std::unordered_set<std::string> clients_;
};

// Reads a shared key from FILE (raw bytes, one trailing newline dropped). Refuses an empty
// file and one that group or others can read (bad input); errors never quote the contents.
Result<std::vector<std::uint8_t>> read_key_file(const std::string& file);

}  // namespace netchaos::probe
