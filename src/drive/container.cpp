#include "drive/container.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "experiment/process.hpp"

namespace netchaos::drive {

namespace {
bool crictl_format(const std::string& runtime) {
    return std::filesystem::path(runtime).filename().string().find("crictl") != std::string::npos;
}

// The JSON document in the output: runtimes print warnings around it (run_capture merges
// stderr into stdout), so take from the first line that opens one to the last closing bracket.
std::string json_part(const std::string& out) {
    std::size_t start = std::string::npos;
    for (std::size_t i = 0; i < out.size(); i = out.find('\n', i) == std::string::npos ? out.size() : out.find('\n', i) + 1)
        if (out[i] == '{' || out[i] == '[') {
            start = i;
            break;
        }
    if (start == std::string::npos) return {};
    const std::size_t end = out.find_last_of("}]");
    return end == std::string::npos || end < start ? std::string{} : out.substr(start, end - start + 1);
}

std::string first_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (auto nl = s.find('\n'); nl != std::string::npos) s = s.substr(0, nl) + " ...";
    return s.empty() ? "(no output)" : s;
}

bool on_path(const std::string& name) {
    if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t i = 0; i <= p.size();) {
        std::size_t j = p.find(':', i);
        if (j == std::string::npos) j = p.size();
        const std::string dir = p.substr(i, j - i);
        if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
        i = j + 1;
    }
    return false;
}
}  // namespace

Result<int> pid_of_inspect(const std::string& output, const std::string& id, const std::string& runtime) {
    const std::string what = runtime + " inspect " + id;
    auto j = nlohmann::json::parse(json_part(output), nullptr, false);
    if (j.is_discarded()) return make_error(what + ": no JSON in its output: " + first_line(output));
    long long pid = 0;
    bool running = true;
    if (crictl_format(runtime)) {
        if (!j.is_object() || !j.contains("info") || !j["info"].is_object() || !j["info"].contains("pid"))
            return make_error(what + ": no info.pid in its output (crictl inspect -o json prints it; is this a container, not a pod sandbox?)");
        pid = j["info"].value("pid", 0LL);
        if (j.contains("status") && j["status"].is_object())
            running = j["status"].value("state", "CONTAINER_RUNNING") == "CONTAINER_RUNNING";
    } else {
        if (j.is_array()) {
            if (j.empty()) return make_error(what + ": no such container (empty result)");
            if (j.size() > 1) return make_error(what + ": " + std::to_string(j.size()) + " containers match: give the full ID", ErrorKind::bad_input);
            j = j[0];
        }
        if (!j.is_object() || !j.contains("State") || !j["State"].is_object() || !j["State"].contains("Pid"))
            return make_error(what + ": no State.Pid in its output");
        pid = j["State"].value("Pid", 0LL);
        running = j["State"].value("Running", true);
    }
    if (!running || pid <= 0)
        return make_error("container " + id + " is not running (" + runtime + " reports pid " + std::to_string(pid) + "): it has no network namespace to enter");
    if (pid > 4194304) return make_error(what + ": pid " + std::to_string(pid) + " is out of range");
    return static_cast<int>(pid);
}

Result<int> container_pid(const std::string& id, const std::string& runtime_arg) {
    // An ID or name, never an option or a path: it goes on a runtime's command line.
    auto ok_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'; };
    if (id.empty() || id.size() > 256 || !std::isalnum(static_cast<unsigned char>(id[0])) ||
        !std::all_of(id.begin(), id.end(), ok_char))
        return make_error("--container: \"" + id + "\" is not a container ID or name (letters, digits, '_', '.', '-')", ErrorKind::bad_input);
    std::string runtime = runtime_arg;
    if (runtime.empty())
        if (const char* env = std::getenv("NETCHAOS_CONTAINER_RUNTIME"); env && *env) runtime = env;
    const std::vector<std::string> tried = runtime.empty() ? std::vector<std::string>{"crictl", "podman", "docker"}
                                                           : std::vector<std::string>{runtime};
    std::string why;
    for (const auto& rt : tried) {
        if (!on_path(rt)) {
            why += (why.empty() ? "" : "; ") + rt + ": not installed (not on PATH)";
            continue;
        }
        std::string out;
        experiment::Argv argv{rt, "inspect"};
        if (crictl_format(rt)) argv.insert(argv.end(), {"-o", "json"});
        argv.push_back(id);
        auto st = experiment::run_capture(argv, out, std::chrono::seconds(10));
        if (!st) {
            why += (why.empty() ? "" : "; ") + rt + ": " + st.error().message;
            continue;
        }
        if (*st != 0) {
            why += (why.empty() ? "" : "; ") + rt + " inspect exited " + std::to_string(*st) + ": " + first_line(out);
            continue;
        }
        // The runtime knows the container: its answer (a pid, or why there is none) is final.
        return pid_of_inspect(out, id, rt);
    }
    return make_error("container " + id + ": not found through " + (tried.size() > 1 ? "any container runtime" : tried[0]) + " (" + why + ")");
}

}  // namespace netchaos::drive
