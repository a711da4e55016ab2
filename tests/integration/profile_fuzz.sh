#!/usr/bin/env bash
# libFuzzer run over the profile and experiment parsers: clang++-14 with
# -fsanitize=fuzzer,address,undefined, seeded with every shipped profile, 60 s (override
# with NETCHAOS_FUZZ_SECONDS). A crash, a sanitizer report or a broken to_text round trip
# fails the test; the reproducer is left in $NETCHAOS_BUILD_DIR/fuzz/.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
set -o pipefail
CXX=${FUZZ_CXX:-clang++-14}
command -v "$CXX" >/dev/null 2>&1 || skip "$CXX not found: install clang-14 and libclang-rt-14-dev (scripts/setup-deps.sh) to fuzz the profile parser"
src=$NETCHAOS_SOURCE_DIR
out=$NETCHAOS_BUILD_DIR/fuzz
mkdir -p "$out/obj" "$out/corpus" "$out/seed"
# toml++ compiled from its headers (tests/fuzz/toml_impl.cpp), not Debian's shared library,
# so its parser is instrumented too.
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
       -I"$src/src" -DTOML_HEADER_ONLY=0)
[[ $(cat "$out/obj/flags" 2>/dev/null) == "${flags[*]}" ]] || rm -f "$out"/obj/*.o
echo "${flags[*]}" >"$out/obj/flags"
# Compile each source once; recompile only what changed (the build shares 2 cores).
objs=()
# The profile links src/dist (the one .dist parser and moments) and src/trace (a delay
# `trace =` is read while parsing; trace records are src/metrics types), so the fuzzer does too.
for f in "$src"/src/profile/*.cpp "$src"/src/dist/*.cpp "$src"/src/trace/*.cpp "$src"/src/metrics/*.cpp \
         "$src/tests/fuzz/profile_fuzz.cpp" "$src/tests/fuzz/toml_impl.cpp"; do
    o=$out/obj/$(basename "${f%.cpp}").o
    objs+=("$o")
    if [[ ! -f $o || $f -nt $o || -n $(find "$src/src/profile" "$src/src/dist" "$src/src/trace" "$src/src/metrics" -name '*.hpp' -newer "$o" 2>/dev/null) ]]; then
        echo "compiling $(basename "$f")"
        "$CXX" "${flags[@]}" -c "$f" -o "$o" || fail "compiling $f with $CXX"
    fi
done
"$CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" -lpcap -o "$out/profile_fuzz" || fail "linking the fuzzer"
rm -f "$out"/crash-* "$out"/timeout-* "$out"/oom-* "$out"/leak-*
# Seeds: the shipped profiles, plus inputs that once crashed (tests/fuzz/regressions).
find "$src/profiles" "$src/tests/fuzz/regressions" -name '*.toml' -exec cp {} "$out/seed/" \;
seconds=${NETCHAOS_FUZZ_SECONDS:-60}
cd "$out" || fail "cd $out"
echo "fuzzing for ${seconds}s with $(ls "$out/seed" | wc -l) seeds"
if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ./profile_fuzz -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -artifact_prefix="$out/" -print_final_stats=1 "$out/corpus" "$out/seed" 2>&1 | tail -25; then
    ls -1 "$out"/crash-* "$out"/timeout-* "$out"/oom-* "$out"/leak-* 2>/dev/null
    fail "the fuzzer found a crash (reproduce: $out/profile_fuzz ARTIFACT)"
fi
pass "profile fuzzer ran ${seconds}s without a crash"
