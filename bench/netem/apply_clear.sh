#!/bin/bash
# Runs inside the qemu guest: scripts/kernel-test.sh --bench
# netchaos apply/clear latency against tc for the same profile, same run, alternating:
#   apply (new)     netchaos apply P --dev va      vs  tc qdisc replace dev va root netem ...
#   switch (again)  netchaos apply P2 --dev va     vs  tc qdisc replace (in place)
#   clear           netchaos clear --dev va        vs  tc qdisc del dev va root
# Wall time per command (process start included: that is what a CI script pays).
source /nc/tests/lib.sh
enter_a "$@"
N=${N:-15}
P1=$(profile b1 '[egress.delay]
mean = "50ms"
jitter = "10ms"
distribution = "normal"
[egress.loss]
p = "1%"')
P2=$(profile b2 '[egress.delay]
mean = "60ms"
jitter = "10ms"
distribution = "normal"
[egress.loss]
p = "2%"')
TC1="delay 50ms 10ms distribution normal loss 1%"
TC2="delay 60ms 10ms distribution normal loss 2%"
us() { local t0=${EPOCHREALTIME/./}; "$@" >/dev/null 2>&1 || { echo "FAIL: $*"; exit 1; }; echo $(( ${EPOCHREALTIME/./} - t0 )); }
declare -a nc_a nc_s nc_c tc_a tc_s tc_c
for ((i = 0; i < N; i++)); do
  nc_a+=("$(us netchaos apply "$P1" --dev va)")
  nc_s+=("$(us netchaos apply "$P2" --dev va)")
  nc_c+=("$(us netchaos clear --dev va)")
  # shellcheck disable=SC2086
  tc_a+=("$(us tc qdisc replace dev va root netem $TC1)")
  # shellcheck disable=SC2086
  tc_s+=("$(us tc qdisc replace dev va root netem $TC2)")
  tc_c+=("$(us tc qdisc del dev va root)")
done
med() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END{print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
for op in a s c; do
  eval "n=\$(med \"\${nc_$op[@]}\"); t=\$(med \"\${tc_$op[@]}\")"
  name=$([[ $op == a ]] && echo apply || { [[ $op == s ]] && echo switch || echo clear; })
  echo "BENCH: netem $name: netchaos median $((n / 1000)).$(( (n % 1000) / 100 )) ms, tc median $((t / 1000)).$(( (t % 1000) / 100 )) ms, ratio $(awk -v a="$n" -v b="$t" 'BEGIN{printf "%.2f", a/b}') (N=$N, TCG guest)"
done
declare -a nc_v tc_v
for ((i = 0; i < N; i++)); do nc_v+=("$(us netchaos --version)"); tc_v+=("$(us tc -V)"); done
n=$(med "${nc_v[@]}"); t=$(med "${tc_v[@]}")
echo "BENCH: start-up only: netchaos --version median $((n / 1000)) ms, tc -V median $((t / 1000)) ms"
t0=${EPOCHREALTIME/./}; for ((i = 0; i < N; i++)); do /bin/true; done
echo "BENCH: process spawn floor (/bin/true): $(( (${EPOCHREALTIME/./} - t0) / N / 1000 )) ms"
