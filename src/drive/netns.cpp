#include "drive/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace netchaos::drive {

Result<int> open_netns(const std::string& name) {
    // The name was checked when the experiment was parsed; refuse path tricks here as well,
    // since this opens a file by it.
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        return make_error("netns name \"" + name + "\" is not a plain name", ErrorKind::bad_input);
    const std::string path = "/run/netns/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error("netns \"" + name + "\": open " + path + ": " + std::strerror(errno));
    return fd;
}

Result<void> enter_netns(int fd, const std::string& name) {
    if (::setns(fd, CLONE_NEWNET) != 0)
        return make_error("netns \"" + name + "\": setns: " + std::strerror(errno));
    return {};
}

Result<void> within_netns(const std::string& name, const std::function<Result<void>()>& f) {
    if (name.empty()) return f();
    auto fd = open_netns(name);
    if (!fd) return fd.error();
    Result<void> out = make_error("netns \"" + name + "\": the worker thread did not run");
    std::thread t([&] {
        if (auto r = enter_netns(*fd, name); !r) {
            out = r.error();
            return;
        }
        out = f();
    });
    t.join();
    ::close(*fd);
    return out;
}

}  // namespace netchaos::drive
