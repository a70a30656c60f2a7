#!/usr/bin/env bash
# Installs the official OpenAI Python SDK (`openai` from PyPI, Apache-2.0, pinned) in a virtual
# environment for the tests of `ytcaption serve`'s OpenAI-compatible API, and prints the path of
# its python.
#   scripts/setup-openai.sh [VENV]      (default: target/test-data/openai-venv)
# The tests point it at a server on 127.0.0.1 only; nothing talks to OpenAI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-$PWD/target/test-data/openai-venv}
version=3.63.0
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.openai-version" 2>/dev/null)" = "$version" ]; then
  echo "$venv/bin/python"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "openai==$version" >&2
"$venv/bin/python" -c 'import openai' >&2
echo "$version" > "$venv/.openai-version"
echo "$venv/bin/python"
