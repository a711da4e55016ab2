#pragma once
// Socket edge of the probe: addresses, clocks, kernel timestamps. Thin wrappers, no policy.
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace netchaos::probe::net {

// A resolved socket address plus the text it came from.
struct Endpoint {
    sockaddr_storage addr{};
    socklen_t len = 0;
    std::string text;          // "10.0.0.2:7777", "[::1]:7777"
    int family() const { return addr.ss_family; }
    std::uint16_t port() const;
};

// "HOST:PORT", "[V6]:PORT", or "HOST" when port_required is false (the port is then 0).
// HOST may be a name (resolved once, numeric forms first). Errors carry code 3.
Result<Endpoint> parse_endpoint(std::string_view text, bool port_required);
std::string to_string(const sockaddr_storage& a);
std::uint16_t port_of(const sockaddr_storage& a);
bool same_address(const sockaddr_storage& a, const sockaddr_storage& b);   // ignores the port

// Owning file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(o.release()) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd();
    int get() const { return fd_; }
    int release() { int f = fd_; fd_ = -1; return f; }
    explicit operator bool() const { return fd_ >= 0; }
private:
    int fd_ = -1;
};

std::int64_t mono_ns();       // CLOCK_MONOTONIC
std::int64_t realtime_ns();   // CLOCK_REALTIME (the clock SO_TIMESTAMPING software stamps use)

// Asks for software rx (and, when `tx`, tx) timestamps. Returns false when the kernel
// refuses; callers then fall back to CLOCK_MONOTONIC read in user space.
bool enable_timestamping(int fd, bool tx);

struct Received {
    std::size_t size = 0;
    bool truncated = false;
    sockaddr_storage from{};
    std::optional<std::int64_t> kernel_rt_ns;   // SCM_TIMESTAMPING software stamp, CLOCK_REALTIME
    std::optional<std::uint32_t> tx_key;        // errqueue: index of the datagram sent (OPT_ID)
    int icmp_errno = 0;                         // errqueue (IP_RECVERR): an ICMP error for a datagram sent,
                                                // ECONNREFUSED = port unreachable
};
// One non-blocking recvmsg. errqueue: read MSG_ERRQUEUE (tx stamps). nullopt on EAGAIN;
// other errors set `err` (errno) and return nullopt too.
std::optional<Received> receive(int fd, std::span<std::uint8_t> buf, bool errqueue, int& err);

// Installs SIGINT/SIGTERM handlers (without SA_RESTART, so blocking calls return EINTR)
// that set the returned flag. Idempotent.
const std::atomic<bool>& stop_on_signals();

// Raise RLIMIT_NOFILE's soft limit to the hard limit (the tcp mode holds a socket per probe
// in flight). Best effort.
void raise_fd_limit();

}  // namespace netchaos::probe::net
