#!/usr/bin/env bash
# scripts/fwd-bind.sh against a fake sysfs tree (these machines have no PCI NICs): the dry
# run changes nothing, up records each port's driver and binds it to vfio-pci, a second up
# is a no-op, down restores exactly the recorded drivers, and bad input (a malformed or
# absent PCI address, an interface that is up, a port without an IOMMU group, a down with no
# record) is refused with a clear message before anything is written.
# A background "kernel" plays sysfs: it acts on what lands in each driver's bind/unbind file
# the way the PCI core does (bind honours driver_override; a bind while the device still has
# a driver waits, as the real one would have refused and the helper would have timed out).
source "${NETCHAOS_SOURCE_DIR:?set by ctest}/tests/lib/common.sh" || exit 1
tmp=$(mktemp -d /tmp/nc-fwd-bind.XXXXXX) || fail "mktemp"
nc_defer "rm -rf '$tmp'"
S=$tmp/sys
export NETCHAOS_SYSFS=$S NETCHAOS_BIND_STATE=$tmp/state/fwd-bind.state
bind=$NETCHAOS_SOURCE_DIR/scripts/fwd-bind.sh
A=0000:3b:00.0 B=0000:3b:00.1 C=0000:5e:00.0 D=0000:af:00.0

mkdir -p "$S/bus/pci/drivers/"{ixgbe,vfio-pci,i40e}
for drv in ixgbe vfio-pci i40e; do : >"$S/bus/pci/drivers/$drv/bind"; : >"$S/bus/pci/drivers/$drv/unbind"; done
# dev PCI DRIVER|- GROUP|- [IFNAME OPERSTATE]
dev() {
  local d=$S/bus/pci/devices/$1
  mkdir -p "$d"; : >"$d/driver_override"
  [[ $2 == - ]] || ln -s "../../drivers/$2" "$d/driver"
  if [[ $3 != - ]]; then
    mkdir -p "$S/kernel/iommu_groups/$3/devices"
    ln -s "../../../../kernel/iommu_groups/$3" "$d/iommu_group"
    ln -s "../../../../bus/pci/devices/$1" "$S/kernel/iommu_groups/$3/devices/$1"
  fi
  if [[ -n ${4:-} ]]; then mkdir -p "$d/net/$4"; echo "$5" >"$d/net/$4/operstate"; fi
}
dev $A ixgbe 40 enp59s0f0 down
dev $B - 41
dev $C i40e 42 eno1 up       # the management port, say
dev $D ixgbe -               # no IOMMU
mkdir -p "$S/bus/pci/devices/0000:3b:00.2" && ln -s ../../drivers/ixgbe "$S/bus/pci/devices/0000:3b:00.2/driver"
ln -s ../../../../bus/pci/devices/0000:3b:00.2 "$S/kernel/iommu_groups/40/devices/0000:3b:00.2"

# The fake kernel: unbind files first in each pass, then bind files.
kernel() {
  local f a drv d ov
  while :; do
    for f in "$S"/bus/pci/drivers/*/unbind "$S"/bus/pci/drivers/*/bind; do
      [[ -s $f ]] || continue
      a=$(head -n1 "$f"); drv=$(basename "$(dirname "$f")"); d=$S/bus/pci/devices/$a
      case $(basename "$f") in
        unbind)
          if [[ -e $d/stuck ]]; then echo "unbind refused $drv $a (stuck)"
          elif [[ $(basename "$(readlink "$d/driver" 2>/dev/null)") == "$drv" ]]; then rm -f "$d/driver"; echo "unbind $drv $a"
          else echo "unbind refused $drv $a"; fi
          : >"$f" ;;
        bind)
          [[ -e $d/driver ]] && continue          # still bound: try again next pass
          ov=$(head -n1 "$d/driver_override" 2>/dev/null)
          if [[ -z $ov || $ov == "$drv" ]]; then ln -s "../../drivers/$drv" "$d/driver"; echo "bind $drv $a"
          else echo "bind refused $drv $a (driver_override $ov)"; fi
          : >"$f" ;;
      esac
    done >>"$tmp/kernel.log"
    sleep 0.02
  done
}
: >"$tmp/kernel.log"
kernel & kpid=$!
nc_defer "kill $kpid"
drv() { local l; l=$(readlink "$S/bus/pci/devices/$1/driver") && basename "$l" || echo -; }
snap() { (cd "$tmp" && find sys state -printf '%p %l\n' 2>/dev/null | sort; find sys -type f -exec sh -c 'printf "%s: %s\n" "$1" "$(cat "$1")"' _ {} \; | sort); }

# ---- dry run: every write is printed, none is made
before=$(snap)
nc_expect 0 "dry run (nothing is changed; add --apply)" -- "$bind" up $A 3b:00.1
nc_has "$A: ixgbe -> vfio-pci"
nc_has "would write 'vfio-pci' > /bus/pci/devices/$A/driver_override"
nc_has "would write '$A' > /bus/pci/drivers/ixgbe/unbind"
nc_has "would write '$A' > /bus/pci/drivers/vfio-pci/bind"
nc_has "$B: - -> vfio-pci"
nc_has "IOMMU group 40 also holds 0000:3b:00.2 (on ixgbe)"
sleep 0.1
[[ $(snap) == "$before" ]] || fail "the dry run changed the tree: $(diff <(echo "$before") <(snap))"
[[ ! -s $tmp/kernel.log ]] || fail "the dry run reached the kernel: $(cat "$tmp/kernel.log")"
pass "dry run prints the writes and changes nothing (no state file either)"

# ---- bad input: refused before anything is written
nc_expect 3 "'0000:zz:00.0' is not a PCI address" -- "$bind" up --apply $A 0000:zz:00.0
nc_expect 3 "no PCI device 0000:09:00.0" -- "$bind" up --apply $A 0000:09:00.0
nc_expect 4 "$C is network interface eno1, which is up" -- "$bind" up --apply $A $C
nc_has "ip link set eno1 down, or --force"
nc_expect 4 "$D has no IOMMU group" -- "$bind" up --apply $D
nc_has "intel_iommu=on iommu=pt"
nc_expect 3 "$A: no record in" -- "$bind" down --apply $A
nc_expect 3 "unknown option --aply" -- "$bind" up --aply $A
sleep 0.1
[[ $(snap) == "$before" ]] || fail "a refused command changed the tree: $(diff <(echo "$before") <(snap))"
pass "malformed/absent address (3), interface up (4), no IOMMU (4), unrecorded down (3): nothing written"

# ---- up --apply: records and binds
nc_expect 0 "$bind" up --apply $A $B
[[ $(drv $A) == vfio-pci && $(drv $B) == vfio-pci ]] || fail "after up: $A on $(drv $A), $B on $(drv $B)"
[[ $(cat "$S/bus/pci/devices/$A/driver_override") == vfio-pci ]] || fail "driver_override not set"
grep -qx "$A ixgbe" "$NETCHAOS_BIND_STATE" && grep -qx "$B -" "$NETCHAOS_BIND_STATE" ||
  fail "state file: $(cat "$NETCHAOS_BIND_STATE")"
grep -qx "unbind ixgbe $A" "$tmp/kernel.log" && grep -qx "bind vfio-pci $A" "$tmp/kernel.log" &&
  grep -qx "bind vfio-pci $B" "$tmp/kernel.log" || fail "kernel saw: $(cat "$tmp/kernel.log")"
! grep -q refused "$tmp/kernel.log" || fail "the kernel refused a write: $(cat "$tmp/kernel.log")"
[[ $(drv $C) == i40e ]] || fail "$C was touched"
pass "up --apply: both ports on vfio-pci, previous drivers (ixgbe, none) recorded"

# ---- up again: a no-op
st=$(cat "$NETCHAOS_BIND_STATE"); kl=$(cat "$tmp/kernel.log")
nc_expect 0 "$A: already on vfio-pci (was ixgbe before up); nothing to do" -- "$bind" up --apply $A $B
nc_has "$B: already on vfio-pci (was - before up)"
sleep 0.1
[[ $(cat "$NETCHAOS_BIND_STATE") == "$st" && $(cat "$tmp/kernel.log") == "$kl" ]] || fail "a second up changed something"
nc_expect 0 "$A driver vfio-pci recorded ixgbe" -- "$bind" status
pass "a second up changes nothing and keeps the first record"

# ---- down: restores exactly what was there
nc_expect 0 "dry run" -- "$bind" down
nc_has "would write '$A' > /bus/pci/drivers/ixgbe/bind"
[[ $(drv $A) == vfio-pci ]] || fail "the dry-run down changed $A"
nc_expect 0 "$A: vfio-pci -> ixgbe" -- "$bind" down --apply
nc_has "$B: vfio-pci -> -"
[[ $(drv $A) == ixgbe && $(drv $B) == - ]] || fail "after down: $A on $(drv $A), $B on $(drv $B)"
[[ -z $(cat "$S/bus/pci/devices/$A/driver_override") ]] || fail "driver_override not cleared"
[[ ! -s $NETCHAOS_BIND_STATE ]] || fail "state file still holds: $(cat "$NETCHAOS_BIND_STATE")"
grep -qx "unbind vfio-pci $B" "$tmp/kernel.log" && grep -qx "bind ixgbe $A" "$tmp/kernel.log" ||
  fail "kernel saw: $(cat "$tmp/kernel.log")"
! grep -q refused "$tmp/kernel.log" || fail "the kernel refused a write: $(cat "$tmp/kernel.log")"
nc_expect 0 "nothing to restore" -- "$bind" down --apply
pass "down --apply: $A back on ixgbe, $B unbound again, override cleared, record gone"

# ---- a port that will not let go: the ports this run bound are given back, nothing is left
E=0000:3b:00.3
dev $E ixgbe 43
touch "$S/bus/pci/devices/$E/stuck"
nc_expect 4 "$E: still on ixgbe after binding to vfio-pci" -- "$bind" up --apply $A $E
nc_has "rolling back $A"
[[ $(drv $A) == ixgbe && $(drv $E) == ixgbe ]] || fail "after the rollback: $A on $(drv $A), $E on $(drv $E)"
for p in $A $E; do
  [[ -z $(cat "$S/bus/pci/devices/$p/driver_override") ]] || fail "$p keeps driver_override '$(cat "$S/bus/pci/devices/$p/driver_override")'"
done
[[ ! -s $NETCHAOS_BIND_STATE ]] || fail "state file after the rollback: $(cat "$NETCHAOS_BIND_STATE")"
rm "$S/bus/pci/devices/$E/stuck"
pass "a port that cannot be unbound: exit 4, the other port rolled back, no override or record left"

# ---- a port already on vfio-pci before us stays there
dev 0000:d8:00.0 vfio-pci 50
nc_expect 0 "already on vfio-pci before fwd-bind" -- "$bind" up --apply 0000:d8:00.0
nc_expect 0 "on vfio-pci, as before up" -- "$bind" down --apply 0000:d8:00.0
[[ $(drv 0000:d8:00.0) == vfio-pci ]] || fail "down moved a port that was on vfio-pci before up"
pass "a port on vfio-pci before up is left there by down"
