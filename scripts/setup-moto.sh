#!/usr/bin/env bash
# Installs a real S3-protocol server for the S3 store tests: moto's server mode (Apache-2.0,
# from PyPI, pinned) in a virtual environment, and prints the path of its `moto_server` program.
#   scripts/setup-moto.sh [VENV]      (default: target/test-data/moto-venv)
# The tests start it on 127.0.0.1 only; nothing talks to AWS.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-$PWD/target/test-data/moto-venv}
version=5.2.5
if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$venv/.moto-version" 2>/dev/null)" = "$version" ]; then
  echo "$venv/bin/moto_server"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$version" >&2
"$venv/bin/moto_server" --help >/dev/null
echo "$version" > "$venv/.moto-version"
echo "$venv/bin/moto_server"
