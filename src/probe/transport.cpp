#include "probe/transport.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "probe/wire.hpp"

namespace netchaos::probe {

namespace {

constexpr std::size_t icmp_header = 8;

int wait_ms(Nanos wait) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    return ms < 0 ? 0 : static_cast<int>(ms);
}

// Reads the tx stamps that SO_TIMESTAMPING queued on the error queue.
void drain_tx_stamps(int fd, Sink& sink) {
    std::array<std::uint8_t, 256> buf{};
    for (int i = 0; i < 1024; ++i) {
        int err = 0;
        auto r = net::receive(fd, buf, true, err);
        if (!r) return;
        if (r->tx_key && r->kernel_rt_ns) sink.tx_stamp(*r->tx_key, *r->kernel_rt_ns);
        if (r->icmp_errno) sink.icmp_error(r->icmp_errno);
    }
}

// UDP and ICMP differ only in framing; both carry a wire::Packet and use kernel stamps.
class DatagramTransport : public Transport {
public:
    DatagramTransport(net::Fd fd, const net::Endpoint& target, std::uint64_t session, std::size_t size)
        : fd_(std::move(fd)), target_(target), session_(session), out_(size, 0) {
        const int buf = 4 << 20;
        setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        stamps_ = net::enable_timestamping(fd_.get(), true);
    }
    bool kernel_tx_stamps() const override { return stamps_; }
    bool kernel_rx_stamps() const override { return stamps_; }

    int send(std::uint64_t seq, std::int64_t send_mono_ns) override {
        const std::size_t off = frame_header();
        wire::Packet p;
        p.session = session_;
        p.seq = seq;
        p.send_ns = static_cast<std::uint64_t>(send_mono_ns);
        wire::encode(p, std::span(out_).subspan(off));
        if (!key_.empty()) wire::sign(std::span(out_).subspan(off), key_);
        frame(seq);
        const ssize_t n = ::sendto(fd_.get(), out_.data(), out_.size(), MSG_DONTWAIT,
                                   reinterpret_cast<const sockaddr*>(&target_.addr), target_.len);
        return n < 0 ? errno : 0;
    }

    void poll(Nanos wait, Sink& sink) override {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, wait_ms(wait)) <= 0) return;
        if (p.revents & POLLERR) drain_tx_stamps(fd_.get(), sink);
        std::array<std::uint8_t, 2048> buf{};
        for (int i = 0; i < 1024; ++i) {
            int err = 0;
            auto r = net::receive(fd_.get(), buf, false, err);
            if (!r) {
                if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
                continue;   // a queued ICMP error: the probe just counts as lost
            }
            const std::int64_t now = net::mono_ns();
            auto payload = unframe(*r, std::span(buf).first(r->size));
            if (!payload) continue;   // not for us (e.g. someone else's echo on a raw socket)
            const auto d = wire::decode(*payload);
            if (!d.packet || d.packet->kind != wire::Kind::reply || d.packet->session != session_ ||
                (!key_.empty() && !wire::verify(*payload, key_))) {   // forged, or a reflector without our key
                sink.garbage();
                continue;
            }
            Reply rep;
            rep.seq = d.packet->seq;
            rep.rx_mono_ns = now;
            rep.rx_kernel_rt_ns = r->kernel_rt_ns;
            rep.server_ns = static_cast<std::int64_t>(d.packet->srv_tx_ns - d.packet->srv_rx_ns);
            sink.reply(rep);
        }
    }

    void set_key(std::vector<std::uint8_t> key) { key_ = std::move(key); }

protected:
    virtual std::size_t frame_header() const { return 0; }
    virtual void frame(std::uint64_t /*seq*/) {}
    // The probe packet inside a received datagram, or nullopt if it is not ours.
    virtual std::optional<std::span<const std::uint8_t>> unframe(const net::Received& r,
                                                                  std::span<const std::uint8_t> data) {
        // From anyone but the target: an empty span, which decodes as garbage.
        if (!net::same_address(r.from, target_.addr) || net::port_of(r.from) != target_.port()) return data.first(0);
        return data;
    }
    net::Fd fd_;
    net::Endpoint target_;
    std::uint64_t session_;
    std::vector<std::uint8_t> out_;
    std::vector<std::uint8_t> key_;   // shared HMAC key (udp): requests signed, replies verified
    bool stamps_ = false;
};

class UdpTransport final : public DatagramTransport {
public:
    // IP_RECVERR: ICMP errors for this unconnected socket are queued on its error queue (next
    // to the tx stamps), so "port unreachable" ends the probe at once instead of reading as
    // 100% loss after the whole duration.
    UdpTransport(net::Fd fd, const net::Endpoint& target, std::uint64_t session, std::size_t size)
        : DatagramTransport(std::move(fd), target, session, size) {
        const int on = 1;
        if (target.family() == AF_INET6) setsockopt(fd_.get(), SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
        else setsockopt(fd_.get(), SOL_IP, IP_RECVERR, &on, sizeof on);
    }
    const char* describe() const override { return "udp"; }
};

std::uint16_t checksum(std::span<const std::uint8_t> d) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < d.size(); i += 2) sum += std::uint32_t(d[i]) << 8 | d[i + 1];
    if (d.size() % 2) sum += std::uint32_t(d.back()) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

// ICMP echo. A "ping socket" (SOCK_DGRAM, IPPROTO_ICMP) when net.ipv4.ping_group_range
// allows it, else a raw socket (needs CAP_NET_RAW). The kernel fills id and checksum for
// ping sockets; on a raw socket we do, and we see every echo reply in the namespace.
class IcmpTransport final : public DatagramTransport {
public:
    IcmpTransport(net::Fd fd, bool raw, const net::Endpoint& target, std::uint64_t session, std::size_t size)
        : DatagramTransport(std::move(fd), target, session, size + icmp_header), raw_(raw),
          ident_(static_cast<std::uint16_t>(session)) {}
    const char* describe() const override { return raw_ ? "icmp (raw socket)" : "icmp (ping socket)"; }

protected:
    std::size_t frame_header() const override { return icmp_header; }
    void frame(std::uint64_t seq) override {
        out_[0] = ICMP_ECHO;
        out_[1] = 0;
        out_[2] = out_[3] = 0;
        out_[4] = static_cast<std::uint8_t>(ident_ >> 8);
        out_[5] = static_cast<std::uint8_t>(ident_);
        out_[6] = static_cast<std::uint8_t>(seq >> 8);
        out_[7] = static_cast<std::uint8_t>(seq);
        const std::uint16_t c = checksum(out_);
        out_[2] = static_cast<std::uint8_t>(c >> 8);
        out_[3] = static_cast<std::uint8_t>(c);
    }
    std::optional<std::span<const std::uint8_t>> unframe(const net::Received& r,
                                                          std::span<const std::uint8_t> data) override {
        if (!net::same_address(r.from, target_.addr)) return std::nullopt;
        if (raw_) {
            if (data.empty()) return std::nullopt;
            const std::size_t ihl = std::size_t(data[0] & 0x0f) * 4;
            if (data.size() < ihl) return std::nullopt;
            data = data.subspan(ihl);
        }
        if (data.size() < icmp_header || data[0] != ICMP_ECHOREPLY) return std::nullopt;
        data = data.subspan(icmp_header);
        // The echo carries our request back unchanged; make it read as a reply with no
        // server time (the peer's kernel answers within the RTT, there is no stamp to take out).
        if (data.size() < wire::header_size) return std::nullopt;
        reply_.assign(data.begin(), data.end());
        wire::make_reply(reply_, 0, 0);
        return std::span<const std::uint8_t>(reply_);
    }

private:
    bool raw_;
    std::uint16_t ident_;
    std::vector<std::uint8_t> reply_;
};

// TCP connect time: a non-blocking connect per probe; the RTT is SYN -> SYN/ACK as seen by
// the process (user-space CLOCK_MONOTONIC, no kernel stamps for connect).
class TcpTransport final : public Transport {
public:
    TcpTransport(net::Fd ep, const net::Endpoint& target) : ep_(std::move(ep)), target_(target) {}
    ~TcpTransport() override {
        for (auto& [seq, fd] : pending_) ::close(fd);
    }
    const char* describe() const override { return "tcp connect"; }

    int send(std::uint64_t seq, std::int64_t) override {
        net::Fd fd(::socket(target_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) return errno;
        const linger lg{1, 0};   // close with RST: no TIME_WAIT pile-up at high rates
        setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target_.addr), target_.len) != 0 &&
            errno != EINPROGRESS)
            return errno;
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u64 = seq;
        std::lock_guard lk(m_);
        if (epoll_ctl(ep_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) return errno;
        pending_[seq] = fd.release();
        return 0;
    }

    void poll(Nanos wait, Sink& sink) override {
        std::array<epoll_event, 64> evs{};
        const int n = epoll_wait(ep_.get(), evs.data(), static_cast<int>(evs.size()), wait_ms(wait));
        const std::int64_t now = net::mono_ns();
        for (int i = 0; i < n; ++i) {
            const std::uint64_t seq = evs[static_cast<std::size_t>(i)].data.u64;
            int fd = -1;
            {
                std::lock_guard lk(m_);
                auto it = pending_.find(seq);
                if (it == pending_.end()) continue;
                fd = it->second;
                pending_.erase(it);
            }
            int soerr = 0;
            socklen_t len = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
            ::close(fd);
            if (soerr == 0)
                sink.reply(Reply{seq, now, std::nullopt, 0});
            else
                sink.garbage();   // refused or unreachable: the probe is lost
        }
    }

    void expire(std::uint64_t seq) override {
        std::lock_guard lk(m_);
        auto it = pending_.find(seq);
        if (it == pending_.end()) return;
        ::close(it->second);
        pending_.erase(it);
    }

private:
    net::Fd ep_;
    net::Endpoint target_;
    std::mutex m_;
    std::unordered_map<std::uint64_t, int> pending_;
};

}  // namespace

Result<std::unique_ptr<Transport>> make_transport(profile::ProbeMode mode, const net::Endpoint& target,
                                                  std::uint64_t session, std::size_t size, std::vector<std::uint8_t> key) {
    using profile::ProbeMode;
    if (!key.empty() && mode != ProbeMode::udp)
        return make_error("a key (--key-file) authenticates udp probes to a netchaos reflector; not mode icmp or tcp", ErrorKind::bad_input);
    if (!key.empty()) size = std::max(size, wire::auth_size);   // room for the HMAC
    if (size < wire::header_size || size > wire::max_size)
        return make_error("probe size must be in " + std::to_string(wire::header_size) + "-" +
                              std::to_string(wire::max_size) + " bytes", ErrorKind::bad_input);
    const int family = target.family();
    if (mode == ProbeMode::udp) {
        if (target.port() == 0) return make_error("udp mode needs HOST:PORT (a netchaos reflector)", ErrorKind::bad_input);
        net::Fd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        if (!fd) return make_error(std::string("socket: ") + std::strerror(errno));
        auto t = std::make_unique<UdpTransport>(std::move(fd), target, session, size);
        t->set_key(std::move(key));
        return std::unique_ptr<Transport>(std::move(t));
    }
    if (mode == ProbeMode::icmp) {
        if (family != AF_INET) return make_error("icmp mode supports IPv4 targets only", ErrorKind::bad_input);
        net::Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP));
        bool raw = false;
        if (!fd) {
            fd = net::Fd(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP));
            raw = true;
        }
        if (!fd)
            return make_error(std::string("icmp socket: ") + std::strerror(errno) +
                                  " (needs net.ipv4.ping_group_range to include your group, or CAP_NET_RAW)");
        return std::unique_ptr<Transport>(new IcmpTransport(std::move(fd), raw, target, session, size));
    }
    if (target.port() == 0) return make_error("tcp mode needs HOST:PORT", ErrorKind::bad_input);
    net::raise_fd_limit();
    net::Fd ep(epoll_create1(EPOLL_CLOEXEC));
    if (!ep) return make_error(std::string("epoll_create1: ") + std::strerror(errno));
    return std::unique_ptr<Transport>(new TcpTransport(std::move(ep), target));
}

}  // namespace netchaos::probe
