#!/usr/bin/env bash
# Issue 18 item 1: `netchaos run` fails fast instead of running blind. Each case used to apply
# faults for the whole timeline with zero samples (or fail only after the steady state, with
# a note that ended in "exited 4:"). None of them reaches a fault here, so no netem is needed.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_cmd ip
tmp=$(mktemp -d /tmp/nc-fail-fast.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
port=$((40000 + $$ % 20000))

experiment() {  # experiment FILE TARGET-LINES PROBE-LINES
    printf 'name = "ff"\nbaseline = "2s"\n[target]\n%b[probe]\n%b[[phase]]\nname = "slow"\nduration = "30s"\n[phase.egress.delay]\nmean = "20ms"\n' "$2" "$3" >"$1"
}

# The probe's namespace does not exist: exit 4 at once, naming it.
experiment "$tmp/ns.toml" 'backend = "netem"\ndev = "lo"\n' "target = \"127.0.0.1:$port\"\nnetns = \"nc-no-such-ns-$$\"\n"
start=$(date +%s)
nc_expect 4 "$NETCHAOS" run "$tmp/ns.toml" --quiet
nc_has "netns \"nc-no-such-ns-$$\" does not exist"
pass "item 1: a missing probe netns stops the run before anything (exit 4)"

# --probe-netns names one that does not exist either.
experiment "$tmp/ok.toml" 'backend = "netem"\ndev = "lo"\n' "target = \"127.0.0.1:$port\"\n"
nc_expect 4 "$NETCHAOS" run "$tmp/ok.toml" --probe-netns "nc-nope-$$" --quiet
nc_has "netns \"nc-nope-$$\" does not exist"

# A forwarder control socket that does not answer: exit 4 with the reason, not after the steady state.
experiment "$tmp/ctl.toml" 'backend = "dpdk"\ncontrol = "/tmp/nc-no-fwd-'$$'.sock"\n' "target = \"127.0.0.1:$port\"\n"
nc_expect 4 "$NETCHAOS" run "$tmp/ctl.toml" --quiet
nc_has "control socket does not answer: netchaos show: nothing answers on /tmp/nc-no-fwd-$$.sock"
! grep -qE 'exited [0-9]+: *$' "$tmp/out" || { cat "$tmp/out"; fail "a note ends without its reason"; }
pass "item 1: a dead control socket is reported before the first fault (exit 4)"

# A netem device that does not exist.
experiment "$tmp/dev.toml" 'backend = "netem"\ndev = "ncnodev'$$'"\n' "target = \"127.0.0.1:$port\"\n"
nc_expect 4 "$NETCHAOS" run "$tmp/dev.toml" --quiet
nc_has "[target] dev \"ncnodev$$\" not found"

# A probe rate outside the probe's limits is bad input, as in validate.
experiment "$tmp/rate.toml" 'backend = "netem"\ndev = "lo"\n' "target = \"127.0.0.1:$port\"\nrate = 0.5\n"
nc_expect 3 "$NETCHAOS" run "$tmp/rate.toml" --quiet
nc_has "outside 1-10000 probes/s"
nc_expect 3 "$NETCHAOS" validate "$tmp/rate.toml"
pass "item 1: rate 0.5 is refused by run and validate alike (exit 3)"

# No reflector: the probe ends with "port unreachable" in the steady state; the run stops
# there with exit 4 and that reason, before any fault (the 30 s phase never starts).
start=$(date +%s)
nc_expect 4 "$NETCHAOS" run "$tmp/ok.toml" --quiet
took=$(( $(date +%s) - start ))
nc_has "port unreachable"
nc_has "(during 'steady-state')"
nc_lacks "apply"
(( took < 15 )) || fail "the blind run took $took s"
pass "item 1: no reflector: exit 4 after $took s with the probe's reason, no fault applied"
