#include "drive/netns.hpp"

#include <dirent.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

namespace netchaos::drive {

namespace {
constexpr long nsfs_magic = 0x6e736673;   // NSFS_MAGIC (linux/magic.h)

std::string path_of(const NetnsRef& r) {
    switch (r.kind) {
    case NetnsRef::Kind::name: return "/run/netns/" + r.value;
    case NetnsRef::Kind::path: return r.value;
    case NetnsRef::Kind::pid: return "/proc/" + std::to_string(r.pid) + "/ns/net";
    case NetnsRef::Kind::current: break;
    }
    return {};
}
}  // namespace

std::string NetnsRef::label() const {
    if (!via.empty()) return via;
    switch (kind) {
    case Kind::name:
    case Kind::path: return "netns " + value;
    case Kind::pid: return "pid " + std::to_string(pid);
    case Kind::current: break;
    }
    return "this network namespace";
}

Result<NetnsRef> netns_ref_of(const std::string& text) {
    if (text.empty()) return make_error("--netns: empty name", ErrorKind::bad_input);
    if (text.find('/') != std::string::npos) return NetnsRef{NetnsRef::Kind::path, text, 0, {}};
    // A plain name is a file under /run/netns: refuse what would climb out of it.
    if (text == "." || text == "..") return make_error("--netns: \"" + text + "\" is not a namespace name", ErrorKind::bad_input);
    return NetnsRef{NetnsRef::Kind::name, text, 0, {}};
}

Result<NetnsRef> pid_ref_of(const std::string& text) {
    int pid = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (ec != std::errc{} || end != text.data() + text.size() || pid <= 0)
        return make_error("--pid: \"" + text + "\" is not a process id (a positive number)", ErrorKind::bad_input);
    return NetnsRef{NetnsRef::Kind::pid, text, pid, {}};
}

PinnedNetns& PinnedNetns::operator=(PinnedNetns&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_, id_ = o.id_, label_ = std::move(o.label_);
        o.fd_ = -1;
    }
    return *this;
}

PinnedNetns::~PinnedNetns() {
    if (fd_ >= 0) ::close(fd_);
}

Result<PinnedNetns> pin_netns(const NetnsRef& ref) {
    PinnedNetns ns;
    ns.label_ = ref.label();
    if (ref.is_current()) return ns;
    const std::string path = path_of(ref);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        std::string why = ref.label() + ": open " + path + ": " + std::strerror(e);
        if (e == ENOENT && ref.kind == NetnsRef::Kind::pid) why += " (no such process" + (ref.via.empty() ? "" : ": pid " + std::to_string(ref.pid)) + ")";
        if (e == ENOENT && ref.kind == NetnsRef::Kind::name) why += " (no such namespace: see `ip netns list`)";
        return make_error(why);
    }
    ns.fd_ = fd;   // closed by ns from here on
    // Identity and type from the fd itself, never from the path again.
    struct stat st {};
    struct statfs sf {};
    if (::fstat(fd, &st) != 0 || ::fstatfs(fd, &sf) != 0)
        return make_error(ref.label() + ": stat " + path + ": " + std::strerror(errno));
    if (sf.f_type != nsfs_magic)
        return make_error(ref.label() + ": " + path + " is not a namespace file (a netns name, /proc/PID/ns/net or its bind mount)", ErrorKind::bad_input);
    ns.id_ = {std::uint64_t(st.st_dev), std::uint64_t(st.st_ino)};
    // Another namespace type (/proc/PID/ns/mnt) passes the fstatfs check; setns would refuse
    // it later, but say so now, before anything is done.
    if (const int type = ::ioctl(fd, NS_GET_NSTYPE); type >= 0 && type != CLONE_NEWNET)
        return make_error(ref.label() + ": " + path + " is a namespace, but not a network namespace", ErrorKind::bad_input);
    return ns;
}

bool target_gone(const NetnsRef& ref) {
    if (ref.is_current()) return false;
    struct stat st {};
    if (ref.kind == NetnsRef::Kind::pid)
        return ref.pid <= 0 || (::stat(("/proc/" + std::to_string(ref.pid)).c_str(), &st) != 0 && errno == ENOENT);
    return ::stat(path_of(ref).c_str(), &st) != 0 && errno == ENOENT;
}

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
        return make_error(name + ": setns: " + std::strerror(errno) +
                              (errno == EINVAL ? " (not a network namespace)" : errno == EPERM ? " (needs CAP_SYS_ADMIN)" : ""),
                          errno == EINVAL ? ErrorKind::bad_input : ErrorKind::system);
    return {};
}

Result<void> within(const PinnedNetns& ns, const std::function<Result<void>()>& f) {
    if (ns.is_current()) return f();
    Result<void> out = make_error(ns.label() + ": the worker thread did not run");
    std::thread t([&] {
        if (auto r = enter_netns(ns.fd(), ns.label()); !r) {
            out = r.error();
            return;
        }
        out = f();
    });
    t.join();
    return out;
}

Result<void> within_netns(const std::string& name, const std::function<Result<void>()>& f) {
    if (name.empty()) return f();
    if (name.find('/') != std::string::npos || name == "." || name == "..")
        return make_error("netns name \"" + name + "\" is not a plain name", ErrorKind::bad_input);
    auto ns = pin_netns({NetnsRef::Kind::name, name, 0, {}});
    if (!ns) return ns.error();
    return within(*ns, f);
}

std::optional<NetnsRef> find_holder(const NetnsIdentity& id) {
    auto same = [&](const std::string& p) {
        struct stat st {};
        return ::stat(p.c_str(), &st) == 0 && std::uint64_t(st.st_dev) == id.dev && std::uint64_t(st.st_ino) == id.ino;
    };
    auto scan = [&](const char* dir, auto&& fn) -> std::optional<NetnsRef> {
        DIR* d = ::opendir(dir);
        if (!d) return std::nullopt;
        std::optional<NetnsRef> found;
        while (!found) {
            dirent* e = ::readdir(d);
            if (!e) break;
            found = fn(std::string(e->d_name));
        }
        ::closedir(d);
        return found;
    };
    // Named namespaces first: a bind mount outlives any one process in it.
    if (auto r = scan("/run/netns", [&](const std::string& n) -> std::optional<NetnsRef> {
            if (n == "." || n == ".." || !same("/run/netns/" + n)) return std::nullopt;
            return NetnsRef{NetnsRef::Kind::name, n, 0, {}};
        }))
        return r;
    return scan("/proc", [&](const std::string& n) -> std::optional<NetnsRef> {
        auto p = pid_ref_of(n);
        if (!p || !same("/proc/" + n + "/ns/net")) return std::nullopt;
        return *p;
    });
}

}  // namespace netchaos::drive
