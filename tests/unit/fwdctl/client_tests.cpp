// The control client against a tiny in-process server: one JSON line in, one out.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "fwdctl/client.hpp"

namespace {

struct Server {
    std::filesystem::path path;
    int fd = -1;
    explicit Server(const std::string& tag) {
        path = std::filesystem::temp_directory_path() / ("fwdctl-" + tag + "-" + std::to_string(::getpid()) + ".sock");
        ::unlink(path.c_str());
        fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::strcpy(a.sun_path, path.c_str());
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 1) == 0);
    }
    ~Server() { ::close(fd); ::unlink(path.c_str()); }
    std::string read_line(int c) {
        std::string s;
        char ch;
        while (::read(c, &ch, 1) == 1 && ch != '\n') s += ch;
        return s;
    }
};

}  // namespace

TEST_CASE("request sends one line and parses the reply line") {
    Server srv("ok");
    std::string got;
    std::thread t([&] {
        const int c = ::accept(srv.fd, nullptr, nullptr);
        got = srv.read_line(c);
        const std::string r = "{\"ok\":true,\"echo\":" + got + "}\n";
        // reply in two pieces: the client must reassemble up to the newline
        (void)!::write(c, r.data(), 5);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        (void)!::write(c, r.data() + 5, r.size() - 5);
        ::close(c);
    });
    auto r = netchaos::fwdctl::request(srv.path, {{"cmd", "stats"}});
    t.join();
    REQUIRE(r.ok());
    CHECK((*r)["ok"] == true);
    CHECK((*r)["echo"]["cmd"] == "stats");
    CHECK(nlohmann::json::parse(got) == nlohmann::json{{"cmd", "stats"}});
}

TEST_CASE("request times out when the server never answers") {
    Server srv("slow");
    std::thread t([&] {
        const int c = ::accept(srv.fd, nullptr, nullptr);
        srv.read_line(c);
        // Never answers: holds the connection until the client gives up and closes it (read
        // returns 0), so only the client's own timeout can end the request.
        char ch;
        while (::read(c, &ch, 1) > 0) {
        }
        ::close(c);
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = netchaos::fwdctl::request(srv.path, {{"cmd", "stats"}}, std::chrono::milliseconds(100));
    const auto took = std::chrono::steady_clock::now() - t0;
    t.join();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("timed out") != std::string::npos);
    CHECK(took >= std::chrono::milliseconds(50));   // it waited (about its 100 ms: poll rounds to ms)
}

TEST_CASE("request reports a missing socket and a bad reply") {
    auto r = netchaos::fwdctl::request("/nonexistent/dir/fwd.sock", {{"cmd", "stats"}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("nothing answers on") != std::string::npos);

    Server srv("bad");
    std::thread t([&] {
        const int c = ::accept(srv.fd, nullptr, nullptr);
        srv.read_line(c);
        (void)!::write(c, "not json\n", 9);
        ::close(c);
    });
    auto b = netchaos::fwdctl::request(srv.path, {{"cmd", "stats"}});
    t.join();
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().message.find("bad reply") != std::string::npos);
}
