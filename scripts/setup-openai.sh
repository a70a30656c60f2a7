#!/usr/bin/env bash
# Installs the official OpenAI SDKs for the tests of `ytcaption serve`'s OpenAI-compatible API:
# the Python one (`openai` from PyPI, Apache-2.0, pinned) in a virtual environment, and the Node
# one (`openai` from npm, Apache-2.0, pinned) under its `node/` folder (with the Node.js on PATH,
# 20 or later: scripts/install-deps.sh). Prints the path of the environment's python.
#   scripts/setup-openai.sh [VENV]      (default: target/test-data/openai-venv)
# The tests point it at a server on 127.0.0.1 only; nothing talks to OpenAI.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-$PWD/target/test-data/openai-venv}
version=3.63.0 node_version=7.60.0
if [ -x target/node-env/bin/node ]; then export PATH="$PWD/target/node-env/bin:$PATH"; fi
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.openai-version" 2>/dev/null)" = "$version $node_version" ]; then
  echo "$venv/bin/python"; exit 0
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
python3 -m venv "$venv" >&2
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "openai==$version" >&2
"$venv/bin/python" -c 'import openai' >&2
mkdir -p "$venv/node"
npm install --silent --no-audit --no-fund --prefix "$venv/node" "openai@$node_version" >&2
(cd "$venv/node" && node -e 'require("openai")') >&2
echo "$version $node_version" > "$venv/.openai-version"
echo "$venv/bin/python"
