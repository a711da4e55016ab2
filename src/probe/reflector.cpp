#include "probe/reflector.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "probe/wire.hpp"

namespace netchaos::probe {

namespace {
// Remembering every client forever would let a spoofed flood eat memory.
constexpr std::size_t max_tracked_clients = 1 << 16;
}  // namespace

Result<Reflector> Reflector::open(const net::Endpoint& listen) {
    net::Fd fd(::socket(listen.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(std::string("socket: ") + std::strerror(errno), 4);
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (listen.family() == AF_INET6) {
        const int zero = 0;   // [::]:port also serves IPv4 clients
        setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    const int buf = 4 << 20;  // room for bursts from many clients
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&listen.addr), listen.len) != 0) {
        const int e = errno;
        return make_error("bind " + listen.text + ": " + std::strerror(e), e == EADDRNOTAVAIL ? 3 : 4);
    }
    Reflector r(std::move(fd));
    r.c_.kernel_timestamps = net::enable_timestamping(r.fd_.get(), false);
    return r;
}

std::string Reflector::local_address() const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return net::to_string(a);
}

void Reflector::serve_one(const net::Received& r, std::uint8_t* buf) {
    ++c_.received;
    const auto d = wire::decode({buf, r.size});
    if (r.truncated || !d.packet || d.packet->kind != wire::Kind::request) {
        ++c_.garbage;   // includes replies: two reflectors must not ping-pong forever
        return;
    }
    // Both stamps on one clock: the kernel rx stamp is CLOCK_REALTIME, so is the tx read.
    const bool kernel = r.kernel_rt_ns.has_value();
    const std::int64_t rx = kernel ? *r.kernel_rt_ns : net::mono_ns();
    if (clients_.size() < max_tracked_clients) {
        std::string key(reinterpret_cast<const char*>(&r.from), sizeof r.from);
        if (clients_.insert(std::move(key)).second) ++c_.clients;
    }
    const std::int64_t tx = kernel ? net::realtime_ns() : net::mono_ns();
    wire::make_reply({buf, r.size}, static_cast<std::uint64_t>(rx), static_cast<std::uint64_t>(tx));
    const socklen_t len = r.from.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::sendto(fd_.get(), buf, r.size, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&r.from), len) < 0)
        ++c_.send_errors;
    else
        ++c_.replied;
}

Result<void> Reflector::run(const std::atomic<bool>& stop) {
    std::array<std::uint8_t, wire::max_size> buf{};
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd p{fd_.get(), POLLIN, 0};
        const int n = ::poll(&p, 1, 200);
        if (n < 0 && errno != EINTR) return make_error(std::string("poll: ") + std::strerror(errno), 4);
        if (n <= 0) continue;
        // Drain what is queued, but look at `stop` between batches.
        for (int i = 0; i < 256; ++i) {
            int err = 0;
            auto r = net::receive(fd_.get(), buf, false, err);
            if (!r) {
                if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
                // ICMP errors from earlier replies (ECONNREFUSED etc.) surface here; harmless.
                continue;
            }
            serve_one(*r, buf.data());
        }
    }
    return {};
}

}  // namespace netchaos::probe
