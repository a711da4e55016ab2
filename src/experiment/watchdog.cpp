#include "experiment/watchdog.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace netchaos::experiment {

namespace {
// Runs in the forked watchdog only: fork/exec/wait, nothing that needs the parent's state.
void run_rollback(const std::vector<std::vector<std::string>>& cmds) {
    for (const auto& argv : cmds) {
        std::vector<char*> a;
        for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
        a.push_back(nullptr);
        pid_t pid = fork();
        if (pid == 0) {
            execvp(a[0], a.data());
            _exit(127);
        }
        if (pid < 0) continue;
        int st = 0;
        for (int i = 0; i < 300; ++i) {  // 30 s at most per command
            if (waitpid(pid, &st, WNOHANG) == pid) break;
            usleep(100'000);
            if (i == 299) kill(pid, SIGKILL), waitpid(pid, &st, 0);
        }
        std::fprintf(stderr, "netchaos watchdog: ran '%s'... exit %d\n", a[0] ? argv.back().c_str() : "",
                     WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
}

[[noreturn]] void watchdog_main(int fd, const WatchdogConfig& c) {
    setsid();  // out of the controller's session: a terminal's Ctrl-C does not reach us
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    // Keep only the pipe and stderr: an inherited pipe end would keep others waiting.
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) dup2(devnull, 0), dup2(devnull, 1);
    for (int i = 3; i < 1024; ++i)
        if (i != fd) close(i);
    const char* why = "controller exited without finishing";
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        int r = poll(&p, 1, int(c.lease.count()));
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) {
            why = "lease expired (controller stopped renewing)";
            break;
        }
        char buf[64];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EOF: the controller is gone
        if (std::memchr(buf, 'd', std::size_t(n))) _exit(0);
    }
    // Hang up first: the controller's next renew fails at once, so a controller that is only
    // late stops its timeline instead of applying phases over the rollback.
    shutdown(fd, SHUT_RDWR);
    close(fd);
    std::fprintf(stderr, "netchaos watchdog: %s: rolling back\n", why);
    run_rollback(c.rollback);
    if (!c.cleanup_dir.empty()) {
        usleep(useconds_t(c.linger.count()) * 1000);
        std::error_code ec;
        std::filesystem::remove_all(c.cleanup_dir, ec);
    }
    _exit(0);
}
}  // namespace

Result<Watchdog> Watchdog::start(const WatchdogConfig& c) {
    // A socketpair rather than a pipe: send(MSG_NOSIGNAL) reports a dead watchdog as an
    // error instead of raising SIGPIPE in the controller.
    int p[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
        return make_error(std::string("watchdog socketpair: ") + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) return make_error(std::string("watchdog fork: ") + std::strerror(errno));
    if (pid == 0) {
        close(p[1]);
        // Double fork: the watchdog is re-parented to init, so it never becomes a zombie
        // of a controller that does not reap it, and it survives the controller's death.
        pid_t g = fork();
        if (g != 0) _exit(g < 0 ? 1 : 0);
        watchdog_main(p[0], c);
    }
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);  // the intermediate child exits at once
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        close(p[1]);
        return make_error("watchdog: second fork failed");
    }
    return Watchdog(pid, p[1]);
}

bool Watchdog::renew() {
    if (fd_ < 0) return false;
    return send(fd_, "r", 1, MSG_NOSIGNAL) == 1;
}

void Watchdog::done() {
    if (fd_ < 0) return;
    (void)!send(fd_, "d", 1, MSG_NOSIGNAL);
    close(fd_);
    fd_ = -1;
}

Watchdog::~Watchdog() {
    if (fd_ >= 0) close(fd_);  // without 'd': the watchdog rolls back
}

}  // namespace netchaos::experiment
