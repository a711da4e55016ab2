#include "netem/ledger.hpp"
#include "profile/units.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

namespace netchaos::netem {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kind_name(StepKind k) {
    switch (k) {
    case StepKind::root_qdisc: return "root_qdisc";
    case StepKind::ifb_link: return "ifb_link";
    case StepKind::ingress_qdisc: return "ingress_qdisc";
    case StepKind::tc_class: return "class";
    case StepKind::filter: return "filter";
    case StepKind::netem: return "netem";
    }
    return "?";
}

std::optional<StepKind> kind_from(const std::string& s) {
    for (auto k : {StepKind::root_qdisc, StepKind::ifb_link, StepKind::ingress_qdisc,
                   StepKind::tc_class, StepKind::filter, StepKind::netem})
        if (s == kind_name(k)) return k;
    return std::nullopt;
}

std::string hex(const std::vector<std::uint8_t>& b) {
    static const char* d = "0123456789abcdef";
    std::string s;
    for (auto c : b) { s += d[c >> 4]; s += d[c & 15]; }
    return s;
}

std::optional<std::vector<std::uint8_t>> unhex(const std::string& s) {
    if (s.size() % 2) return std::nullopt;
    std::vector<std::uint8_t> b;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        char* end = nullptr;
        std::string byte = s.substr(i, 2);
        long v = std::strtol(byte.c_str(), &end, 16);
        if (*end) return std::nullopt;
        b.push_back(static_cast<std::uint8_t>(v));
    }
    return b;
}

const char* type_name(TcType t) {
    return t == TcType::qdisc ? "qdisc" : t == TcType::tclass ? "class" : "filter";
}

json object_json(const TcObject& o) {
    json j{{"type", type_name(o.type)}, {"kind", o.kind},     {"parent", o.parent},
           {"handle", o.handle},        {"info", o.info},     {"options_hex", hex(o.options)}};
    if (o.chain) j["chain"] = *o.chain;
    return j;
}

TcObject object_from(const json& j) {
    TcObject o;
    const std::string t = j.at("type").get<std::string>();
    if (t == "qdisc") o.type = TcType::qdisc;
    else if (t == "class") o.type = TcType::tclass;
    else if (t == "filter") o.type = TcType::filter;
    else throw std::runtime_error("unknown tree object type " + t);
    o.kind = j.at("kind").get<std::string>();
    o.parent = j.at("parent").get<std::uint32_t>();
    o.handle = j.at("handle").get<std::uint32_t>();
    o.info = j.value("info", 0u);
    if (j.contains("chain")) o.chain = j["chain"].get<std::uint32_t>();
    auto b = unhex(j.at("options_hex").get<std::string>());
    if (!b) throw std::runtime_error("bad options_hex");
    o.options = *b;
    return o;
}

json snapshot_json(const std::optional<QdiscSnapshot>& p) {
    if (!p) return json(nullptr);
    json children = json::array();
    for (const auto& c : p->children) children.push_back(object_json(c));
    return json{{"kind", p->kind}, {"handle", p->handle}, {"options_hex", hex(p->options)},
                {"children", std::move(children)}};
}

std::optional<QdiscSnapshot> snapshot_from(const json& j) {
    if (j.is_null()) return std::nullopt;
    QdiscSnapshot p;
    p.kind = j.at("kind").get<std::string>();
    p.handle = j.at("handle").get<std::uint32_t>();
    auto o = unhex(j.value("options_hex", ""));
    if (!o) throw std::runtime_error("bad options_hex");
    p.options = *o;
    for (const auto& c : j.value("children", json::array())) p.children.push_back(object_from(c));
    return p;
}

}  // namespace

std::string to_json(const Ledger& l) {
    json steps = json::array();
    for (const auto& s : l.steps) {
        json j{{"kind", kind_name(s.kind)}, {"dev", s.dev}, {"done", s.done}};
        if (s.kind == StepKind::root_qdisc || s.kind == StepKind::ingress_qdisc) j["prev"] = snapshot_json(s.prev);
        j["parent"] = s.parent;
        j["handle"] = s.handle;
        if (s.info) j["info"] = s.info;
        if (!s.side.empty()) j["side"] = s.side;
        if (!s.created.empty()) j["created"] = s.created;
        steps.push_back(std::move(j));
    }
    json j{{"dev", l.dev},           {"layout", l.layout},
           {"profile", l.profile},   {"applied", l.applied},   {"applied_from", l.applied_from},
           {"complete", l.complete},
           {"watchdog_pid", l.watchdog_pid}, {"watchdog_start", l.watchdog_start},
           {"generation", l.generation},
           {"holder_pid", l.holder_pid},     {"holder_start", l.holder_start},
           {"since", l.since},
           {"netns", {{"inode", l.netns_inode}, {"cookie", l.netns_cookie}, {"dev", l.netns_dev}}},
           {"target", l.target},
           {"steps", std::move(steps)}};
    return j.dump(2) + "\n";
}

Result<Ledger> ledger_from_json(const std::string& text) {
    try {
        json j = json::parse(text);
        Ledger l;
        l.dev = j.at("dev").get<std::string>();
        l.layout = j.value("layout", "");
        l.profile = j.value("profile", "");
        l.applied = j.value("applied", "");
        l.applied_from = j.value("applied_from", "");
        l.complete = j.value("complete", false);
        l.watchdog_pid = j.value("watchdog_pid", 0);
        l.watchdog_start = j.value("watchdog_start", std::uint64_t{0});
        l.generation = j.value("generation", std::uint64_t{0});
        l.holder_pid = j.value("holder_pid", 0);
        l.holder_start = j.value("holder_start", std::uint64_t{0});
        l.since = j.value("since", std::int64_t{0});
        if (j.contains("netns")) {
            l.netns_inode = j["netns"].at("inode").get<std::uint64_t>();
            l.netns_cookie = j["netns"].at("cookie").get<std::uint64_t>();
            l.netns_dev = j["netns"].value("dev", std::uint64_t{0});
        }
        l.target = j.value("target", "");
        if (auto v = validate_dev(l.dev); !v) return make_error("ledger: " + v.error().message);
        for (const auto& js : j.at("steps")) {
            Step s;
            auto k = kind_from(js.at("kind").get<std::string>());
            if (!k) return make_error("ledger: unknown step kind " + js.at("kind").dump());
            s.kind = *k;
            s.dev = js.at("dev").get<std::string>();
            s.done = js.value("done", false);
            s.parent = js.value("parent", 0u);
            s.handle = js.value("handle", 0u);
            s.info = js.value("info", 0u);
            s.side = js.value("side", "");
            s.created = js.value("created", "");
            if (auto v = validate_dev(s.dev); !v) return make_error("ledger: step: " + v.error().message);
            if (js.contains("prev")) s.prev = snapshot_from(js["prev"]);
            l.steps.push_back(std::move(s));
        }
        return l;
    } catch (const std::exception& e) {
        return make_error(std::string("ledger: ") + e.what());
    }
}

Result<void> validate_dev(const std::string& dev) {
    if (auto why = profile::ifname_problem(dev); !why.empty()) return make_error(why, ErrorKind::bad_input);
    return {};
}

NetnsId current_netns() {
    NetnsId id;
    struct stat st {};
    // thread-self: `run` applies from a thread that joined the target's namespace
    // (src/drive/netns.hpp); /proc/self would name the main thread's.
    if (::stat("/proc/thread-self/ns/net", &st) == 0) id.inode = st.st_ino, id.dev = st.st_dev;
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        std::uint64_t c = 0;
        socklen_t len = sizeof c;
        if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &c, &len) == 0 && len == sizeof c) id.cookie = c;
        ::close(fd);
    }
    return id;
}

namespace {

fs::path run_base() {
    const char* env = std::getenv("NETCHAOS_RUN_DIR");
    return env && *env ? fs::path(env) : fs::path("/run/netchaos");
}

std::string dir_name(const NetnsId& id) {
    return "net" + std::to_string(id.inode) + "-" + std::to_string(id.cookie);
}

// mkdir 0700, or check that what is there is a real directory (not a symlink) of ours.
Result<void> private_dir(const fs::path& p) {
    if (::mkdir(p.c_str(), 0700) == 0) return {};
    if (errno != EEXIST) return make_error("ledger: mkdir " + p.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return make_error("ledger: " + p.string() + ": " + std::strerror(errno));
    if (!S_ISDIR(st.st_mode)) return make_error("ledger: " + p.string() + " is not a directory (a symlink?)");
    if (st.st_uid != ::geteuid()) return make_error("ledger: " + p.string() + " belongs to uid " + std::to_string(st.st_uid));
    // Made by an older version with the umask's mode: close it.
    if ((st.st_mode & 077) && ::chmod(p.c_str(), 0700) != 0)
        return make_error("ledger: chmod " + p.string() + ": " + std::strerror(errno));
    return {};
}

Result<void> make_ledger_dir() {
    fs::path base = run_base();
    std::error_code ec;
    fs::create_directories(base, ec);   // /run/netchaos itself may be shared (forwarder sockets)
    if (ec) return make_error("ledger: " + base.string() + ": " + ec.message());
    if (auto r = private_dir(base / "ledger"); !r) return r;
    return private_dir(ledger_dir());
}

}  // namespace

fs::path ledger_dir() { return run_base() / "ledger" / dir_name(current_netns()); }

fs::path ledger_path(const std::string& dev) { return ledger_dir() / (dev + ".json"); }

Result<std::optional<Ledger>> load_ledger(const std::string& dev) {
    if (auto v = validate_dev(dev); !v) return v.error();
    const fs::path p = ledger_path(dev);
    int fd = ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<Ledger>{};
        return make_error("ledger " + p.string() + ": " + std::strerror(errno) +
                          (errno == ELOOP ? " (a symlink: not ours)"
                           : errno == EACCES || errno == EPERM ? " (netchaos needs root: the ledgers are root's, 0700)"
                                                               : ""));
    }
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, std::size_t(n));
    }
    ::close(fd);
    auto l = ledger_from_json(text);
    if (!l) return make_error("ledger " + p.string() + " is corrupt (" + l.error().message + ")");
    if (l->dev != dev) return make_error("ledger " + p.string() + " is corrupt (it names device " + l->dev + ")");
    const NetnsId me = current_netns();
    if (l->netns_inode != me.inode || l->netns_cookie != me.cookie)
        return make_error("ledger " + p.string() + " is corrupt (it names network namespace net" +
                          std::to_string(l->netns_inode) + "-" + std::to_string(l->netns_cookie) + ", not this one)");
    return std::optional<Ledger>(std::move(*l));
}

Result<void> save_ledger(const Ledger& l) {
    if (auto v = validate_dev(l.dev); !v) return v.error();
    if (auto r = make_ledger_dir(); !r) return r;
    fs::path p = ledger_path(l.dev), tmp = p;
    tmp += ".tmp";
    // O_EXCL|O_NOFOLLOW: a file or symlink planted under the temp name is never written
    // through; a leftover of ours (a crash between open and rename) is unlinked, not followed.
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
        fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && attempt == 0) ::unlink(tmp.c_str());
        else if (fd < 0) return make_error("ledger: create " + tmp.string() + ": " + std::strerror(errno));
    }
    const std::string text = to_json(l);
    std::size_t off = 0;
    while (off < text.size()) {
        ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int e = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return make_error("ledger: write " + tmp.string() + ": " + std::strerror(e));
        }
        off += std::size_t(n);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), p.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return make_error("ledger: rename " + p.string() + ": " + std::strerror(e));
    }
    return {};
}

void remove_ledger(const std::string& dev) {
    if (!validate_dev(dev)) return;
    ::unlink(ledger_path(dev).c_str());
    ::rmdir(ledger_dir().c_str());   // only if empty: nothing is left behind in /run
}

std::vector<std::string> ledger_devices() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(ledger_dir(), ec)) {
        if (e.path().extension() != ".json") continue;
        std::string dev = e.path().stem().string();
        if (validate_dev(dev)) out.push_back(dev);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> discard_dead_namespace_ledgers() {
    std::vector<std::string> notes;
    const NetnsId me = current_netns();
    if (!me.cookie) return notes;   // without cookies a reused inode cannot be told apart
    const std::string mine = dir_name(me), prefix = "net" + std::to_string(me.inode);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(run_base() / "ledger", ec)) {
        const std::string name = e.path().filename().string();
        // Only this inode's directories: nsfs inodes are unique among live namespaces, so
        // another cookie (or the cookie-less name of older versions) is a dead namespace.
        if (name == mine || (name != prefix && name.rfind(prefix + "-", 0) != 0)) continue;
        std::error_code ec2;
        for (const auto& f : fs::directory_iterator(e.path(), ec2)) {
            std::string what = f.path().filename().string();
            std::ifstream in(f.path());
            std::stringstream ss;
            ss << in.rdbuf();
            if (auto l = ledger_from_json(ss.str()))
                what = l->dev + " (profile " + l->profile + (l->complete ? "" : ", incomplete") + ")";
            notes.push_back("discarded the ledger of " + what + " from a network namespace that no longer exists (" +
                            name + "; this namespace is " + mine + "): nothing was undone");
        }
        fs::remove_all(e.path(), ec2);
    }
    return notes;
}

namespace {
std::vector<TargetLedger> walk_ledgers(const std::function<bool(const Ledger&)>& keep) {
    std::vector<TargetLedger> out;
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(run_base() / "ledger", ec)) {
        if (!d.is_directory(ec) || d.is_symlink(ec)) continue;
        std::error_code ec2;
        for (const auto& f : fs::directory_iterator(d.path(), ec2)) {
            if (f.path().extension() != ".json" || f.is_symlink(ec2)) continue;
            std::ifstream in(f.path());
            std::stringstream ss;
            ss << in.rdbuf();
            auto l = ledger_from_json(ss.str());
            if (l && keep(*l)) out.push_back({f.path(), std::move(*l)});
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.file < b.file; });
    return out;
}
}  // namespace

std::vector<TargetLedger> ledgers_of_target(const std::string& target) {
    if (target.empty()) return {};
    return walk_ledgers([&](const Ledger& l) { return l.target == target; });
}

std::vector<TargetLedger> all_ledgers() {
    return walk_ledgers([](const Ledger&) { return true; });
}

void remove_ledger_file(const fs::path& file) {
    ::unlink(file.c_str());
    ::rmdir(file.parent_path().c_str());   // only if empty
}

std::uint64_t process_start_time(int pid) {
    if (pid <= 0) return 0;
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // comm may hold spaces and ')': the fields after the last ')' are fixed.
    auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(text.substr(close + 1));
    std::string f;
    for (int field = 3; field <= 22 && rest >> f; ++field)
        if (field == 22) return std::strtoull(f.c_str(), nullptr, 10);
    return 0;
}

bool same_process(int pid, std::uint64_t start) {
    return pid > 0 && start != 0 && process_start_time(pid) == start;
}

Result<LedgerLock> LedgerLock::acquire(const std::string& dev) {
    if (auto v = validate_dev(dev); !v) return v.error();
    if (auto r = make_ledger_dir(); !r) return r.error();
    // One lock per namespace directory: no lock files are left behind.
    fs::path p = ledger_dir();
    int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return make_error("ledger lock " + p.string() + ": " + std::strerror(errno));
    while (::flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return make_error("ledger lock " + p.string() + ": " + std::strerror(e));
    }
    return LedgerLock(fd);
}

LedgerLock::~LedgerLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace netchaos::netem
