#include "control.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>
#include <vector>

#include "experiment/fidelity.hpp"
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
        for (const auto& c : p.classes) {
            a.cls[0].push_back(c.egress);
            a.cls[1].push_back(c.ingress);
        }
        a.touch[0] = a.touch[1] = true;
        return a;
    }
    const int d = direction == "0to1" ? 0 : direction == "1to0" ? 1 : -1;
    if (d < 0) return make_error("direction must be both, 0to1 or 1to0, got \"" + direction + "\"", ErrorKind::bad_input);
    a.imp[d] = p.egress ? p.egress : p.ingress;
    for (const auto& c : p.classes) a.cls[d].push_back(c.egress ? c.egress : c.ingress);
    a.touch[d] = true;
    return a;
}

Result<DirModel> compile_dir(const std::optional<profile::Impairment>& imp, const std::string& profile_name,
                             const char* side, std::uint32_t capacity) {
    if (!imp) return DirModel{fault::passthrough(), capacity, "passthrough", ""};
    auto m = fault::compile(*imp);
    if (!m) return make_error(std::string(side) + ": " + m.error().message, m.error().kind);
    // The section keeps its side: a direction load takes [egress], else [ingress], and names
    // the model after the section it took.
    profile::Profile whole;
    whole.name = profile_name;
    (std::string(side) == "egress" ? whole.egress : whole.ingress) = *imp;
    DirModel out{*m, std::min<std::uint32_t>(imp->limit, capacity), profile_name + " (" + side + ")",
                 profile::to_text(*imp, side), profile::to_text(whole)};
    if (imp->delay) {
        const auto req = experiment::delay_moments(*imp->delay);
        out.requested_mean_s = req ? std::optional(req->mean_ms / 1e3) : std::nullopt;
        out.requested_sigma_s = req ? std::optional(req->sigma_ms / 1e3) : std::nullopt;
    }
    return out;
}

namespace {
// The classes of one direction onto its compiled model: each class's rule and model, the
// queue limit their sum (each part may hold its own limit, the wheel holds them all), and
// a whole profile (unmatched part plus the classes) for show and `run --takeover`.
Result<void> add_classes(DirModel& m, const std::vector<profile::FlowClass>& classes,
                         const std::vector<std::optional<profile::Impairment>>& imps, const std::string& pname,
                         const char* side, std::uint32_t capacity) {
    if (classes.empty()) return {};
    // Nothing for this direction in any class, nor for the rest: the direction passes (no
    // per-packet lookup for classes that would all pass).
    if (m.name == "passthrough" && std::none_of(imps.begin(), imps.end(), [](const auto& i) { return i.has_value(); }))
        return {};
    std::uint64_t limit = m.model == nullptr || m.name == "passthrough" ? capacity : m.limit;
    profile::Profile whole;
    if (!m.profile_toml.empty()) {
        auto back = profile::parse_profile_text(m.profile_toml, "<direction>");
        if (back.ok()) whole = *back.value;
    }
    whole.name = pname;
    for (std::size_t k = 0; k < classes.size(); ++k) {
        const auto& imp = imps[k];
        ClassModel cm{classes[k].name, compile_rule(classes[k].match), fault::passthrough()};
        profile::FlowClass wc{classes[k].name, classes[k].match, std::nullopt, std::nullopt};
        if (imp) {
            auto c = fault::compile(*imp);
            if (!c) return make_error(std::string(side) + " of class \"" + classes[k].name + "\": " + c.error().message, c.error().kind);
            cm.model = *c;
            limit += imp->limit;
            (std::string(side) == "egress" ? wc.egress : wc.ingress) = *imp;
        } else {
            limit += capacity;   // its packets pass: only the wheel bounds them
        }
        m.classes.push_back(std::move(cm));
        whole.classes.push_back(std::move(wc));
    }
    m.limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(limit, capacity));
    m.name = pname + " (" + side + ", " + std::to_string(classes.size()) + (classes.size() == 1 ? " class)" : " classes)");
    m.profile_toml = profile::to_text(whole);
    m.params = m.profile_toml;
    return {};
}
}  // namespace

Result<std::array<std::optional<DirModel>, 2>> build_models(const std::string& toml, const std::string& name,
                                                            const std::string& direction, std::uint32_t capacity) {
    auto parsed = profile::parse_profile_text(toml, name.empty() ? std::string("<control>") : name);
    if (!parsed.ok()) {
        std::string msg;
        for (const auto& dg : parsed.diagnostics)
            if (dg.severity == profile::Diagnostic::Severity::error) msg += (msg.empty() ? "" : "\n") + dg.format();
        return make_error(msg.empty() ? "profile rejected" : msg, ErrorKind::bad_input);
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
        if (auto r = add_classes(*m, parsed.value->classes, a->cls[d], pname, side, capacity); !r) return r.error();
        out[static_cast<std::size_t>(d)] = std::move(*m);
    }
    return out;
}

ControlServer::ControlServer(Shared& sh, ControlOptions opt, std::array<DirModel, 2> current)
    : sh_(sh), opt_(std::move(opt)), current_(std::move(current)) {}

ControlServer::~ControlServer() { stop(); }

bool cpus_except(const std::vector<int>& forwarding_cpus, cpu_set_t& out) {
    CPU_ZERO(&out);
    const long ncpu = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < ncpu; ++c)
        if (std::find(forwarding_cpus.begin(), forwarding_cpus.end(), static_cast<int>(c)) == forwarding_cpus.end())
            CPU_SET(static_cast<int>(c), &out);
    return CPU_COUNT(&out) > 0;
}

Result<void> ControlServer::start(const std::vector<int>& forwarding_cpus) {
    sockaddr_un addr{};
    const std::string path = opt_.socket.string();
    if (path.size() >= sizeof(addr.sun_path)) return make_error("control socket path too long: " + path, ErrorKind::bad_input);
    std::error_code ec;
    std::filesystem::create_directories(opt_.socket.parent_path(), ec);
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    // Something already at the path. Only a socket nobody listens on (a killed forwarder's
    // leftover) is replaced; a live socket belongs to another forwarder, and anything else
    // (a regular file, a directory, a symlink) is the operator's and is never deleted.
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return make_error("--control " + path + " exists and is not a socket; refusing to replace it", ErrorKind::bad_input);
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int rc = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        const int err = errno;
        ::close(probe);
        if (rc == 0) return make_error("another forwarder is listening on " + path);
        if (err != ECONNREFUSED)
            return make_error("control socket " + path + " exists and cannot be probed (" + std::strerror(err) + "); not replacing it");
        ::unlink(path.c_str());
    }
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return make_error(std::string("socket: ") + std::strerror(errno));
    const mode_t old = ::umask(077);   // 0600 from birth, no window where others can connect
    const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc != 0 || ::chmod(path.c_str(), 0600) != 0 || ::listen(fd, 64) != 0 || ::lstat(path.c_str(), &st) != 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        return make_error("control socket " + path + ": " + err);
    }
    sock_dev_ = st.st_dev;
    sock_ino_ = st.st_ino;
    listen_fd_ = fd;
    if (opt_.on_models) opt_.on_models(current_);
    thread_ = std::thread([this] { serve(); });
    // Keep the control thread off the forwarding cores (it inherited the main lcore's affinity);
    // when the lcores take every cpu, it may run on any of them.
    cpu_set_t set;
    if (!cpus_except(forwarding_cpus, set)) {
        CPU_ZERO(&set);
        for (long c = 0; c < ::sysconf(_SC_NPROCESSORS_ONLN); ++c) CPU_SET(static_cast<int>(c), &set);
    }
    pthread_setaffinity_np(thread_.native_handle(), sizeof set, &set);
    return {};
}

void ControlServer::stop() {
    if (thread_.joinable()) {
        sh_.stop.store(true);
        thread_.join();   // serve() never blocks on a client, so this takes at most one poll tick
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
        // Unlink only the socket we bound: someone may have replaced the path since.
        struct stat st{};
        if (::lstat(opt_.socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == sock_dev_ && st.st_ino == sock_ino_)
            ::unlink(opt_.socket.c_str());
    }
}

namespace {
struct Client {
    int fd = -1;
    std::string in, out;
    std::chrono::steady_clock::time_point last_progress;
    bool eof = false;   // the client shut its side: answer what it sent, then close
};
}  // namespace

void ControlServer::serve() {
    using clock = std::chrono::steady_clock;
    std::vector<Client> clients;
    std::vector<pollfd> fds;
    auto next_print = clock::now() + stats_every_;
    auto drop = [](Client& c) { ::close(c.fd); c.fd = -1; };
    while (!sh_.stop.load()) {
        fds.assign(1, pollfd{listen_fd_, POLLIN, 0});
        for (auto& c : clients) {
            short ev = 0;
            if (!c.eof && c.out.size() < opt_.out_cap) ev |= POLLIN;   // no reading while replies pile up
            if (!c.out.empty()) ev |= POLLOUT;
            fds.push_back({c.fd, ev, 0});
        }
        ::poll(fds.data(), fds.size(), 100);
        auto now = clock::now();
        if (stats_every_.count() > 0 && now >= next_print) {
            std::cout << nlohmann::json{{"type", "stats"}, {"stats", stats()}}.dump() << std::endl;
            next_print += stats_every_;
        }
        expire_lease();
        for (std::size_t i = 1; i < fds.size(); ++i) {
            Client& c = clients[i - 1];
            const short re = fds[i].revents;
            if (re & POLLIN) {
                char buf[65536];
                const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n == 0) c.eof = true;
                else if (n > 0) { c.in.append(buf, static_cast<std::size_t>(n)); c.last_progress = now; }
                else if (errno != EAGAIN && errno != EINTR) { drop(c); continue; }
            } else if (re & (POLLERR | POLLNVAL) || ((re & POLLHUP) && c.out.empty())) {
                drop(c);
                continue;
            }
            std::size_t nl;
            while (c.out.size() < opt_.out_cap && (nl = c.in.find('\n')) != std::string::npos) {
                const std::string line = c.in.substr(0, nl);
                c.in.erase(0, nl + 1);
                nlohmann::json reply;
                try {
                    reply = handle(nlohmann::json::parse(line));
                } catch (const std::exception& e) {
                    reply = {{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
                }
                c.out += reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
                now = clock::now();
            }
            if (c.in.size() > opt_.in_cap) { drop(c); continue; }   // one request line larger than any profile
            if (!c.out.empty()) {
                const ssize_t w = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w > 0) { c.out.erase(0, static_cast<std::size_t>(w)); c.last_progress = now; }
                else if (w < 0 && errno != EAGAIN && errno != EINTR) { drop(c); continue; }
            }
            if (c.out.size() > opt_.out_cap) { drop(c); continue; }   // sends but never reads
            if (c.eof && c.out.empty()) { drop(c); continue; }
            if (now - c.last_progress > opt_.idle_timeout) drop(c);
        }
        std::erase_if(clients, [](const Client& c) { return c.fd < 0; });
        if (fds[0].revents & POLLIN) {
            for (;;) {
                const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) break;
                if (clients.size() >= opt_.max_clients) {
                    auto oldest = std::min_element(clients.begin(), clients.end(), [](const Client& a, const Client& b) {
                        return a.last_progress < b.last_progress;
                    });
                    ::close(oldest->fd);
                    clients.erase(oldest);
                }
                clients.push_back({fd, {}, {}, now, false});
            }
        }
    }
    for (auto& c : clients) ::close(c.fd);
}

Result<void> ControlServer::publish(std::array<std::optional<DirModel>, 2> next) {
    // Every lane gets the switch (--lcores N): posted to all first, so they switch within
    // one loop iteration of each other, then each ack awaited.
    const std::size_t n = sh_.lanes.size();
    std::vector<std::uint64_t> gen(n);
    for (std::size_t i = 0; i < n; ++i) {
        sh_.lanes[i]->mailbox.next() = next;
        gen[i] = sh_.lanes[i]->mailbox.post();
    }
    // The lcore acks within one loop iteration; a VM stall can take a few ms.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    std::vector<bool> applied(n, false);
    std::size_t late = n;   // the first lane that neither acked nor can still be awaited
    for (std::size_t i = 0; i < n; ++i) {
        ModelMailbox& mb = sh_.lanes[i]->mailbox;
        while (!mb.acked(gen[i])) {
            if (std::chrono::steady_clock::now() > deadline || sh_.stop.load()) {
                // Withdrawn atomically: it can no longer be applied behind the client's back.
                // If the lcore claimed it in the meantime, it is being applied: wait for that.
                if (mb.withdraw(gen[i])) break;
                while (!mb.acked(gen[i])) std::this_thread::yield();
            } else {
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
        }
        applied[i] = mb.acked(gen[i]);
        if (!applied[i] && late == n) late = i;
    }
    for (std::size_t i = 0; i < n; ++i) sh_.lanes[i]->mailbox.next() = {};
    if (late < n) {
        // All or nothing: lanes that switched go back to the models in force, so no two
        // lcores run different profiles for the same direction.
        std::array<std::optional<DirModel>, 2> back;
        for (std::size_t d = 0; d < 2; ++d) if (next[d]) back[d] = current_[d];
        for (std::size_t i = 0; i < n; ++i) {
            if (!applied[i]) continue;
            ModelMailbox& mb = sh_.lanes[i]->mailbox;
            mb.next() = back;
            const auto g = mb.post();
            // A live lcore (it just acked): within one loop iteration, unless it is stopping.
            while (!mb.acked(g)) {
                if (sh_.stop.load() && mb.withdraw(g)) break;
                std::this_thread::sleep_for(std::chrono::microseconds(50));
            }
            mb.next() = {};
        }
        return make_error(n == 1 ? std::string("forwarding core did not pick up the new model within 2 s; withdrawn, nothing changed")
                                 : "forwarding lcore " + std::to_string(late) +
                                       " did not pick up the new model within 2 s; withdrawn, the others reverted, nothing changed");
    }
    // The lcores now hold the new models; ours (the old ones) are released here, off the hot path.
    for (std::size_t d = 0; d < 2; ++d)
        if (next[d]) {
            current_[d] = *next[d];
            cls_base_[d] = class_counts(d);   // the new classes count from their switch on
        }
    if (opt_.on_models) opt_.on_models(current_);
    return {};
}

ControlServer::ClassCounts ControlServer::class_counts(std::size_t d) const {
    ClassCounts out{};
    for (const auto& lane : sh_.lanes)
        for (std::size_t k = 0; k < out.size(); ++k) {
            const auto& c = lane->cls[d][k];
            out[k][0] += c.rx.load(std::memory_order_relaxed);
            out[k][1] += c.dropped_fault.load(std::memory_order_relaxed);
            out[k][2] += c.held.load(std::memory_order_relaxed);
            out[k][3] += c.held_sum_us.load(std::memory_order_relaxed);
        }
    return out;
}

void ControlServer::expire_lease() {
    const auto* revert = lease_.due(std::chrono::steady_clock::now());
    if (!revert) return;
    if (auto r = publish(*revert); !r) {
        std::cerr << "netchaos-fwd: lease expired but the revert failed (retrying): " << r.error().message << std::endl;
        return;
    }
    std::cout << "netchaos-fwd: lease expired; reverted to 0to1=" << current_[0].name << " 1to0=" << current_[1].name
              << std::endl;
    lease_.end();
}

nlohmann::json ControlServer::handle(const nlohmann::json& req) {
    if (!req.is_object()) return {{"ok", false}, {"error", "bad request: expected a JSON object"}};
    const std::string cmd = req.contains("cmd") && req["cmd"].is_string() ? req["cmd"].get<std::string>() : "";
    if (cmd == "stats") return stats();
    if (cmd == "reset") {
        const auto views = sh_.views();
        for (std::size_t d = 0; d < 2; ++d) {
            base_[d] = snapshot(views, d);
            cls_base_[d] = class_counts(d);
        }
        const LoopSnapshot loop = loop_snapshot(views);
        base_stalls_ = loop.stalls;
        base_stall_ns_ = loop.stall_ns_total;
        sh_.reset_gen.fetch_add(1);
        return {{"ok", true}};
    }
    if (cmd == "clear") {
        std::array<std::optional<DirModel>, 2> next;
        for (auto& n : next) n = DirModel{fault::passthrough(), opt_.queue_capacity, "passthrough", ""};
        if (auto r = publish(next); !r) return {{"ok", false}, {"error", r.error().message}};
        lease_.end();
        return {{"ok", true}, {"applied", {{"0to1", "passthrough"}, {"1to0", "passthrough"}}}};
    }
    if (cmd == "load") return load(req);
    return {{"ok", false}, {"error", "unknown cmd \"" + cmd + "\" (load, clear, stats, reset)"}};
}

nlohmann::json ControlServer::load(const nlohmann::json& req) {
    const std::int64_t t_req = realtime_ns();
    for (const char* k : {"direction", "name", "toml"})
        if (req.contains(k) && !req[k].is_string())
            return {{"ok", false}, {"error", std::string("load: \"") + k + "\" must be a string"}, {"kind", kind_name(ErrorKind::bad_input)}};
    const std::string dir = req.value("direction", "both");
    const std::string name = req.value("name", "");
    if (!req.contains("toml") || !req["toml"].is_string()) return {{"ok", false}, {"error", "load needs \"toml\": profile text"}, {"kind", kind_name(ErrorKind::bad_input)}};
    const auto lease = fwdctl::parse_lease(req);
    if (!lease) return {{"ok", false}, {"error", lease.error().message}, {"kind", kind_name(lease.error().kind)}};
    auto models = build_models(req["toml"].get<std::string>(), name, dir, opt_.queue_capacity);
    if (!models) return {{"ok", false}, {"error", models.error().message}, {"kind", kind_name(models.error().kind)}};
    const auto before = current_;
    if (auto r = publish(*models); !r) return {{"ok", false}, {"error", r.error().message}};
    std::array<std::optional<DirModel>, 2> was{before[0], before[1]};
    lease_.loaded(was, *lease, std::chrono::steady_clock::now());
    // Wall-clock times of the request and of the lcore's ack, for tests that line the
    // switch up with a probe's own timestamps.
    nlohmann::json out{{"ok", true}, {"applied", {{"0to1", current_[0].name}, {"1to0", current_[1].name}}},
                       {"requested_ns", t_req}, {"applied_ns", realtime_ns()}};
    if (lease_.active()) out["lease"] = lease_json();
    return out;
}

nlohmann::json ControlServer::lease_json() const {
    const auto* r = lease_.reverts_to();
    if (!r) return nullptr;
    return {{"remaining_ms", lease_.remaining(std::chrono::steady_clock::now()).count()},
            {"reverts_to", {{"0to1", (*r)[0] ? (*r)[0]->name : ""}, {"1to0", (*r)[1] ? (*r)[1]->name : ""}}}};
}

// Each lcore's own rx/tx (raw, both directions), to see how the queues split the traffic.
nlohmann::json ControlServer::lanes_json() const {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& l : sh_.lanes)
        out.push_back({{"rx", l->dir[0].rx.load(std::memory_order_relaxed) + l->dir[1].rx.load(std::memory_order_relaxed)},
                       {"tx", l->dir[0].tx.load(std::memory_order_relaxed) + l->dir[1].tx.load(std::memory_order_relaxed)}});
    return out;
}

nlohmann::json ControlServer::stats() {
    nlohmann::json dirs;
    const auto views = sh_.views();   // every lcore's lane, summed: one direction as with one lcore
    for (std::size_t d = 0; d < 2; ++d) {
        auto j = to_json(minus(snapshot(views, d), base_[d]));
        // Release error = the TSC at the tx call minus the scheduled TSC, whatever stamped rx.
        j["release_error_ns"]["clock"] = "tsc";
        j["profile"] = current_[d].name;
        j["limit"] = current_[d].limit;
        j["params"] = current_[d].params;
        j["profile_toml"] = current_[d].profile_toml;
        j["frame_data"] = frame_reads_text(frame_reads(current_[d], opt_.malformed));
        // Per class, [0] the unmatched traffic: present only when the direction has classes.
        if (!current_[d].classes.empty()) {
            const auto now = class_counts(d);
            auto cls = nlohmann::json::array();
            for (std::size_t k = 0; k <= current_[d].classes.size(); ++k) {
                const auto& c = now[k];
                const auto& b = cls_base_[d][k];
                const std::uint64_t held = c[2] - b[2];
                cls.push_back({{"name", k == 0 ? std::string("unmatched") : current_[d].classes[k - 1].name},
                               {"rx", c[0] - b[0]},
                               {"dropped_fault", c[1] - b[1]},
                               {"held", held},
                               {"held_mean_us", held ? double(c[3] - b[3]) / double(held) : 0.0}});
            }
            j["classes"] = cls;
        }
        dirs[dir_name(static_cast<int>(d))] = j;
    }
    const LoopSnapshot loop = loop_snapshot(views);
    const double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    nlohmann::json pool;
    if (opt_.pool) pool = {{"size", opt_.pool->size}, {"in_use", rte_mempool_in_use_count(opt_.pool)},
                           {"available", rte_mempool_avail_count(opt_.pool)},
                           {"driver", rte_mempool_get_ops(opt_.pool->ops_index)->name},
                           // The only external heap netchaos-fwd makes is the THP one (thp_heap.hpp).
                           {"memory", rte_malloc_heap_socket_is_external(opt_.pool->socket_id) == 1 ? "thp" : "eal"}};
    // The PMDs' own counters: drops before the forwarder ever saw a packet show up here.
    nlohmann::json ports = nlohmann::json::array();
    for (std::uint16_t p : opt_.ports) {
        rte_eth_stats es{};
        if (rte_eth_stats_get(p, &es) != 0) continue;
        ports.push_back({{"port", p}, {"ipackets", es.ipackets}, {"opackets", es.opackets}, {"imissed", es.imissed},
                         {"ierrors", es.ierrors}, {"oerrors", es.oerrors}, {"rx_nombuf", es.rx_nombuf}});
    }
    const auto per_pkt_ns = [&](std::uint64_t ticks, std::uint64_t pkts) {
        return pkts ? static_cast<double>(ticks) * sh_.clock.ns_per_tick / static_cast<double>(pkts) : 0.0;
    };
    return {{"ok", true},
            {"uptime_s", up},
            {"ports", ports},
            {"engine", opt_.engine_kind},
            {"tsc_hz", sh_.clock.hz()},
            {"clock", "tsc"},
            {"rx_clock", opt_.rx_clock},
            {"pool", pool},
            {"queue_capacity", opt_.queue_capacity},
            {"lcores", sh_.lanes.size()},
            {"lanes", lanes_json()},
            {"stalls", {{"threshold_ns", opt_.stall_ns},
                        {"count", loop.stalls - base_stalls_},
                        {"total_ns", loop.stall_ns_total - base_stall_ns_},
                        {"max_ns", loop.stall_max_ns}}},
            {"loop_iterations", loop.iterations},
            // ns a packet inside the PMD's burst calls (sampled: one call in 64), since start
            {"pmd", {{"rx_ns_per_pkt", per_pkt_ns(loop.pmd_rx_ticks, loop.pmd_rx_pkts)},
                     {"tx_ns_per_pkt", per_pkt_ns(loop.pmd_tx_ticks, loop.pmd_tx_pkts)},
                     {"sampled_rx_pkts", loop.pmd_rx_pkts},
                     {"sampled_tx_pkts", loop.pmd_tx_pkts}}},
            {"lease", lease_json()},
            {"directions", dirs}};
}

}  // namespace netchaos::fwd
