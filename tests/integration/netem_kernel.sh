#!/usr/bin/env bash
# The kernel backend against a real netem: boots Debian's kernel under qemu (TCG) and runs
# tests/kernel/*.sh inside (scripts/kernel-test.sh). Skips (77) only if qemu cannot run.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
exec "$NETCHAOS_SOURCE_DIR/scripts/kernel-test.sh" --netchaos "$NETCHAOS"
