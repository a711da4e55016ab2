#!/bin/bash
# Every shipped profile: apply, then `tc -d qdisc show` and `netchaos show -j` must agree on
# every netem parameter both print (compare.awk); the profile read back from the kernel
# (`show --profile -j`) must equal `show-profile -j`; clear must bring back the default qdisc.
source /nc/tests/lib.sh
enter_a "$@"
compared=0 skipped=0
base=$(na tc qdisc show)
for f in "$P"/*.toml; do
  name=$(basename "$f" .toml)
  out=$(na netchaos apply "$f" --dev va 2>&1); rc=$?
  if ((rc != 0)); then
    [[ $rc == 3 ]] || fail "$name: apply exit $rc: $out"
    echo "NOTE: $T: $name rejected as input, not compared: $out"; skipped=$((skipped+1)); continue
  fi
  res=$({ na netchaos show -j | sed 's/^/J /'; na tc -d qdisc show | sed 's/^/T /'; } | awk -f /nc/tests/compare.awk) ||
    fail "$name: $res"
  back=$(na netchaos show --dev va --profile -j 2>&1) || fail "$name: show --profile: $back"
  want=$(netchaos show-profile -j "$f" 2>/dev/null)
  if [[ $back != "$want" ]]; then
    diff <(echo "$want") <(echo "$back") | head -20
    fail "$name: the profile read back differs from show-profile -j (diff above: < applied, > read back)"
  fi
  compared=$((compared+1))
  echo "ok: $T: $name: $res; read back equals show-profile -j"
  na netchaos clear --dev va >/dev/null || fail "$name: clear"
  now=$(na tc qdisc show)
  [[ $now == "$base" ]] || fail "$name: clear did not restore '$base' (now '$now')"
done
((compared >= 10)) || fail "only $compared profiles compared"
(( $(ledger_count) == 0 )) || fail "ledger left behind"
ok "$compared profiles agree between tc -d and netchaos show -j ($skipped rejected as input)"
