# Sourced by bench/replay/*.sh: the netns bench (scripts/bench-netns.sh, prefix $P) with
# netchaos-fwd and the reflector on 10.213.0.2:7777, torn down on exit; $W (a work
# directory) is removed then too, unless KEEP is set. Needs build, src, P and W; sets nc and SOCK.
replay_bench_up() {
  nc=$build/src/cli/netchaos
  export NETCHAOS_FWD=$build/dpdk/netchaos-fwd NETCHAOS=$nc
  SOCK=/run/netchaos/$P-fwd.sock
  trap replay_bench_down EXIT
  "$src/scripts/bench-netns.sh" up --prefix "$P" --reflector >"$W/bench.log" 2>&1 || { cat "$W/bench.log"; exit 1; }
  ip netns exec "$P-cli" "$nc" probe 10.213.0.2:7777 --rate 100 --duration 1s --quiet >/dev/null 2>&1
}
replay_bench_down() {
  "$src/scripts/bench-netns.sh" down --prefix "$P" >/dev/null 2>&1
  if [[ -n ${KEEP:-} ]]; then echo "kept $W"; else rm -rf "$W"; fi
}
