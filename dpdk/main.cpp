// netchaos-fwd: a bump in the wire. Port 0 <-> port 1, a fault engine per direction, a
// release wheel keyed by TSC, live profile switches over a UNIX control socket.
//   netchaos-fwd EAL-ARGS -- [--profile FILE] [--control SOCK] [--on-exit drain|drop]
//                [--stats-interval D] [--malformed forward|drop|unchecked] [--max-frame N]
//                [--pool N] [--pool-ops NAME] [--pool-memory auto|eal|thp] [--mbuf-size N] [--rate-hint PPS] [--queue-capacity N]
//                [--preflight] [--ignore-preflight] [--lcores N]
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "control.hpp"
#include "export/fwd_exporter.hpp"
#include "export/server.hpp"
#include "forwarder.hpp"
#include "hw_rx.hpp"
#include "preflight_facts.hpp"
#include "profile/parse.hpp"
#include "sizing.hpp"
#include "thp_heap.hpp"
#include "tsc_clock.hpp"

using namespace netchaos;
using namespace netchaos::fwd;

namespace {

Shared* g_shared = nullptr;
void on_signal(int) { if (g_shared) g_shared->stop.store(true); }

struct Options {
    std::string profile;
    std::string control = "/run/netchaos/fwd.sock";
    std::string metrics_listen;
    ExitPolicy on_exit = ExitPolicy::drain;
    MalformedPolicy malformed = MalformedPolicy::forward;
    std::int64_t stats_interval_ms = 0;
    std::int64_t control_idle_ms = 10'000;
    std::size_t max_frame = 1518;
    std::uint64_t pool = 0;
    std::string pool_ops = "auto";
    std::string pool_memory = "auto";
    std::uint32_t mbuf_size = RTE_MBUF_DEFAULT_DATAROOM;
    double rate_hint = 200000;
    std::uint32_t queue_capacity = (1u << 20) + (1u << 16);
    std::uint16_t burst = 32;
    std::int64_t stall_ns = 500'000;   // loop gaps longer than this are the host's (StallWatch)
    unsigned lcores = 1;             // forwarding lcores, each with its own queue pair per port
    bool preflight = false;          // check, report, exit 0 or 4; no forwarding
    bool ignore_preflight = false;   // start even when a port check blocks
};

void usage() {
    std::puts(
        "usage: netchaos-fwd EAL-ARGS -- [options]\n"
        "  --preflight             check the machine and ports (TSC, hugepages, link, MTU, NUMA, core isolation,\n"
        "                          mbuf pool), print the findings with a fix each, exit 0 (ok) or 4 (blocking);\n"
        "                          the same report is printed at every start, which refuses to run when a port\n"
        "                          finding blocks (link down, promiscuous refused)\n"
        "  --ignore-preflight      start even when a port finding blocks\n"
        "  --profile FILE          profile applied at start (egress -> 0to1, ingress -> 1to0)\n"
        "  --control SOCK          control socket (default /run/netchaos/fwd.sock, mode 0600)\n"
        "  --control-idle D        close a control client idle (or not reading) for D (default 10s)\n"
        "  --on-exit drain|drop    on SIGINT/SIGTERM: send queued packets on time, or free them\n"
        "  --stats-interval D      print a stats JSON line every D (e.g. 1s); 0 = never\n"
        "  --metrics-listen A:P    serve Prometheus metrics on A:P/metrics, off the forwarding core\n"
        "  --malformed forward|drop  runts, truncated IP headers, oversize frames (counted either way)\n"
        "  --malformed unchecked     forward without reading frame data for it (only oversize counted)\n"
        "  --max-frame N           frames longer than N bytes are oversize (default 1518)\n"
        "  --pool N                mbufs (default: rate hint x profile max delay, capped by -m)\n"
        "  --pool-ops NAME         mempool driver: auto (default: stack, last freed first reused; ring_mp_mc with\n"
        "                          AF_XDP ports), stack, ring_mp_mc (DPDK's default) or another loaded driver;\n"
        "                          falls back to ring_mp_mc when NAME is not loaded\n"
        "  --pool-memory WHERE     the pool's memory: auto (default: thp when the EAL has no hugepages and every port\n"
        "                          is a software port such as net_null, else eal), eal (the EAL's heap), or thp\n"
        "                          (anonymous memory on transparent huge pages: fewer TLB misses with --no-huge)\n"
        "  --mbuf-size N           mbuf data room in bytes (default 2176; >= the PMD's frame)\n"
        "  --rate-hint PPS         expected packet rate for pool sizing (default 200000)\n"
        "  --queue-capacity N      release queue entries per direction (default 1114112)\n"
        "  --burst N               rx burst size (default 32, max 64)\n"
        "  --stall D               loop gaps longer than D are the host's (default 500us, at least 5us): counted\n"
        "                          as stalls, and releases they delayed counted apart from the release error\n"
        "  --lcores N              forwarding lcores (default 1): the main lcore and N-1 EAL workers (give EAL\n"
        "                          N lcores, e.g. -l 0-1), each with its own rx/tx queue on both ports, RSS on the\n"
        "                          5-tuple where the PMD has it, its own engines, wheels and stats (summed in\n"
        "                          stats). A rate is one link for all lcores; loss, delay and order are per lcore\n"
        "                          (per flow subset): a flow stays on one queue, so it keeps its order\n"
        "On a physical test bench (binding NICs to vfio-pci with scripts/fwd-bind.sh, hugepages, EAL\n"
        "arguments for PCI ports, core pinning and isolation, NUMA, systemd): docs/forwarder.md");
}

std::int64_t parse_ms(const std::string& s) {
    auto d = profile::parse_duration(s);
    if (d) return std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    return std::stoll(s) * 1000;
}

// Returns 0 to go on, otherwise an exit code.
int parse_options(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") { usage(); return -1; }
        else if (a == "--profile") o.profile = val();
        else if (a == "--control") o.control = val();
        else if (a == "--metrics-listen") {
            o.metrics_listen = val();
            if (auto l = exporter::check_listen(o.metrics_listen); !l) throw std::invalid_argument(l.error().message);
        }
        else if (a == "--on-exit") {
            const auto v = val();
            if (v != "drain" && v != "drop") throw std::invalid_argument("--on-exit drain|drop, got " + v);
            o.on_exit = v == "drain" ? ExitPolicy::drain : ExitPolicy::drop;
        } else if (a == "--malformed") {
            const auto v = val();
            if (v != "forward" && v != "drop" && v != "unchecked")
                throw std::invalid_argument("--malformed forward|drop|unchecked, got " + v);
            o.malformed = v == "forward" ? MalformedPolicy::forward : v == "drop" ? MalformedPolicy::drop : MalformedPolicy::unchecked;
        } else if (a == "--stats-interval") o.stats_interval_ms = parse_ms(val());
        else if (a == "--control-idle") {
            o.control_idle_ms = parse_ms(val());
            if (o.control_idle_ms <= 0) throw std::invalid_argument("--control-idle must be positive");
        }
        else if (a == "--max-frame") o.max_frame = std::stoul(val());
        else if (a == "--pool") o.pool = std::stoull(val());
        else if (a == "--pool-ops") o.pool_ops = val();
        else if (a == "--pool-memory") {
            const auto v = val();
            if (v != "auto" && v != "eal" && v != "thp") throw std::invalid_argument("--pool-memory auto|eal|thp, got " + v);
            o.pool_memory = v;
        }
        else if (a == "--mbuf-size") o.mbuf_size = static_cast<std::uint32_t>(std::stoul(val()));
        else if (a == "--rate-hint") o.rate_hint = std::stod(val());
        else if (a == "--queue-capacity") o.queue_capacity = static_cast<std::uint32_t>(std::stoul(val()));
        else if (a == "--preflight") o.preflight = true;
        else if (a == "--ignore-preflight") o.ignore_preflight = true;
        else if (a == "--lcores") {
            const auto v = std::stoul(val());
            if (v < 1 || v > RTE_MAX_LCORE) throw std::invalid_argument("--lcores must be 1.." + std::to_string(RTE_MAX_LCORE));
            o.lcores = static_cast<unsigned>(v);
        }
        else if (a == "--stall") {
            const auto d = profile::parse_duration(val());
            if (!d || d->count() < 5'000) throw std::invalid_argument("--stall needs a duration of at least 5us (e.g. 20us)");
            o.stall_ns = d->count();
        }
        else if (a == "--burst") o.burst = static_cast<std::uint16_t>(std::min(64ul, std::stoul(val())));
        else throw std::invalid_argument("unknown option " + a);
    }
    return 0;
}

// One rx and one tx queue per forwarding lcore. With several, the PMD spreads flows over the
// rx queues by RSS on the 5-tuple (whatever of it the PMD hashes); a PMD without RSS (net_null,
// net_pcap, net_ring) fills each queue from its own source, which then is the flow split.
int setup_port(std::uint16_t port, rte_mempool* pool, HwRx& hw, std::uint16_t queues, std::string& rss) {
    rte_eth_conf conf{};
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0) return -1;
    if (info.max_rx_queues < queues || info.max_tx_queues < queues) {
        std::fprintf(stderr, "netchaos-fwd: port %u has %u rx / %u tx queues, --lcores %u needs %u of each\n", port,
                     info.max_rx_queues, info.max_tx_queues, queues, queues);
        return -EINVAL;
    }
    request_hw_rx(port, conf, hw);   // rx timestamps where the PMD has them
    rss = "none";
    if (queues > 1) {
        const std::uint64_t want = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
        const std::uint64_t hf = want & info.flow_type_rss_offloads;
        if (hf) {
            conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_key = nullptr;   // the PMD's default key
            conf.rx_adv_conf.rss_conf.rss_hf = hf;
            rss = hf == want ? "5-tuple" : "partial";
        } else {
            rss = "none (each queue gets its own source's frames)";
        }
    }
    if (int rc = rte_eth_dev_configure(port, queues, queues, &conf); rc < 0) return rc;
    std::uint16_t nrx = 1024, ntx = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx);
    const int socket = rte_eth_dev_socket_id(port);
    const unsigned sock = socket < 0 ? 0u : static_cast<unsigned>(socket);
    for (std::uint16_t q = 0; q < queues; ++q) {
        if (int rc = rte_eth_rx_queue_setup(port, q, nrx, sock, nullptr, pool); rc < 0) return rc;
        if (int rc = rte_eth_tx_queue_setup(port, q, ntx, sock, nullptr); rc < 0) return rc;
    }
    if (int rc = rte_eth_dev_start(port); rc < 0) return rc;
    rte_eth_promiscuous_enable(port);   // a bump in the wire takes every frame
    setup_hw_rx(port, hw);
    return 0;
}

// The HTTP server's threads inherit the affinity of the thread that creates them, here the
// forwarding lcore's: create them with that core masked out, then restore it.
Result<std::unique_ptr<exporter::Server>> serve_off_core(const std::string& listen,
                                                         std::weak_ptr<prometheus::Collectable> what, const std::vector<int>& forwarding_cpus) {
    cpu_set_t saved, others;
    const bool have = pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) == 0;
    if (have && cpus_except(forwarding_cpus, others)) pthread_setaffinity_np(pthread_self(), sizeof others, &others);
    auto server = exporter::Server::start(listen, std::move(what));
    if (have) pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return server;
}

std::string read_file(const std::string& path, bool& ok) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    ok = static_cast<bool>(f);
    return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
    // Option errors before EAL init are cheaper for the user; find "--" by hand.
    int app = argc;
    for (int i = 1; i < argc; ++i) if (std::strcmp(argv[i], "--") == 0) { app = i; break; }
    for (int i = 1; i < app; ++i)
        if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) { usage(); return 0; }
    Options opt;
    try {
        std::vector<char*> av{argv[0]};
        for (int i = app + 1; i < argc; ++i) av.push_back(argv[i]);
        if (parse_options(static_cast<int>(av.size()), av.data(), opt) != 0) return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netchaos-fwd: %s (see --help)\n", e.what());
        return cli::exit_bad_input;
    }

    // Table paths are confined by the CLI that sends profiles here (the socket is root-only);
    // --profile is the operator's own file.
    profile::set_table_policy({false, {}});
    // The start profile is parsed before EAL so a typo costs nothing.
    std::array<std::optional<DirModel>, 2> start_models;
    std::chrono::nanoseconds max_d{0};
    if (!opt.profile.empty()) {
        bool ok = false;
        const std::string text = read_file(opt.profile, ok);
        if (!ok) { std::fprintf(stderr, "netchaos-fwd: cannot read %s\n", opt.profile.c_str()); return cli::exit_bad_input; }
        auto m = build_models(text, opt.profile, "both", opt.queue_capacity);
        if (!m) { std::fprintf(stderr, "netchaos-fwd: %s\n", m.error().message.c_str()); return netchaos::cli::exit_code(m.error()); }
        start_models = *m;
        auto p = profile::parse_profile_text(text, opt.profile);
        if (p.ok()) {
            for (const auto& imp : {p.value->egress, p.value->ingress}) if (imp) max_d = std::max(max_d, max_delay(*imp));
            // The classes' delays size the pool too: their packets sit in the same wheel.
            for (const auto& c : p.value->classes)
                for (const auto& imp : {c.egress, c.ingress}) if (imp) max_d = std::max(max_d, max_delay(*imp));
        }
    }

    // Facts the preflight needs that EAL does not: gathered first, so a failing EAL still
    // gets a report (no hugepages is the usual reason).
    bool no_huge = false;
    for (int i = 1; i < app; ++i) if (std::strcmp(argv[i], "--no-huge") == 0) no_huge = true;
    const preflight::MemoryFacts memory = preflight::memory_facts(no_huge);
    const auto eal_blocked = [&](const std::string& what, const std::string& fix) {
        if (!opt.preflight) return;
        auto fs = preflight::check_memory(memory, {});
        fs.push_back({"eal", preflight::Level::block, what, fix});
        std::fputs(preflight::render(fs).c_str(), stdout);
    };

    const int eal = rte_eal_init(app, argv);
    if (eal < 0) {
        const std::string why = rte_strerror(rte_errno);
        std::fprintf(stderr, "netchaos-fwd: EAL init failed: %s\n", why.c_str());
        eal_blocked("EAL init failed: " + why, "read EAL's message above: hugepages (or --no-huge), -a PCI / --vdev arguments, vfio-pci binding, root");
        return cli::exit_system;
    }
    int rc = 0;
    if (rte_lcore_count() < opt.lcores) {
        std::fprintf(stderr, "netchaos-fwd: --lcores %u needs %u EAL lcores, EAL has %u (give it e.g. -l 0-%u)\n", opt.lcores,
                     opt.lcores, rte_lcore_count(), opt.lcores - 1);
        rte_eal_cleanup();
        return cli::exit_bad_input;
    }
    {
        Shared shared(opt.lcores);
        g_shared = &shared;
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);

        if (rte_eth_dev_count_avail() < 2) {
            std::fprintf(stderr, "netchaos-fwd: need 2 ports, have %u (add --vdev=...)\n", rte_eth_dev_count_avail());
            eal_blocked("EAL found " + std::to_string(rte_eth_dev_count_avail()) + " ports, the forwarder needs 2",
                        "-a PCI for each port bound to vfio-pci (scripts/fwd-bind.sh), or --vdev=net_af_xdp0,iface=IF");
            rte_eal_cleanup();
            return cli::exit_system;
        }
        double nominal = 0;
        // Other threads' cpu time is sampled around the calibration: who else ran on our core.
        const auto tasks_before = preflight::scan_tasks();
        const auto cal_start = std::chrono::steady_clock::now();
        const TscCalibration cal = calibrate_tsc(200, &nominal);
        const double cal_window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - cal_start).count();
        const auto tasks_after = preflight::scan_tasks();
        shared.clock = cal.clock;
        std::printf("netchaos-fwd: TSC %.6f GHz measured against CLOCK_MONOTONIC (rte_get_tsc_hz %.6f GHz, %+.3f%%)\n",
                    shared.clock.hz() / 1e9, nominal / 1e9, (nominal / shared.clock.hz() - 1) * 100);

        // Pool: rate hint x max delay, within what -m left us.
        rte_malloc_socket_stats ms{};
        rte_malloc_get_socket_stats(static_cast<int>(rte_socket_id()), &ms);
        const std::uint64_t elt = sizeof(rte_mbuf) + RTE_PKTMBUF_HEADROOM + opt.mbuf_size + 64;
        const std::uint64_t reserve = 96ull << 20;   // AF_XDP umems, rings, ethdev
        const std::uint64_t free_bytes = ms.heap_freesz_bytes > reserve ? ms.heap_freesz_bytes - reserve : 0;
        const PoolPlan plan = plan_pool(opt.rate_hint, max_d, opt.pool, elt, free_bytes);
        std::printf("netchaos-fwd: mbuf pool %llu x %u B (wanted %llu for %.0f pps x %.3f ms max delay; memory holds %llu)\n",
                    static_cast<unsigned long long>(plan.mbufs), opt.mbuf_size, static_cast<unsigned long long>(plan.wanted),
                    opt.rate_hint, std::chrono::duration<double, std::milli>(max_d).count(),
                    static_cast<unsigned long long>(plan.fits));
        if (plan.capped)
            std::printf("netchaos-fwd: WARNING: memory (-m) cannot hold %llu mbufs; capped at %llu: packets beyond that "
                        "are dropped (raise -m or lower --rate-hint)\n",
                        static_cast<unsigned long long>(plan.wanted), static_cast<unsigned long long>(plan.mbufs));
        // Per-lcore cache at its maximum (512): packets held in the wheel make the lcore free
        // and allocate in large swings, past what a cache absorbs. Behind the cache, a stack
        // rather than DPDK's default ring: the ring is a FIFO over the whole pool (sized for
        // rate x max delay, far more than is in flight), so each refill handed back the mbufs
        // freed longest ago, cold in cache and TLB, and net_null's rx stalled writing their
        // headers. A stack hands back the ones just spilled (-15..20% ns per packet at
        // normal(100us,20us) on net_null, docs/performance.md).
        const auto data_room = static_cast<std::uint16_t>(opt.mbuf_size + RTE_PKTMBUF_HEADROOM);
        const auto socket = static_cast<int>(rte_socket_id());
        std::vector<std::string> drivers;
        {
            std::uint16_t p = 0;
            RTE_ETH_FOREACH_DEV(p) {
                rte_eth_dev_info di{};
                if (rte_eth_dev_info_get(p, &di) != 0 || !di.driver_name) { drivers.emplace_back("unknown"); continue; }
                drivers.emplace_back(di.driver_name);
            }
        }
        const bool any_af_xdp = std::find(drivers.begin(), drivers.end(), "net_af_xdp") != drivers.end();
        std::string pool_ops = pool_driver(opt.pool_ops, any_af_xdp);
        if (any_af_xdp && pool_ops != "ring_mp_mc")
            std::printf("netchaos-fwd: WARNING: mempool driver %s with an AF_XDP port: on the netns bench the stack "
                        "driver forwarded nothing; ring_mp_mc (--pool-ops auto) is the one known to work\n",
                        pool_ops.c_str());
        int pool_socket = socket;
        const PoolMemory mem = pool_memory(opt.pool_memory, rte_eal_has_hugepages() != 0, drivers);
        if (mem.where == "thp") {
            // The pool's objects, its driver's stack or ring (8 B an mbuf) and the lcore caches.
            const std::size_t need = static_cast<std::size_t>(plan.mbufs) * (elt + 16) + (64u << 20);
            const ThpHeap heap = make_thp_heap("nc_thp", need);
            if (heap.socket >= 0) {
                pool_socket = heap.socket;
                std::printf("netchaos-fwd: mbuf pool memory thp (%s): %zu MiB mapped, %zu MiB of it on huge pages%s\n",
                            mem.why.c_str(), heap.bytes >> 20, heap.huge_bytes >> 20,
                            heap.huge_bytes ? "" : " (the kernel granted none: /sys/kernel/mm/transparent_hugepage/enabled)");
            } else {
                std::printf("netchaos-fwd: WARNING: mbuf pool memory eal: no huge-page heap (%s)\n", heap.why.c_str());
            }
        } else {
            std::printf("netchaos-fwd: mbuf pool memory eal (%s)\n", mem.why.c_str());
        }
        rte_mempool* pool = rte_pktmbuf_pool_create_by_ops("nc_mbufs", static_cast<unsigned>(plan.mbufs), 512, 0,
                                                           data_room, pool_socket, pool_ops.c_str());
        if (!pool && rte_errno == EINVAL && pool_ops != "ring_mp_mc") {
            // EINVAL: no mempool driver of that name is loaded (an EAL without the stack PMD).
            std::printf("netchaos-fwd: mempool driver %s not loaded; using ring_mp_mc\n", pool_ops.c_str());
            pool_ops = "ring_mp_mc";
            pool = rte_pktmbuf_pool_create_by_ops("nc_mbufs", static_cast<unsigned>(plan.mbufs), 512, 0, data_room,
                                                  pool_socket, pool_ops.c_str());
        }
        if (pool) std::printf("netchaos-fwd: mempool driver %s\n", pool_ops.c_str());
        if (!pool) {
            std::fprintf(stderr, "netchaos-fwd: mbuf pool: %s\n", rte_strerror(rte_errno));
            rte_eal_cleanup();
            return cli::exit_system;
        }
        ForwarderConfig cfg;
        std::uint16_t pid = 0, n = 0;
        RTE_ETH_FOREACH_DEV(pid) { if (n < 2) cfg.port[n++] = pid; }
        std::string rss[2];
        for (int i = 0; i < 2 && rc == 0; ++i)
            if (int e = setup_port(cfg.port[i], pool, cfg.hw[i], static_cast<std::uint16_t>(opt.lcores), rss[i]); e < 0) {
                std::fprintf(stderr, "netchaos-fwd: port %u: %s\n", cfg.port[i], rte_strerror(-e));
                rc = 4;
            }
        if (rc == 0) {
            preflight::Facts facts;
            facts.tsc = preflight::cpuid_tsc();
            facts.tsc.hz_first = cal.hz_first;
            facts.tsc.hz_second = cal.hz_second;
            facts.tsc.window_ms = 100;
            facts.tsc.nominal_hz = nominal;
            facts.memory = memory;
            facts.host = preflight::host_facts();
            facts.lcore = preflight::lcore_facts();
            facts.busy = preflight::busy_on(tasks_before, tasks_after, cal_window_s, ::sysconf(_SC_CLK_TCK),
                                            facts.lcore.cpu, static_cast<int>(::getpid()));
            for (int i = 0; i < 2; ++i) facts.ports.push_back(preflight::port_facts(cfg.port[i], cfg.hw[i]));
            facts.pool = preflight::PoolFacts{plan, opt.rate_hint, max_d, elt};
            facts.max_frame = opt.max_frame;
            const auto findings = preflight::check(facts);
            std::fputs(preflight::render(findings).c_str(), stdout);
            std::fflush(stdout);
            if (opt.preflight) {
                rc = preflight::blocks(findings) ? cli::exit_system : cli::exit_pass;
            } else if (preflight::blocks_start(findings) && !opt.ignore_preflight) {
                std::fprintf(stderr, "netchaos-fwd: a port cannot forward (BLOCK above); fix it, or --ignore-preflight to start anyway\n");
                rc = cli::exit_system;
            } else if (preflight::blocks(findings)) {
                std::printf("netchaos-fwd: WARNING: a preflight check blocks (BLOCK above); forwarding anyway, at a precision "
                            "it does not vouch for (--preflight exits 4 on it)\n");
            }
        }
        if (rc == 0 && !opt.preflight) {
            cfg.pool = pool;
            cfg.queue_capacity = opt.queue_capacity;
            cfg.burst = opt.burst;
            cfg.stall_ns = opt.stall_ns;
            cfg.max_frame = opt.max_frame;
            cfg.malformed = opt.malformed;
            cfg.on_exit = opt.on_exit;
            const std::uint64_t seed = rte_rdtsc();
            cfg.seed = {seed, seed ^ 0x5bd1e995ull};
            for (std::size_t d = 0; d < 2; ++d)
                cfg.initial[d] = start_models[d] ? *start_models[d] : DirModel{fault::passthrough(), opt.queue_capacity, "passthrough", ""};
            ControlOptions co;
            co.socket = opt.control;
            co.queue_capacity = opt.queue_capacity;
            co.stall_ns = opt.stall_ns;
            co.pool = pool;
            co.rate_hint_pps = opt.rate_hint;
            co.engine_kind = "fault";
            // Which clock the rx times come from: the NIC's (mapped to TSC) or the TSC fallback.
            co.rx_clock = cfg.hw[0].on && cfg.hw[1].on ? "nic" : (cfg.hw[0].on || cfg.hw[1].on ? "nic+tsc" : "tsc");
            co.ports = {cfg.port[0], cfg.port[1]};
            co.malformed = opt.malformed;
            co.idle_timeout = std::chrono::milliseconds(opt.control_idle_ms);
            // The exporter reads the lcore's counters on its own thread; the control thread
            // tells it the profile in force.
            std::shared_ptr<exporter::FwdCollector> collector;
            if (!opt.metrics_listen.empty()) {
                collector = std::make_shared<exporter::FwdCollector>(shared.views());
                co.on_models = [c = collector.get()](const std::array<DirModel, 2>& m) {
                    for (int d = 0; d < 2; ++d)
                        c->set_profile(d, {m[d].name, m[d].params, m[d].requested_mean_s, m[d].requested_sigma_s});
                };
            }
            ControlServer control(shared, co, cfg.initial);
            if (opt.stats_interval_ms > 0) control.print_stats_every(std::chrono::milliseconds(opt.stats_interval_ms));
            // The forwarding lcores: the main one (lane 0) and the first N-1 workers.
            std::vector<unsigned> lcores{rte_lcore_id()};
            unsigned lc = 0;
            RTE_LCORE_FOREACH_WORKER(lc) if (lcores.size() < opt.lcores) lcores.push_back(lc);
            std::vector<int> cpus;
            for (unsigned l : lcores) cpus.push_back(static_cast<int>(rte_lcore_to_cpu_id(static_cast<int>(l))));
            std::vector<ForwarderConfig> lane_cfg(opt.lcores, cfg);
            for (unsigned i = 0; i < opt.lcores; ++i) {
                lane_cfg[i].queue = static_cast<std::uint16_t>(i);
                lane_cfg[i].lane = i;
                lane_cfg[i].share_rate = opt.lcores > 1;
                lane_cfg[i].seed = {seed + 0x9e3779b97f4a7c15ull * i, (seed ^ 0x5bd1e995ull) + 0x9e3779b97f4a7c15ull * i};
            }
            std::unique_ptr<exporter::Server> metrics;
            if (auto r = control.start(cpus); !r) {
                std::fprintf(stderr, "netchaos-fwd: %s\n", r.error().message.c_str());
                rc = netchaos::cli::exit_code(r.error());
            } else if (auto m = collector ? serve_off_core(opt.metrics_listen, collector, cpus)
                                          : Result<std::unique_ptr<exporter::Server>>(nullptr);
                       !m) {
                std::fprintf(stderr, "netchaos-fwd: %s\n", m.error().message.c_str());
                rc = netchaos::cli::exit_code(m.error());
                control.stop();
            } else {
                metrics = std::move(*m);
                if (metrics) std::printf("netchaos-fwd: metrics at %s\n", metrics->url().c_str());
                std::string on = std::to_string(lcores[0]);
                for (std::size_t i = 1; i < lcores.size(); ++i) on += "," + std::to_string(lcores[i]);
                std::printf("netchaos-fwd: forwarding port %u <-> port %u on lcore%s %s; control %s; 0to1=%s 1to0=%s\n",
                            cfg.port[0], cfg.port[1], lcores.size() > 1 ? "s" : "", on.c_str(), opt.control.c_str(),
                            cfg.initial[0].name.c_str(), cfg.initial[1].name.c_str());
                if (opt.lcores > 1)
                    std::printf("netchaos-fwd: %u lcores, queue i on lcore i of both ports; RSS port %u: %s, port %u: %s; "
                                "rate shared, loss/delay/order per lcore\n",
                                opt.lcores, cfg.port[0], rss[0].c_str(), cfg.port[1], rss[1].c_str());
                // Whether a packet costs its frame's cache line or only its mbuf header, and why.
                for (int d = 0; d < 2; ++d)
                    std::printf("netchaos-fwd: %s frame data %s\n", dir_name(d),
                                frame_reads_text(frame_reads(cfg.initial[static_cast<std::size_t>(d)], opt.malformed)).c_str());
                std::fflush(stdout);
                struct Launch { const ForwarderConfig* cfg; Shared* shared; };
                std::vector<Launch> launch(opt.lcores);
                for (unsigned i = 1; i < opt.lcores; ++i) {
                    launch[i] = {&lane_cfg[i], &shared};
                    rte_eal_remote_launch([](void* a) {
                        auto* l = static_cast<Launch*>(a);
                        return run_forwarder(*l->cfg, *l->shared);
                    }, &launch[i], lcores[i]);
                }
                run_forwarder(lane_cfg[0], shared);
                rte_eal_mp_wait_lcore();   // the workers stop (and drain) on the same flag
                const auto final_stats = control.stats();
                control.stop();
                std::printf("netchaos-fwd: stopped; %s\n", final_stats.dump().c_str());
            }
        }
        for (int i = 0; i < 2; ++i) {
            rte_eth_dev_stop(cfg.port[i]);
            rte_eth_dev_close(cfg.port[i]);
        }
        rte_mempool_free(pool);
        g_shared = nullptr;
    }
    rte_eal_cleanup();
    return rc;
}
