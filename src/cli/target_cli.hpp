#pragma once
// --netns NAME|PATH, --pid PID and --container ID for apply, show, clear and probe: the
// namespace is pinned once (drive::pin_netns) and the command's network work runs on a thread
// inside it (drive::within). The process itself never leaves its namespace.
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "common/result.hpp"
#include "drive/container.hpp"
#include "drive/netns.hpp"

namespace netchaos::cli {

struct TargetFlags {
    std::string netns, pid, container, runtime;
};

inline void add_target_options(boost::program_options::options_description& opts, TargetFlags& f) {
    opts.add_options()("netns", boost::program_options::value(&f.netns),
                       "work in this network namespace: a name under /run/netns, or a path (/proc/PID/ns/net, a bind mount)")(
        "pid", boost::program_options::value(&f.pid), "work in the network namespace of process PID")(
        "container", boost::program_options::value(&f.container),
        "work in the network namespace of container ID (its pid from `crictl inspect`, `podman inspect` or `docker inspect`)")(
        "runtime", boost::program_options::value(&f.runtime),
        "with --container: the runtime CLI to ask (crictl, podman, docker or a path; default $NETCHAOS_CONTAINER_RUNTIME, "
        "else each of them on PATH in turn)");
}

// At most one of the flags; none = this process's own namespace. A container is resolved to
// its pid here, once; the ledger knows the target as "container ID".
inline Result<drive::NetnsRef> target_ref(const TargetFlags& f) {
    if (!f.netns.empty() + !f.pid.empty() + !f.container.empty() > 1)
        return make_error("give at most one of --netns, --pid and --container", ErrorKind::bad_input);
    if (!f.runtime.empty() && f.container.empty()) return make_error("--runtime goes with --container", ErrorKind::bad_input);
    if (!f.netns.empty()) return drive::netns_ref_of(f.netns);
    if (!f.pid.empty()) return drive::pid_ref_of(f.pid);
    if (!f.container.empty()) {
        auto pid = drive::container_pid(f.container, f.runtime);
        if (!pid) return pid.error();
        return drive::NetnsRef{drive::NetnsRef::Kind::pid, std::to_string(*pid), *pid, "container " + f.container};
    }
    return drive::NetnsRef{};
}

// f() -> Result<T>, run inside `ns`; its result, or why the namespace could not be entered.
template <class F>
auto in_target(const drive::PinnedNetns& ns, F&& f) -> decltype(f()) {
    std::optional<decltype(f())> out;
    auto r = drive::within(ns, [&]() -> Result<void> {
        out.emplace(f());
        return {};
    });
    if (!r) return r.error();
    return std::move(*out);
}

}  // namespace netchaos::cli
