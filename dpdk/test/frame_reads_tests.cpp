// frame_reads: the forwarder reads frame data only for what needs it, and says why.
#include <catch2/catch.hpp>

#include <chrono>

#include "fault/engine.hpp"
#include "forwarder.hpp"

using namespace netchaos;
using namespace netchaos::fwd;
using namespace std::chrono_literals;

namespace {
fault::ModelPtr model(const profile::Impairment& imp) {
    auto m = fault::compile(imp);
    REQUIRE(m.ok());
    return *m;
}
profile::Impairment normal_delay(profile::JitterOrder order = profile::JitterOrder::preserve) {
    profile::Impairment imp;
    profile::Delay d;
    d.mean = 100us;
    d.jitter = 20us;
    d.distribution = profile::Distribution::normal;
    d.order = order;
    imp.delay = d;
    return imp;
}
// A direction of this model and nothing else (name, params and the rest left empty).
DirModel dir_model(fault::ModelPtr m) {
    DirModel d;
    d.model = std::move(m);
    return d;
}
}  // namespace

TEST_CASE("frame_reads: a delay alone needs no frame byte; malformed counting does") {
    DirModel m = dir_model(model(normal_delay()));
    CHECK(frame_reads(m, MalformedPolicy::unchecked) == 0);
    CHECK(frame_reads_text(frame_reads(m, MalformedPolicy::unchecked)) == "not read");
    CHECK(frame_reads(m, MalformedPolicy::forward) == frame_malformed);
    CHECK(frame_reads(m, MalformedPolicy::drop) == frame_malformed);
    CHECK(frame_reads_text(frame_malformed) == "read: malformed counting");
    CHECK(frame_reads(dir_model(fault::passthrough()), MalformedPolicy::unchecked) == 0);
}

TEST_CASE("frame_reads: ECN loss, reorder = flow and classes each need the frame") {
    auto ecn = normal_delay();
    ecn.loss = profile::Loss{profile::RandomLoss{0.01, 0.0}, true};
    CHECK(frame_reads(dir_model(model(ecn)), MalformedPolicy::unchecked) == frame_ecn);
    auto plain_loss = normal_delay();
    plain_loss.loss = profile::Loss{profile::RandomLoss{0.01, 0.0}, false};
    CHECK(frame_reads(dir_model(model(plain_loss)), MalformedPolicy::unchecked) == 0);
    CHECK(frame_reads(dir_model(model(normal_delay(profile::JitterOrder::flow))), MalformedPolicy::unchecked) == frame_flow);

    // A class's own model counts too, not only the unmatched traffic's.
    DirModel cls = dir_model(model(normal_delay()));
    cls.classes.push_back(ClassModel{"a", ClassRule{}, model(ecn)});
    const unsigned why = frame_reads(cls, MalformedPolicy::forward);
    CHECK(why == (frame_malformed | frame_classes | frame_ecn));
    CHECK(frame_reads_text(why) == "read: malformed counting, ECN, classes");
}
