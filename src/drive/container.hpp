#pragma once
// --container ID: the container's init PID from its runtime's CLI, as Chaos Mesh's
// chaos-daemon and Litmus get it, then its network namespace is pinned like any --pid.
//   crictl inspect ID   -> {"info": {"pid": N, ...}, "status": {"state": "CONTAINER_RUNNING"}}
//   podman inspect ID   -> [{"State": {"Pid": N, "Running": true, ...}, ...}]
//   docker inspect ID   -> the same as podman
// The runtime is the one named (NETCHAOS_CONTAINER_RUNTIME or --runtime: crictl, podman,
// docker, or a path to one of them), else each of crictl, podman, docker found on PATH in turn;
// the error names every runtime tried and what it said.
#include <string>

#include "common/result.hpp"

namespace netchaos::drive {

// Pure: the PID in one runtime's `inspect` output. `runtime` is only for messages and to pick
// the format (a path's file name is looked at: ".../crictl" reads as crictl).
Result<int> pid_of_inspect(const std::string& output, const std::string& id, const std::string& runtime);

// Runs `RUNTIME inspect ID` (no shell; 10 s at most) and reads the PID. `runtime` empty: try
// crictl, podman, docker in that order, the first that knows ID wins.
Result<int> container_pid(const std::string& id, const std::string& runtime);

}  // namespace netchaos::drive
