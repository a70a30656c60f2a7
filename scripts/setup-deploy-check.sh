#!/usr/bin/env bash
# Installs the validators of deploy/ (PyPI, pinned) in a virtual environment: kubernetes-validate
# (Apache-2.0; the Kubernetes manifests, against the API's schemas it ships) and check-jsonschema
# (Apache-2.0; deploy/compose.yaml against the Compose Specification schema it ships as
# `vendor.compose-spec`). Both work offline once installed. Used by cli/tests/it/prometheus.rs through
# YTCAPTION_TEST_DEPLOY_VENV. Prints the path of the environment.
#   scripts/setup-deploy-check.sh [VENV]      (default: target/test-data/deploy-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-$PWD/target/test-data/deploy-venv}
pins="kubernetes-validate==1.37.0 check-jsonschema==0.39.0"
if [ -x "$venv/bin/kubernetes-validate" ] && [ -x "$venv/bin/check-jsonschema" ] \
  && [ "$(cat "$venv/.deploy-check-pins" 2>/dev/null)" = "$pins" ]; then
  echo "$venv"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
# shellcheck disable=SC2086
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins >&2
"$venv/bin/kubernetes-validate" --version >/dev/null
"$venv/bin/check-jsonschema" --version >/dev/null
echo "$pins" > "$venv/.deploy-check-pins"
echo "$venv"
