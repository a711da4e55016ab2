#include "probe/prober.hpp"

#include "profile/units.hpp"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

namespace netchaos::probe {

namespace {

// Only absurd requests are rejected up front: memory holds the probes in flight, not the run.
constexpr std::uint64_t max_probes = 1'000'000'000;

// A probe in flight: sent, its window not yet closed.
struct Slot {
    std::int64_t deadline = 0;
    std::int64_t send = 0;                  // user-space CLOCK_MONOTONIC right before the send call
    std::optional<std::int64_t> tx_kernel;  // CLOCK_REALTIME
    bool replied = false;
    std::uint32_t dups = 0;                 // further replies before its window closed
    std::int64_t rx_mono = 0;
    std::optional<std::int64_t> rx_kernel;
    std::int64_t server = 0;
    std::uint16_t http_status = 0;
};

// CLOCK_REALTIME - CLOCK_MONOTONIC, from the tightest of a few bracketed reads.
std::int64_t realtime_offset() {
    std::int64_t best_gap = std::numeric_limits<std::int64_t>::max(), offset = 0;
    for (int i = 0; i < 9; ++i) {
        const std::int64_t a = net::mono_ns(), r = net::realtime_ns(), b = net::mono_ns();
        if (b - a < best_gap) {
            best_gap = b - a;
            offset = r - (a + (b - a) / 2);
        }
    }
    return offset;
}

std::chrono::steady_clock::time_point at(std::int64_t ns) { return std::chrono::steady_clock::time_point(Nanos{ns}); }

class Engine final : public Sink {
public:
    Engine(const ProbeOptions& o, Transport& t, const Clock& clock, std::int64_t t0)
        : o_(o), t_(t), clock_(clock), t0_(t0), offset_(realtime_offset()), acc_(o.metrics, Nanos{t0}),
          window_ns_(o.metrics.window.count()) {
        total_windows_ = o.duration.count() == 0
                             ? std::numeric_limits<std::size_t>::max()   // until stopped; finishing sets the count
                             : static_cast<std::size_t>((o.duration.count() + window_ns_ - 1) / window_ns_);
    }

    // ---- Sink (receiver thread)
    void reply(const Reply& r) override {
        std::lock_guard lk(m_);
        if (r.seq >= sent_) {
            ++run_.garbage;   // a seq we never sent: forged or from an older run
            return;
        }
        if (r.seq < first_) {
            ++run_.late;      // its window is closed: after the timeout
            return;
        }
        Slot& s = slots_[r.seq - first_];
        if (s.replied) {
            if (s.dups < UINT32_MAX) ++s.dups;
            return;
        }
        s.replied = true;
        answered_.store(true);
        s.rx_mono = r.rx_mono_ns;
        s.rx_kernel = r.rx_kernel_rt_ns;
        s.server = r.server_ns;
        s.http_status = r.http_status;
    }
    void tx_stamp(std::uint64_t tx_index, std::int64_t kernel_rt_ns) override {
        std::lock_guard lk(m_);
        if (tx_index < tx_base_ || tx_index - tx_base_ >= tx_seq_.size()) return;
        const std::uint64_t seq = tx_seq_[tx_index - tx_base_];
        if (seq < first_) return;
        Slot& s = slots_[seq - first_];
        // A stamp that does not fit its send (a send that failed after taking a key) is
        // dropped rather than trusted.
        const std::int64_t mono = kernel_rt_ns - offset_;
        if (mono >= s.send - 1'000'000 && mono <= s.send + o_.timeout.count()) s.tx_kernel = kernel_rt_ns;
    }
    void garbage() override {
        std::lock_guard lk(m_);
        ++run_.garbage;
    }
    // Port unreachable before any reply: nobody listens there, so end at once. After a reply
    // it is a reflector restarting mid-run: its gap is loss, and the run goes on.
    void icmp_error(int err) override {
        if (err == ECONNREFUSED && !answered_.load()) unreachable_.store(true);
    }
    bool unreachable() const { return unreachable_.load(); }

    // ---- sender thread
    // Called right before the send: a reply (on loopback) or a tx stamp can beat the
    // return of sendto(), and must find its slot.
    void sending(std::uint64_t seq, std::int64_t deadline, std::int64_t send) {
        std::lock_guard lk(m_);
        Slot& s = slots_.emplace_back();   // seq == first_ + slots_.size() - 1: sends go in order
        s.deadline = deadline;
        s.send = send;
        tx_seq_.push_back(seq);
        sent_ = seq + 1;
    }
    void send_failed(std::uint64_t seq, int err) {
        std::lock_guard lk(m_);
        // Failed sends take no timestamp key (route lookups fail before the key is taken).
        if (!tx_seq_.empty() && tx_seq_.back() == seq) tx_seq_.pop_back();
        ++run_.send_errors;
        if (run_.first_send_error.empty()) run_.first_send_error = std::string("send: ") + std::strerror(err);
    }

    // ---- receiver thread
    void receive_loop(const ProbeCallbacks& cb) {
        for (;;) {
            const bool fin = finishing_.load();
            // Read the time, then take in everything that arrived by then: a window closes
            // only after every reply that came before its deadline is in.
            const std::int64_t now = clock_.now_ns();
            t_.poll(Nanos{0}, *this);
            close_windows(now, fin, cb);
            if (fin) return;
            const std::int64_t next_close =
                t0_ + static_cast<std::int64_t>(next_window_ + 1) * window_ns_ + o_.timeout.count();
            const std::int64_t wait = std::clamp<std::int64_t>(next_close - clock_.now_ns(), 0, 20'000'000);
            t_.poll(Nanos{wait}, *this);
        }
    }
    void finish() { finishing_.store(true); }

    // After the receiver thread has ended.
    ProbeRun take(ProbeRun base) {
        std::lock_guard lk(m_);
        base.t0_ns = t0_;
        base.summary = acc_.finish();
        base.send_errors = run_.send_errors;
        base.first_send_error = run_.first_send_error;
        base.garbage = run_.garbage;
        base.late = run_.late;
        base.kernel_tx = run_.kernel_tx;
        base.kernel_rx = run_.kernel_rx;
        return base;
    }

private:
    // One clock for both ends: kernel stamps moved onto CLOCK_MONOTONIC, user reads where
    // a stamp is missing. nullopt when the reply came after the timeout.
    std::int64_t rx_of(const Slot& s) const { return s.rx_kernel ? *s.rx_kernel - offset_ : s.rx_mono; }
    std::optional<Nanos> rtt_of(const Slot& s) const {
        const std::int64_t tx = s.tx_kernel ? *s.tx_kernel - offset_ : s.send;
        const std::int64_t rx = rx_of(s);
        std::int64_t rtt = rx - tx;
        if (rtt > o_.timeout.count()) return std::nullopt;
        // A reflector claiming more processing time than the whole round trip is lying
        // (or its clock jumped): keep the raw RTT rather than a negative one.
        if (s.server > 0 && s.server < rtt) rtt -= s.server;
        return Nanos{std::max<std::int64_t>(rtt, 0)};
    }

    void close_windows(std::int64_t now, bool fin, const ProbeCallbacks& cb) {
        if (fin) {
            std::lock_guard lk(m_);
            // Cover the last probe by its grid slot and by when it really left: a stalled
            // sender may push sends past the nominal end, and they must land in a window.
            const std::int64_t last =
                slots_.empty() ? last_closed_send_ : std::max(slots_.back().deadline, slots_.back().send);
            total_windows_ = sent_ ? static_cast<std::size_t>((last - t0_) / window_ns_) + 1 : 0;
            total_windows_ = std::max(total_windows_, next_window_);
        }
        while (next_window_ < total_windows_) {
            const std::int64_t end = t0_ + static_cast<std::int64_t>(next_window_ + 1) * window_ns_;
            if (!fin && now < end + o_.timeout.count()) return;
            const bool last = fin && next_window_ + 1 == total_windows_;
            recs_.clear();
            expired_.clear();
            {
                std::lock_guard lk(m_);
                while (!slots_.empty() && (last || slots_.front().send < end)) {
                    const Slot& s = slots_.front();
                    metrics::Record r{first_, Nanos{s.send}, std::nullopt, 0};
                    if (s.replied) {
                        r.rtt = rtt_of(s);
                        if (!r.rtt) ++run_.late;
                    } else {
                        expired_.push_back(first_);
                    }
                    if (r.rtt) {
                        r.arrival = Nanos{rx_of(s)};
                        r.dups = s.dups;
                        r.http_status = s.http_status;
                        run_.kernel_tx += s.tx_kernel.has_value();
                        run_.kernel_rx += s.rx_kernel.has_value();
                    }
                    last_closed_send_ = std::max(s.deadline, s.send);
                    recs_.push_back(r);
                    slots_.pop_front();
                    ++first_;
                }
                while (!tx_seq_.empty() && tx_seq_.front() < first_) {
                    tx_seq_.pop_front();
                    ++tx_base_;
                }
            }
            for (auto seq : expired_) t_.expire(seq);
            for (const metrics::Record& r : recs_) {
                const metrics::Added a = acc_.add(r);
                if (cb.record) cb.record(r);
                if (cb.added) cb.added(a);
            }
            const auto closed = acc_.close_window();
            if (cb.totals) cb.totals(acc_.totals());
            if (cb.window) cb.window(closed.window, t0_ + closed.window.end.count());
            if (closed.point && cb.point) cb.point(*closed.point);
            ++next_window_;
        }
    }

    const ProbeOptions& o_;
    Transport& t_;
    const Clock& clock_;
    std::mutex m_;
    // Probes in flight, seq first_ .. sent_ - 1; closed ones are popped, so memory follows
    // rate x (window + timeout), not the run's length.
    std::deque<Slot> slots_;
    std::uint64_t first_ = 0;
    std::uint64_t sent_ = 0;
    std::int64_t last_closed_send_ = 0;
    std::deque<std::uint64_t> tx_seq_;      // tx_seq_[k] = seq of the (tx_base_ + k)-th datagram sent OK
    std::uint64_t tx_base_ = 0;
    ProbeRun run_;                           // counters only
    std::int64_t t0_;
    std::int64_t offset_;
    metrics::Accumulator acc_;               // receiver thread only (then take())
    std::vector<metrics::Record> recs_;      // receiver thread scratch
    std::vector<std::uint64_t> expired_;
    std::int64_t window_ns_;
    std::size_t total_windows_ = 0;
    std::size_t next_window_ = 0;
    std::atomic<bool> finishing_{false};
    std::atomic<bool> unreachable_{false};
    std::atomic<bool> answered_{false};
};

}  // namespace

namespace {
Result<std::uint64_t> check_options(const ProbeOptions& o) {
    if (auto ok = profile::check_probe_rate(o.rate_hz, o.mode); !ok) return ok.error();
    if (o.duration.count() < 0) return make_error("duration must be >= 0 (0: until stopped)", ErrorKind::bad_input);
    if (o.timeout.count() <= 0) return make_error("timeout must be > 0", ErrorKind::bad_input);
    if (const std::string bad = metrics::check(o.metrics); !bad.empty()) return make_error(bad, ErrorKind::bad_input);
    // Until stopped: the grid index is 64-bit, so the count is a bound never reached.
    if (o.duration.count() == 0) return std::numeric_limits<std::uint64_t>::max();
    const double total_d = std::floor(o.rate_hz * std::chrono::duration<double>(o.duration).count() + 1e-9);
    if (total_d < 1) return make_error("rate x duration must give at least one probe", ErrorKind::bad_input);
    if (total_d > static_cast<double>(max_probes)) return make_error("rate x duration exceeds 1e9 probes: split the run", ErrorKind::bad_input);
    return static_cast<std::uint64_t>(total_d);
}
}  // namespace

Result<ProbeRun> run_probe(const ProbeOptions& o, const std::atomic<bool>& stop, const ProbeCallbacks& cb) {
    if (auto total = check_options(o); !total) return total.error();
    std::random_device rd;
    const std::uint64_t session = (std::uint64_t(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(net::mono_ns());
    auto transport = o.mode == profile::ProbeMode::http
                         ? make_http_transport(o.target, o.http_host.empty() ? o.target.text : o.http_host, o.http_path, o.http_reuse)
                         : make_transport(o.mode, o.target, session, o.size, o.key);
    if (!transport) return transport.error();
    SteadyClock clock(o.spin);
    return run_probe(o, **transport, clock, stop, cb);
}

Result<ProbeRun> run_probe(const ProbeOptions& o, Transport& t, Clock& clock, const std::atomic<bool>& stop,
                           const ProbeCallbacks& cb) {
    auto checked = check_options(o);
    if (!checked) return checked.error();
    const std::uint64_t total = *checked;
    // Start 20 ms out so the receiver thread is up before the first reply.
    const std::int64_t t0 = clock.now_ns() + 20'000'000;
    Engine e(o, t, clock, t0);
    std::thread rx([&] { e.receive_loop(cb); });

    ProbeRun base;
    base.transport = t.describe();
    if (o.realtime) {
        // Only the sender: its wake-ups are what the grid error measures. Bounded spin +
        // sleeps, so it cannot monopolise a core (and RT throttling caps it anyway).
        sched_param sp{};
        sp.sched_priority = 10;
        base.realtime = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
    }
    const double period_ns = 1e9 / o.rate_hz;
    double err_sum = 0;
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        if (stop.load()) {
            base.interrupted = true;
            break;
        }
        if (e.unreachable()) {
            base.unreachable = "port unreachable: " + o.target.text + " answered with ICMP port unreachable (no reflector listening there)";
            break;
        }
        // Deadlines from the origin, never from the previous send: no drift accumulates.
        const std::int64_t deadline = t0 + static_cast<std::int64_t>(std::llround(static_cast<double>(i) * period_ns));
        std::int64_t now = clock.now_ns();
        if (now < deadline) {   // behind schedule: no syscall, send at once
            clock.sleep_until(at(deadline), &stop);   // the clock spins its last stretch
            now = clock.now_ns();
        }
        e.sending(i, deadline, now);
        if (const int err = t.send(i, now); err != 0) e.send_failed(i, err);
        const double late = static_cast<double>(now - deadline);
        base.timing.error_max_ns = std::max(base.timing.error_max_ns, late);
        err_sum += late;
        ++n;
        if (late > period_ns) ++base.timing.late_by_a_period;
        if (i == 0) base.timing.first_ns = now;
        base.timing.last_ns = now;
        base.timing.last_error_ns = now - deadline;
    }
    base.timing.error_mean_ns = n ? err_sum / static_cast<double>(n) : 0.0;
    if (base.realtime) {
        sched_param sp{};
        pthread_setschedparam(pthread_self(), SCHED_OTHER, &sp);
    }
    // Every probe gets its full timeout, even after SIGINT.
    if (n && base.unreachable.empty()) clock.sleep_until(at(base.timing.last_ns + o.timeout.count()));
    e.finish();
    rx.join();
    return e.take(std::move(base));
}

Result<void> set_target(ProbeOptions& o, std::string_view text) {
    std::string endpoint(text);
    if (o.mode == profile::ProbeMode::http) {
        if (!text.starts_with("http://")) return make_error("--mode http needs TARGET = http://HOST:PORT/PATH", ErrorKind::bad_input);
        const std::string rest(text.substr(7));
        const auto slash = rest.find('/');
        endpoint = rest.substr(0, slash);
        o.http_path = slash == std::string::npos ? "/" : rest.substr(slash);
        if (endpoint.find('@') != std::string::npos) return make_error("http target: no user@ part, please", ErrorKind::bad_input);
        o.http_host = endpoint;
        if (endpoint.find(':') == std::string::npos || endpoint.back() == ']') endpoint += ":80";
    }
    auto ep = net::parse_endpoint(endpoint, o.mode != profile::ProbeMode::icmp);
    if (!ep) return ep.error();
    o.target = *ep;
    return {};
}

}  // namespace netchaos::probe
