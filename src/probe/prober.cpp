#include "probe/prober.hpp"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>

namespace netchaos::probe {

namespace {

// Memory grows with probes actually sent (~150 bytes each, for per-packet records and the
// CSV); this cap only rejects absurd requests up front.
constexpr std::uint64_t max_probes = 1'000'000'000;

struct Slot {
    std::int64_t deadline = 0;
    std::int64_t send = 0;                  // user-space CLOCK_MONOTONIC right before the send call
    std::optional<std::int64_t> tx_kernel;  // CLOCK_REALTIME
    bool replied = false;
    bool closed = false;                    // its window is closed: the record is final
    std::int64_t rx_mono = 0;
    std::optional<std::int64_t> rx_kernel;
    std::int64_t server = 0;
};

struct RawArrival {
    std::uint64_t seq;
    std::int64_t rx_mono;
    std::optional<std::int64_t> rx_kernel;
    std::int64_t server;
    bool dup;
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

void sleep_until(std::int64_t t, const std::atomic<bool>* stop) {
    timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR)
        if (stop && stop->load()) return;
}

class Engine final : public Sink {
public:
    Engine(const ProbeOptions& o, Transport& t, std::uint64_t total, std::int64_t t0)
        : o_(o), t_(t), t0_(t0), offset_(realtime_offset()), tracker_(o.windows),
          window_ns_(o.windows.window.count()) {
        const auto nominal = (o.duration.count() + window_ns_ - 1) / window_ns_;
        total_windows_ = static_cast<std::size_t>(nominal);
        // Grown per send, not sized up front: the runner asks for an hour-long run and stops
        // it with SIGINT, and 10000/s x 3600 s of slots would be gigabytes never used.
        const std::uint64_t first = std::min<std::uint64_t>(total, 1u << 20);
        slots_.reserve(first);
        tx_seq_.reserve(first);
    }

    // ---- Sink (receiver thread)
    void reply(const Reply& r) override {
        std::lock_guard lk(m_);
        if (r.seq >= slots_.size()) {
            ++run_.garbage;   // a seq we never sent: forged or from an older run
            return;
        }
        Slot& s = slots_[r.seq];
        if (s.closed && !s.replied) {
            ++run_.late;
            return;
        }
        const bool dup = s.replied;
        if (!dup) {
            s.replied = true;
            s.rx_mono = r.rx_mono_ns;
            s.rx_kernel = r.rx_kernel_rt_ns;
            s.server = r.server_ns;
        }
        raw_.push_back({r.seq, r.rx_mono_ns, r.rx_kernel_rt_ns, r.server_ns, dup});
    }
    void tx_stamp(std::uint64_t tx_index, std::int64_t kernel_rt_ns) override {
        std::lock_guard lk(m_);
        if (tx_index >= tx_seq_.size()) return;
        Slot& s = slots_[tx_seq_[tx_index]];
        // A stamp that does not fit its send (a send that failed after taking a key) is
        // dropped rather than trusted.
        const std::int64_t mono = kernel_rt_ns - offset_;
        if (mono >= s.send - 1'000'000 && mono <= s.send + o_.timeout.count()) s.tx_kernel = kernel_rt_ns;
    }
    void garbage() override {
        std::lock_guard lk(m_);
        ++run_.garbage;
    }

    // ---- sender thread
    // Called right before the send: a reply (on loopback) or a tx stamp can beat the
    // return of sendto(), and must find its slot.
    void sending(std::uint64_t seq, std::int64_t deadline, std::int64_t send) {
        std::lock_guard lk(m_);
        Slot& s = slots_.emplace_back();   // seq == slots_.size() - 1: sends go in order
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
            if (fin) t_.poll(Nanos{0}, *this);
            close_windows(net::mono_ns(), fin, cb);
            if (fin) return;
            const std::int64_t next_close =
                t0_ + static_cast<std::int64_t>(next_window_ + 1) * window_ns_ + o_.timeout.count();
            const std::int64_t wait = std::clamp<std::int64_t>(next_close - net::mono_ns(), 0, 20'000'000);
            t_.poll(Nanos{wait}, *this);
        }
    }
    void finish() { finishing_.store(true); }

    ProbeRun take(ProbeRun base) {
        std::lock_guard lk(m_);
        base.t0_ns = t0_;
        base.records = std::move(records_);
        base.windows = std::move(windows_);
        base.periods = std::move(periods_);
        base.alert = std::move(alert_);
        base.send_errors = run_.send_errors;
        base.first_send_error = run_.first_send_error;
        base.garbage = run_.garbage;
        base.late = run_.late;
        for (const RawArrival& a : raw_) {
            const Record& rec = base.records[a.seq];
            if (a.dup) {
                auto rtt = rtt_of(slots_[a.seq], a.rx_mono, a.rx_kernel, a.server, nullptr);
                base.rows.push_back({a.seq, slots_[a.seq].send, rtt ? std::optional(rtt->count()) : std::nullopt,
                                     CsvRow::Status::dup});
                if (rec.rtt && rtt) base.arrivals.push_back({a.seq, *rtt});
            } else if (rec.rtt) {
                base.arrivals.push_back({a.seq, *rec.rtt});
            }
        }
        for (const Record& r : base.records) {
            base.rows.push_back({r.seq, r.send.count(), r.rtt ? std::optional(r.rtt->count()) : std::nullopt,
                                 r.rtt ? CsvRow::Status::ok : CsvRow::Status::lost});
            if (r.rtt) {
                base.kernel_tx += slots_[r.seq].tx_kernel.has_value();
                base.kernel_rx += slots_[r.seq].rx_kernel.has_value();
            }
        }
        std::stable_sort(base.rows.begin(), base.rows.end(),
                         [](const CsvRow& a, const CsvRow& b) { return a.seq < b.seq; });
        return base;
    }

    Result<void> init_alert() {
        if (!o_.alert) return {};
        auto a = AlertTracker::make(*o_.alert, o_.windows.window);
        if (!a) return a.error();
        alert_ = std::move(*a);
        return {};
    }

private:
    // One clock for both ends: kernel stamps moved onto CLOCK_MONOTONIC, user reads where
    // a stamp is missing. nullopt when the reply came after the timeout.
    std::optional<Nanos> rtt_of(const Slot& s, std::int64_t rx_mono, std::optional<std::int64_t> rx_kernel,
                                std::int64_t server, bool* late) const {
        const std::int64_t tx = s.tx_kernel ? *s.tx_kernel - offset_ : s.send;
        const std::int64_t rx = rx_kernel ? *rx_kernel - offset_ : rx_mono;
        std::int64_t rtt = rx - tx;
        if (rtt > o_.timeout.count()) {
            if (late) *late = true;
            return std::nullopt;
        }
        // A reflector claiming more processing time than the whole round trip is lying
        // (or its clock jumped): keep the raw RTT rather than a negative one.
        if (server > 0 && server < rtt) rtt -= server;
        return Nanos{std::max<std::int64_t>(rtt, 0)};
    }

    void close_windows(std::int64_t now, bool fin, const ProbeCallbacks& cb) {
        if (fin) {
            std::lock_guard lk(m_);
            // Cover the last probe by its grid slot and by when it really left: a stalled
            // sender may push sends past the nominal end, and they must land in a window.
            const std::int64_t last = sent_ ? std::max(slots_[sent_ - 1].deadline, slots_[sent_ - 1].send) : t0_;
            total_windows_ = sent_ ? static_cast<std::size_t>((last - t0_) / window_ns_) + 1 : 0;
            total_windows_ = std::max(total_windows_, next_window_);
        }
        while (next_window_ < total_windows_) {
            const std::int64_t end = t0_ + static_cast<std::int64_t>(next_window_ + 1) * window_ns_;
            if (!fin && now < end + o_.timeout.count()) return;
            const bool last = fin && next_window_ + 1 == total_windows_;
            std::vector<Record> recs;
            std::vector<std::uint64_t> expired;
            {
                std::lock_guard lk(m_);
                while (cursor_ < sent_ && (last || slots_[cursor_].send < end)) {
                    Slot& s = slots_[cursor_];
                    Record r{cursor_, Nanos{s.send}, std::nullopt};
                    bool late = false;
                    if (s.replied) r.rtt = rtt_of(s, s.rx_mono, s.rx_kernel, s.server, &late);
                    if (late) ++run_.late;
                    if (!s.replied) expired.push_back(cursor_);
                    s.closed = true;
                    records_.push_back(r);
                    recs.push_back(r);
                    ++cursor_;
                }
            }
            for (auto seq : expired) t_.expire(seq);
            WindowResult w = tracker_.close(recs);
            if (cb.window) cb.window(w, t0_ + w.end.count());
            std::optional<PeriodResult> p;
            if (alert_) p = alert_->add(w);
            std::lock_guard lk(m_);
            windows_.push_back(w);
            if (p) {
                periods_.push_back(*p);
                if (cb.period) cb.period(*p);
            }
            ++next_window_;
        }
    }

    const ProbeOptions& o_;
    Transport& t_;
    std::mutex m_;
    std::vector<Slot> slots_;
    std::vector<std::uint64_t> tx_seq_;     // tx_seq_[k] = seq of the k-th datagram sent OK
    std::uint64_t sent_ = 0;
    std::vector<RawArrival> raw_;
    std::vector<Record> records_;
    std::vector<WindowResult> windows_;
    std::vector<PeriodResult> periods_;
    std::optional<AlertTracker> alert_;
    ProbeRun run_;                           // counters only
    std::int64_t t0_;
    std::int64_t offset_;
    WindowTracker tracker_;
    std::int64_t window_ns_;
    std::size_t total_windows_ = 0;
    std::size_t next_window_ = 0;
    std::uint64_t cursor_ = 0;
    std::atomic<bool> finishing_{false};
};

}  // namespace

Result<ProbeRun> run_probe(const ProbeOptions& o, const std::atomic<bool>& stop, const ProbeCallbacks& cb) {
    if (!(o.rate_hz >= 1.0 && o.rate_hz <= 10000.0)) return make_error("rate must be 1-10000 probes/s", 3);
    if (o.duration.count() <= 0) return make_error("duration must be > 0", 3);
    if (o.timeout.count() <= 0) return make_error("timeout must be > 0", 3);
    if (o.windows.window.count() <= 0) return make_error("window must be > 0", 3);
    if (o.mode == profile::ProbeMode::tcp && o.rate_hz > 1000.0)
        return make_error("tcp mode: rate must be <= 1000/s (one socket per probe)", 3);
    const double total_d = std::floor(o.rate_hz * std::chrono::duration<double>(o.duration).count() + 1e-9);
    if (total_d < 1) return make_error("rate x duration must give at least one probe", 3);
    if (total_d > static_cast<double>(max_probes)) return make_error("rate x duration exceeds 1e9 probes: split the run", 3);
    const auto total = static_cast<std::uint64_t>(total_d);

    std::random_device rd;
    const std::uint64_t session = (std::uint64_t(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(net::mono_ns());
    auto transport = make_transport(o.mode, o.target, session, o.size, o.key);
    if (!transport) return transport.error();
    Transport& t = **transport;

    // Start 20 ms out so the receiver thread is up before the first reply.
    const std::int64_t t0 = net::mono_ns() + 20'000'000;
    Engine e(o, t, total, t0);
    if (auto a = e.init_alert(); !a) return a.error();
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
    const std::int64_t spin = std::min<std::int64_t>(o.spin.count(), static_cast<std::int64_t>(period_ns / 2));
    double err_sum = 0;
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        if (stop.load()) {
            base.interrupted = true;
            break;
        }
        // Deadlines from the origin, never from the previous send: no drift accumulates.
        const std::int64_t deadline = t0 + static_cast<std::int64_t>(std::llround(static_cast<double>(i) * period_ns));
        std::int64_t now = net::mono_ns();
        if (now < deadline - spin) {   // behind schedule: no syscall, send at once
            sleep_until(deadline - spin, &stop);
            now = net::mono_ns();
        }
        // Bounded spin: ends at the deadline (at most `spin` ns after the sleep returns).
        while (now < deadline && !stop.load()) now = net::mono_ns();
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
    if (n) sleep_until(base.timing.last_ns + o.timeout.count(), nullptr);
    e.finish();
    rx.join();
    return e.take(std::move(base));
}

}  // namespace netchaos::probe
