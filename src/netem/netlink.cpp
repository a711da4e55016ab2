#include "netem/netlink.hpp"

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace netchaos::netem {

void Netlink::Close::operator()(mnl_socket* s) const { mnl_socket_close(s); }

Netlink::Netlink(mnl_socket* s) : sock_(s), portid_(mnl_socket_get_portid(s)) {
    seq_ = static_cast<std::uint32_t>(::time(nullptr));
}

Netlink::~Netlink() = default;

Result<Netlink> Netlink::open() {
    mnl_socket* s = mnl_socket_open(NETLINK_ROUTE);
    if (!s) return make_error(std::string("netlink socket: ") + std::strerror(errno));
    int one = 1;
    // Extended acks carry the kernel's own explanation ("Specified qdisc kind is unknown").
    mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof one);
    // Errors need not echo our (up to 64 KiB, with a delay table) request back.
    mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof one);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        mnl_socket_close(s);
        return make_error(std::string("netlink bind: ") + std::strerror(e));
    }
    return Netlink(s);
}

namespace {

// NLMSG_ERROR -> Ack, reading NLMSGERR_ATTR_MSG from the TLVs after the (capped) request.
Ack parse_error(const nlmsghdr* nlh) {
    Ack a;
    auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    a.error = -err->error;
    if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return a;
    std::size_t off = sizeof(nlmsgerr);
    if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
    auto* base = static_cast<const char*>(mnl_nlmsg_get_payload(nlh));
    std::size_t total = nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
    while (off + sizeof(nlattr) <= total) {
        auto* at = reinterpret_cast<const nlattr*>(base + off);
        if (at->nla_len < sizeof(nlattr) || off + at->nla_len > total) break;
        if ((at->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const char* s = reinterpret_cast<const char*>(at) + MNL_ATTR_HDRLEN;
            a.extack.assign(s, strnlen(s, at->nla_len - MNL_ATTR_HDRLEN));
            while (!a.extack.empty() && (a.extack.back() == '\n' || a.extack.back() == '.'))
                a.extack.pop_back();
        }
        off += MNL_ALIGN(at->nla_len);
    }
    return a;
}

}  // namespace

namespace {

// Sends `msg` and feeds every reply with its seq to `on` until `on` returns an Ack.
template <class F>
Ack exchange(mnl_socket* sock, std::vector<std::uint8_t>& msg, std::size_t bufsize, F on) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(msg.data());
    const std::uint32_t seq = nlh->nlmsg_seq;
    if (mnl_socket_sendto(sock, msg.data(), nlh->nlmsg_len) < 0) return Ack{errno, {}};
    std::vector<char> buf(bufsize);
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(sock, buf.data(), buf.size());
        if (n < 0) return Ack{errno, {}};
        int len = static_cast<int>(n);
        for (auto* h = reinterpret_cast<const nlmsghdr*>(buf.data()); mnl_nlmsg_ok(h, len);
             h = mnl_nlmsg_next(h, &len)) {
            if (h->nlmsg_seq != seq) continue;   // a stale answer to an earlier request
            if (std::optional<Ack> a = on(h)) return *a;
        }
    }
}

}  // namespace

Ack Netlink::transact(std::vector<std::uint8_t> msg) {
    reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_flags |= NLM_F_ACK;
    return exchange(sock_.get(), msg, MNL_SOCKET_BUFFER_SIZE, [](const nlmsghdr* h) -> std::optional<Ack> {
        if (h->nlmsg_type == NLMSG_ERROR) return parse_error(h);
        return std::nullopt;
    });
}

Ack Netlink::dump(std::vector<std::uint8_t> msg, const std::function<void(const nlmsghdr*)>& each) {
    reinterpret_cast<nlmsghdr*>(msg.data())->nlmsg_flags |= NLM_F_DUMP;
    // One dump batch is up to 32 KiB (MNL_SOCKET_DUMP_SIZE in newer libmnl).
    return exchange(sock_.get(), msg, 32768, [&](const nlmsghdr* h) -> std::optional<Ack> {
        if (h->nlmsg_type == NLMSG_DONE) return Ack{};
        if (h->nlmsg_type == NLMSG_ERROR) {
            Ack a = parse_error(h);
            if (a.error != 0) return a;
            return std::nullopt;
        }
        each(h);
        return std::nullopt;
    });
}

int Netlink::ifindex(const std::string& dev) { return static_cast<int>(if_nametoindex(dev.c_str())); }

Ack RecordingSender::transact(std::vector<std::uint8_t> msg) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(msg.data());
    nlh->nlmsg_flags |= NLM_F_ACK;
    if (nlh->nlmsg_type == RTM_NEWLINK) {
        mnl_attr_parse(nlh, sizeof(ifinfomsg), [](const nlattr* a, void* data) {
            if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                static_cast<std::vector<std::string>*>(data)->push_back(mnl_attr_get_str(a));
            return MNL_CB_OK;
        }, &created_);
    }
    sent_.push_back(std::move(msg));
    return Ack{};
}

int RecordingSender::ifindex(const std::string& dev) {
    if (int i = reads_.ifindex(dev)) return i;
    for (const auto& c : created_)
        if (c == dev) return placeholder_ifindex;
    return 0;
}

Error map_error(const Ack& ack, const Context& ctx) {
    const std::string ext = ack.extack.empty() ? std::string() : ": " + ack.extack;
    switch (ack.error) {
    case ENODEV:
        return make_error("no such interface: " + std::string(ctx.dev));
    case EPERM:
    case EACCES:
        return make_error(std::string(ctx.what) + " on " + std::string(ctx.dev) +
                              ": needs CAP_NET_ADMIN" + ext);
    default:
        break;
    }
    // The kernel answers ENOENT "Specified qdisc kind is unknown" once its request_module
    // for sch_netem failed; older kernels said EINVAL/ENOENT without an extack.
    if (ctx.kind == "netem" && (ack.error == ENOENT || ack.error == EINVAL) &&
        (ack.extack.empty() || ack.extack.find("unknown") != std::string::npos))
        return make_error(std::string(no_netem_message));
    if (ctx.kind == "ifb" && ack.error == EOPNOTSUPP)
        return make_error("this kernel has no ifb device (CONFIG_IFB); --ingress needs it" + ext);
    return make_error(std::string(ctx.what) + " on " + std::string(ctx.dev) + ": " +
                          std::strerror(ack.error) + ext);
}

}  // namespace netchaos::netem
