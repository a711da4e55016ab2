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

std::string render(const std::vector<prometheus::MetricFamily>& families) {
    std::ostringstream out;
    prometheus::TextSerializer{}.Serialize(out, families);
    return out.str();
}

}  // namespace netchaos::exporter
