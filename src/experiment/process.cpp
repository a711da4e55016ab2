#include "experiment/process.hpp"

#include "profile/units.hpp"

#include "fwdctl/client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "profile/parse.hpp"

namespace netchaos::experiment {

namespace {
int decode_status(int st) {
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return 255;
}

std::int64_t mono_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

std::string join(const Argv& a) {
    std::string s;
    for (const auto& x : a) s += (s.empty() ? "" : " ") + x;
    return s;
}

Result<Child> spawn(const Argv& argv, const SpawnOptions& o) {
    if (argv.empty()) return make_error("empty command", 3);
    int p[2] = {-1, -1};
    if (o.capture_stdout && pipe2(p, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
    int ex[2];  // exec-status pipe: the child writes errno if execvp fails
    if (pipe2(ex, O_CLOEXEC) != 0) return make_error(std::string("pipe: ") + std::strerror(errno));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return make_error(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        if (o.death_signal) prctl(PR_SET_PDEATHSIG, o.death_signal);
        if (getppid() != parent) _exit(127);  // the parent already died
        if (o.own_group) setpgid(0, 0);
        // The controller blocks nothing, but reset dispositions it may have set.
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (o.capture_stdout) dup2(p[1], 1);
        if (o.capture_stdout && o.capture_stderr) dup2(p[1], 2);
        if (!o.stdout_file.empty()) {
            int fd = open(o.stdout_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
        }
        if (!o.stderr_file.empty()) {
            int fd = open(o.stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) dup2(fd, 2);
        }
        execvp(args[0], args.data());
        int e = errno;
        (void)!write(ex[1], &e, sizeof e);
        _exit(127);
    }
    close(ex[1]);
    int e = 0;
    ssize_t n = read(ex[0], &e, sizeof e);
    close(ex[0]);
    if (o.capture_stdout) close(p[1]);
    if (n == sizeof e) {
        waitpid(pid, nullptr, 0);
        if (o.capture_stdout) close(p[0]);
        return make_error("cannot run " + argv[0] + ": " + std::strerror(e), 4);
    }
    return Child{pid, o.capture_stdout ? p[0] : -1};
}

int wait_child(pid_t pid, std::chrono::milliseconds timeout) {
    const std::int64_t end = mono_ns() + std::int64_t(timeout.count()) * 1'000'000;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return decode_status(st);
        if (r < 0 && errno != EINTR) return 255;
        if (mono_ns() >= end) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
            return decode_status(st);
        }
        usleep(10'000);
    }
}

Result<int> run_capture(const Argv& argv, std::string& output, std::chrono::milliseconds timeout) {
    SpawnOptions o;
    o.capture_stdout = true;
    // stderr into the same pipe: errors from the child are what the user needs to see (without
    // it a failed apply's note ended in "exited 4:" and its reason went to the terminal).
    o.capture_stderr = true;
    auto c = spawn(argv, o);
    if (!c) return c.error();
    output.clear();
    const std::int64_t end = mono_ns() + std::int64_t(timeout.count()) * 1'000'000;
    char buf[4096];
    for (;;) {
        pollfd pfd{c->out_fd, POLLIN, 0};
        int ms = int(std::max<std::int64_t>(0, (end - mono_ns()) / 1'000'000));
        if (poll(&pfd, 1, std::min(ms, 200)) > 0) {
            ssize_t n = read(c->out_fd, buf, sizeof buf);
            if (n <= 0) break;
            output.append(buf, std::size_t(n));
        } else if (mono_ns() >= end) {
            break;
        }
    }
    close(c->out_fd);
    return wait_child(c->pid, std::chrono::milliseconds(std::max<std::int64_t>(100, (end - mono_ns()) / 1'000'000)));
}

std::filesystem::path self_exe() {
    std::error_code ec;
    auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path("netchaos") : p;
}

Argv in_netns(const std::string& ns, Argv argv) {
    if (ns.empty()) return argv;
    Argv a{"ip", "netns", "exec", ns};
    a.insert(a.end(), argv.begin(), argv.end());
    return a;
}

std::vector<Argv> rollback_commands(const profile::Target& t, const std::filesystem::path& exe) {
    if (t.backend != profile::Backend::netem) {
        Argv a{exe.string(), "clear", "--backend", std::string(profile::to_string(t.backend))};
        if (!t.control.empty()) a.insert(a.end(), {"--control", t.control.string()});
        return {a};
    }
    return {in_netns(t.netns, {exe.string(), "clear", "--dev", t.dev})};
}

Result<void> preflight(const profile::Experiment& e, const std::filesystem::path& exe) {
    auto netns = [](const std::string& ns, const char* what) -> Result<void> {
        std::error_code ec;
        if (ns.empty() || std::filesystem::exists("/run/netns/" + ns, ec)) return {};
        return make_error(std::string(what) + " netns \"" + ns + "\" does not exist (no /run/netns/" + ns + "; `ip netns list` shows those that do)", 4);
    };
    if (auto r = netns(e.probe.netns, "[probe]"); !r) return r;
    auto trimmed = [](std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s.empty() ? std::string("(no output)") : s;
    };
    std::string out;
    if (e.target.backend == profile::Backend::netem) {
        if (auto r = netns(e.target.netns, "[target]"); !r) return r;
        auto st = run_capture(in_netns(e.target.netns, {"ip", "link", "show", "dev", e.target.dev}), out, std::chrono::seconds(5));
        if (!st) return st.error();
        if (*st != 0)
            return make_error("[target] dev \"" + e.target.dev + "\" not found" + (e.target.netns.empty() ? "" : " in netns " + e.target.netns) + ": " + trimmed(out), 4);
        return {};
    }
    if (e.target.backend == profile::Backend::http) {
        // The proxy must answer, and with no faults in effect (they would be the "steady state").
        auto r = fwdctl::request(e.target.control, nlohmann::json{{"cmd", "stats"}});
        if (!r) return make_error("the http proxy's control socket does not answer: " + r.error().message, 4);
        const std::string active = r->value("profile", "");
        if (!active.empty() && active != "passthrough")
            return make_error("the http proxy already has a profile in effect (\"" + active +
                                  "\"): clear it first: netchaos clear --backend http --control " + e.target.control.string(), 4);
        return {};
    }
    Argv show{exe.string(), "show", "--backend", "dpdk", "-j"};
    if (!e.target.control.empty()) show.insert(show.end(), {"--control", e.target.control.string()});
    auto st = run_capture(show, out, std::chrono::seconds(5));
    if (!st) return st.error();
    if (*st != 0) return make_error("the forwarder's control socket does not answer: " + trimmed(out), 4);
    // A profile left on the forwarder (applied by hand earlier) would be measured as the
    // "steady state", and rollback would reset it to pass-through: refuse, naming it.
    auto j = nlohmann::json::parse(out, nullptr, false);
    std::string active;
    if (j.is_object() && j.contains("directions") && j["directions"].is_object())
        for (const auto& [dir, d] : j["directions"].items()) {
            const std::string name = d.is_object() ? d.value("profile", "") : "";
            if (!name.empty() && name != "passthrough") active += (active.empty() ? "" : ", ") + dir + ": \"" + name + "\"";
        }
    if (!active.empty())
        return make_error("the forwarder already has a profile in effect (" + active +
                              "): the steady state would measure it and rollback would not restore it. Clear it first: netchaos clear --backend dpdk" +
                              (e.target.control.empty() ? std::string() : " --control " + e.target.control.string()),
                          4);
    return {};
}

// ---------------------------------------------------------------- fault target
Result<void> CliFaultTarget::run(const Argv& a, const char* what) {
    std::string out;
    auto st = run_capture(a, out, std::chrono::seconds(20));
    if (!st) return st.error();
    if (*st != 0) {
        while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
        if (out.empty()) out = "(no output)";
        return make_error(std::string(what) + ": `" + join(a) + "` exited " + std::to_string(*st) + ": " + out,
                          *st == 3 ? 3 : 4);
    }
    return {};
}

Result<void> CliFaultTarget::apply(const profile::Profile& p) {
    auto file = dir_ / ("step-" + std::to_string(++n_) + ".toml");
    // The step file lives in a temp dir: a table path relative to the profile must become
    // absolute to keep meaning the same file.
    const profile::Profile q = profile::with_absolute_tables(p);
    // The experiment's parse already checked where its tables may come from; the step file
    // is ours, so let its `apply` read exactly those tables.
    Argv allow;
    for (const auto* imp : {q.egress ? &*q.egress : nullptr, q.ingress ? &*q.ingress : nullptr})
        if (imp && imp->delay && imp->delay->table && !imp->delay->table->file.empty())
            allow.insert(allow.end(), {"--allow-path", imp->delay->table->file.parent_path().string()});
    {
        std::ofstream f(file);
        f << profile::to_text(q);
        if (!f) return make_error("cannot write " + file.string());
    }
    if (t_.backend == profile::Backend::http)
        return run({exe_.string(), "apply", file.string(), "--backend", "http", "--control", t_.control.string()}, "apply");
    if (t_.backend == profile::Backend::dpdk) {
        Argv a{exe_.string(), "apply", file.string(), "--backend", "dpdk", "--direction", "both"};
        if (!t_.control.empty()) a.insert(a.end(), {"--control", t_.control.string()});
        a.insert(a.end(), allow.begin(), allow.end());
        return run(a, "apply");
    }
    Argv a{exe_.string(), "apply", file.string(), "--dev", t_.dev};
    if (t_.direction == profile::Direction::ingress) a.push_back("--ingress");
    a.insert(a.end(), allow.begin(), allow.end());
    return run(in_netns(t_.netns, a), "apply");
}

Result<void> CliFaultTarget::clear() {
    for (const auto& a : rollback_commands(t_, exe_))
        if (auto r = run(a, "clear"); !r) return r;
    return {};
}

std::optional<EmulatorTruth> CliFaultTarget::truth() {
    if (t_.backend != profile::Backend::dpdk) return std::nullopt;
    auto r = fwdctl::request(t_.control.empty() ? std::filesystem::path(fwdctl::default_socket) : t_.control,
                             nlohmann::json{{"cmd", "stats"}});
    if (!r || !r->value("ok", false) || !r->contains("directions")) return std::nullopt;
    EmulatorTruth t;
    const auto& dirs = (*r)["directions"];
    for (std::size_t d = 0; d < 2; ++d) {
        const char* name = d == 0 ? "0to1" : "1to0";
        if (!dirs.contains(name)) return std::nullopt;
        const auto& j = dirs[name];
        if (!j.contains("held")) return std::nullopt;   // a forwarder without ground-truth counters
        auto u = [&](const char* k) { return j.value(k, std::uint64_t{0}); };
        t.dir[d] = {u("rx"), u("held"), u("pushed_by_order"), double(u("drawn_sum_us")), double(u("drawn_sumsq_us2")),
                    double(u("held_sum_us")), double(u("held_sumsq_us2"))};
    }
    return t;
}

std::string CliFaultTarget::describe() const {
    if (t_.backend == profile::Backend::http) return "http proxy, control " + t_.control.string();
    if (t_.backend == profile::Backend::dpdk)
        return "dpdk forwarder, control " + (t_.control.empty() ? std::string("(default)") : t_.control.string());
    return "netem " + t_.dev + (t_.direction == profile::Direction::ingress ? " ingress" : " egress") +
           (t_.netns.empty() ? "" : " in netns " + t_.netns);
}

// ---------------------------------------------------------------- probe
ProbeProcess::~ProbeProcess() {
    if (child_.pid > 0 && !exited_) {
        kill(child_.pid, SIGKILL);
        wait_child(child_.pid, std::chrono::milliseconds(1000));
    }
    if (reader_.joinable()) reader_.join();
    if (child_.out_fd >= 0) close(child_.out_fd);
}

Result<void> ProbeProcess::start() {
    const std::string mode(profile::to_string(c_.mode));
    // The probe runs far longer than planned and is stopped by SIGINT: the timeline may be
    // held while the command under chaos finishes (up to an hour more).
    auto dur_s = std::chrono::duration_cast<std::chrono::seconds>(expected_).count() + 3600;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%g", c_.rate_hz);
    Argv a{exe_.string(), "probe", c_.target, "--rate", rate, "--duration", std::to_string(dur_s) + "s",
           "--timeout", format_duration(c_.timeout), "--mode", mode.c_str(), "-j", "--quiet", "--csv", (dir_ / "probe.csv").string()};
    if (!c_.key_file.empty()) a.insert(a.end(), {"--key-file", c_.key_file.string()});
    SpawnOptions o;
    o.capture_stdout = true;
    o.death_signal = SIGINT;   // the probe ends cleanly even if we vanish
    o.stderr_file = (dir_ / "probe.err").string();   // its reason, should it end early
    auto c = spawn(in_netns(c_.netns, a), o);
    if (!c) return c.error();
    child_ = *c;
    reader_ = std::thread([this, fd = child_.out_fd] {
        std::string buf;
        char tmp[4096];
        for (;;) {
            ssize_t n = read(fd, tmp, sizeof tmp);
            if (n <= 0) break;
            buf.append(tmp, std::size_t(n));
            std::size_t nl;
            while ((nl = buf.find('\n')) != std::string::npos) {
                std::string line = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                std::lock_guard lk(mu_);
                if (auto w = metrics::parse_window_json(line)) pending_.push_back(*w);
                else if (line.find("\"summary\"") != std::string::npos) summary_line_ = line;
            }
        }
    });
    return {};
}

std::vector<Window> ProbeProcess::poll() {
    std::lock_guard lk(mu_);
    std::vector<Window> out;
    out.swap(pending_);
    return out;
}

namespace {
// The last non-empty lines of a file, joined with "; " (a child's stderr, for a note).
std::string tail_of(const std::filesystem::path& f, std::size_t lines) {
    std::ifstream in(f);
    std::vector<std::string> all;
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) all.push_back(l);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += (out.empty() ? "" : "; ") + all[i];
    return out;
}
}  // namespace

std::optional<std::string> ProbeProcess::failure() {
    if (!exited_ && child_.pid > 0) {
        int st = 0;
        if (waitpid(child_.pid, &st, WNOHANG) == child_.pid) exited_ = decode_status(st);
    }
    if (!exited_) return std::nullopt;
    auto why = tail_of(dir_ / "probe.err", 2);
    return "the probe (" + join(in_netns(c_.netns, {"netchaos", "probe", c_.target})) + ") exited " + std::to_string(*exited_) + ": " +
           (why.empty() ? std::string("(no message)") : why);
}

Result<std::vector<Record>> ProbeProcess::stop() {
    if (child_.pid <= 0) return make_error("probe was not started");
    // The probe waits its timeout for late replies, then writes the CSV.
    auto grace = std::chrono::duration_cast<std::chrono::milliseconds>(c_.timeout) + std::chrono::seconds(10);
    int st = 0;
    if (failure()) {
        st = *exited_;
    } else {
        kill(child_.pid, SIGINT);
        st = wait_child(child_.pid, grace);
    }
    child_.pid = -1;
    if (reader_.joinable()) reader_.join();
    close(child_.out_fd);
    child_.out_fd = -1;
    std::ifstream f(dir_ / "probe.csv");
    auto why = tail_of(dir_ / "probe.err", 2);
    if (why.empty()) why = "(no message)";
    if (!f) return make_error("probe exited " + std::to_string(st) + " without writing " + (dir_ / "probe.csv").string() + ": " + why);
    auto s = metrics::read_csv(f);
    if (!s) return make_error("probe output: " + s.error().message, 4);   // ours, not the user's input
    if (s->empty()) return make_error("probe exited " + std::to_string(st) + " and recorded no packets: " + why);
    return s;
}

std::string ProbeProcess::describe() const {
    char b[64];
    std::snprintf(b, sizeof b, " at %g Hz", c_.rate_hz);
    return std::string(profile::to_string(c_.mode)) + " " +
           c_.target + b + (c_.netns.empty() ? "" : " from netns " + c_.netns);
}

// ---------------------------------------------------------------- command under chaos
ProcessCommand::~ProcessCommand() {
    if (pid_ > 0 && !status_) terminate();
    finish_output();
}

Result<void> ProcessCommand::start(const Argv& argv) {
    SpawnOptions o;
    o.own_group = true;
    o.capture_stdout = true;
    o.capture_stderr = true;
    auto c = spawn(argv, o);
    if (!c) return c.error();
    pid_ = c->pid;
    out_fd_ = c->out_fd;
    tail_.assign(keep_lines, {});
    // Tee: everything to our stdout as it comes, whole lines into the ring. Polls so that a
    // grandchild holding the pipe open cannot keep it alive after the command is done.
    reader_ = std::thread([this] {
        char buf[4096];
        int after_close = 0;   // reads once closing: bounded, for a grandchild that never stops writing
        for (;;) {
            pollfd p{out_fd_, POLLIN, 0};
            const int r = ::poll(&p, 1, 100);
            if (closing_.load() && (r <= 0 || ++after_close > 256)) return;
            if (r <= 0) continue;
            const ssize_t n = read(out_fd_, buf, sizeof buf);
            if (n <= 0) return;
            (void)!write(1, buf, std::size_t(n));
            std::lock_guard lk(mu_);
            partial_.append(buf, std::size_t(n));
            std::size_t nl;
            while ((nl = partial_.find('\n')) != std::string::npos) {
                tail_[next_] = partial_.substr(0, nl);
                next_ = (next_ + 1) % keep_lines;
                ++lines_;
                partial_.erase(0, nl + 1);
            }
        }
    });
    return {};
}

void ProcessCommand::finish_output() {
    if (!reader_.joinable()) return;
    closing_.store(true);   // the reader drains what is there, then stops at the first idle poll
    reader_.join();
    close(out_fd_);
    out_fd_ = -1;
}

std::vector<std::string> ProcessCommand::output_tail(std::uint64_t& lines) {
    finish_output();
    std::lock_guard lk(mu_);
    std::vector<std::string> out;
    const std::size_t n = std::min<std::uint64_t>(lines_, keep_lines);
    for (std::size_t i = 0; i < n; ++i) out.push_back(tail_[(next_ + keep_lines - n + i) % keep_lines]);
    lines = lines_;
    if (!partial_.empty()) {   // a last line without its newline
        out.push_back(partial_);
        ++lines;
        if (out.size() > keep_lines) out.erase(out.begin());
    }
    return out;
}

std::optional<int> ProcessCommand::poll() {
    if (pid_ <= 0 || status_) return status_;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) status_ = decode_status(st);
    return status_;
}

int ProcessCommand::terminate() {
    if (pid_ <= 0) return -1;
    if (status_) return *status_;
    kill(-pid_, SIGTERM);
    status_ = wait_child(pid_, std::chrono::seconds(5));
    kill(-pid_, SIGKILL);  // anything the command left in its group
    return *status_;
}

// ---------------------------------------------------------------- timer
std::int64_t SystemTimer::now_ns() const { return mono_ns(); }

void SystemTimer::sleep_until(std::int64_t t_ns, const std::atomic<int>& stop) {
    // Short slices so a signal ends the wait promptly even if it does not interrupt nanosleep.
    while (!stop.load()) {
        std::int64_t left = t_ns - mono_ns();
        if (left <= 0) return;
        std::int64_t slice = std::min<std::int64_t>(left, 20'000'000);
        timespec ts{time_t(slice / 1'000'000'000), long(slice % 1'000'000'000)};
        nanosleep(&ts, nullptr);
    }
}

}  // namespace netchaos::experiment
