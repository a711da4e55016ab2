#include "probe/reflector.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <array>
#include <cerrno>
#include <cstring>

#include "probe/wire.hpp"

namespace netchaos::probe {

namespace {
// Remembering every client forever would let a spoofed flood eat memory.
constexpr std::size_t max_tracked_clients = 1 << 16;
}  // namespace

SourceLimiter::SourceLimiter(double rate_hz, double burst, std::uint64_t seed, std::size_t slots)
    : rate_per_ns_(rate_hz / 1e9), burst_(std::max(1.0, burst)), seed_(seed), slots_(rate_hz > 0 ? slots : 0) {}

bool SourceLimiter::allow(const sockaddr_storage& from, std::int64_t now_ns) {
    if (slots_.empty()) return true;
    // FNV-1a over the address bytes only, seeded so a sender cannot aim at a victim's slot.
    std::uint64_t h = 1469598103934665603ull ^ seed_;
    auto mix = [&](const void* p, std::size_t n) {
        const auto* b = static_cast<const std::uint8_t*>(p);
        for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    if (from.ss_family == AF_INET6) mix(&reinterpret_cast<const sockaddr_in6&>(from).sin6_addr, 16);
    else mix(&reinterpret_cast<const sockaddr_in&>(from).sin_addr, 4);
    Bucket& b = slots_[h % slots_.size()];
    if (!b.used) b = Bucket{burst_, now_ns, true};
    const auto dt = static_cast<double>(std::max<std::int64_t>(0, now_ns - b.last_ns));
    b.tokens = std::min(burst_, b.tokens + dt * rate_per_ns_);
    b.last_ns = now_ns;
    if (b.tokens < 1.0) return false;
    b.tokens -= 1.0;
    return true;
}

Result<std::vector<std::uint8_t>> read_key_file(const std::string& file) {
    struct stat st{};
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error("key file " + file + ": " + std::strerror(errno), ErrorKind::bad_input);
    net::Fd guard(fd);
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return make_error("key file " + file + ": not a regular file", ErrorKind::bad_input);
    if (st.st_mode & 077) return make_error("key file " + file + " can be read by group or others (chmod 600 it)", ErrorKind::bad_input);
    if (st.st_size > 4096) return make_error("key file " + file + ": longer than 4096 bytes", ErrorKind::bad_input);
    std::vector<std::uint8_t> key(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    while (got < key.size()) {
        const ssize_t n = ::read(fd, key.data() + got, key.size() - got);
        if (n <= 0) return make_error("key file " + file + ": read failed", ErrorKind::bad_input);
        got += static_cast<std::size_t>(n);
    }
    if (!key.empty() && key.back() == '\n') key.pop_back();
    if (!key.empty() && key.back() == '\r') key.pop_back();
    if (key.empty()) return make_error("key file " + file + " is empty", ErrorKind::bad_input);
    return key;
}

Reflector::Reflector(net::Fd fd, ReflectorOptions opt)
    : fd_(std::move(fd)), opt_(std::move(opt)),
      limiter_(opt_.rate_per_source, opt_.burst, static_cast<std::uint64_t>(net::mono_ns()) * 0x9e3779b97f4a7c15ull) {}

Result<Reflector> Reflector::open(const net::Endpoint& listen, ReflectorOptions opt) {
    net::Fd fd(::socket(listen.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(std::string("socket: ") + std::strerror(errno));
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
        return make_error("bind " + listen.text + ": " + std::strerror(e), e == EADDRNOTAVAIL ? ErrorKind::bad_input : ErrorKind::system);
    }
    Reflector r(std::move(fd), std::move(opt));
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
    // Before any other work, so a flood costs one hash per datagram.
    if (!limiter_.allow(r.from, net::mono_ns())) {
        ++c_.rate_limited;
        return;
    }
    const std::span<std::uint8_t> dgram{buf, r.size};
    const auto d = wire::decode(dgram);
    if (r.truncated || !d.packet || d.packet->kind != wire::Kind::request) {
        ++c_.garbage;   // includes replies: two reflectors must not ping-pong forever
        return;
    }
    if (!opt_.key.empty() && !wire::verify(dgram, opt_.key)) {
        ++c_.unauthenticated;
        return;
    }
    // Both stamps on one clock: the kernel rx stamp is CLOCK_REALTIME, so is the tx read.
    const bool kernel = r.kernel_rt_ns.has_value();
    const bool rt = kernel || opt_.wall_clock;
    const std::int64_t rx = kernel ? *r.kernel_rt_ns : rt ? net::realtime_ns() : net::mono_ns();
    if (clients_.size() < max_tracked_clients) {
        std::string key(reinterpret_cast<const char*>(&r.from), sizeof r.from);
        if (clients_.insert(std::move(key)).second) ++c_.clients;
    }
    const std::int64_t tx = rt ? net::realtime_ns() : net::mono_ns();
    // Only the difference matters to the prober; absolute stamps would tell anyone who asks
    // the reflector's wall clock.
    if (opt_.wall_clock) wire::make_reply(dgram, static_cast<std::uint64_t>(rx), static_cast<std::uint64_t>(tx));
    else wire::make_reply(dgram, 0, static_cast<std::uint64_t>(std::max<std::int64_t>(0, tx - rx)));
    if (!opt_.key.empty()) wire::sign(dgram, opt_.key);
    // The reply is the request's own buffer, the same size: never an amplifier.
    const socklen_t len = r.from.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::sendto(fd_.get(), dgram.data(), dgram.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&r.from), len) < 0)
        ++c_.send_errors;
    else
        ++c_.replied;
}

Result<void> Reflector::run(const std::atomic<bool>& stop) {
    std::array<std::uint8_t, wire::max_size> buf{};
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd p{fd_.get(), POLLIN, 0};
        const int n = ::poll(&p, 1, 200);
        if (n < 0 && errno != EINTR) return make_error(std::string("poll: ") + std::strerror(errno));
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
