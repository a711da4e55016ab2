#pragma once
// A NETLINK_ROUTE socket (libmnl) that sends one request at a time and waits for its ack.
// The kernel's errno and its extended-ack text come back unchanged; turning them into a
// user message is map_error()'s job, which is pure so it can be tested without a kernel.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

struct mnl_socket;
struct nlmsghdr;

namespace netchaos::netem {

// The kernel's answer to one request: errno (0 = ok) and NLMSGERR_ATTR_MSG, if any.
struct Ack {
    int error = 0;
    std::string extack;
    bool ok() const { return error == 0; }
};

class Netlink {
public:
    static Result<Netlink> open();
    Netlink(Netlink&&) noexcept = default;
    Netlink& operator=(Netlink&&) noexcept = default;
    ~Netlink();

    std::uint32_t next_seq() { return ++seq_; }
    // Sends `msg` (a complete nlmsghdr; NLM_F_ACK is added) and waits for the ack of its seq.
    Ack transact(std::vector<std::uint8_t> msg);
    // Sends a dump request and calls `each` for every reply message until NLMSG_DONE.
    Ack dump(std::vector<std::uint8_t> msg, const std::function<void(const nlmsghdr*)>& each);

private:
    struct Close { void operator()(mnl_socket* s) const; };
    explicit Netlink(mnl_socket* s);
    std::unique_ptr<mnl_socket, Close> sock_;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
};

// What the failing request was, so the message can say it and the netem case can be told
// apart from others.
struct Context {
    std::string_view what;   // "add netem qdisc", "create ifb device", ...
    std::string_view dev;    // interface name, for "no such interface"
    std::string_view kind;   // qdisc/link kind being created ("netem", "ifb", ...) or ""
};

inline constexpr std::string_view no_netem_message =
    "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM); use --backend dpdk";

// errno + extack -> the message a user can act on (exit code 4).
Error map_error(const Ack& ack, const Context& ctx);

}  // namespace netchaos::netem
