#!/usr/bin/env bash
# Binds NIC ports to vfio-pci for netchaos-fwd, and gives them back to their drivers.
#   scripts/fwd-bind.sh up   [--apply] [--force] [--driver vfio-pci] PCI...
#   scripts/fwd-bind.sh down [--apply] [PCI...]        (no PCI: every port the state file holds)
#   scripts/fwd-bind.sh status [PCI...]
# Dry run by default: prints each sysfs write it would make and changes nothing (not even the
# state file); --apply makes them. `up` records each port's driver before it (or "-" for
# none) in the state file ($NETCHAOS_BIND_STATE, default /run/netchaos/fwd-bind.state) and
# `down` restores exactly that driver, then forgets the port. `up` on a port already on
# vfio-pci with a record is a no-op (idempotent); a port already on vfio-pci without a record
# is recorded as vfio-pci, so `down` leaves it there.
# Refuses (exit 3) a malformed or absent PCI address; refuses (exit 4) a port whose network
# interface is up (it may be the one you are logged in through; --force overrides), a port
# without an IOMMU group (boot with intel_iommu=on iommu=pt, or amd_iommu=on), and a missing
# vfio-pci driver (modprobe vfio-pci). Warns when the IOMMU group holds other devices: vfio
# hands out whole groups, so they must be unbound or on vfio-pci too.
# NETCHAOS_SYSFS (default /sys) is the sysfs root, so tests run this against a fake tree.
# The same steps by hand: docs/forwarder.md, "Binding the ports".
set -u
sysfs=${NETCHAOS_SYSFS:-/sys}
state=${NETCHAOS_BIND_STATE:-/run/netchaos/fwd-bind.state}
cmd=${1:-}; shift || true
case $cmd in -h|--help|help) sed -n '2,18p' "$0"; exit 0 ;; esac
apply=0; force=0; target=vfio-pci; pcis=()
while (($#)); do
  case $1 in
    --apply) apply=1; shift ;;
    --force) force=1; shift ;;
    --driver) target=${2:-}; shift 2 || { echo "fwd-bind: --driver needs a value" >&2; exit 3; } ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "fwd-bind: unknown option $1 (see --help)" >&2; exit 3 ;;
    *) pcis+=("$1"); shift ;;
  esac
done

err() { echo "fwd-bind: $*" >&2; }
dev_dir() { echo "$sysfs/bus/pci/devices/$1"; }
# The driver a device is bound to now, or "-".
driver_of() { local l; l=$(readlink "$(dev_dir "$1")/driver" 2>/dev/null) && basename "$l" || echo -; }
recorded() { [[ -f $state ]] && awk -v p="$1" '$1 == p {print $2; found=1} END {exit !found}' "$state"; }

# PCI addresses: DDDD:BB:DD.F, or BB:DD.F for domain 0000; anything else is bad input.
normalize() {
  local a=${1,,}
  [[ $a =~ ^[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$ ]] && a=0000:$a
  [[ $a =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$ ]] || return 1
  echo "$a"
}

# One sysfs write: printed, and made only with --apply. Kernel attributes answer a bad write
# with an error on write(2), which is what the caller reports.
wr() {
  local value=$1 file=$2
  if ((apply)); then
    echo "  write '${value}' > ${file#"$sysfs"}"
    printf '%s\n' "$value" >"$file" 2>/dev/null || { err "writing '$value' to ${file#"$sysfs"} failed"; return 4; }
  else
    echo "  would write '${value}' > ${file#"$sysfs"}"
  fi
}

# Binding is asynchronous on some buses and instant on PCI; give it a few seconds anyway.
wait_driver() {
  local pci=$1 want=$2 i
  ((apply)) || return 0
  for i in $(seq 50); do [[ $(driver_of "$pci") == "$want" ]] && return 0; sleep 0.1; done
  err "$pci: still on $(driver_of "$pci") after binding to $want"; return 4
}

record() {
  ((apply)) || return 0
  mkdir -p "$(dirname "$state")" || return 4
  local tmp; tmp=$(mktemp "$state.XXXXXX") || return 4
  { [[ -f $state ]] && awk -v p="$1" '$1 != p' "$state"; [[ -n $2 ]] && echo "$1 $2"; } >"$tmp"
  mv -f "$tmp" "$state"
}

# Every check before any write, for every port: nothing is half applied by a bad argument.
check_up() {
  local pci=$1 d; d=$(dev_dir "$pci")
  [[ -d $d ]] || { err "no PCI device $pci (ls $sysfs/bus/pci/devices; lspci -D lists them)"; return 3; }
  [[ $target != vfio-pci ]] || [[ -d $sysfs/bus/pci/drivers/vfio-pci ]] || {
    err "the vfio-pci driver is not loaded (fix: modprobe vfio-pci)"; return 4; }
  [[ -d $sysfs/bus/pci/drivers/$target ]] || { err "no driver $target under $sysfs/bus/pci/drivers"; return 4; }
  [[ $(driver_of "$pci") == "$target" ]] && return 0
  if [[ $target == vfio-pci && ! -e $d/iommu_group ]]; then
    err "$pci has no IOMMU group: vfio-pci cannot take it (fix: boot with intel_iommu=on iommu=pt, or amd_iommu=on; enable VT-d/AMD-Vi in the firmware)"
    return 4
  fi
  local n
  for n in "$d"/net/*; do
    [[ -e $n ]] || continue
    if [[ $(cat "$n/operstate" 2>/dev/null) == up ]] && ((!force)); then
      err "$pci is network interface $(basename "$n"), which is up: is it the one you are logged in through? (fix: ip link set $(basename "$n") down, or --force)"
      return 4
    fi
  done
  return 0
}

up_one() {
  local pci=$1 d cur prev g other
  d=$(dev_dir "$pci"); cur=$(driver_of "$pci")
  if [[ $cur == "$target" ]]; then
    if prev=$(recorded "$pci"); then echo "$pci: already on $target (was $prev before up); nothing to do"
    else echo "$pci: already on $target before fwd-bind; recorded as such, down will leave it there"; record "$pci" "$target"
    fi
    return 0
  fi
  echo "$pci: $cur -> $target"
  if [[ -e $d/iommu_group ]]; then
    g=$(basename "$(readlink "$d/iommu_group")")
    for other in "$sysfs/kernel/iommu_groups/$g/devices"/*; do
      [[ -e $other ]] || continue
      other=$(basename "$other")
      [[ $other == "$pci" ]] && continue
      case " ${pcis[*]} " in *" $other "*) continue ;; esac
      local od; od=$(driver_of "$other")
      [[ $od == - || $od == vfio-pci || $od == pcieport ]] ||
        echo "fwd-bind: WARNING: IOMMU group $g also holds $other (on $od): vfio needs the whole group; bind it too or move the NIC to another slot" >&2
    done
  fi
  record "$pci" "$cur" || return 4
  wr "$target" "$d/driver_override" || return 4
  [[ $cur == - ]] || wr "$pci" "$sysfs/bus/pci/drivers/$cur/unbind" || return 4
  wr "$pci" "$sysfs/bus/pci/drivers/$target/bind" || return 4
  wait_driver "$pci" "$target"
}

down_one() {
  local pci=$1 d cur prev
  d=$(dev_dir "$pci")
  prev=$(recorded "$pci") || { err "$pci: no record in $state (fwd-bind up never bound it); not touching it"; return 3; }
  [[ -d $d ]] || { err "no PCI device $pci"; return 3; }
  cur=$(driver_of "$pci")
  if [[ $cur == "$prev" ]]; then
    echo "$pci: on $cur, as before up"
    # A bind that failed half way may have left the override behind: it would steer the next
    # probe of the device (a reboot, a hotplug) to vfio-pci.
    local ov; ov=$(cat "$d/driver_override" 2>/dev/null)   # "(null)" when unset
    if [[ $prev != vfio-pci && -n $ov && $ov != "(null)" ]]; then wr "" "$d/driver_override" || return 4; fi
    record "$pci" ""; return 0
  fi
  echo "$pci: $cur -> $prev"
  [[ $cur == - ]] || wr "$pci" "$sysfs/bus/pci/drivers/$cur/unbind" || return 4
  # An empty driver_override ("\n") lets the device's own driver match it again.
  wr "" "$d/driver_override" || return 4
  if [[ $prev != - ]]; then
    [[ -d $sysfs/bus/pci/drivers/$prev ]] || { err "$pci: driver $prev is not loaded (fix: modprobe $prev, then run down again)"; return 4; }
    wr "$pci" "$sysfs/bus/pci/drivers/$prev/bind" || return 4
  fi
  wait_driver "$pci" "$prev" || return 4
  record "$pci" ""
}

norm=()
for p in "${pcis[@]}"; do
  n=$(normalize "$p") || { err "'$p' is not a PCI address (want DDDD:BB:DD.F, e.g. 0000:3b:00.0; lspci -D lists them)"; exit 3; }
  norm+=("$n")
done
pcis=("${norm[@]}")
((apply)) || [[ $cmd == status ]] || echo "fwd-bind: dry run (nothing is changed; add --apply)"

case $cmd in
  up)
    ((${#pcis[@]})) || { err "up needs at least one PCI address"; exit 3; }
    for p in "${pcis[@]}"; do check_up "$p" || exit $?; done
    # A port that fails to bind rolls back the ports this run already bound.
    done_=()
    for p in "${pcis[@]}"; do
      was=$(driver_of "$p")
      if ! up_one "$p"; then
        rc=4
        for q in "${done_[@]}" "$p"; do ((apply)) && recorded "$q" >/dev/null && { err "rolling back $q"; down_one "$q"; }; done
        exit $rc
      fi
      [[ $was == "$target" ]] || done_+=("$p")
    done ;;
  down)
    if ((${#pcis[@]} == 0)) && [[ -f $state ]]; then mapfile -t pcis < <(awk '{print $1}' "$state"); fi
    ((${#pcis[@]})) || { echo "fwd-bind: nothing recorded in $state; nothing to restore"; exit 0; }
    rc=0
    for p in "${pcis[@]}"; do down_one "$p" || rc=$?; done
    exit $rc ;;
  status)
    if ((${#pcis[@]} == 0)) && [[ -f $state ]]; then mapfile -t pcis < <(awk '{print $1}' "$state"); fi
    ((${#pcis[@]})) || echo "fwd-bind: nothing recorded in $state"
    for p in "${pcis[@]}"; do echo "$p driver $(driver_of "$p") recorded $(recorded "$p" || echo none)"; done ;;
  *) echo "usage: $0 up|down|status [--apply] [--force] PCI...  (--help: more)" >&2; exit 3 ;;
esac
