#pragma once
// Work inside a named network namespace without moving the process: a thread joins
// /run/netns/NAME (setns is per thread for CLONE_NEWNET), does the work and ends. Netlink
// and UDP sockets it opens, if_nametoindex and the ledger's namespace identity (read from
// /proc/thread-self) all belong to that namespace; the caller's thread never leaves its own.
#include <functional>
#include <string>

#include "common/result.hpp"

namespace netchaos::drive {

// Opens /run/netns/NAME; a system Error names the namespace when it cannot.
Result<int> open_netns(const std::string& name);
// Joins the namespace behind `fd` (from open_netns) on the calling thread.
Result<void> enter_netns(int fd, const std::string& name);

// Runs `f` on a thread inside `name` and waits for it; an empty name runs `f` right here.
Result<void> within_netns(const std::string& name, const std::function<Result<void>()>& f);

}  // namespace netchaos::drive
