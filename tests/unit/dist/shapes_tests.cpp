// The continuous laws behind netem's tables: quantile and CDF invert each other, densities
// integrate to 1, and the laws match the tables iproute2 generates.
#include <catch2/catch.hpp>

#include <cmath>

#include "dist/normal.hpp"
#include "dist/shapes.hpp"
#include "dist/table.hpp"

using namespace netchaos;
using profile::Distribution;

TEST_CASE("normal_quantile inverts normal_cdf to full precision, tails included") {
    for (double p : {1e-300, 1e-12, 1e-6, 0.02, 0.3, 0.5, 0.77, 0.99, 1 - 1e-9})
        CHECK(dist::normal_cdf(dist::normal_quantile(p)) == Approx(p).epsilon(1e-12));
    CHECK(dist::normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-14));
}

TEST_CASE("shapes: cdf(quantile(u)) = u, densities integrate to 1, pareto's lower end") {
    for (auto d : {Distribution::normal, Distribution::pareto, Distribution::paretonormal}) {
        INFO("law " << static_cast<int>(d));
        for (double u : {1e-6, 0.01, 0.25, 0.5, 0.9, 0.999, 1 - 1e-7})
            CHECK(dist::shape_cdf(d, dist::shape_quantile(d, u)) == Approx(u).epsilon(1e-5));
        double area = 0;
        const double h = 1e-3;
        for (double x = -12; x < 400; x += h) area += std::exp(dist::shape_log_pdf(d, x + h / 2)) * h;
        CHECK(area == Approx(1.0).epsilon(2e-3));
    }
    CHECK(dist::shape_cdf(Distribution::pareto, -2.0 / 3.0) == 0.0);
    CHECK(std::isinf(dist::shape_log_pdf(Distribution::pareto, -0.7)));
}

TEST_CASE("shapes: the generated tables are these laws' quantiles") {
    for (auto d : {Distribution::normal, Distribution::pareto, Distribution::paretonormal}) {
        const auto t = dist::generate(d, 4096);
        for (std::size_t k : {std::size_t(100), std::size_t(2048), std::size_t(3900)}) {
            // entry k is the quantile at about (k + 1/2) / 4096 (pareto: survival (4096 - k) / 4096)
            const double u = d == Distribution::pareto ? k / 4096.0 : (k + 0.5) / 4096.0;
            CHECK(t[k] / 8192.0 == Approx(dist::shape_quantile(d, u)).margin(0.01));
        }
    }
}
