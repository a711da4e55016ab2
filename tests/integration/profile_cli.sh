#!/usr/bin/env bash
# netchaos validate / show-profile from the outside: shipped files pass, a broken copy gets
# its line:column and exit 3, bad files (garbage, empty, missing, huge, directory) exit 3
# with a clear message and never crash.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
tmp=$(mktemp -d /tmp/nc-profile-cli.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
P=$NETCHAOS_SOURCE_DIR/profiles


nc_expect 0 "$NETCHAOS" validate "$P"/*.toml "$P"/experiments/*.toml
n=$(grep -c ': ok (' "$tmp/out")
(( n >= 12 )) || fail "only $n files validated ok"
pass "validate: $n shipped profiles and experiments exit 0"

nc_expect 0 "$NETCHAOS" validate --help
nc_has "usage: netchaos validate"
nc_expect 0 "$NETCHAOS" show-profile --help
nc_has "usage: netchaos show-profile"

# A broken copy: a negative jitter on line 15 of the ops profile.
line=$(grep -n '^jitter = "30ms"' "$P/ops-50ms-30ms-normal.toml" | cut -d: -f1)
[[ -n $line ]] || fail "ops profile changed: no jitter line"
sed 's/^jitter = "30ms"/jitter = "-30ms"/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/broken.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/broken.toml"
nc_has "$tmp/broken.toml:$line:10: error: egress.delay.jitter: negative duration \"-30ms\""
nc_has "INVALID (1 error)"
pass "broken copy: reported at line $line column 10, exit 3"

# A typo: did you mean, at the key's own position.
sed 's/^distribution = "normal"/distributon = "normal"/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/typo.toml"
dline=$(grep -n '^distributon' "$tmp/typo.toml" | cut -d: -f1)
nc_expect 3 "$NETCHAOS" validate "$tmp/typo.toml"
nc_has "typo.toml:$dline:1: error: egress.delay.distributon: unknown key \"distributon\" in [egress.delay]; did you mean \"distribution\"?"

# Wrong type.
sed 's/^mean = "50ms"/mean = 50/' "$P/ops-50ms-30ms-normal.toml" >"$tmp/type.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/type.toml"
nc_has "got integer 50"

# An experiment whose phase profile is broken: the message names the profile file.
mkdir -p "$tmp/exp/experiments"
cp "$tmp/broken.toml" "$tmp/exp/payment-gateway-quiet.toml"
cp "$P/payment-gateway-morning.toml" "$tmp/exp/"
cp "$P/experiments/payment-morning.toml" "$tmp/exp/experiments/"
nc_expect 3 "$NETCHAOS" validate "$tmp/exp/experiments/payment-morning.toml"
nc_has "payment-gateway-quiet.toml:$line:10: error"

# Bad files.
: >"$tmp/empty.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/empty.toml"; nc_has "file is empty"
head -c 65536 /dev/urandom >"$tmp/garbage.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/garbage.toml"; nc_has "error"
printf 'name = "x"\n\x01\x02\xff\xfe [[[\n' >"$tmp/ctrl.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/ctrl.toml"; nc_has "ctrl.toml:2:"
nc_expect 3 "$NETCHAOS" validate "$tmp/missing.toml"; nc_has "no such file"
nc_expect 3 "$NETCHAOS" validate "$tmp"; nc_has "is a directory"
truncate -s 100M "$tmp/huge.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/huge.toml"; nc_has "file too large (100 MiB): profiles and experiments are limited to 4 MiB"
nc_expect 3 "$NETCHAOS" validate; nc_has "no FILE given"
nc_expect 3 "$NETCHAOS" validate --bogus "$P/lte.toml"
pass "empty, garbage, control bytes, missing, directory, 100 MB: exit 3 with a message"

# show-profile: normalized text parses again to the same text; JSON is valid.
nc_expect 0 "$NETCHAOS" show-profile "$P/payment-gateway-morning.toml"
cp "$tmp/out" "$tmp/norm.toml"
nc_has 'jitter = "43ms"'
nc_has 'correlation = "0%"'
nc_has 'limit = 1000'
nc_expect 0 "$NETCHAOS" show-profile "$tmp/norm.toml"
diff "$tmp/norm.toml" "$tmp/out" >/dev/null || fail "show-profile output is not a fixed point"
nc_expect 0 "$NETCHAOS" show-profile -j "$P/lte.toml"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["egress"]["rate"]["bytes_per_sec"]==1250000, j' "$tmp/out" || fail "show-profile -j JSON"
nc_expect 0 "$NETCHAOS" show-profile "$P/experiments/bgp-flap.toml"
nc_has "phase 3: backup-path"
nc_expect 3 "$NETCHAOS" show-profile "$tmp/broken.toml"
nc_has "negative duration"
pass "show-profile: fixed point text, JSON, experiments, errors exit 3"

# A model no emulator can deliver (normal 10 ms +- 50 ms: truncated at zero) is a validate
# warning with the moments the fault engine delivers (~25.3 ms, ~32.6 ms), not a run-time surprise.
printf 'name = "wide"\n[egress.delay]\nmean = "10ms"\njitter = "50ms"\ndistribution = "normal"\n' >"$tmp/wide.toml"
nc_expect 0 "$NETCHAOS" validate "$tmp/wide.toml"
nc_has "no emulator can deliver this model"
grep -Eq "delivers mean 2[45]\.[0-9]+ ms, sigma 3[0-3]\.[0-9]+ ms" "$tmp/out" || fail "validate: delivered moments missing: $(cat "$tmp/out")"
pass "validate: an undeliverable delay model warns with the delivered moments"
