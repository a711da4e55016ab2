#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "common/result.hpp"

namespace trace_test {

// The message of a bad-input error; fails the test if the result is not one.
template <class R>
std::string bad_input_message(const R& r) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == netchaos::ErrorKind::bad_input);
    return r.error().message;
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace trace_test
