#pragma once
// How probes go out and come back: UDP to a reflector, ICMP echo, or TCP connect. The
// prober drives one of these from two threads: send() from the sender only, poll() and
// expire() from the receiver only.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"
#include "probe/net.hpp"
#include "profile/profile.hpp"

namespace netchaos::probe {

struct Reply {
    std::uint64_t seq = 0;
    std::int64_t rx_mono_ns = 0;                  // user-space CLOCK_MONOTONIC at read
    std::optional<std::int64_t> rx_kernel_rt_ns;  // SO_TIMESTAMPING, CLOCK_REALTIME
    std::int64_t server_ns = 0;                   // reflector processing time to subtract
    std::uint16_t http_status{};                  // http: the response's status
};

class Sink {
public:
    virtual ~Sink() = default;
    virtual void reply(const Reply& r) = 0;
    // The kernel's software tx stamp of the tx_index-th datagram successfully sent.
    virtual void tx_stamp(std::uint64_t tx_index, std::int64_t kernel_rt_ns) = 0;
    virtual void garbage() = 0;
    // An ICMP error came back for a probe sent (udp, IP_RECVERR): errno-style, ECONNREFUSED
    // for port unreachable (no reflector listening).
    virtual void icmp_error(int /*err*/) {}
};

class Transport {
public:
    virtual ~Transport() = default;
    // Sends probe `seq` stamped with `send_mono_ns`. 0 on success, else errno.
    virtual int send(std::uint64_t seq, std::int64_t send_mono_ns) = 0;
    // Waits up to `wait` and reports what arrived.
    virtual void poll(Nanos wait, Sink& sink) = 0;
    // The probe timed out: release whatever it holds (tcp: its socket).
    virtual void expire(std::uint64_t /*seq*/) {}
    virtual bool kernel_tx_stamps() const { return false; }
    virtual bool kernel_rx_stamps() const { return false; }
    virtual const char* describe() const = 0;
};

// `session` tags this run's packets (udp, icmp). size = datagram payload bytes (>= 48; with
// a key at least wire::auth_size). key (udp only): HMAC-SHA256 on every request, replies
// without a valid one are garbage.
Result<std::unique_ptr<Transport>> make_transport(profile::ProbeMode mode, const net::Endpoint& target,
                                                  std::uint64_t session, std::size_t size,
                                                  std::vector<std::uint8_t> key = {});

// HTTP: one GET of `path` per probe to `target` (Host: `host`); the RTT is request start to
// the whole response (user-space CLOCK_MONOTONIC). reuse: kept-alive connections are reused
// (a new one opens when all are busy); otherwise a new connection per probe (with connect in
// its RTT). A response of any status is a reply carrying it; a failed connection is lost.
Result<std::unique_ptr<Transport>> make_http_transport(const net::Endpoint& target, std::string host, std::string path,
                                                       bool reuse);

}  // namespace netchaos::probe
