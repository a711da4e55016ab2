#pragma once
// The control socket: a UNIX stream socket (mode 0600), one JSON object per line, served by
// a thread of its own off the forwarding core. Protocol: src/fwdctl/client.hpp.
#include <sched.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fwdctl/lease.hpp"
#include "common/result.hpp"
#include "forwarder.hpp"
#include "profile/profile.hpp"

struct rte_mempool;

namespace netchaos::fwd {

// Which impairment goes to which direction. direction "both" (or absent): egress -> 0to1,
// ingress -> 1to0, a missing side is pass-through. "0to1"/"1to0": the profile's egress (or,
// lacking one, ingress) impairment on that direction only; the other keeps its model.
// Each [[class]] likewise: its egress on 0to1 and ingress on 1to0, or for one direction its
// egress (lacking one, its ingress); a class with nothing there passes on that direction.
struct Assignment {
    std::optional<profile::Impairment> imp[2];
    std::vector<std::optional<profile::Impairment>> cls[2];   // per class, in p.classes order
    bool touch[2] = {false, false};
};
Result<Assignment> assign(const profile::Profile& p, const std::string& direction);

// Compiles one direction's impairment (or pass-through) into what the lcore swaps in.
Result<DirModel> compile_dir(const std::optional<profile::Impairment>& imp, const std::string& profile_name,
                             const char* side, std::uint32_t capacity);

// Parses TOML text into the two directions' models (nothing is applied).
Result<std::array<std::optional<DirModel>, 2>> build_models(const std::string& toml, const std::string& name,
                                                            const std::string& direction, std::uint32_t capacity);

struct ControlOptions {
    std::filesystem::path socket;
    std::uint32_t queue_capacity = 0;
    rte_mempool* pool = nullptr;
    double rate_hint_pps = 0;
    std::string engine_kind;   // "fault": reported in stats so a test can tell which engine ran
    std::array<std::uint16_t, 2> ports{0, 1};
    MalformedPolicy malformed = MalformedPolicy::forward;   // with the model: whether frames are read
    // Hostile or stuck clients (sockets are root-only, but a stuck script is enough): a
    // client is closed when it has made no progress for idle_timeout, when its unsent
    // replies pass out_cap (it sends but never reads), or when one request line passes
    // in_cap. At max_clients the least recently active client makes room for a new one, so
    // idle connections cannot lock anyone out.
    std::chrono::milliseconds idle_timeout{10'000};
    std::size_t max_clients = 16;
    std::size_t out_cap = 1u << 20;
    std::size_t in_cap = 4u << 20;
    // Told the models in force at start() and after every switch (on the control thread):
    // the exporter's profile info and requested-delay gauges.
    std::function<void(const std::array<DirModel, 2>&)> on_models;
    std::string rx_clock = "tsc";   // rx times from "tsc" (at the rx burst), "nic" (hw stamps) or "nic+tsc"
    std::int64_t stall_ns = 500'000;   // --stall: what the lcores count as a stall (stats say it)
};

// The cpus other than the forwarding lcores' into out: where the control and HTTP threads go.
// False when the lcores take every cpu (then those threads share them, e.g. 2 lcores on 2 cpus).
bool cpus_except(const std::vector<int>& forwarding_cpus, cpu_set_t& out);

class ControlServer {
public:
    ControlServer(Shared& sh, ControlOptions opt, std::array<DirModel, 2> current);
    ~ControlServer();
    Result<void> start(const std::vector<int>& forwarding_cpus);   // binds the socket, starts the thread
    void stop();                              // joins the thread, removes the socket if still ours
    nlohmann::json handle(const nlohmann::json& req);   // one request -> one reply
    nlohmann::json stats();
    void print_stats_every(std::chrono::milliseconds every) { stats_every_ = every; }
private:
    void serve();
    Result<void> publish(std::array<std::optional<DirModel>, 2> next);
    void expire_lease();
    nlohmann::json lease_json() const;
    nlohmann::json lanes_json() const;
    nlohmann::json load(const nlohmann::json& req);
    fwdctl::Lease<std::array<std::optional<DirModel>, 2>> lease_;   // apply --for (src/fwdctl/lease.hpp)
    dev_t sock_dev_ = 0;
    ino_t sock_ino_ = 0;
    Shared& sh_;
    ControlOptions opt_;
    std::array<DirModel, 2> current_;
    std::array<Snapshot, 2> base_{};
    // Per-class counters (rx, dropped_fault, held, held_sum_us) at the last reset or at the
    // last load of that direction: a new profile's classes start from zero.
    using ClassCounts = std::array<std::array<std::uint64_t, 4>, profile::max_classes + 1>;
    std::array<ClassCounts, 2> cls_base_{};
    ClassCounts class_counts(std::size_t d) const;
    std::uint64_t base_stalls_ = 0, base_stall_ns_ = 0;
    int listen_fd_ = -1;
    std::thread thread_;
    std::chrono::milliseconds stats_every_{0};
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace netchaos::fwd
