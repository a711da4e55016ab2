#!/usr/bin/env bash
# Issue 18 item 10: every command of docs/quickstart.md runs. The ```sh blocks are extracted
# and run in order from the source directory, on a bench with a unique prefix (nc -> $P),
# the build directory of this build, and scratch files in a temp dir. Root only (the bench).
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
need_root
need_cmd curl
need_cmd python3
[[ -x ${NETCHAOS_FWD:-} ]] || skip "no netchaos-fwd binary at '${NETCHAOS_FWD:-}' (libdpdk-dev missing?)"
: "${NETCHAOS_BUILD_DIR:?set by ctest}"
P=nq$$
tmp=$(mktemp -d /tmp/nc-quickstart.XXXXXX)
nc_defer "rm -rf $tmp"
nc_defer "$NETCHAOS_SOURCE_DIR/scripts/bench-netns.sh down --prefix $P"
nc_defer "[[ -f $tmp/quickstart-http.pid ]] && kill \$(cat $tmp/quickstart-http.pid)"

# The blocks, one command per line, adapted to this run.
awk '/^```sh$/ {on=1; next} /^```/ {on=0} on' "$NETCHAOS_SOURCE_DIR/docs/quickstart.md" |
  sed -e 's/^sudo //' -e 's/ sudo / /g' \
      -e "s#bench-netns.sh up#bench-netns.sh up --prefix $P#" -e "s#bench-netns.sh down#bench-netns.sh down --prefix $P#" \
      -e "s#nc-cli#$P-cli#g; s#nc-srv#$P-srv#g" \
      -e "s#/tmp/quickstart#$tmp/quickstart#g" \
      -e "s#\\bbuild/#$NETCHAOS_BUILD_DIR/#g" \
      -e "s#^cmake -S . -B build #cmake -S . -B $NETCHAOS_BUILD_DIR #; s#^cmake --build build#cmake --build $NETCHAOS_BUILD_DIR#" \
      -e "s#quickstart-http.toml --json#quickstart-http.toml --control /run/netchaos/$P-fwd.sock --probe-netns $P-cli --json#" \
      -e "s#quickstart-http.toml --dry-run#quickstart-http.toml --dry-run --control /run/netchaos/$P-fwd.sock --probe-netns $P-cli#" \
      >"$tmp/commands.sh"
n=$(grep -c . "$tmp/commands.sh")
(( n >= 12 )) || { cat "$tmp/commands.sh"; fail "only $n commands extracted from docs/quickstart.md"; }
export NETCHAOS_FWD NETCHAOS
cd "$NETCHAOS_SOURCE_DIR"
i=0
while IFS= read -r cmd; do
  [[ -n $cmd ]] || continue
  i=$((i + 1))
  echo "+ $cmd"
  eval "$cmd" </dev/null
  rc=$?
  case $cmd in
    *"netchaos run"*" -- "*) (( rc <= 2 )) || fail "command $i exited $rc: $cmd" ;;   # a verdict (under host load fidelity may miss)
    *) (( rc == 0 )) || fail "command $i exited $rc: $cmd" ;;
  esac
done <"$tmp/commands.sh"
python3 - "$tmp/quickstart.json" <<'PY' || fail "the report lacks the command's output"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["command"]
assert c["exit_code"] == 0, c
assert c["output_lines"] == 6 and all(l.startswith("200 in ") for l in c["output_tail"]), c
print("report: verdict", r["verdict"], "command", c["output_tail"][0], "...")
PY
pass "item 10: all $i commands of docs/quickstart.md ran"
