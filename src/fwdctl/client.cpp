#include "fwdctl/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <string>

namespace netchaos::fwdctl {
namespace {

struct Fd {
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc > 0) return true;
        if (rc < 0 && errno != EINTR) return false;
    }
}

}  // namespace

Result<nlohmann::json> request(const std::filesystem::path& sock, const nlohmann::json& req,
                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const std::string path = sock.string();
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) return make_error("control socket path too long: " + path, ErrorKind::bad_input);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());

    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (s.fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno != EINPROGRESS && errno != EAGAIN)
            return make_error("nothing answers on " + path + ": " + std::strerror(errno) +
                              (errno == ENOENT ? " (is netchaos-fwd, or netchaos http-proxy --control, running there? see --control)" : ""));
        if (!wait_for(s.fd, POLLOUT, deadline)) return make_error("timed out connecting to " + path);
    }
    const std::string out = req.dump() + "\n";
    std::size_t off = 0;
    while (off < out.size()) {
        const ssize_t n = ::send(s.fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
        if (n > 0) { off += static_cast<std::size_t>(n); continue; }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_for(s.fd, POLLOUT, deadline)) return make_error("timed out sending to " + path);
            continue;
        }
        return make_error("send to " + path + ": " + std::strerror(errno));
    }
    std::string in;
    for (;;) {
        const auto nl = in.find('\n');
        if (nl != std::string::npos) {
            try {
                return nlohmann::json::parse(in.substr(0, nl));
            } catch (const std::exception& e) {
                return make_error(std::string("bad reply from forwarder: ") + e.what());
            }
        }
        if (!wait_for(s.fd, POLLIN, deadline))
            return make_error("timed out after " + std::to_string(timeout.count()) + " ms waiting for " + path);
        char buf[65536];
        const ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n == 0) return make_error("forwarder closed the connection without replying");
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) continue;
            return make_error("recv from " + path + ": " + std::strerror(errno));
        }
        in.append(buf, static_cast<std::size_t>(n));
        if (in.size() > (64u << 20)) return make_error("reply from forwarder too large");
    }
}

namespace {
Result<void> expect_ok(Result<nlohmann::json> r, const std::string& what) {
    if (!r) return r.error();
    if (r->value("ok", false)) return {};
    const bool bad_input = r->value("kind", "") == kind_name(ErrorKind::bad_input);
    return make_error(what + r->value("error", r->dump()), bad_input ? ErrorKind::bad_input : ErrorKind::system);
}
}  // namespace

Result<void> load(const std::filesystem::path& sock, const Load& l, std::string_view peer) {
    nlohmann::json req{{"cmd", "load"}, {"direction", l.direction}, {"toml", l.toml}, {"name", l.name}};
    if (l.lease) req["lease_ms"] = std::max<std::int64_t>(1, l.lease->count());
    return expect_ok(request(sock, req), "the " + std::string(peer) + " refused the profile: ");
}

Result<void> clear(const std::filesystem::path& sock, std::string_view peer) {
    return expect_ok(request(sock, {{"cmd", "clear"}}), "the " + std::string(peer) + " refused to clear: ");
}

}  // namespace netchaos::fwdctl
