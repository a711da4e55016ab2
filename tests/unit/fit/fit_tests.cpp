// fit on traces drawn from known models (seeded): parameters within 5%, change points
// within 2 s, and the TOML it writes parses back.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "fit/fit.hpp"
#include "profile/parse.hpp"
#include "synth.hpp"

using namespace netchaos;
using namespace fit_test;

namespace {

const fit::Piece& only_piece(const Result<fit::Fit>& f) {
    REQUIRE(f);
    REQUIRE(f->pieces.size() == 1);
    return f->pieces[0];
}

double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

}  // namespace

TEST_CASE("fit: normal 40/10 is recovered as normal, within 5%") {
    const auto f = fit::fit(draw({{Distribution::normal, 40, 10, 120}}, 1));
    const auto& p = only_piece(f);
    CHECK(p.delay.distribution == Distribution::normal);
    CHECK(ms(p.delay.mean) == Approx(40).epsilon(0.05));
    CHECK(ms(p.delay.jitter) == Approx(10).epsilon(0.05));
    CHECK(p.ks < 0.02);
    CHECK(p.delay.correlation < 0.05);
    CHECK_FALSE(p.loss.loss);
}

TEST_CASE("fit: pareto 20/5 is recovered as pareto, within 5%") {
    const auto f = fit::fit(draw({{Distribution::pareto, 20, 5, 120}}, 2));
    const auto& p = only_piece(f);
    CHECK(p.delay.distribution == Distribution::pareto);
    CHECK(ms(p.delay.mean) == Approx(20).epsilon(0.05));
    CHECK(ms(p.delay.jitter) == Approx(5).epsilon(0.05));
}

TEST_CASE("fit: paretonormal 30/8 is recovered as paretonormal, within 5%") {
    const auto f = fit::fit(draw({{Distribution::paretonormal, 30, 8, 120}}, 3));
    const auto& p = only_piece(f);
    CHECK(p.delay.distribution == Distribution::paretonormal);
    CHECK(ms(p.delay.mean) == Approx(30).epsilon(0.05));
    CHECK(ms(p.delay.jitter) == Approx(8).epsilon(0.05));
}

TEST_CASE("fit: the lag-1 correlation is the copula's rho") {
    const auto f = fit::fit(draw({{Distribution::normal, 40, 10, 120, 0.6}}, 4));
    const auto& p = only_piece(f);
    // n = 12000: the sd of r is (1 - rho^2) / sqrt(n) = 0.006
    CHECK(p.delay.correlation == Approx(0.6).margin(0.03));
}

TEST_CASE("fit: Gilbert-Elliott p = 1%, r = 30% is recovered within 5%") {
    // 4,000 s at 100/s: ~3,900 good->bad transitions, so p's relative sd is 1.6% (5% is 3 sd).
    const auto f = fit::fit(draw({{Distribution::normal, 40, 10, 4000}}, 5, 0.01, 0.30));
    const auto& p = only_piece(f);
    REQUIRE(p.loss.loss);
    const auto* ge = std::get_if<profile::GilbertElliott>(&p.loss.loss->model);
    REQUIRE(ge);
    CHECK(ge->p == Approx(0.01).epsilon(0.05));
    CHECK(ge->r == Approx(0.30).epsilon(0.05));
    CHECK(ge->one_minus_h == 1.0);
    CHECK(ge->one_minus_k == 0.0);
}

TEST_CASE("fit: independent loss stays random") {
    // A Gilbert chain with r = 1 - p is Bernoulli(p).
    const auto f = fit::fit(draw({{Distribution::normal, 40, 10, 600}}, 6, 0.02, 0.98));
    const auto& p = only_piece(f);
    REQUIRE(p.loss.loss);
    const auto* rl = std::get_if<profile::RandomLoss>(&p.loss.loss->model);
    REQUIRE(rl);
    CHECK(rl->p == Approx(0.02).epsilon(0.1));
}

TEST_CASE("fit: netem's 4-state loss is recovered within 5% and chosen over random and Gilbert-Elliott") {
    // Isolated losses inside long gaps (p14 1%) and bursts (p13 0.5%) in which short loss runs
    // (mean 1 / (p31 + p32) = 2) alternate with short delivered gaps (mean 1 / p23 = 4) until a
    // burst ends (p31). 10^6 packets give each transition >= ~4,400 times (1->3 ~4,400,
    // 3->1 ~4,400, 1->4 ~8,800, 3->2 and 2->3 ~17,500), so the counts' relative sd is <= 1.5%
    // and 5% is >= 3 sd. The hidden 3-or-4 split of single losses adds to that; measured over
    // seeds 11-30 the worst relative errors were p13 3.3%, p31 3.5%, p32 1.5%, p23 1.2%,
    // p14 3.1% (p31 is the least determined: ~4,400 exits, each a guess between 3 and 4).
    const profile::Markov4 truth{0.005, 0.10, 0.40, 0.25, 0.01};
    for (std::uint64_t seed : {11, 12, 13}) {
        const auto t = draw_markov4(1'000'000, seed, truth);
        const auto l = fit::fit_loss(t.records);
        INFO(l.why);
        REQUIRE(l.loss);
        const auto* m = std::get_if<profile::Markov4>(&l.loss->model);
        REQUIRE(m);
        CHECK(m->p13 == Approx(truth.p13).epsilon(0.05));
        CHECK(m->p31 == Approx(truth.p31).epsilon(0.05));
        CHECK(m->p32 == Approx(truth.p32).epsilon(0.05));
        CHECK(m->p23 == Approx(truth.p23).epsilon(0.05));
        CHECK(m->p14 == Approx(truth.p14).epsilon(0.05));
        CHECK(l.why.rfind("markov4", 0) == 0);
    }
}

TEST_CASE("fit: random and Gilbert-Elliott loss are not taken for 4-state") {
    // Drawn as 4-state chains that are the simpler models: p13 = p, p31 = r and no state 2 or 4
    // is Gilbert-Elliott; with r = 1 - p as well it is Bernoulli(p). BIC charges markov4 3
    // parameters more than Gilbert-Elliott, 1.5 log n ~ 19 nats at 4*10^5 probes, where a nested
    // model's chance gain is ~chi2(3) / 2 (~1.5 nats): no seed should flip it.
    for (std::uint64_t seed : {21, 22, 23}) {
        const auto loss_of = [&](const profile::Markov4& chain) {
            const auto l = fit::fit_loss(draw_markov4(400'000, seed, chain).records);
            UNSCOPED_INFO(l.why);
            REQUIRE(l.loss);
            return l.loss->model;
        };
        const auto ge = loss_of({0.01, 0.30, 0.0, 1.0, 0.0});
        const auto* g = std::get_if<profile::GilbertElliott>(&ge);
        REQUIRE(g);
        CHECK(g->p == Approx(0.01).epsilon(0.05));
        CHECK(g->r == Approx(0.30).epsilon(0.05));
        const auto rnd = loss_of({0.02, 0.98, 0.0, 1.0, 0.0});
        const auto* r = std::get_if<profile::RandomLoss>(&rnd);
        REQUIRE(r);
        CHECK(r->p == Approx(0.02).epsilon(0.05));
    }
}

TEST_CASE("fit: a 3-segment trace splits within 2 s of the true boundaries, each piece recovered") {
    const auto t = draw({{Distribution::normal, 12, 1, 60}, {Distribution::normal, 83, 41, 90}, {Distribution::pareto, 20, 5, 60}}, 7);
    auto f = fit::fit(t);
    REQUIRE(f);
    REQUIRE(f->pieces.size() == 3);
    CHECK(std::abs(ms(f->pieces[1].start) - 60'000) <= 2'000);
    CHECK(std::abs(ms(f->pieces[2].start) - 150'000) <= 2'000);
    CHECK(ms(f->pieces[0].delay.mean) == Approx(12).epsilon(0.05));
    CHECK(ms(f->pieces[0].delay.jitter) == Approx(1).epsilon(0.05));
    CHECK(ms(f->pieces[1].delay.mean) == Approx(83).epsilon(0.05));
    CHECK(ms(f->pieces[1].delay.jitter) == Approx(41).epsilon(0.05));
    CHECK(f->pieces[2].delay.distribution == Distribution::pareto);
    CHECK(ms(f->pieces[2].delay.mean) == Approx(20).epsilon(0.05));
    CHECK(ms(f->pieces[2].delay.jitter) == Approx(5).epsilon(0.05));
    double total = 0;
    for (const auto& p : f->pieces) total += ms(p.duration);
    CHECK(total == Approx(210'000).margin(1));

    // The experiment it writes parses, with a phase per piece and the fitted delays.
    fit::RenderOptions r;
    r.name = "three";
    r.source = "synthetic";
    const std::string text = fit::render(*f, r);
    CHECK(text.find("RTTs only") != std::string::npos);   // says where the delay went
    auto e = profile::parse_experiment_text(text, "three.toml");
    for (const auto& d : e.diagnostics) INFO(d.format());
    REQUIRE(e.ok());
    REQUIRE(e.value->phases.size() == 3);
}

TEST_CASE("fit: refine moves a change point placed seconds off back to the change") {
    // A quiet 12 ms (sd 5 us, a bench's), a morning 83 +- 41 ms, quiet again: 3000 samples
    // each. The first bound is given 500 samples early, the second 400 late.
    std::mt19937_64 rng(11);
    std::normal_distribution<double> quiet(12.0, 0.005), morning(83.0, 41.0);
    std::vector<double> x;
    for (int i = 0; i < 3000; ++i) x.push_back(quiet(rng));
    for (int i = 0; i < 3000; ++i) x.push_back(morning(rng));
    for (int i = 0; i < 3000; ++i) x.push_back(quiet(rng));
    std::vector<std::size_t> bounds{0, 2500, 6400, 9000};
    fit::refine(x, bounds, 500);
    REQUIRE(bounds.size() == 4);
    CHECK(bounds.front() == 0);
    CHECK(bounds.back() == 9000);
    // A morning draw can land within the quiet's range, so the change is exact only up to
    // the morning samples that look quiet: a few at most.
    CHECK(std::abs(static_cast<long>(bounds[1]) - 3000) <= 5);
    CHECK(std::abs(static_cast<long>(bounds[2]) - 6000) <= 5);
    // Already at the change, nothing moves; pieces shorter than min_len are never made.
    const auto before = bounds;
    fit::refine(x, bounds, 500);
    CHECK(bounds == before);
    std::vector<std::size_t> tight{0, 2500, 3200, 9000};
    fit::refine(x, tight, 1000);
    CHECK(tight[2] - tight[1] >= 1000);
    CHECK(tight[1] >= 1000);
}

TEST_CASE("fit: a shape no law fits becomes a custom table; one piece renders as a profile") {
    // Bimodal: half 10 ms, half 50 ms (sd 1): no single law is within KS 0.03.
    auto t = draw({{Distribution::normal, 10, 1, 60}}, 8);
    const auto other = draw({{Distribution::normal, 50, 1, 60}}, 9);
    for (std::size_t i = 1; i < t.records.size(); i += 2) t.records[i].rtt = other.records[i].rtt;
    const auto f = fit::fit(t);
    const auto& p = only_piece(f);
    CHECK(p.delay.distribution == Distribution::custom);
    REQUIRE(p.delay.table);
    CHECK(p.delay.table->samples_ms.size() == 500);
    CHECK(p.ks < 0.01);
    fit::RenderOptions r;
    r.name = "bimodal";
    auto prof = profile::parse_profile_text(fit::render(f.value(), r), "bimodal.toml");
    for (const auto& d : prof.diagnostics) INFO(d.format());
    REQUIRE(prof.ok());
    REQUIRE(prof.value->egress);
    CHECK(prof.value->egress->delay->distribution == Distribution::custom);
}

TEST_CASE("fit: one-way times split the delay per direction, each within 5%") {
    // Forward normal 30/5 and reverse pareto 10/2 ms, drawn independently; the RTT is their sum.
    const auto fwd = draw({{Distribution::normal, 30, 5, 120}}, 31);
    const auto rev = draw({{Distribution::pareto, 10, 2, 120}}, 32);
    trace::Trace t = fwd;
    t.flags = trace::flag_one_way;
    for (std::size_t i = 0; i < t.records.size(); ++i) {
        t.one_way.push_back({*fwd.records[i].rtt, *rev.records[i].rtt});
        t.records[i].rtt = *fwd.records[i].rtt + *rev.records[i].rtt;
    }
    const auto f = fit::fit(t);
    const auto& p = only_piece(f);
    CHECK(f->split);
    CHECK(p.delay.distribution == Distribution::normal);
    CHECK(ms(p.delay.mean) == Approx(30).epsilon(0.05));
    CHECK(ms(p.delay.jitter) == Approx(5).epsilon(0.05));
    REQUIRE(p.ingress);
    CHECK(p.ingress->distribution == Distribution::pareto);
    CHECK(ms(p.ingress->mean) == Approx(10).epsilon(0.05));
    CHECK(ms(p.ingress->jitter) == Approx(2).epsilon(0.05));
    fit::RenderOptions r;
    r.name = "split";
    const std::string text = fit::render(*f, r);
    CHECK(text.find("one-way times: egress is fitted from the client->server") != std::string::npos);
    auto prof = profile::parse_profile_text(text, "split.toml");
    for (const auto& d : prof.diagnostics) INFO(d.format());
    REQUIRE(prof.ok());
    REQUIRE(prof.value->ingress);
    CHECK(prof.value->ingress->delay->distribution == Distribution::pareto);
    // Fewer than 90% of the answered probes with one-way times: the RTT on egress, as before.
    for (std::size_t i = 0; i < t.one_way.size(); i += 5) t.one_way[i] = {};
    const auto g = fit::fit(t);
    REQUIRE(g);
    CHECK_FALSE(g->split);
    CHECK_FALSE(g->pieces[0].ingress);
}

TEST_CASE("fit: a bench floor comes off every RTT before fitting, and the output says so") {
    // The bench alone: 40 us, sd 3 us. The path: 12 ms jitter-free, measured through it.
    const auto bench = draw({{Distribution::normal, 0.040, 0.003, 20}}, 7);
    const auto fl = fit::bench_floor(bench);
    REQUIRE(fl);
    CHECK(ms(fl->median) == Approx(0.040).margin(0.0005));
    CHECK(ms(fl->p1) < ms(fl->median));
    CHECK(ms(fl->p99) - ms(fl->p1) == Approx(2 * 2.326 * 0.003).margin(0.002));
    const auto measured = draw({{Distribution::normal, 12.040, 0.003, 60}}, 8);
    fit::Options o;
    o.floor = fl->median;
    const auto f = fit::fit(measured, o);
    const auto& p = only_piece(f);
    CHECK(ms(p.delay.mean) == Approx(12.000).margin(0.001));   // the path alone
    CHECK(p.rtt_mean_ms == Approx(12.040).margin(0.001));      // the comment keeps what was measured
    const auto without = fit::fit(measured);
    CHECK(ms(only_piece(without).delay.mean) == Approx(12.040).margin(0.001));
    const std::string text = fit::render(*f, {});
    CHECK(text.find("floor 0.040 ms") != std::string::npos);
    CHECK(profile::parse_profile_text(text, "fitted.toml").ok());
    // Clamped at 0: a floor above the RTTs leaves a zero delay, not a negative one.
    o.floor = std::chrono::milliseconds(20);
    const auto big = fit::fit(measured, o);
    CHECK(only_piece(big).delay.mean.count() >= 0);
    CHECK(fit::bench_floor(draw({{Distribution::normal, 1, 0.1, 0.05}}, 1)).error().kind == ErrorKind::bad_input);
}

TEST_CASE("fit: losses that say which way they were lost go on egress and ingress accordingly") {
    // 200,000 probes: 2% lost on the way up, then 0.5% of those that reached the server lost on
    // the way down (independent draws); irtt's true_up / true_down say which.
    std::mt19937_64 rng(41);
    std::uniform_real_distribution<double> u(0, 1);
    trace::Trace t = draw({{Distribution::normal, 40, 5, 2000}}, 42);
    t.one_way.resize(t.records.size());
    for (std::size_t i = 0; i < t.records.size(); ++i) {
        if (u(rng) < 0.02) t.records[i].rtt.reset(), t.one_way[i].lost = trace::LostWay::up;
        else if (u(rng) < 0.005) t.records[i].rtt.reset(), t.one_way[i].lost = trace::LostWay::down;
    }
    const auto f = fit::fit(t);
    const auto& p = only_piece(f);
    CHECK(f->loss_split);
    CHECK_FALSE(f->split);   // no one-way delays: the RTT stays on egress
    REQUIRE(p.loss.loss);
    REQUIRE(p.ingress_loss);
    REQUIRE(p.ingress_loss->loss);
    const auto* eg = std::get_if<profile::RandomLoss>(&p.loss.loss->model);
    const auto* in = std::get_if<profile::RandomLoss>(&p.ingress_loss->loss->model);
    REQUIRE(eg);
    REQUIRE(in);
    // 4,000 and ~1,000 losses: 5% is > 3 binomial SE for both.
    CHECK(eg->p == Approx(0.02).epsilon(0.05));
    CHECK(in->p == Approx(0.005).epsilon(0.1));
    CHECK(p.ingress_loss->sent == t.records.size() - p.loss.lost);   // ingress sees what reached the server
    const std::string text = fit::render(*f, {});
    CHECK(text.find("egress loss (lost client->server") != std::string::npos);
    auto prof = profile::parse_profile_text(text, "ways.toml");
    REQUIRE(prof.ok());
    REQUIRE(prof.value->ingress);
    CHECK(prof.value->ingress->loss);
    CHECK_FALSE(prof.value->ingress->delay);
    // Directions for under 90% of the losses: all loss on egress, as before.
    for (std::size_t i = 0, k = 0; i < t.records.size(); ++i)
        if (!t.records[i].rtt && k++ % 5 == 0) t.one_way[i].lost = trace::LostWay::unknown;
    const auto g = fit::fit(t);
    REQUIRE(g);
    CHECK_FALSE(g->loss_split);
    CHECK_FALSE(g->pieces[0].ingress_loss);
}

TEST_CASE("fit: fewer than 10 answered probes is bad input") {
    trace::Trace t;
    for (std::uint64_t i = 0; i < 50; ++i) t.records.push_back({i, std::chrono::milliseconds(10 * i), std::nullopt});
    t.records[3].rtt = std::chrono::milliseconds(5);
    auto f = fit::fit(t);
    REQUIRE_FALSE(f);
    CHECK(f.error().kind == ErrorKind::bad_input);
}
