// libFuzzer target for the profile and experiment parsers. Built by
// tests/integration/profile_fuzz.sh with clang++-14 -fsanitize=fuzzer,address,undefined.
// Besides "no crash", it checks the normalization contract: a profile that parses renders
// to text that parses again to the same text.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "profile/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace p = netchaos::profile;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto prof = p::parse_profile_text(text, "fuzz-dir/fuzz.toml");
    for (const auto& d : prof.diagnostics) (void)d.format();
    if (prof.ok()) {
        auto once = p::to_text(*prof.value);
        (void)p::to_json(*prof.value);
        auto again = p::parse_profile_text(once, "fuzz-dir/fuzz.toml");
        if (!again.ok() || p::to_text(*again.value) != once) {
            std::fprintf(stderr, "round trip broke:\n%s\n", once.c_str());
            for (const auto& d : again.diagnostics) std::fprintf(stderr, "%s\n", d.format().c_str());
            std::abort();
        }
    }
    auto ex = p::parse_experiment_text(text, "fuzz-dir/fuzz-experiment.toml");
    for (const auto& d : ex.diagnostics) (void)d.format();
    return 0;
}
