#!/usr/bin/env bash
# Issue 18 (a new user's first hour), items 4, 5 and 7 from the outside: each check is a
# message that once misled (or a trap that passed silently) and now leads.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
tmp=$(mktemp -d /tmp/nc-first-hour.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
P=$NETCHAOS_SOURCE_DIR/profiles

# item 4: units without traps.
printf '[egress.delay]\nmean = "80m"\n' >"$tmp/m.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/m.toml"
nc_has 'say "80min" (minutes) or "80ms"'
printf '[egress.delay]\nmean = "80MS"\n[egress.loss]\np = 0.5\n[egress.rate]\nrate = "10Mbps"\n' >"$tmp/w.toml"
nc_expect 0 "$NETCHAOS" validate "$tmp/w.toml"
nc_has 'probability 0.5 is read as a fraction, 50%'
nc_has '"10Mbps" is 10 megabytes/s = 80mbit'
pass "item 4: 80m refused, 80MS read, p = 0.5 and 10Mbps warn"

# item 5: bursty loss by intent, mean loss and burst shown.
printf '[egress]\nloss = { mean = "0.5%%", burst = 4 }\n' >"$tmp/b.toml"
nc_expect 0 "$NETCHAOS" show-profile "$tmp/b.toml"
nc_has 'p = "0.1256281407%"'
nc_has 'r = "25%"'
nc_has '# mean loss 0.5%, mean burst 4 packets'
printf '[egress.loss]\nmodel = "gilbert-elliott"\np = "0.5%%"\n' >"$tmp/ge.toml"
nc_expect 0 "$NETCHAOS" validate "$tmp/ge.toml"
nc_has 'mean burst is 1.01 packets'
pass "item 5: mean/burst derive p/r, show-profile prints the burst, GE with only p warns"

# item 7: one cause, one error.
printf '[egress.delay]\nmean = "5ms"\njiter = "1ms"\ndistribution = "normal"\n' >"$tmp/j.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/j.toml"
nc_has 'did you mean "jitter"?'
nc_has 'INVALID (1 error)'
nc_lacks 'without jitter'
printf '[target]\nbackend = "dpkd"\n[probe]\ntarget = "127.0.0.1:7777"\n[[phase]]\nduration = "1s"\n' >"$tmp/d.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/d.toml"
nc_has 'did you mean "dpdk"?'
nc_has 'INVALID (1 error)'
nc_lacks 'needs dev'
# toml++ in TOML terms.
printf '[egress.delay]\nmean = "5ms\n' >"$tmp/u.toml"
nc_expect 3 "$NETCHAOS" validate "$tmp/u.toml"
nc_has "$tmp/u.toml:2:8: error: TOML syntax error: unterminated string"
nc_lacks 'control characters'
# paths resolved, with the experiment's directory.
mkdir -p "$tmp/exp"
printf '[target]\nbackend = "netem"\ndev = "lo"\n[probe]\ntarget = "127.0.0.1:7777"\n[[phase]]\nduration = "1s"\nprofile = "../nothere.toml"\n' >"$tmp/exp/e.toml"
(cd "$tmp" && nc_expect 3 "$NETCHAOS" validate exp/e.toml)
nc_has "looked for $tmp/nothere.toml (relative to the experiment's directory $tmp/exp)"
# a COMMAND without "--".
nc_expect 3 "$NETCHAOS" run "$tmp/exp/e.toml" curl -s http://127.0.0.1/
nc_has 'a COMMAND must follow "--"'
nc_lacks 'too many positional'
# interface names over 15 characters.
nc_expect 3 "$NETCHAOS" apply "$P/lte.toml" --dev abcdefghijklmnop
nc_has 'is 16 characters long: Linux interface names are at most 15'
nc_lacks 'no such interface'
pass "item 7: one error per typo, TOML terms, resolved paths, missing --, long interface names"

# item 7: a probe at a port with no reflector ends at once, exit 1, "port unreachable".
port=$((40000 + $$ % 20000))
start=$(date +%s%N)
nc_expect 1 "$NETCHAOS" probe "127.0.0.1:$port" --duration 20s --rate 100
ms=$(( ($(date +%s%N) - start) / 1000000 ))
nc_has 'port unreachable'
(( ms < 5000 )) || fail "probe to a closed port took $ms ms (duration 20 s): it should end at once"
pass "item 7: probe to a closed port: exit 1, port unreachable, after $ms ms of a 20 s run"

# item 9: --help exits 0 everywhere, scripts and subcommands (bench-netns.sh --help exited 3).
for s in bench-netns.sh demo.sh test.sh kernel-test.sh setup-deps.sh capture-tc-golden.sh; do
    nc_expect 0 timeout 20 bash "$NETCHAOS_SOURCE_DIR/scripts/$s" --help
    grep -qiE "usage|^#? *(scripts/)?$s|runs|boots|builds|capture|seed" "$tmp/out" || { cat "$tmp/out"; fail "$s --help printed no help"; }
done
nc_expect 0 bash "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh" up --help
nc_has "--reflector"
for c in validate show-profile apply show clear reflect probe run; do
    nc_expect 0 "$NETCHAOS" "$c" --help
    nc_has "usage: netchaos $c"
done
nc_expect 0 "$NETCHAOS" --help
# The shipped experiments name the bench's defaults (bench-netns.sh up: prefix nc).
grep -q 'control = "/run/netchaos/nc-fwd.sock"' "$P/experiments/payment-morning.toml" || fail "payment-morning names another control socket"
grep -q 'netns = "nc-cli"' "$P/experiments/bgp-flap.toml" || fail "bgp-flap names another netns"
pass "item 9: --help exits 0 for every script and subcommand; shipped experiments name the bench's defaults"
