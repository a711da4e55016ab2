#include "export/probe_exporter.hpp"

#include <cmath>
#include <limits>

#include "export/families.hpp"

namespace netchaos::exporter {

namespace {
double seconds(metrics::Nanos d) { return static_cast<double>(d.count()) / 1e9; }
}  // namespace

ProbeExporter::ProbeExporter(const std::string& target, const std::string& mode)
    : registry_(std::make_shared<prometheus::Registry>()) {
    const prometheus::Labels l{{"target", target}, {"mode", mode}};
    auto& reg = *registry_;
    auto counter = [&](const char* name, const char* help) -> prometheus::Counter* {
        return &prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add(l);
    };
    rtt_ = &prometheus::BuildHistogram()
                .Name("netchaos_probe_rtt_seconds")
                .Help("Round-trip time of each answered probe (a lost probe is never an RTT; it counts in netchaos_probe_lost_total)")
                .Register(reg)
                .Add(l, latency_buckets());
    ipdv_ = &prometheus::BuildHistogram()
                 .Name("netchaos_probe_ipdv_abs_seconds")
                 .Help("|IPDV| (RFC 3393): absolute RTT difference of consecutive sequence numbers both answered")
                 .Register(reg)
                 .Add(l, latency_buckets());
    // The two names the source practice's alert reads, unprefixed so its rule works as is.
    jitter_1s_ = &prometheus::BuildGauge()
                      .Name("jitter_1s_seconds")
                      .Help("jitter_1s: sample standard deviation of the RTTs of the last closed window (NaN: fewer than 2 replies)")
                      .Register(reg)
                      .Add(l);
    spike_ratio_ = &prometheus::BuildGauge()
                        .Name("jitter_spike_ratio")
                        .Help("Fraction (0-1) of the last spike_windows windows whose jitter_1s exceeded the spike level")
                        .Register(reg)
                        .Add(l);
    window_loss_ = &prometheus::BuildGauge()
                        .Name("netchaos_probe_window_loss_ratio")
                        .Help("Fraction (0-1) of the probes sent in the last closed window that got no reply")
                        .Register(reg)
                        .Add(l);
    windows_ = counter("netchaos_probe_windows_total", "Windows closed (each updates jitter_1s_seconds and jitter_spike_ratio)");
    sent_ = counter("netchaos_probe_sent_total", "Probes sent whose fate is known (their window closed)");
    received_ = counter("netchaos_probe_received_total", "Probes answered within the timeout (each counted once)");
    lost_ = counter("netchaos_probe_lost_total", "Probes with no reply within the timeout");
    duplicated_ = counter("netchaos_probe_duplicated_total", "Extra replies to a probe already answered");
    reordered_ = counter("netchaos_probe_reordered_total", "Replies that arrived after a later-sent probe's reply (RFC 4737)");
    // No window yet: no jitter to show.
    jitter_1s_->Set(std::numeric_limits<double>::quiet_NaN());
}

void ProbeExporter::added(const metrics::Added& a) {
    if (a.rtt) rtt_->Observe(seconds(*a.rtt));
    if (a.ipdv) ipdv_->Observe(std::abs(seconds(*a.ipdv)));
}

void ProbeExporter::totals(const metrics::Totals& t) {
    auto up = [](prometheus::Counter* c, std::uint64_t now, std::uint64_t before) {
        if (now > before) c->Increment(static_cast<double>(now - before));
    };
    up(sent_, t.sent, last_.sent);
    up(received_, t.received, last_.received);
    up(lost_, t.lost, last_.lost);
    up(duplicated_, t.duplicates, last_.duplicates);
    up(reordered_, t.reordered, last_.reordered);
    last_ = t;
}

void ProbeExporter::window(const metrics::Window& w) {
    jitter_1s_->Set(w.jitter_ns ? *w.jitter_ns / 1e9 : std::numeric_limits<double>::quiet_NaN());
    spike_ratio_->Set(w.spike_ratio);
    window_loss_->Set(w.loss);
    windows_->Increment();
}

std::string ProbeExporter::text() const { return render(registry_->Collect()); }

}  // namespace netchaos::exporter
