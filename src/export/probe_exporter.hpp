#pragma once
// What `netchaos probe --metrics-listen` publishes (docs/monitoring.md lists each series).
// Every figure comes from src/metrics as the prober resolves probes: the RTT and IPDV of each
// record (metrics::Added), the running counts (metrics::Totals) and each closed window's
// jitter_1s and spike ratio (metrics::Window). This class only moves them into
// prometheus-cpp's registry; nothing is computed here.
//
// Called on the prober's receiver thread; scrapes read the registry on the server's thread
// (prometheus-cpp's metrics are safe for that).
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "metrics/metrics.hpp"

namespace netchaos::exporter {

class ProbeExporter {
public:
    // target: "10.0.0.2:7777"; mode: "udp" | "icmp" | "tcp". Both become labels of every series.
    ProbeExporter(const std::string& target, const std::string& mode);

    void added(const metrics::Added& a);       // each resolved probe
    void totals(const metrics::Totals& t);     // after each window
    void window(const metrics::Window& w);     // each closed window

    std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
    std::string text() const;                  // what a scrape returns now

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Histogram* rtt_;
    prometheus::Histogram* ipdv_;
    prometheus::Gauge* jitter_1s_;
    prometheus::Gauge* spike_ratio_;
    prometheus::Gauge* window_loss_;
    prometheus::Counter* windows_;
    prometheus::Counter* sent_;
    prometheus::Counter* received_;
    prometheus::Counter* lost_;
    prometheus::Counter* duplicated_;
    prometheus::Counter* reordered_;
    metrics::Totals last_;                     // Counters only go up: publish the increments
};

}  // namespace netchaos::exporter
