#!/usr/bin/env bash
# Lints the OpenAPI document with Spectral (rules: scripts/openapi/spectral.yaml, the spectral:oas set).
#   bash scripts/openapi/lint.sh                                  the document built from the code
#   bash scripts/openapi/lint.sh http://127.0.0.1:3000/openapi.json   the document a running api serves
# Further arguments go to `spectral lint` (e.g. --format json). Fails on any error or warning.
set -euo pipefail
cd "$(dirname "$0")/../.."

target="${1:-}"
if [[ -z "$target" ]]; then
  target="$(mktemp --suffix .json)"
  trap 'rm -f "$target"' EXIT
  SWC_NODE_PROJECT=tsconfig.json node -r @swc-node/register apps/api/src/print-openapi.ts >"$target"
fi
exec npx --no-install spectral lint "$target" --ruleset scripts/openapi/spectral.yaml --fail-severity warn "${@:2}"
