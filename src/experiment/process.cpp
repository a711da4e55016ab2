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
    if (argv.empty()) return make_error("empty command", ErrorKind::bad_input);
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
        return make_error("cannot run " + argv[0] + ": " + std::strerror(e));
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

Argv at_target(const profile::Target& t, Argv argv) {
    // A container by its ID: after a restart its runtime names the new pid; once removed,
    // clear --container settles its ledgers by the namespace's identity.
    if (!t.container.empty()) argv.insert(argv.end(), {"--container", t.container});
    else if (t.pid > 0) argv.insert(argv.end(), {"--pid", std::to_string(t.pid)});
    else if (!t.netns.empty()) argv.insert(argv.end(), {"--netns", t.netns});
    return argv;
}

std::vector<Argv> rollback_commands(const profile::Target& t, const std::filesystem::path& exe) {
    if (t.backend != profile::Backend::netem) {
        Argv a{exe.string(), "clear", "--backend", std::string(profile::to_string(t.backend))};
        if (!t.control.empty()) a.insert(a.end(), {"--control", t.control.string()});
        return {a};
    }
    // clear --netns/--pid: a target whose namespace is gone by then is reported and its
    // ledger discarded (exit 0), one whose process exited is restored where its namespace lives.
    return {at_target(t, {exe.string(), "clear", "--dev", t.dev})};
}

std::vector<Argv> rollback_commands(const profile::Experiment& e, const std::filesystem::path& exe) {
    std::vector<Argv> out;
    for (const auto& t : e.targets.empty() ? std::vector<profile::Target>{e.target} : e.targets)
        for (auto& a : rollback_commands(t, exe)) out.push_back(std::move(a));
    return out;
}

namespace {
Result<std::filesystem::path> write_restore_file(const std::filesystem::path& dir, const std::string& name,
                                                 const std::string& text) {
    auto file = dir / name;
    std::ofstream f(file);
    f << text;
    if (!f) return make_error("cannot write " + file.string());
    return file;
}
}  // namespace

namespace {
Result<void> netns(const std::string& ns, const char* what) {
    std::error_code ec;
    if (ns.empty() || std::filesystem::exists("/run/netns/" + ns, ec)) return {};
    return make_error(std::string(what) + " netns \"" + ns + "\" does not exist (no /run/netns/" + ns + "; `ip netns list` shows those that do)");
}

// One target's preflight; `tag` keeps its restore files apart from the other targets'.
Result<std::optional<InEffect>> preflight_one(const profile::Target& t, const std::string& tag,
                                              const std::filesystem::path& exe, bool takeover, const std::filesystem::path& workdir) {
    auto trimmed = [](std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s.empty() ? std::string("(no output)") : s;
    };
    // The measurement and the restore, or the refusal: the same words for both backends.
    const auto found = [&](const std::string& what, const std::string& clear_cmd) -> Result<std::optional<InEffect>> {
        if (takeover) return std::optional<InEffect>(InEffect{what, {}});
        return make_error(what + ": the steady state would measure it and rollback would not "
                              "restore it. Clear it first (" + clear_cmd + "), or pass --takeover: the run clears it "
                              "before its steady state and restores it at its end");
    };
    std::string out;
    if (t.backend == profile::Backend::netem) {
        const std::string where = t.dev + (t.pid > 0 ? " in pid " + std::to_string(t.pid) : t.netns.empty() ? "" : " in netns " + t.netns);
        std::error_code ec;
        if (t.pid > 0 && !std::filesystem::exists("/proc/" + std::to_string(t.pid), ec))
            return make_error("[target] pid " + std::to_string(t.pid) + " does not exist (no /proc/" + std::to_string(t.pid) + ")");
        if (auto r = netns(t.netns, "[target]"); !r) return r.error();
        std::optional<int> st = 0;
        if (t.pid <= 0) {   // (for a pid, `show --dev` below says a missing device)
            auto s = run_capture(in_netns(t.netns, {"ip", "link", "show", "dev", t.dev}), out, std::chrono::seconds(5));
            if (!s) return s.error();
            if (*s != 0) return make_error("[target] dev \"" + where + "\" not found: " + trimmed(out));
        }
        // A profile netchaos applied earlier (its ledger): `show -j` names it.
        auto shown = run_capture(at_target(t, {exe.string(), "show", "--dev", t.dev, "-j"}), out, std::chrono::seconds(10));
        if (!shown) return shown.error();
        st = *shown;
        if (*st != 0) return make_error("reading what is applied to " + t.dev + ": " + trimmed(out));
        auto j = nlohmann::json::parse(out, nullptr, false);
        if (!j.is_object() || !j.contains("applied") || !j["applied"].is_array())
            return make_error("reading what is applied to " + t.dev + ": unexpected output: " + trimmed(out));
        for (const auto& a : j["applied"]) {
            if (!a.is_object() || a.value("dev", "") != t.dev) continue;
            const std::string what = "netchaos profile \"" + a.value("profile", "?") + "\" is already in effect on " + where;
            const std::string clear_cmd = join(at_target(t, {"netchaos", "clear", "--dev", t.dev}));
            if (!a.value("complete", false))
                return make_error(what + " is an apply that died midway: " + clear_cmd + " first");
            // (Another live run's hold is refused by the clear that takes it over.)
            if (a.value("watchdog_pid", 0))
                return make_error(what + " under an `apply --for` watchdog that reverts it by itself: it is not taken "
                                         "over; wait for it to end, or " + clear_cmd);
            // Another run's faults (a live run's hold makes the takeover's clear refuse; a dead
            // one's are leftovers): cleared, never restored.
            const int holder = a.value("holder_pid", 0);
            auto r = found(holder ? what + " (applied by the netchaos run pid " + std::to_string(holder) + ")" : what, clear_cmd);
            if (!r || !takeover || holder) return r;
            // Restore = apply the profile read back from the kernel, placed as it was.
            shown = run_capture(at_target(t, {exe.string(), "show", "--dev", t.dev, "--profile"}), out, std::chrono::seconds(10));
            if (!shown) return shown.error();
            st = *shown;
            if (*st != 0) return make_error("reading " + what + " back: " + trimmed(out));
            auto file = write_restore_file(workdir, tag + "restore.toml", out);
            if (!file) return file.error();
            Argv a_apply{exe.string(), "apply", file->string(), "--dev", t.dev};
            // Only the ingress side (layout "ingress;..."): as --ingress places it.
            if (a.value("layout", "").rfind("ingress;", 0) == 0) a_apply.push_back("--ingress");
            (*r)->restore.push_back(at_target(t, a_apply));
            return r;
        }
        return std::optional<InEffect>{};
    }
    if (t.backend == profile::Backend::http) {
        // The proxy must answer, and with no faults in effect (they would be the "steady state").
        auto r = fwdctl::request(t.control, nlohmann::json{{"cmd", "stats"}});
        if (!r) return make_error("the http proxy's control socket does not answer: " + r.error().message);
        const std::string active = r->value("profile", "");
        if (!active.empty() && active != "passthrough")
            return make_error("the http proxy already has a profile in effect (\"" + active +
                                  "\"): clear it first: netchaos clear --backend http --control " + t.control.string());
        return std::optional<InEffect>{};
    }
    Argv show{exe.string(), "show", "--backend", "dpdk", "-j"};
    if (!t.control.empty()) show.insert(show.end(), {"--control", t.control.string()});
    auto st = run_capture(show, out, std::chrono::seconds(5));
    if (!st) return st.error();
    if (*st != 0) return make_error("the forwarder's control socket does not answer: " + trimmed(out));
    auto j = nlohmann::json::parse(out, nullptr, false);
    std::string active;
    std::vector<std::pair<std::string, std::string>> texts;   // direction, profile to load
    if (j.is_object() && j.contains("directions") && j["directions"].is_object())
        for (const auto& [dir, d] : j["directions"].items()) {
            const std::string name = d.is_object() ? d.value("profile", "") : "";
            if (name.empty() || name == "passthrough") continue;
            active += (active.empty() ? "" : ", ") + dir + ": \"" + name + "\"";
            texts.emplace_back(dir, d.value("profile_toml", ""));
        }
    if (active.empty()) return std::optional<InEffect>{};
    const std::string control = t.control.empty() ? std::string() : " --control " + t.control.string();
    const std::string what = "the forwarder already has a profile in effect (" + active + ")";
    if (j.contains("lease") && j["lease"].is_object())
        return make_error(what + " under a lease (apply --for: it reverts by itself in " +
                              std::to_string(j["lease"].value("remaining_ms", 0) / 1000) +
                              " s): it is not taken over; wait for it to end, or netchaos clear --backend dpdk" + control);
    auto r = found(what, "netchaos clear --backend dpdk" + control);
    if (!r || !takeover) return r;
    for (const auto& [dir, text] : texts) {
        if (text.empty())
            return make_error(what + ": this forwarder does not report the profile's text (an older netchaos-fwd): "
                                     "it cannot be restored, so it is not taken over");
        auto file = write_restore_file(workdir, tag + "restore-" + dir + ".toml", text);
        if (!file) return file.error();
        Argv a{exe.string(), "apply", file->string(), "--backend", "dpdk", "--direction", dir};
        if (!t.control.empty()) a.insert(a.end(), {"--control", t.control.string()});
        (*r)->restore.push_back(a);
    }
    return r;
}

}  // namespace

Result<std::optional<InEffect>> preflight(const profile::Experiment& e, const std::filesystem::path& exe, bool takeover,
                                          const std::filesystem::path& workdir) {
    if (auto r = netns(e.probe.netns, "[probe]"); !r) return r.error();
    const auto targets = e.targets.empty() ? std::vector<profile::Target>{e.target} : e.targets;
    std::optional<InEffect> all;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto& t = targets[i];
        auto r = preflight_one(t, targets.size() > 1 ? "t" + std::to_string(i + 1) + "-" : "", exe, takeover, workdir);
        if (!r) return targets.size() > 1 ? make_error("target " + t.name + ": " + r.error().message, r.error().kind) : r.error();
        if (!*r) continue;
        if (!all) all = InEffect{};
        all->what += (all->what.empty() ? "" : "; ") + (targets.size() > 1 ? "target " + t.name + ": " : "") + (*r)->what;
        all->restore.insert(all->restore.end(), (*r)->restore.begin(), (*r)->restore.end());
    }
    return all;
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
