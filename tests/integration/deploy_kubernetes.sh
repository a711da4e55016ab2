#!/usr/bin/env bash
# deploy/kubernetes/*.yaml against the Kubernetes API schema, offline (scripts/k8s-validate.sh;
# scripts/test.sh installs the pinned validator from npm first). Also checks that a broken
# manifest is caught: a DaemonSet whose hostPID is a string and whose selector is missing.
source "$NETCHAOS_SOURCE_DIR/tests/lib/common.sh"
V=$NETCHAOS_SOURCE_DIR/scripts/k8s-validate.sh
"$V" >/tmp/nc-k8s.$$ 2>&1; rc=$?
nc_defer "rm -f /tmp/nc-k8s.$$"
[[ $rc == 77 ]] && skip "$(grep SKIP /tmp/nc-k8s.$$)"
cat /tmp/nc-k8s.$$
[[ $rc == 0 ]] || fail "a manifest in deploy/kubernetes is invalid"
grep -q "ok: .*daemonset.yaml\[0\] DaemonSet/netchaos-agent" /tmp/nc-k8s.$$ || fail "the DaemonSet was not checked"
tmp=$(mktemp -d /tmp/nc-k8s.XXXXXX)
nc_defer "rm -rf $tmp"
sed -e 's/hostPID: true/hostPID: "yes"/' -e '/^  selector:/,/^  updateStrategy:/{/^  updateStrategy:/!d}' \
    "$NETCHAOS_SOURCE_DIR/deploy/kubernetes/daemonset.yaml" > "$tmp/broken.yaml"
node "$NETCHAOS_SOURCE_DIR/deploy/kubernetes/validate/validate.mjs" "$tmp/broken.yaml" >"$tmp/out" 2>&1 && fail "a broken DaemonSet validated"
grep -q "must have required property selector" "$tmp/out" || { cat "$tmp/out"; fail "missing selector not reported"; }
grep -q "hostPID must be boolean" "$tmp/out" || { cat "$tmp/out"; fail "hostPID type not reported"; }
pass "deploy/kubernetes manifests valid against the API schema; a broken one is caught"
