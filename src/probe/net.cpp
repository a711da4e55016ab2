#include "probe/net.hpp"

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

namespace netchaos::probe::net {

std::uint16_t port_of(const sockaddr_storage& a) {
    if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
    if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
    return 0;
}

std::uint16_t Endpoint::port() const { return port_of(addr); }

Result<Endpoint> parse_endpoint(std::string_view text, bool port_required) {
    auto bad = [&](const std::string& why) {
        return make_error("bad address '" + std::string(text) + "': " + why, ErrorKind::bad_input);
    };
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos) return bad("missing ']'");
        host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return bad("expected ':PORT' after ']'");
            port_text = rest.substr(1);
            if (port_text.empty()) return bad("empty port");
        }
    } else {
        const auto colon = text.rfind(':');
        // More than one colon without brackets: a bare IPv6 address, no port.
        if (colon != std::string_view::npos && text.find(':') == colon) {
            host = std::string(text.substr(0, colon));
            port_text = text.substr(colon + 1);
            if (port_text.empty()) return bad("empty port");
        } else {
            host = std::string(text);
        }
    }
    if (host.empty()) return bad("empty host");
    unsigned port = 0;
    if (!port_text.empty()) {
        auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || p != port_text.data() + port_text.size() || port < 1 || port > 65535)
            return bad("port must be a number in 1-65535, got '" + std::string(port_text) + "'");
    } else if (port_required) {
        return bad("expected HOST:PORT");
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* res = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) return bad(std::string("cannot resolve host: ") + gai_strerror(rc));
    Endpoint e;
    std::memcpy(&e.addr, res->ai_addr, res->ai_addrlen);
    e.len = res->ai_addrlen;
    freeaddrinfo(res);
    if (e.addr.ss_family == AF_INET)
        reinterpret_cast<sockaddr_in&>(e.addr).sin_port = htons(static_cast<std::uint16_t>(port));
    else if (e.addr.ss_family == AF_INET6)
        reinterpret_cast<sockaddr_in6&>(e.addr).sin6_port = htons(static_cast<std::uint16_t>(port));
    else
        return bad("not an IPv4 or IPv6 address");
    e.text = to_string(e.addr);
    return e;
}

std::string to_string(const sockaddr_storage& a) {
    char buf[INET6_ADDRSTRLEN] = "?";
    if (a.ss_family == AF_INET) {
        const auto& s = reinterpret_cast<const sockaddr_in&>(a);
        inet_ntop(AF_INET, &s.sin_addr, buf, sizeof buf);
        return std::string(buf) + ":" + std::to_string(ntohs(s.sin_port));
    }
    if (a.ss_family == AF_INET6) {
        const auto& s = reinterpret_cast<const sockaddr_in6&>(a);
        inet_ntop(AF_INET6, &s.sin6_addr, buf, sizeof buf);
        return "[" + std::string(buf) + "]:" + std::to_string(ntohs(s.sin6_port));
    }
    return "?";
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET)
        return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
    if (a.ss_family == AF_INET6)
        return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                           &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, sizeof(in6_addr)) == 0;
    return false;
}

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

namespace {
std::int64_t now(clockid_t c) {
    timespec ts{};
    clock_gettime(c, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

std::int64_t mono_ns() { return now(CLOCK_MONOTONIC); }
std::int64_t realtime_ns() { return now(CLOCK_REALTIME); }

bool enable_timestamping(int fd, bool tx) {
    unsigned flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    // TSONLY: the error queue returns the stamp without a copy of the packet; OPT_ID numbers
    // the stamps per datagram sent so they can be matched to sequence numbers.
    // TX_SCHED, not TX_SOFTWARE: the stamp is taken before the packet enters the qdisc, so a
    // netem on the prober's own egress counts in the RTT (TX_SOFTWARE is taken in the driver,
    // after the delay, and hid it).
    if (tx) flags |= SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

std::optional<Received> receive(int fd, std::span<std::uint8_t> buf, bool errqueue, int& err) {
    Received r;
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[512];
    msghdr msg{};
    msg.msg_name = &r.from;
    msg.msg_namelen = sizeof r.from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT | (errqueue ? MSG_ERRQUEUE : 0));
    if (n < 0) {
        err = errno;
        return std::nullopt;
    }
    err = 0;
    r.size = static_cast<std::size_t>(n);
    r.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
            scm_timestamping ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            if (ts.ts[0].tv_sec || ts.ts[0].tv_nsec)
                r.kernel_rt_ns = std::int64_t(ts.ts[0].tv_sec) * 1'000'000'000 + ts.ts[0].tv_nsec;
        } else if (errqueue && ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
                                (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR))) {
            sock_extended_err ee{};
            std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
            // With OPT_ID the datagram's index (0, 1, 2, ... per send) is in ee_data.
            if (ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) r.tx_key = ee.ee_data;
            if (ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6) r.icmp_errno = static_cast<int>(ee.ee_errno);
        }
    }
    return r;
}

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& stop_on_signals() {
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    return g_stop;
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

}  // namespace netchaos::probe::net
