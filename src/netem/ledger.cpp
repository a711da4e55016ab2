#include "netem/ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

}  // namespace

std::string to_json(const Ledger& l) {
    json steps = json::array();
    for (const auto& s : l.steps) {
        json j{{"kind", kind_name(s.kind)}, {"dev", s.dev}, {"done", s.done}};
        if (s.kind == StepKind::root_qdisc) {
            j["prev"] = s.prev ? json{{"kind", s.prev->kind}, {"handle", s.prev->handle},
                                      {"options_hex", hex(s.prev->options)}}
                               : json(nullptr);
        }
        if (s.kind == StepKind::netem || s.kind == StepKind::filter || s.kind == StepKind::tc_class) {
            j["parent"] = s.parent;
            j["handle"] = s.handle;
        }
        if (!s.side.empty()) j["side"] = s.side;
        steps.push_back(std::move(j));
    }
    json j{{"dev", l.dev},           {"layout", l.layout},
           {"profile", l.profile},   {"applied", l.applied},   {"applied_from", l.applied_from},
           {"complete", l.complete},
           {"watchdog_pid", l.watchdog_pid}, {"generation", l.generation},
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
        l.generation = j.value("generation", std::uint64_t{0});
        for (const auto& js : j.at("steps")) {
            Step s;
            auto k = kind_from(js.at("kind").get<std::string>());
            if (!k) return make_error("ledger: unknown step kind " + js.at("kind").dump());
            s.kind = *k;
            s.dev = js.at("dev").get<std::string>();
            s.done = js.value("done", false);
            s.parent = js.value("parent", 0u);
            s.handle = js.value("handle", 0u);
            s.side = js.value("side", "");
            if (js.contains("prev") && !js["prev"].is_null()) {
                QdiscSnapshot p;
                p.kind = js["prev"].at("kind").get<std::string>();
                p.handle = js["prev"].at("handle").get<std::uint32_t>();
                auto o = unhex(js["prev"].value("options_hex", ""));
                if (!o) return make_error("ledger: bad options_hex");
                p.options = *o;
                s.prev = std::move(p);
            }
            l.steps.push_back(std::move(s));
        }
        return l;
    } catch (const std::exception& e) {
        return make_error(std::string("ledger: ") + e.what());
    }
}

fs::path ledger_dir() {
    const char* env = std::getenv("NETCHAOS_RUN_DIR");
    fs::path base = env && *env ? fs::path(env) : fs::path("/run/netchaos");
    struct stat st {};
    unsigned long ino = ::stat("/proc/self/ns/net", &st) == 0 ? st.st_ino : 0;
    return base / "ledger" / ("net" + std::to_string(ino));
}

fs::path ledger_path(const std::string& dev) { return ledger_dir() / (dev + ".json"); }

Result<std::optional<Ledger>> load_ledger(const std::string& dev) {
    std::ifstream in(ledger_path(dev));
    if (!in) return std::optional<Ledger>{};
    std::stringstream ss;
    ss << in.rdbuf();
    auto l = ledger_from_json(ss.str());
    if (!l) return make_error(ledger_path(dev).string() + ": " + l.error().message);
    return std::optional<Ledger>(std::move(*l));
}

Result<void> save_ledger(const Ledger& l) {
    std::error_code ec;
    fs::create_directories(ledger_dir(), ec);
    if (ec) return make_error("ledger: " + ledger_dir().string() + ": " + ec.message());
    fs::path p = ledger_path(l.dev), tmp = p;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << to_json(l);
        out.flush();
        if (!out) return make_error("ledger: cannot write " + tmp.string());
    }
    fs::rename(tmp, p, ec);
    if (ec) return make_error("ledger: rename " + p.string() + ": " + ec.message());
    return {};
}

void remove_ledger(const std::string& dev) {
    std::error_code ec;
    fs::remove(ledger_path(dev), ec);
    fs::remove(ledger_dir(), ec);   // only if empty: nothing is left behind in /run
}

std::vector<std::string> ledger_devices() {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(ledger_dir(), ec))
        if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
    std::sort(out.begin(), out.end());
    return out;
}

Result<LedgerLock> LedgerLock::acquire(const std::string& dev) {
    std::error_code ec;
    fs::create_directories(ledger_dir(), ec);
    (void)dev;   // one lock per namespace directory: no lock files are left behind
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
