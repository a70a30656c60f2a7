#!/usr/bin/env bash
# Installs schemathesis (PyPI, MIT, pinned) in a virtual environment for the property test of
# `ytcaption serve` against its OpenAPI document (cli/tests/it/serve_openapi.rs). Prints the path of
# the environment's `schemathesis` command.
#   scripts/setup-schemathesis.sh [VENV]      (default: target/test-data/schemathesis-venv)
# The test points it at a server on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-$PWD/target/test-data/schemathesis-venv}
version=4.32.5
if [ -x "$venv/bin/schemathesis" ] && [ "$(cat "$venv/.schemathesis-version" 2>/dev/null)" = "$version" ]; then
  echo "$venv/bin/schemathesis"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2
"$venv/bin/schemathesis" --version >&2
echo "$version" > "$venv/.schemathesis-version"
echo "$venv/bin/schemathesis"
