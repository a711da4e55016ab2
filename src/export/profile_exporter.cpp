#include "export/profile_exporter.hpp"

#include <cstdio>

#include "export/families.hpp"

namespace netchaos::exporter {

using prometheus::MetricFamily;
using prometheus::MetricType;

std::string profile_hash(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

void ProfileCollector::set_profile(int direction, ActiveProfile p) {
    std::lock_guard lk(m_);
    prof_[static_cast<std::size_t>(direction)] = std::move(p);
}

std::vector<MetricFamily> ProfileCollector::Collect() const {
    const std::string info_name = prefix_ + "_profile_info", mean_name = prefix_ + "_requested_delay_mean_seconds",
                      sigma_name = prefix_ + "_requested_delay_stddev_seconds";
    auto info = family(info_name.c_str(), "The active profile of each direction: name and hash of its normalized text",
                       MetricType::Gauge);
    auto mean = family(mean_name.c_str(), "The active profile's requested delay mean, by direction", MetricType::Gauge);
    auto sigma = family(sigma_name.c_str(), "The active profile's requested delay standard deviation, by direction",
                        MetricType::Gauge);
    std::lock_guard lk(m_);
    for (std::size_t d = 0; d < 2; ++d) {
        const ActiveProfile& p = prof_[d];
        add_gauge(info, {{"direction", dirs_[d]}, {"hash", profile_hash(p.text)}, {"profile", p.name}}, 1);
        if (p.mean_s) add_gauge(mean, {{"direction", dirs_[d]}}, *p.mean_s);
        if (p.sigma_s) add_gauge(sigma, {{"direction", dirs_[d]}}, *p.sigma_s);
    }
    return {std::move(info), std::move(mean), std::move(sigma)};
}

}  // namespace netchaos::exporter
