#!/usr/bin/env bash
# Validates deploy/kubernetes/*.yaml offline against the Kubernetes API schema (the
# kubernetes-models npm package, pinned in deploy/kubernetes/validate/package-lock.json).
#   scripts/k8s-validate.sh --install   npm ci into deploy/kubernetes/validate/node_modules (npm registry only)
#   scripts/k8s-validate.sh             validate (exit 1 on an invalid manifest, 77 if not installed)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
v=$here/deploy/kubernetes/validate
if [[ ${1:-} == --install ]]; then
  command -v npm >/dev/null || { echo "k8s-validate: npm is missing (apt-get install npm)" >&2; exit 1; }
  [[ -d $v/node_modules/kubernetes-models ]] || (cd "$v" && npm ci --no-audit --no-fund --loglevel=error)
  exit 0
fi
command -v node >/dev/null || { echo "SKIP: node is missing (apt-get install nodejs)" >&2; exit 77; }
[[ -d $v/node_modules/kubernetes-models ]] || { echo "SKIP: run scripts/k8s-validate.sh --install first" >&2; exit 77; }
node "$v/validate.mjs" "$here"/deploy/kubernetes/*.yaml
