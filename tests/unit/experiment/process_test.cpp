// Real processes: spawn/wait, captured output, and the watchdog firing on EOF and on lease
// expiry but not after done().
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include "experiment/process.hpp"
#include "experiment/watchdog.hpp"

using namespace netchaos::experiment;
namespace fs = std::filesystem;

namespace {
fs::path tmpdir() {
    char t[] = "/tmp/nc-exp-test.XXXXXX";
    REQUIRE(mkdtemp(t));
    return t;
}
bool wait_for(const fs::path& p, int ms) {
    for (int i = 0; i < ms / 20; ++i) {
        if (fs::exists(p)) return true;
        usleep(20'000);
    }
    return fs::exists(p);
}
}  // namespace

TEST_CASE("spawn + wait report exit codes and signals; exec failures are errors") {
    auto c = spawn({"sh", "-c", "exit 7"});
    REQUIRE(c);
    CHECK(wait_child(c->pid, std::chrono::seconds(5)) == 7);
    auto k = spawn({"sleep", "10"});
    REQUIRE(k);
    CHECK(wait_child(k->pid, std::chrono::milliseconds(100)) == 128 + SIGKILL);
    auto bad = spawn({"/nonexistent/netchaos-xyz"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("cannot run") != std::string::npos);
    std::string out;
    auto r = run_capture({"sh", "-c", "echo hello; echo oops >&2; exit 2"}, out, std::chrono::seconds(5));
    REQUIRE(r);
    CHECK(*r == 2);
    CHECK(out.find("hello") != std::string::npos);
    // stderr too: a failed apply's note ended in "exited 4:" without it (issue 18 item 1).
    CHECK(out.find("oops") != std::string::npos);
}

TEST_CASE("the command under chaos: its last 200 lines of stdout+stderr, exit status and line count (issue 18 item 8)") {
    ProcessCommand cmd;
    REQUIRE(cmd.start({"sh", "-c", "i=1; while [ $i -le 250 ]; do echo line $i; i=$((i+1)); done; echo err-last >&2; printf no-newline; exit 3"}));
    std::optional<int> st;
    for (int i = 0; i < 500 && !st; ++i, usleep(10'000)) st = cmd.poll();
    REQUIRE(st);
    CHECK(*st == 3);
    std::uint64_t lines = 0;
    auto tail = cmd.output_tail(lines);
    CHECK(lines == 252);
    REQUIRE(tail.size() == 200);
    CHECK(tail.front() == "line 53");
    CHECK(tail[tail.size() - 2] == "err-last");
    CHECK(tail.back() == "no-newline");
}

TEST_CASE("rollback commands: netem in a namespace, dpdk with its socket") {
    // clear --netns/--pid, not `ip netns exec`: a namespace gone by rollback time is reported
    // and its ledger discarded, a pid that exited is found again by its namespace's identity.
    netchaos::profile::Target t{.dev = "veth0", .netns = "ns1"};
    auto r = rollback_commands(t, "/x/netchaos");
    REQUIRE(r.size() == 1);
    CHECK(join(r[0]) == "/x/netchaos clear --dev veth0 --netns ns1");
    netchaos::profile::Target p{.dev = "eth0", .pid = 4242};
    CHECK(join(rollback_commands(p, "nc")[0]) == "nc clear --dev eth0 --pid 4242");
    // One watchdog for every target of the experiment, in order.
    netchaos::profile::Experiment e;
    e.targets = {t, p};
    auto all = rollback_commands(e, "nc");
    REQUIRE(all.size() == 2);
    CHECK(join(all[1]) == "nc clear --dev eth0 --pid 4242");
    netchaos::profile::Target d{.backend = netchaos::profile::Backend::dpdk, .control = "/run/s.sock"};
    CHECK(join(rollback_commands(d, "nc")[0]) == "nc clear --backend dpdk --control /run/s.sock");
}

TEST_CASE("watchdog: EOF without done runs the rollback; done does not") {
    auto dir = tmpdir();
    {
        WatchdogConfig c{{{"touch", (dir / "rolled-back").string()}}, std::chrono::seconds(30), {}, {}};
        auto w = Watchdog::start(c);
        REQUIRE(w);
        CHECK(w->renew());
    }  // destroyed without done(): the controller "died"
    CHECK(wait_for(dir / "rolled-back", 5000));
    {
        WatchdogConfig c{{{"touch", (dir / "should-not")}}, std::chrono::seconds(30), {}, {}};
        auto w = Watchdog::start(c);
        REQUIRE(w);
        w->done();
    }
    usleep(500'000);
    CHECK_FALSE(fs::exists(dir / "should-not"));
    fs::remove_all(dir);
}

TEST_CASE("watchdog: a lease that is not renewed fires while the controller lives") {
    auto dir = tmpdir();
    WatchdogConfig c{{{"touch", (dir / "lease")}}, std::chrono::milliseconds(300), {}, {}};
    auto w = Watchdog::start(c);
    REQUIRE(w);
    CHECK(wait_for(dir / "lease", 5000));
    usleep(200'000);
    CHECK_FALSE(w->renew());   // it is gone: the pipe is broken
    fs::remove_all(dir);
}

TEST_CASE("watchdog: once it fires, the controller's renew fails before the rollback is done") {
    auto dir = tmpdir();
    // A slow rollback: renew must already fail while it runs, so the run stops its timeline.
    // It marks its start, so the test waits for the lease to run out instead of guessing how
    // long that takes on a loaded host (a fixed 800 ms wait was the flaky part).
    WatchdogConfig c{{{"sh", "-c", "touch " + (dir / "started").string() + "; sleep 3; touch " + (dir / "done").string()}},
                     std::chrono::milliseconds(300), {}, {}};
    auto w = Watchdog::start(c);
    REQUIRE(w);
    REQUIRE(wait_for(dir / "started", 5000));   // the 300 ms lease ran out; the rollback has 3 s to go
    const bool refused = !w->renew();
    CHECK(refused);
    CHECK_FALSE(fs::exists(dir / "done"));   // the rollback was still running
    CHECK(wait_for(dir / "done", 8000));
    fs::remove_all(dir);
}

TEST_CASE("watchdog: SIGKILL of the controller process fires the rollback") {
    auto dir = tmpdir();
    pid_t ctl = fork();
    if (ctl == 0) {
        WatchdogConfig c{{{"touch", (dir / "killed").string()}}, std::chrono::seconds(30), {}, {}};
        auto w = Watchdog::start(c);
        if (w) std::ofstream(dir / "armed") << "1";
        for (;;) pause();
    }
    // Killed once its watchdog is armed (a fixed 300 ms wait could kill it before, under load).
    REQUIRE(wait_for(dir / "armed", 5000));
    kill(ctl, SIGKILL);
    waitpid(ctl, nullptr, 0);
    CHECK(wait_for(dir / "killed", 5000));
    fs::remove_all(dir);
}
