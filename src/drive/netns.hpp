#pragma once
// Work inside another network namespace without moving the process: a thread joins it
// (setns is per thread for CLONE_NEWNET), does the work and ends. Netlink and UDP sockets it
// opens, if_nametoindex and the ledger's namespace identity (read from /proc/thread-self) all
// belong to that namespace; the caller's thread never leaves its own.
//
// A namespace is named by /run/netns/NAME, a path to an nsfs file (/proc/PID/ns/net, a bind
// mount), or a PID. It is opened ONCE into a pinned fd and all work goes through that fd: a
// PID that exits and is reused while we work can never send us into another namespace
// (Chaos Mesh's chaos-daemon does the same: SetNS on the fd of /proc/PID/ns/net).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace netchaos::drive {

// What the user named: `--netns NAME|PATH` or `--pid PID` (or a container, resolved to a PID).
struct NetnsRef {
    enum class Kind { current, name, path, pid };
    Kind kind = Kind::current;
    std::string value;   // name or path; for pid the decimal pid
    int pid = 0;
    std::string via;   // "container 3f2a...": how the pid was found; then it is the label
    // "netns blue", "netns /proc/42/ns/net", "pid 42": what errors and the ledger call it.
    std::string label() const;
    bool is_current() const { return kind == Kind::current; }
    bool operator==(const NetnsRef&) const = default;
};

// `--netns` text: a plain name means /run/netns/NAME; anything with a '/' is a path.
Result<NetnsRef> netns_ref_of(const std::string& text);
// `--pid` text: a positive decimal pid.
Result<NetnsRef> pid_ref_of(const std::string& text);

// The nsfs identity of a namespace: equal (dev, ino) = the same namespace, for as long as it lives.
struct NetnsIdentity {
    std::uint64_t dev = 0, ino = 0;
    bool operator==(const NetnsIdentity&) const = default;
};

// An open namespace fd (closed on destruction), with its identity taken from that same fd.
class PinnedNetns {
public:
    PinnedNetns() = default;
    PinnedNetns(PinnedNetns&& o) noexcept : fd_(o.fd_), id_(o.id_), label_(std::move(o.label_)) { o.fd_ = -1; }
    PinnedNetns& operator=(PinnedNetns&& o) noexcept;
    ~PinnedNetns();
    int fd() const { return fd_; }
    const NetnsIdentity& identity() const { return id_; }
    const std::string& label() const { return label_; }
    bool is_current() const { return fd_ < 0; }

private:
    friend Result<PinnedNetns> pin_netns(const NetnsRef& ref);
    int fd_ = -1;   // -1: the caller's own namespace
    NetnsIdentity id_;
    std::string label_;
};

// Opens the namespace once. Errors: bad input (3) for a file that is not a network
// namespace; system (4) with the exact errno reason otherwise.
Result<PinnedNetns> pin_netns(const NetnsRef& ref);
// The target no longer exists (no such netns file, no such process): after a failed
// pin_netns, callers report "target gone" rather than a failure of their own.
bool target_gone(const NetnsRef& ref);

// Opens /run/netns/NAME; a system Error names the namespace when it cannot.
Result<int> open_netns(const std::string& name);
// Joins the namespace behind `fd` (from open_netns) on the calling thread.
Result<void> enter_netns(int fd, const std::string& name);

// Runs `f` on a thread inside the pinned namespace and waits for it; the caller's own
// namespace (is_current) runs `f` right here.
Result<void> within(const PinnedNetns& ns, const std::function<Result<void>()>& f);
// Runs `f` on a thread inside `name` and waits for it; an empty name runs `f` right here.
Result<void> within_netns(const std::string& name, const std::function<Result<void>()>& f);

// Where a namespace with this identity can still be entered: a process in it, or a file
// under /run/netns bound to it. nullopt: no process and no bind mount holds it, so it is gone
// (an fd held elsewhere is not seen). A target whose PID exited may still have its namespace
// (the pod's sandbox holds it while a container restarts): this finds it again.
std::optional<NetnsRef> find_holder(const NetnsIdentity& id);

}  // namespace netchaos::drive
