#include "export/families.hpp"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace netchaos::exporter {

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
    static const prometheus::Histogram::BucketBoundaries b = [] {
        prometheus::Histogram::BucketBoundaries out;
        constexpr double r5[] = {1.0, 1.6, 2.5, 4.0, 6.3};
        double decade = 1e-5;
        for (int d = 0; d < 6; ++d, decade *= 10)
            for (double m : r5) out.push_back(m * decade);
        out.push_back(10.0);
        return out;
    }();
    return b;
}

using prometheus::ClientMetric;
using prometheus::MetricFamily;

MetricFamily family(const char* name, const char* help, prometheus::MetricType type) { return MetricFamily{name, help, type, {}}; }

ClientMetric labelled(std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    return m;
}
void add_counter(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
    auto m = labelled(std::move(labels));
    m.counter.value = v;
    f.metric.push_back(std::move(m));
}
void add_gauge(MetricFamily& f, std::vector<ClientMetric::Label> labels, double v) {
    auto m = labelled(std::move(labels));
    m.gauge.value = v;
    f.metric.push_back(std::move(m));
}

std::string render(const std::vector<prometheus::MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer{}.Serialize(out, families);
    return out.str();
}

}  // namespace netchaos::exporter
