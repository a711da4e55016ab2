#!/usr/bin/env bash
# Distribution table paths from profiles someone else wrote (issue 11 item 8): a path that
# leaves the profile's directory (../, absolute, or a symlink) is refused with exit 3 unless
# --allow-path names its directory, and no message quotes the file's contents.
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
need_cmd python3
if [[ -n ${NC_KEEP_GOING:-} ]]; then fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }; fi
failures=0
hostile=0
T=$(mktemp -d /tmp/nctab.XXXXXX)
nc_defer "rm -rf $T"
mkdir -p "$T/prof/tables" "$T/outside"
printf 'TOPSECRET-hunter2 42\n' >"$T/outside/secret.dist"
printf '0 1 -1 2 -2\n' >"$T/outside/ok.dist"
printf '0 1 -1 2 -2\n' >"$T/prof/tables/mine.dist"
ln -s "$T/outside/secret.dist" "$T/prof/tables/sneaky.dist"
prof() {   # prof NAME TABLE
  printf 'name = "%s"\n[egress.delay]\nmean = "5ms"\njitter = "2ms"\ntable = "%s"\n' "$1" "$2" >"$T/prof/$1.toml"
}
prof mine tables/mine.dist
prof up ../outside/ok.dist
prof secret ../outside/secret.dist
prof abs "$T/outside/secret.dist"
prof etc /etc/shadow
prof link tables/sneaky.dist

"$NETCHAOS" validate "$T/prof/mine.toml" >/dev/null 2>&1 || fail "a table beside the profile was refused"
for p in up secret abs etc link; do
  hostile=$((hostile + 1))
  "$NETCHAOS" validate "$T/prof/$p.toml" >"$T/out" 2>&1; rc=$?
  [[ $rc == 3 ]] || fail "$p: exit $rc, expected 3: $(cat "$T/out")"
  grep -q "outside the profile's directory" "$T/out" || fail "$p: no reason: $(cat "$T/out")"
  grep -qE "hunter2|TOPSECRET|root:" "$T/out" && fail "$p: the message quotes the file: $(cat "$T/out")"
  echo "ok: $p refused: $(grep -o 'distribution table.*' "$T/out" | head -1)"
done
# Allowed explicitly: read, and a bad file's error gives its position only.
"$NETCHAOS" validate --allow-path "$T/outside" "$T/prof/up.toml" >/dev/null 2>&1 || fail "--allow-path did not allow ../outside"
hostile=$((hostile + 1))
"$NETCHAOS" validate --allow-path "$T/outside" "$T/prof/secret.toml" >"$T/out" 2>&1; rc=$?
[[ $rc == 3 ]] || fail "a non-table file: exit $rc"
grep -qE "hunter2|TOPSECRET" "$T/out" && fail "the parse error quotes the file: $(cat "$T/out")"
grep -q "secret.dist:1:1" "$T/out" || fail "no position in: $(cat "$T/out")"
echo "ok: allowed but not a table: $(head -1 "$T/out")"
hostile=$((hostile + 1))
"$NETCHAOS" show-profile "$T/prof/etc.toml" >/dev/null 2>&1 && fail "show-profile read /etc/shadow"
"$NETCHAOS" show-profile --allow-path "$T/outside" "$T/prof/up.toml" | grep -q 'table = ' || fail "show-profile --allow-path"
pass "table paths: 5 escapes refused (../, absolute, /etc/shadow, symlink), --allow-path honoured, no contents quoted"
echo "hostile inputs tried: $hostile"
((failures == 0)) || exit 1
