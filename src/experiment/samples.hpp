#pragma once
// The probe's records and live windows as the runner consumes them. Every figure is
// computed by src/metrics; this file only selects which records belong to a span and
// converts moments into the fidelity gate's milliseconds.
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/io.hpp"
#include "metrics/metrics.hpp"

namespace netchaos::experiment {

using Record = metrics::Record;
using Window = metrics::TimedWindow;   // one {"type":"window",...} line, live

// RTT moments in milliseconds, as the fidelity gate compares them (metrics::moments: sample
// mean and sample standard deviation, n - 1).
struct Moments {
    std::uint64_t n = 0;
    double mean_ms = 0;
    double sigma_ms = 0;
};
Moments to_ms(const metrics::Moments& m);

// The records sent in [from_ns, to_ns). `all` is in send order, as the probe writes it.
std::span<const Record> slice(const std::vector<Record>& all, std::int64_t from_ns, std::int64_t to_ns);

// Moments of the RTTs received in `records`.
Moments rtt_moments(std::span<const Record> records);

}  // namespace netchaos::experiment
