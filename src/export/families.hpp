#pragma once
// Small helpers shared by the exporters: Prometheus names and units in one place.
#include <prometheus/client_metric.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

namespace netchaos::exporter {

// Latency buckets in seconds, 10 us to 10 s, on the R5 preferred numbers (1, 1.6, 2.5, 4,
// 6.3 per decade: each bucket 1.6x the last, 31 bounds). Log spacing keeps the relative
// resolution the same at 50 us on a LAN and at 500 ms on a bad WAN, and the round numbers
// read well as heatmap rows.
const prometheus::Histogram::BucketBoundaries& latency_buckets();

// Building families by hand (the collectors that snapshot someone else's counters).
prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type);
prometheus::ClientMetric labelled(std::vector<prometheus::ClientMetric::Label> labels);
void add_counter(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels, double v);
void add_gauge(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels, double v);

// Text exposition format (what a scrape returns), for tests and for `promtool check metrics`.
std::string render(const std::vector<prometheus::MetricFamily>& families);

}  // namespace netchaos::exporter
