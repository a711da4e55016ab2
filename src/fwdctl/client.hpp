#pragma once
// Client of netchaos-fwd's control socket: a root-only UNIX stream socket speaking one JSON
// object per line. Requests:
//   {"cmd":"load","direction":"both|0to1|1to0","toml":"<profile text>","name":"..."}
//   {"cmd":"clear"}     back to pass-through
//   {"cmd":"stats"}     counters and release-error histogram per direction; each direction
//                       also names its "profile", its "params" and a "profile_toml" that,
//                       loaded with that direction, gives the same model back ("" = pass-through)
//   {"cmd":"reset"}     zero the counters
// Replies: {"ok":true,...} or {"ok":false,"error":"...","kind":"bad_input"|"system"}
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace netchaos::fwdctl {

inline constexpr const char* default_socket = "/run/netchaos/fwd.sock";

Result<nlohmann::json> request(const std::filesystem::path& sock, const nlohmann::json& req,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// The two state-changing requests, shared by `apply`/`clear --backend dpdk|http` and `run`
// (`netchaos http-proxy --control` speaks the same lines): a reply of {"ok":false} becomes an
// Error with the peer's reason (bad_input when it says the profile is bad input, else system).
struct Load {
    std::string toml;                 // the normalized profile, table paths absolute
    std::string name;
    std::string direction = "both";   // both, 0to1, 1to0
    std::optional<std::chrono::milliseconds> lease;   // the forwarder reverts after it by itself
};
// `peer` names who answers, in the error: "forwarder" or "http proxy".
Result<void> load(const std::filesystem::path& sock, const Load& l, std::string_view peer = "forwarder");
Result<void> clear(const std::filesystem::path& sock, std::string_view peer = "forwarder");

}  // namespace netchaos::fwdctl
