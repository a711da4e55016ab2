#include <catch2/catch.hpp>

#include "stall_watch.hpp"

using netchaos::fwd::StallWatch;

TEST_CASE("a gap longer than the threshold is a stall; the first read and short gaps are not") {
    StallWatch w(100);
    CHECK(w.mark(1'000'000) == 0);   // the first read has no gap before it
    CHECK(w.mark(1'000'100) == 0);   // exactly the threshold: the loop's own work
    CHECK(w.mark(1'000'150) == 0);
    CHECK(w.mark(1'000'400) == 250);
    CHECK(w.mark(1'000'420) == 0);
    CHECK(w.threshold() == 100);
}

TEST_CASE("releases due before the last stall ended are the host's; those due after it are not") {
    StallWatch w(100);
    w.mark(10'000);
    CHECK_FALSE(w.delayed(9'000));   // no stall yet: everything counts as the forwarder's
    w.mark(10'050);
    REQUIRE(w.mark(10'500) == 450);  // the host took the core from 10,050 to 10,500
    CHECK(w.delayed(9'990));         // was already due, then waited through the stall
    CHECK(w.delayed(10'200));        // came due during it
    CHECK(w.delayed(10'499));
    CHECK_FALSE(w.delayed(10'500));  // due when the loop had the core back
    CHECK_FALSE(w.delayed(10'510));
    // Short gaps after it change nothing; the next stall moves the line.
    w.mark(10'560);
    CHECK(w.delayed(10'499));
    CHECK_FALSE(w.delayed(10'520));
    REQUIRE(w.mark(11'000) == 440);
    CHECK(w.delayed(10'520));
}
