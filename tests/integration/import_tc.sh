#!/usr/bin/env bash
# import-tc and show-profile --as-tc against tc itself: for every line of the oracle corpus
# (tests/golden/netem/*.txt args and tests/golden/tc-import/cases.list), tc run under strace
# sends the same TCA_OPTIONS bytes for the original words as for the --as-tc words of the
# import, and `apply --dry-run` of the import sends them too; re-importing the --as-tc
# command line gives the same profile. Also the CLI's edges:
# exit 3 naming the word, -o, -f and stdin. (The encoder's bytes for each import equal tc's:
# tests/unit/netem/tc_import_golden_tests.cpp, no root needed.)
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
tmp=$(mktemp -d /tmp/nc-import-tc.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"

# ---- the CLI, no privileges needed
"$NETCHAOS" import-tc 'delay 50ms 30ms distribution normal' >"$tmp/p.toml" || fail "import-tc exited $?"
grep -qF '#   delay 50ms 30ms distribution normal' "$tmp/p.toml" || fail "the original line is not kept"
grep -qF 'distribution = "normal"' "$tmp/p.toml" || fail "no normal distribution"
"$NETCHAOS" validate -q "$tmp/p.toml" >/dev/null || fail "the import does not validate"
pass "import-tc prints a valid profile with the original line as a comment"

"$NETCHAOS" import-tc tc qdisc add dev eth0 root netem delay 10ms frobnicate 2 >"$tmp/out" 2>&1
rc=$?
[[ $rc == 3 ]] || fail "an unknown word exited $rc, not 3"
grep -qF '"frobnicate"' "$tmp/out" || fail "the error does not name the word: $(cat "$tmp/out")"
"$NETCHAOS" import-tc 'rate 10%' >"$tmp/out" 2>&1
[[ $? == 3 ]] && grep -qF '"10%"' "$tmp/out" || fail "rate as a share of the link: $(cat "$tmp/out")"
pass "a word netchaos cannot express: exit 3 naming it"

"$NETCHAOS" import-tc -o "$tmp/o.toml" rate 1mbit -10 || fail "-o with a negative overhead"
grep -qF 'packet_overhead = -10' "$tmp/o.toml" || fail "-10 was not the packet overhead"
printf '# a runbook\ntc qdisc add dev eth0 root netem loss 1%%\n\ndelay 5ms\n' >"$tmp/lines"
"$NETCHAOS" import-tc -f "$tmp/lines" >"$tmp/out" 2>"$tmp/err" || fail "-f FILE"
[[ ! -s $tmp/err ]] || fail "-f: unexpected messages: $(cat "$tmp/err")"
[[ $(grep -c '^name = ' "$tmp/out") == 2 ]] || fail "-f: expected 2 profiles"
"$NETCHAOS" import-tc - <"$tmp/lines" >"$tmp/out2" 2>/dev/null || fail "stdin"
cmp -s "$tmp/out" "$tmp/out2" || fail "stdin and -f differ"
pass "-o, -f FILE and stdin"

# ---- tc as the oracle
need_root
need_cmd strace
need_cmd tc
ns=nc-imptc-$$
dev=nci$$
dev=${dev:0:12}
nc_netns "$ns"
ip -n "$ns" link add "$dev" type veth peer name "${dev}p" || fail "veth"

# tc_options ARGS...: hex of the TCA_OPTIONS tc sends for `tc qdisc add ... netem ARGS` (the
# kernel may lack sch_netem and refuse: strace has the bytes by then).
tc_options() {
    local line hex off total len type
    line=$(strace -f -xx -X raw -e trace=sendmsg -s 1000000 \
        ip netns exec "$ns" tc qdisc add dev "$dev" root netem "$@" 2>&1 >/dev/null | grep -m1 'nlmsg_type=0x24')
    [[ -n $line ]] || return 1
    hex=$(sed -E 's/.*nlmsg_pid=[0-9]+\}, "([^"]*)".*/\1/; s/\\x//g' <<<"$line")
    off=20 total=$(( ${#hex} / 2 ))
    while (( off + 4 <= total )); do
        len=$((16#${hex:off*2+2:2}${hex:off*2:2}))
        type=$((16#${hex:off*2+6:2}${hex:off*2+4:2}))
        (( len >= 4 )) || return 1
        if (( type == 2 )); then echo "${hex:(off + 4) * 2:(len - 4) * 2}"; return 0; fi
        off=$(( off + ((len + 3) & ~3) ))
    done
    return 1
}

mapfile -t corpus < <(
    grep -h '^args: ' "$NETCHAOS_SOURCE_DIR"/tests/golden/netem/*.txt | sed 's/^args: //'
    grep -v '^[[:space:]]*\(#\|$\)' "$NETCHAOS_SOURCE_DIR/tests/golden/tc-import/cases.list" | cut -d'|' -f2-
)
n=0
mkdir "$tmp/dry"
for args in "${corpus[@]}"; do
    # shellcheck disable=SC2086  # word splitting of args is the point
    want=$(tc_options $args) || fail "tc sent nothing for '$args'"
    "$NETCHAOS" import-tc "tc qdisc add dev eth0 root netem $args" >"$tmp/i.toml" 2>"$tmp/err" || fail "import-tc '$args': $(cat "$tmp/err")"
    "$NETCHAOS" show-profile "$tmp/i.toml" --as-tc --dev "$dev" >"$tmp/tc.txt" 2>"$tmp/err" || fail "show-profile --as-tc for '$args': $(cat "$tmp/err")"
    cmd=$(grep -m1 "^tc qdisc add dev $dev root netem" "$tmp/tc.txt") || fail "no netem line for '$args': $(cat "$tmp/tc.txt")"
    words=${cmd#tc qdisc add dev $dev root netem}
    # shellcheck disable=SC2086
    got=$(tc_options $words) || fail "tc sent nothing for the --as-tc words '$words'"
    [[ $got == "$want" ]] || fail "'$args' -> --as-tc '$words': tc's bytes differ
  original: $want
  as-tc:    $got"
    # The --as-tc line, imported again, is the same profile (same normalized text).
    "$NETCHAOS" import-tc "$cmd" >"$tmp/j.toml" 2>/dev/null || fail "re-import of '$cmd'"
    diff <(grep -v '^#' "$tmp/i.toml" | sed '/^description/d') <(grep -v '^#' "$tmp/j.toml" | sed '/^description/d') >/dev/null ||
        fail "'$args': the re-import of '$cmd' differs: $(diff "$tmp/i.toml" "$tmp/j.toml")"
    # The third leg, checked below: apply --dry-run of the import.
    cp "$tmp/i.toml" "$tmp/dry/$n.toml"
    printf '%s\n' "$want" >"$tmp/dry/$n.want"
    printf '%s\n' "$args" >"$tmp/dry/$n.args"
    n=$((n + 1))
done
(( n >= 80 )) || fail "only $n corpus lines"
pass "$n tc lines: tc sends the same bytes for the --as-tc words of each import, and re-importing them gives the same profile"

# apply --dry-run of each import sends tc's bytes. Under [match] apply sends the netem as tc
# does (an add; at the root it sends a replace with every feature, neutral when absent).
ip netns exec "$ns" bash -c '
for f in "$1"/*.toml; do
    printf "\n[match]\ndst = \"10.0.0.0/8\"\n" >>"$f"
    "$2" apply "$f" --dev "$3" --dry-run -j >"${f%.toml}.json" 2>"${f%.toml}.err" || { cat "${f%.toml}.err"; exit 1; }
done' _ "$tmp/dry" "$NETCHAOS" "$dev" || fail "apply --dry-run of an import failed"
python3 - "$tmp/dry" <<'PY' || fail "apply --dry-run of the imports"
import glob, json, sys
n = 0
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    base = f[:-5]
    want, args = open(base + ".want").read().strip(), open(base + ".args").read().strip()
    r = json.load(open(f))["requests"][2]
    assert r["type"] == "RTM_NEWQDISC" and " netem" in r["command"], (args, r["command"])
    b = bytes.fromhex(r["hex"]); off = 36; got = None
    while off + 4 <= len(b):
        ln, t = int.from_bytes(b[off:off+2], "little"), int.from_bytes(b[off+2:off+4], "little")
        if t == 2: got = b[off+4:off+ln].hex(); break
        off += (ln + 3) & ~3
    assert got == want, f"{args!r}: apply --dry-run of the import sends other bytes than tc\n  tc:      {want}\n  dry run: {got}"
    n += 1
assert n >= 80, n
print(f"PASS: {n} tc lines: apply --dry-run of each import sends tc's TCA_OPTIONS (the netem add under [match])")
PY
