// Rebuilding a dumped tc tree: what a dump says vs what a create accepts, and the order of
// the creates. Also the ledger's input checks (device names, symlinks, process identity).
#include <fcntl.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "netem/ledger.hpp"
#include "netem/tree.hpp"

using namespace netchaos;
using namespace netchaos::netem;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put(Bytes& b, std::uint16_t type, const void* p, std::size_t n) {
    const std::uint16_t len = static_cast<std::uint16_t>(4 + n);
    const std::size_t at = b.size();
    b.resize(at + ((len + 3) & ~3u), 0);
    std::memcpy(b.data() + at, &len, 2);
    std::memcpy(b.data() + at + 2, &type, 2);
    std::memcpy(b.data() + at + 4, p, n);
}
void put32(Bytes& b, std::uint16_t type, std::uint32_t v) { put(b, type, &v, 4); }

// The value of attribute `type` in a flat list, if present.
std::optional<Bytes> find(const Bytes& b, std::uint16_t type) {
    std::size_t off = 0;
    while (off + 4 <= b.size()) {
        std::uint16_t len, t;
        std::memcpy(&len, b.data() + off, 2);
        std::memcpy(&t, b.data() + off + 2, 2);
        if (len < 4) break;
        if ((t & NLA_TYPE_MASK) == type) return Bytes(b.begin() + off + 4, b.begin() + off + len);
        off += (len + 3) & ~3u;
    }
    return std::nullopt;
}

std::uint32_t u32(const Bytes& b) {
    std::uint32_t v;
    std::memcpy(&v, b.data(), 4);
    return v;
}

TcObject qdisc(std::string kind, std::uint32_t parent, std::uint32_t handle, Bytes opts = {}) {
    return TcObject{TcType::qdisc, parent, handle, 0, std::move(kind), std::nullopt, std::move(opts)};
}
TcObject tclass(std::uint32_t parent, std::uint32_t handle) {
    return TcObject{TcType::tclass, parent, handle, 0, "htb", std::nullopt, {}};
}

const tcmsg* tcm(const Bytes& m) { return reinterpret_cast<const tcmsg*>(m.data() + NLMSG_HDRLEN); }

}  // namespace

TEST_CASE("an htb qdisc as dumped (version 0x30011) is created with version 3") {
    tc_htb_glob g{};
    g.version = 0x30011;
    g.rate2quantum = 5;
    g.defcls = 0x20;
    g.direct_pkts = 17;
    Bytes o;
    put(o, TCA_HTB_INIT, &g, sizeof g);
    put32(o, TCA_HTB_DIRECT_QLEN, 32);
    auto c = create_options(qdisc("htb", TC_H_ROOT, 0x10000, o));
    auto init = find(c.options, TCA_HTB_INIT);
    REQUIRE(init);
    tc_htb_glob back;
    std::memcpy(&back, init->data(), sizeof back);
    CHECK(back.version == 3);
    CHECK(back.rate2quantum == 5);
    CHECK(back.defcls == 0x20);
    CHECK(back.direct_pkts == 0);
    CHECK(u32(*find(c.options, TCA_HTB_DIRECT_QLEN)) == 32);
}

TEST_CASE("u32: the kernel's not_in_hw flag and counters are dropped, root-table nodes keep their number") {
    Bytes o;
    put32(o, TCA_U32_CLASSID, 0x10010);
    put32(o, TCA_U32_HASH, 0x80000000u);
    put32(o, TCA_U32_FLAGS, TCA_CLS_FLAGS_NOT_IN_HW);
    std::uint64_t pcnt[2] = {5, 6};
    put(o, TCA_U32_PCNT, pcnt, sizeof pcnt);
    TcObject f{TcType::filter, 0x10000, 0x80000801u, (1u << 16) | 0x0008, "u32", 0u, o};
    auto c = create_options(f);
    CHECK_FALSE(c.skip);
    CHECK_FALSE(find(c.options, TCA_U32_FLAGS));   // only skip_hw/skip_sw may be sent
    CHECK_FALSE(find(c.options, TCA_U32_PCNT));
    CHECK_FALSE(find(c.options, TCA_U32_HASH));
    CHECK(c.handle == 0x801u);
    CHECK(u32(*find(c.options, TCA_U32_CLASSID)) == 0x10010);
    // skip_sw survives.
    Bytes o2;
    put32(o2, TCA_U32_FLAGS, TCA_CLS_FLAGS_SKIP_SW | TCA_CLS_FLAGS_NOT_IN_HW);
    TcObject f2 = f;
    f2.options = o2;
    CHECK(u32(*find(create_options(f2).options, TCA_U32_FLAGS)) == TCA_CLS_FLAGS_SKIP_SW);
    // The root hash table of a prio is the kernel's: not created; a table of the user's is.
    Bytes ht;
    put32(ht, TCA_U32_DIVISOR, 1);
    CHECK(create_options(TcObject{TcType::filter, 0x10000, 0x80000000u, 0, "u32", 0u, ht}).skip);
    CHECK_FALSE(create_options(TcObject{TcType::filter, 0x10000, 0x00200000u, 0, "u32", 0u, ht}).skip);
}

TEST_CASE("codel times read back as floor(t * 1.024) us are sent so they read back the same") {
    for (std::uint32_t us : {1u, 17u, 250u, 3999u, 4000u, 5000u, 100000u, 123457u}) {
        const std::uint64_t t = (std::uint64_t(us) * 1000) >> 10;    // kernel: us -> codel time
        const auto dumped = static_cast<std::uint32_t>((t << 10) / 1000);   // kernel: dump
        Bytes o;
        put32(o, TCA_FQ_CODEL_TARGET, dumped);
        auto c = create_options(qdisc("fq_codel", TC_H_ROOT, 0x30000, o));
        const std::uint32_t sent = u32(*find(c.options, TCA_FQ_CODEL_TARGET));
        const std::uint64_t t2 = (std::uint64_t(sent) * 1000) >> 10;
        CHECK(t2 == t);
    }
}

TEST_CASE("a tree is rebuilt root first, each class and qdisc after its parent, filters last") {
    // Dump order is not creation order: the leaf qdisc and a child class come first here.
    std::vector<TcObject> objs{
        qdisc("htb", TC_H_ROOT, 0x10000),
        qdisc("fq_codel", 0x10010, 0x100000),
        tclass(0x10001, 0x10010),
        TcObject{TcType::filter, 0x10000, 0x80000800u, (1u << 16) | 0x0008, "u32", 0u, {}},
        tclass(TC_H_ROOT, 0x10001),   // htb's top-level class reports TC_H_ROOT as its parent
        tclass(0x10001, 0x10020),
    };
    std::uint32_t seq = 0;
    std::vector<std::string> unplaced;
    auto msgs = create_messages(objs, 7, seq, &unplaced);
    CHECK(unplaced.empty());
    REQUIRE(msgs.size() == 6);
    auto type = [&](int i) { return reinterpret_cast<const nlmsghdr*>(msgs[i].data())->nlmsg_type; };
    CHECK(type(0) == RTM_NEWQDISC);
    CHECK((reinterpret_cast<const nlmsghdr*>(msgs[0].data())->nlmsg_flags & NLM_F_REPLACE));
    CHECK(tcm(msgs[1])->tcm_handle == 0x10001u);
    CHECK(tcm(msgs[1])->tcm_parent == 0x10000u);
    CHECK(type(5) == RTM_NEWTFILTER);
    std::vector<std::uint32_t> order;
    for (auto& m : msgs) order.push_back(tcm(m)->tcm_handle);
    auto pos = [&](std::uint32_t h) { return std::find(order.begin(), order.end(), h) - order.begin(); };
    CHECK(pos(0x10010) < pos(0x100000));   // the leaf qdisc after its class
    CHECK(seq == 6);
    // A child whose parent is missing is reported, not sent.
    objs.push_back(qdisc("tbf", 0x90001, 0x50000));
    seq = 0;
    unplaced.clear();
    msgs = create_messages(objs, 7, seq, &unplaced);
    CHECK(msgs.size() == 6);
    REQUIRE(unplaced.size() == 1);
    CHECK(unplaced[0] == "qdisc tbf 5: parent 9:1");
}

TEST_CASE("prio's own classes and the kernel's default qdiscs are not created") {
    std::vector<TcObject> objs{qdisc("prio", TC_H_ROOT, 0x50000),
                               TcObject{TcType::tclass, 0x50000, 0x50001, 0, "prio", std::nullopt, {}},
                               qdisc("tbf", 0x50001, 0x510000)};
    std::uint32_t seq = 0;
    std::vector<std::string> unplaced;
    auto msgs = create_messages(objs, 3, seq, &unplaced);
    CHECK(unplaced.empty());
    REQUIRE(msgs.size() == 2);   // prio, then tbf under its band 5:1
    CHECK(tcm(msgs[1])->tcm_parent == 0x50001u);
    // A default root (handle 0) is not built: deleting what replaced it brings it back.
    seq = 0;
    CHECK(create_messages({qdisc("mq", TC_H_ROOT, 0), qdisc("pfifo_fast", 0x1, 0)}, 3, seq).empty());
    CHECK(uses_reserved_handle({qdisc("tbf", TC_H_ROOT, 0x6E650000u)}));
    CHECK(uses_reserved_handle({qdisc("tbf", TC_H_ROOT, 0x6E740000u)}));   // the last class tree handle
    CHECK_FALSE(uses_reserved_handle({qdisc("tbf", TC_H_ROOT, 0x6E750000u)}));
}

TEST_CASE("device names are Linux's: no path can leave the ledger directory") {
    CHECK(validate_dev("veth0"));
    CHECK(validate_dev("ifb-averylongn0"));   // 15 bytes
    for (const char* bad : {"", ".", "..", "../../../x", "a/b", "sixteen-bytes-xx", "a b", "a:1", "a\nb"}) {
        auto r = validate_dev(bad);
        CHECK_FALSE(r);
        if (!r) CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    }
    CHECK_FALSE(ledger_from_json(R"({"dev":"../x","steps":[]})"));
    CHECK_FALSE(ledger_from_json(R"({"dev":"v0","steps":[{"kind":"ifb_link","dev":"../../etc"}]})"));
}

TEST_CASE("the ledger's temp file is never written through a planted symlink") {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/nc-ledger-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    const fs::path base = tmpl;
    setenv("NETCHAOS_RUN_DIR", tmpl, 1);
    Ledger l;
    l.dev = "v0";
    const auto ns = current_netns();
    l.netns_inode = ns.inode;
    l.netns_cookie = ns.cookie;
    REQUIRE(save_ledger(l));
    struct stat st {};
    REQUIRE(::stat(ledger_dir().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    const fs::path victim = base / "victim";
    { std::ofstream(victim) << "precious\n"; }
    fs::create_symlink(victim, fs::path(ledger_path("v0").string() + ".tmp"));
    l.profile = "second";
    REQUIRE(save_ledger(l));
    std::ifstream in(victim);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(text == "precious\n");
    auto back = load_ledger("v0");
    REQUIRE(back);
    REQUIRE(*back);
    CHECK((*back)->profile == "second");
    // A symlinked ledger is not read through either.
    fs::remove(ledger_path("v0"));
    fs::create_symlink(victim, ledger_path("v0"));
    CHECK_FALSE(load_ledger("v0"));
    fs::remove_all(base);
    unsetenv("NETCHAOS_RUN_DIR");
}

TEST_CASE("a process is known by pid and start time") {
    const auto me = process_start_time(getpid());
    CHECK(me > 0);
    CHECK(same_process(getpid(), me));
    CHECK_FALSE(same_process(getpid(), me + 1));
    CHECK_FALSE(same_process(getpid(), 0));
    CHECK(process_start_time(0) == 0);
}
