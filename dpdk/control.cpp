#include "control.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <vector>

#include "profile/parse.hpp"
#include "sizing.hpp"

namespace netchaos::fwd {
namespace {
std::int64_t realtime_ns() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Result<Assignment> assign(const profile::Profile& p, const std::string& direction) {
    Assignment a;
    if (direction.empty() || direction == "both") {
        a.imp[0] = p.egress;
        a.imp[1] = p.ingress;
        a.touch[0] = a.touch[1] = true;
        return a;
    }
    const int d = direction == "0to1" ? 0 : direction == "1to0" ? 1 : -1;
    if (d < 0) return make_error("direction must be both, 0to1 or 1to0, got \"" + direction + "\"", 3);
    a.imp[d] = p.egress ? p.egress : p.ingress;
    a.touch[d] = true;
    return a;
}

Result<DirModel> compile_dir(const std::optional<profile::Impairment>& imp, const std::string& profile_name,
                             const char* side, std::uint32_t capacity) {
    if (!imp) return DirModel{fault::passthrough(), capacity, "passthrough"};
    auto m = fault::compile(*imp);
    if (!m) return make_error(std::string(side) + ": " + m.error().message, m.error().code);
    return DirModel{*m, std::min<std::uint32_t>(imp->limit, capacity), profile_name + " (" + side + ")"};
}

Result<std::array<std::optional<DirModel>, 2>> build_models(const std::string& toml, const std::string& name,
                                                            const std::string& direction, std::uint32_t capacity) {
    auto parsed = profile::parse_profile_text(toml, name.empty() ? std::string("<control>") : name);
    if (!parsed.ok()) {
        std::string msg;
        for (const auto& dg : parsed.diagnostics)
            if (dg.severity == profile::Diagnostic::Severity::error) msg += (msg.empty() ? "" : "\n") + dg.format();
        return make_error(msg.empty() ? "profile rejected" : msg, 3);
    }
    auto a = assign(*parsed.value, direction);
    if (!a) return a.error();
    std::array<std::optional<DirModel>, 2> out;
    const std::string pname = parsed.value->name.empty() ? name : parsed.value->name;
    for (int d = 0; d < 2; ++d) {
        if (!a->touch[d]) continue;
        const char* side = direction.empty() || direction == "both" ? (d == 0 ? "egress" : "ingress")
                                                                    : (parsed.value->egress ? "egress" : "ingress");
        auto m = compile_dir(a->imp[d], pname, side, capacity);
        if (!m) return m.error();
        out[static_cast<std::size_t>(d)] = std::move(*m);
    }
    return out;
}

ControlServer::ControlServer(Shared& sh, ControlOptions opt, std::array<DirModel, 2> current)
    : sh_(sh), opt_(std::move(opt)), current_(std::move(current)) {}

ControlServer::~ControlServer() { stop(); }

Result<void> ControlServer::start(int forwarding_cpu) {
    sockaddr_un addr{};
    const std::string path = opt_.socket.string();
    if (path.size() >= sizeof(addr.sun_path)) return make_error("control socket path too long: " + path, 3);
    std::error_code ec;
    std::filesystem::create_directories(opt_.socket.parent_path(), ec);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    // A socket file nobody answers on is a leftover of a killed forwarder: replace it.
    // One that answers belongs to a live forwarder: refuse.
    if (std::filesystem::exists(opt_.socket, ec)) {
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live) { ::close(fd); return make_error("another forwarder is listening on " + path); }
        ::unlink(path.c_str());
    }
    const mode_t old = ::umask(077);   // 0600 from birth, no window where others can connect
    const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 8) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        return make_error("control socket " + path + ": " + err);
    }
    listen_fd_ = fd;
    thread_ = std::thread([this] { serve(); });
    // Keep the control thread off the forwarding core (it inherited the lcore's affinity).
    cpu_set_t set;
    CPU_ZERO(&set);
    const long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < ncpu; ++c) if (c != forwarding_cpu) CPU_SET(static_cast<int>(c), &set);
    if (CPU_COUNT(&set) > 0) pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set);
    return {};
}

void ControlServer::stop() {
    if (thread_.joinable()) {
        sh_.stop.store(true);
        thread_.join();
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        ::unlink(opt_.socket.c_str());
    }
}

void ControlServer::serve() {
    struct Client { int fd; std::string in; };
    std::vector<Client> clients;
    auto next_print = std::chrono::steady_clock::now() + stats_every_;
    while (!sh_.stop.load()) {
        std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
        for (auto& c : clients) fds.push_back({c.fd, POLLIN, 0});
        ::poll(fds.data(), fds.size(), 100);
        if (stats_every_.count() > 0 && std::chrono::steady_clock::now() >= next_print) {
            std::cout << nlohmann::json{{"type", "stats"}, {"stats", stats()}}.dump() << std::endl;
            next_print += stats_every_;
        }
        if (fds[0].revents & POLLIN) {
            const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c >= 0) {
                if (clients.size() < 16) clients.push_back({c, {}});
                else ::close(c);
            }
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Client& c = clients[i - 1];
            char buf[65536];
            const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
            if (n <= 0) { ::close(c.fd); c.fd = -1; continue; }
            c.in.append(buf, static_cast<std::size_t>(n));
            if (c.in.size() > (16u << 20)) { ::close(c.fd); c.fd = -1; continue; }   // a runaway client
            std::size_t nl;
            while ((nl = c.in.find('\n')) != std::string::npos) {
                const std::string line = c.in.substr(0, nl);
                c.in.erase(0, nl + 1);
                nlohmann::json reply;
                try {
                    reply = handle(nlohmann::json::parse(line));
                } catch (const std::exception& e) {
                    reply = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
                }
                const std::string out = reply.dump() + "\n";
                std::size_t off = 0;
                while (off < out.size()) {
                    const ssize_t w = ::send(c.fd, out.data() + off, out.size() - off, MSG_NOSIGNAL);
                    if (w <= 0) break;
                    off += static_cast<std::size_t>(w);
                }
            }
        }
        std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
    }
    for (auto& c : clients) ::close(c.fd);
}

Result<void> ControlServer::publish(std::array<std::optional<DirModel>, 2> next) {
    sh_.mailbox.next = next;
    const auto gen = sh_.mailbox.req_gen.load() + 1;
    sh_.mailbox.req_gen.store(gen, std::memory_order_release);
    // The lcore acks within one loop iteration; a VM stall can take a few ms.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (sh_.mailbox.ack_gen.load(std::memory_order_acquire) != gen) {
        if (std::chrono::steady_clock::now() > deadline) return make_error("forwarding core did not pick up the new model");
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    // The lcore now holds the new models; ours (the old ones) are released here, off the hot path.
    for (std::size_t d = 0; d < 2; ++d)
        if (next[d]) current_[d] = *next[d];
    sh_.mailbox.next = {};
    return {};
}

nlohmann::json ControlServer::handle(const nlohmann::json& req) {
    const std::string cmd = req.value("cmd", "");
    if (cmd == "stats") return stats();
    if (cmd == "reset") {
        for (std::size_t d = 0; d < 2; ++d) base_[d] = snapshot(sh_.dir[d]);
        base_stalls_ = sh_.loop.stalls.load();
        base_stall_ns_ = sh_.loop.stall_ns_total.load();
        sh_.reset_gen.fetch_add(1);
        return {{"ok", true}};
    }
    if (cmd == "clear") {
        std::array<std::optional<DirModel>, 2> next;
        for (auto& n : next) n = DirModel{fault::passthrough(), opt_.queue_capacity, "passthrough"};
        if (auto r = publish(next); !r) return {{"ok", false}, {"error", r.error().message}};
        return {{"ok", true}, {"applied", {{"0to1", "passthrough"}, {"1to0", "passthrough"}}}};
    }
    if (cmd == "load") {
        const std::int64_t t_req = realtime_ns();
        const std::string dir = req.value("direction", "both");
        const std::string name = req.value("name", "");
        if (!req.contains("toml") || !req["toml"].is_string()) return {{"ok", false}, {"error", "load needs \"toml\": profile text"}};
        auto models = build_models(req["toml"].get<std::string>(), name, dir, opt_.queue_capacity);
        if (!models) return {{"ok", false}, {"error", models.error().message}, {"code", models.error().code}};
        if (auto r = publish(*models); !r) return {{"ok", false}, {"error", r.error().message}};
        // Wall-clock times of the request and of the lcore's ack, for tests that line the
        // switch up with a probe's own timestamps.
        return {{"ok", true}, {"applied", {{"0to1", current_[0].name}, {"1to0", current_[1].name}}},
                {"requested_ns", t_req}, {"applied_ns", realtime_ns()}};
    }
    return {{"ok", false}, {"error", "unknown cmd \"" + cmd + "\" (load, clear, stats, reset)"}};
}

nlohmann::json ControlServer::stats() {
    nlohmann::json dirs;
    for (std::size_t d = 0; d < 2; ++d) {
        auto j = to_json(minus(snapshot(sh_.dir[d]), base_[d]));
        j["profile"] = current_[d].name;
        j["limit"] = current_[d].limit;
        dirs[dir_name(static_cast<int>(d))] = j;
    }
    const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    nlohmann::json pool;
    if (opt_.pool) pool = {{"size", opt_.pool->size}, {"in_use", rte_mempool_in_use_count(opt_.pool)},
                           {"available", rte_mempool_avail_count(opt_.pool)}};
    // The PMDs' own counters: drops before the forwarder ever saw a packet show up here.
    nlohmann::json ports = nlohmann::json::array();
    for (std::uint16_t p : opt_.ports) {
        rte_eth_stats es{};
        if (rte_eth_stats_get(p, &es) != 0) continue;
        ports.push_back({{"port", p}, {"ipackets", es.ipackets}, {"opackets", es.opackets}, {"imissed", es.imissed},
                         {"ierrors", es.ierrors}, {"oerrors", es.oerrors}, {"rx_nombuf", es.rx_nombuf}});
    }
    return {{"ok", true},
            {"uptime_s", up},
            {"ports", ports},
            {"engine", opt_.engine_kind},
            {"tsc_hz", sh_.clock.hz()},
            {"pool", pool},
            {"queue_capacity", opt_.queue_capacity},
            {"stalls", {{"count", sh_.loop.stalls.load() - base_stalls_},
                        {"total_ns", sh_.loop.stall_ns_total.load() - base_stall_ns_},
                        {"max_ns", sh_.loop.stall_max_ns.load()}}},
            {"loop_iterations", sh_.loop.iterations.load()},
            {"directions", dirs}};
}

}  // namespace netchaos::fwd
