#!/usr/bin/env bash
# netchaos validate / show-profile from the outside: shipped files pass, a broken copy gets
# its line:column and exit 3, bad files (garbage, empty, missing, huge, directory) exit 3
# with a clear message and never crash.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
tmp=$(mktemp -d /tmp/nc-profile-cli.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
P=$NETCHAOS_SOURCE_DIR/profiles

# expect CODE CMD...: run, keep stdout+stderr in $tmp/out, check the exit code.
expect() {
    local want=$1; shift
    "$@" >"$tmp/out" 2>&1
    local got=$?
    [[ $got == "$want" ]] || { cat "$tmp/out"; fail "'$*' exited $got, expected $want"; }
    (( got < 128 )) || fail "'$*' died of a signal"
}
has() { grep -qF -- "$1" "$tmp/out" || { cat "$tmp/out"; fail "output lacks: $1"; }; }

expect 0 "$NETCHAOS" validate "$P"/*.toml "$P"/experiments/*.toml
n=$(grep -c ': ok (' "$tmp/out")
(( n >= 12 )) || fail "only $n files validated ok"
pass "validate: $n shipped profiles and experiments exit 0"

expect 0 "$NETCHAOS" validate --help
has "usage: netchaos validate"
expect 0 "$NETCHAOS" show-profile --help
has "usage: netchaos show-profile"

# A broken copy: a negative jitter on line 15 of the ops profile.
line=$(grep -n '^jitter = "30ms"' "$P/ops-50ms-30ms-normal.toml" | cut -d: -f1)
[[ -n $line ]] || fail "ops profile changed: no jitter line"
sed 's/^jitter = "30ms"/jitter = "-30ms"/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/broken.toml"
expect 3 "$NETCHAOS" validate "$tmp/broken.toml"
has "$tmp/broken.toml:$line:10: error: egress.delay.jitter: negative duration \"-30ms\""
has "INVALID (1 error)"
pass "broken copy: reported at line $line column 10, exit 3"

# A typo: did you mean, at the key's own position.
sed 's/^distribution = "normal"/distributon = "normal"/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/typo.toml"
dline=$(grep -n '^distributon' "$tmp/typo.toml" | cut -d: -f1)
expect 3 "$NETCHAOS" validate "$tmp/typo.toml"
has "typo.toml:$dline:1: error: egress.delay.distributon: unknown key \"distributon\" in [egress.delay]; did you mean \"distribution\"?"

# Wrong type.
sed 's/^mean = "50ms"/mean = 50/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/type.toml"
expect 3 "$NETCHAOS" validate "$tmp/type.toml"
has "got integer 50"

# An experiment whose phase profile is broken: the message names the profile file.
mkdir -p "$tmp/exp/experiments"
cp "$tmp/broken.toml" "$tmp/exp/payment-gateway-quiet.toml"
cp "$P/payment-gateway-morning.toml" "$tmp/exp/"
cp "$P/experiments/payment-morning.toml" "$tmp/exp/experiments/"
expect 3 "$NETCHAOS" validate "$tmp/exp/experiments/payment-morning.toml"
has "payment-gateway-quiet.toml:$line:10: error"

# Bad files.
: >"$tmp/empty.toml"
expect 3 "$NETCHAOS" validate "$tmp/empty.toml"; has "file is empty"
head -c 65536 /dev/urandom >"$tmp/garbage.toml"
expect 3 "$NETCHAOS" validate "$tmp/garbage.toml"; has "error"
printf 'name = "x"\n\x01\x02\xff\xfe [[[\n' >"$tmp/ctrl.toml"
expect 3 "$NETCHAOS" validate "$tmp/ctrl.toml"; has "ctrl.toml:2:"
expect 3 "$NETCHAOS" validate "$tmp/missing.toml"; has "no such file"
expect 3 "$NETCHAOS" validate "$tmp"; has "is a directory"
truncate -s 100M "$tmp/huge.toml"
expect 3 "$NETCHAOS" validate "$tmp/huge.toml"; has "file too large (100 MiB): profiles and experiments are limited to 4 MiB"
expect 3 "$NETCHAOS" validate; has "no FILE given"
expect 3 "$NETCHAOS" validate --bogus "$P/lte.toml"
pass "empty, garbage, control bytes, missing, directory, 100 MB: exit 3 with a message"

# show-profile: normalized text parses again to the same text; JSON is valid.
expect 0 "$NETCHAOS" show-profile "$P/payment-gateway-morning.toml"
cp "$tmp/out" "$tmp/norm.toml"
has 'jitter = "43ms"'
has 'correlation = "0%"'
has 'limit = 1000'
expect 0 "$NETCHAOS" show-profile "$tmp/norm.toml"
diff "$tmp/norm.toml" "$tmp/out" >/dev/null || fail "show-profile output is not a fixed point"
expect 0 "$NETCHAOS" show-profile -j "$P/lte.toml"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["egress"]["rate"]["bytes_per_sec"]==1250000, j' "$tmp/out" || fail "show-profile -j JSON"
expect 0 "$NETCHAOS" show-profile "$P/experiments/bgp-flap.toml"
has "phase 3: backup-path"
expect 3 "$NETCHAOS" show-profile "$tmp/broken.toml"
has "negative duration"
pass "show-profile: fixed point text, JSON, experiments, errors exit 3"

# A model no emulator can deliver (normal 10 ms +- 50 ms: truncated at zero) is a validate
# warning with the moments the fault engine delivers (~25.3 ms, ~32.6 ms), not a run-time surprise.
printf 'name = "wide"\n[egress.delay]\nmean = "10ms"\njitter = "50ms"\ndistribution = "normal"\n' >"$tmp/wide.toml"
expect 0 "$NETCHAOS" validate "$tmp/wide.toml"
has "no emulator can deliver this model"
grep -Eq "delivers mean 2[45]\.[0-9]+ ms, sigma 3[0-3]\.[0-9]+ ms" "$tmp/out" || fail "validate: delivered moments missing: $(cat "$tmp/out")"
pass "validate: an undeliverable delay model warns with the delivered moments"
