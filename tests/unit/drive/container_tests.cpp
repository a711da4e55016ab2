// --container: the pid read from each runtime's recorded `inspect` output (tests/fixtures/containers).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "drive/container.hpp"

using namespace netchaos;

namespace {
std::string fixture(const std::string& name) {
    std::ifstream in(std::string(NETCHAOS_SOURCE_DIR) + "/tests/fixtures/containers/" + name);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
}  // namespace

TEST_CASE("pid_of_inspect reads each runtime's recorded inspect output") {
    auto p = drive::pid_of_inspect(fixture("podman-inspect.json"), "reflector-a", "podman");
    REQUIRE(p);
    CHECK(*p == 4242);
    auto d = drive::pid_of_inspect(fixture("docker-inspect.json"), "reflector-b", "docker");
    REQUIRE(d);
    CHECK(*d == 4242);
    // crictl by name or by path: the format follows the CLI's file name.
    auto c = drive::pid_of_inspect(fixture("crictl-inspect.json"), "b71c4e0f2d9a", "/usr/local/bin/crictl");
    REQUIRE(c);
    CHECK(*c == 4242);
}

TEST_CASE("pid_of_inspect: warnings around the JSON are skipped") {
    const std::string out = "WARN[0000] The cgroupv2 manager is set to systemd but there is no systemd user session\n" +
                            fixture("podman-inspect.json") + "\n";
    auto p = drive::pid_of_inspect(out, "reflector-a", "podman");
    REQUIRE(p);
    CHECK(*p == 4242);
}

TEST_CASE("pid_of_inspect: a stopped container, no container, a crictl pod, garbage") {
    auto e = drive::pid_of_inspect(fixture("podman-inspect-exited.json"), "reflector-a", "podman");
    REQUIRE_FALSE(e);
    CHECK(e.error().message.find("container reflector-a is not running (podman reports pid 0)") != std::string::npos);
    auto ce = drive::pid_of_inspect(fixture("crictl-inspect-exited.json"), "b71c", "crictl");
    REQUIRE_FALSE(ce);
    CHECK(ce.error().message.find("is not running") != std::string::npos);
    auto none = drive::pid_of_inspect("[]\n", "nope", "docker");
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find("no such container") != std::string::npos);
    // A podman-shaped answer read as crictl's (the wrong --runtime): said, not guessed.
    auto wrong = drive::pid_of_inspect(fixture("podman-inspect.json"), "x", "crictl");
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().message.find("no info.pid") != std::string::npos);
    auto junk = drive::pid_of_inspect("Error: no such object: \"x\"\n", "x", "podman");
    REQUIRE_FALSE(junk);
    CHECK(junk.error().message.find("no JSON in its output: Error: no such object") != std::string::npos);
}

TEST_CASE("container_pid refuses an ID that would be an option, and names every runtime tried") {
    auto opt = drive::container_pid("--format={{.State.Pid}}", "podman");
    REQUIRE_FALSE(opt);
    CHECK(opt.error().kind == ErrorKind::bad_input);
    auto missing = drive::container_pid("abc", "/nonexistent/podman");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message == "container abc: not found through /nonexistent/podman (/nonexistent/podman: not installed (not on PATH))");
}
