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

// What the kernel backend needs of the kernel: requests that change something (transact),
// read-only dumps, and interface indexes. The applier talks only to this, so `apply --dry-run`
// can put a recorder in front of the real socket (RecordingSender) and tests a fake kernel.
class Sender {
public:
    virtual ~Sender() = default;
    virtual std::uint32_t next_seq() = 0;
    // Sends `msg` (a complete nlmsghdr; NLM_F_ACK is added) and waits for the ack of its seq.
    virtual Ack transact(std::vector<std::uint8_t> msg) = 0;
    // Sends a dump request and calls `each` for every reply message until NLMSG_DONE.
    virtual Ack dump(std::vector<std::uint8_t> msg, const std::function<void(const nlmsghdr*)>& each) = 0;
    // The interface's index, 0 if there is none.
    virtual int ifindex(const std::string& dev) = 0;
};

// The real one: a NETLINK_ROUTE socket.
class Netlink final : public Sender {
public:
    static Result<Netlink> open();
    Netlink(Netlink&&) noexcept = default;
    Netlink& operator=(Netlink&&) noexcept = default;
    ~Netlink() override;

    std::uint32_t next_seq() override { return ++seq_; }
    Ack transact(std::vector<std::uint8_t> msg) override;
    Ack dump(std::vector<std::uint8_t> msg, const std::function<void(const nlmsghdr*)>& each) override;
    int ifindex(const std::string& dev) override;

private:
    struct Close { void operator()(mnl_socket* s) const; };
    explicit Netlink(mnl_socket* s);
    std::unique_ptr<mnl_socket, Close> sock_;
    std::uint32_t portid_ = 0;
    std::uint32_t seq_ = 0;
};

// Keeps every change request, exactly as it would go out (NLM_F_ACK added as transact adds
// it), and acknowledges it without sending; dumps and interface lookups go to `reads`, which
// only reads. A link it was asked to create has no index yet (the kernel picks one when it
// creates it): it gets `placeholder_ifindex`, which the requests after it then carry.
class RecordingSender final : public Sender {
public:
    static constexpr int placeholder_ifindex = 0x7FFFFFFF;
    explicit RecordingSender(Sender& reads) : reads_(reads) {}
    std::uint32_t next_seq() override { return reads_.next_seq(); }
    Ack transact(std::vector<std::uint8_t> msg) override;
    Ack dump(std::vector<std::uint8_t> msg, const std::function<void(const nlmsghdr*)>& each) override {
        return reads_.dump(std::move(msg), each);
    }
    int ifindex(const std::string& dev) override;
    const std::vector<std::vector<std::uint8_t>>& sent() const { return sent_; }

private:
    Sender& reads_;
    std::vector<std::vector<std::uint8_t>> sent_;
    std::vector<std::string> created_;   // links a recorded RTM_NEWLINK names
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
